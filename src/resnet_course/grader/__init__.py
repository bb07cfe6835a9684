"""Sandboxed, parallel autograding of untrusted notebooks with nbgrader.

``python -m resnet_course.grader autograde ASSIGNMENT`` grades every
submission in its own sandbox (``resnet_course.sandbox``), N at a time or on
a Dask cluster, and merges the results into the gradebook from one process.
No score is decided in the student's kernel: its graded cells only hand over
evidence, which the course's judges weigh in a process of their own.

Modules, one job each:

* ``autograde``: the whole run, submissions in parallel, one writer to the gradebook;
* ``instructor_faults``: faults on the instructor's side stop the run, never recorded against a student;
* ``course``: folders and gradebook from ``nbgrader_config.py`` (or a configuration built in code);
* ``submissions``: refuse a submission holding a link; read the rest safely (no shadowing modules);
* ``text_safety``: control characters escaped and formulas neutralised in what the grader prints and exports;
* ``reconcile``: repair deleted, re-typed or metadata-stripped cells;
* ``prepare``: a submission becomes a self-contained job, or a reason;
* ``template``: the student-free gradebook each job grades into;
* ``job_types``: a job's settings, input and output (plain data);
* ``job`` / ``job_runner``: one job, run in a private course root;
* ``execute`` / ``kernel_messages``: sandboxed execution, dead kernels, malformed kernel messages;
* ``kernel_guard``: a tamper guard inside the kernel, for the student-facing feedback only (it decides nothing);
* ``evidence_reader``: the evidence the graded cells handed over, taken out of the notebook;
* ``safe_models``: a student's Keras model rebuilt from its configuration as data, never as code;
* ``behaviour``: two models compared by what they compute, whatever their layers;
* ``judging`` / ``judge_process``: the course's judges, in a fresh resource-limited process of their own;
* ``trusted_verdicts``: the nbgrader steps that put the judges' verdicts in place of the kernel's;
* ``plain_nbgrader`` / ``plain_refusals``: the same pre-flight, refusals and verdicts on plain ``nbgrader autograde``;
* ``parallel``: threads or Dask;
* ``merge``: the single writer to the gradebook;
* ``report`` / ``integrity``: status and reason per student; gradebook checks;
* ``exercises`` / ``export`` / ``tables``: grades per exercise as CSV, a table and a histogram;
* ``diagnoses``: each failed test's diagnosis (a stable mistake id, its specifics, or a skipped test),
  read from the autograded notebooks;
* ``class_results``: pass rate per test, mistakes ranked by students (skipped tests apart), the terminal summary;
* ``report_plots`` / ``class_report``: the class report's plots and its self-contained HTML;
* ``roster`` / ``lms_export``: student ids to LMS users; Canvas and Moodle grade-import CSV;
* ``nbgrader_steps``: nbgrader's generate_assignment and generate_feedback on a course;
* ``feedback``: the nbgrader preprocessor that keeps hidden test code out of feedback.
"""
