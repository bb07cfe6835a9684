"""Sandboxed, parallel autograding of untrusted notebooks with nbgrader.

``python -m resnet_course.grader autograde ASSIGNMENT`` grades every
submission in its own sandbox (``resnet_course.sandbox``), N at a time or on
a Dask cluster, and merges the results into the gradebook from one process.

Modules, one job each:

* ``course``: folders and gradebook from ``nbgrader_config.py`` (or a configuration built in code);
* ``submissions``: refuse a submission holding a link; read the rest safely (no shadowing modules);
* ``plain_refusals``: the same refusal on plain ``nbgrader autograde`` (from ``plain_nbgrader``'s hook);
* ``text_safety``: control characters escaped and formulas neutralised in what the grader prints and exports;
* ``reconcile``: repair deleted, re-typed or metadata-stripped cells;
* ``prepare``: a submission becomes a self-contained job, or a reason;
* ``template``: the student-free gradebook each job grades into;
* ``job_types``: a job's settings, input and output (plain data);
* ``job`` / ``job_runner``: one job, run in a private course root;
* ``execute`` / ``kernel_guard``: sandboxed execution, tamper guard, dead kernels;
* ``parallel``: threads or Dask;
* ``merge``: the single writer to the gradebook;
* ``report`` / ``integrity``: status and reason per student; gradebook checks;
* ``exercises`` / ``export`` / ``tables``: grades per exercise as CSV, a table and a histogram;
* ``diagnoses``: the mistake each failed test named, read from the autograded notebooks;
* ``class_results``: pass rate per test, mistakes ranked by students, the terminal summary;
* ``report_plots`` / ``class_report``: the class report's plots and its self-contained HTML;
* ``roster`` / ``lms_export``: student ids to LMS users; Canvas and Moodle grade-import CSV;
* ``nbgrader_steps``: nbgrader's generate_assignment and generate_feedback on a course;
* ``feedback``: the nbgrader preprocessor that keeps hidden test code out of feedback.
"""
