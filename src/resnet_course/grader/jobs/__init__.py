"""Per-student jobs and their orchestration: from the course's folders to the gradebook.

Module map, in the order a run uses them:

* ``course``: folders and gradebook from ``nbgrader_config.py`` (or a configuration built in code);
* ``instructor_faults``: faults on the instructor's side stop the run, never recorded against a student;
* ``autograde``: the whole run, submissions in parallel, one writer to the gradebook, one judges relay;
* ``submissions``: refuse a submission holding a link; read the rest safely (no shadowing modules);
* ``reconcile``: repair deleted, re-typed or metadata-stripped cells;
* ``prepare``: a submission becomes a self-contained job, or a reason;
* ``template``: the student-free gradebook each job grades into;
* ``job_types``: a job's settings, input and output (plain data), and the layout of its private course root;
* ``parallel``: threads or Dask;
* ``job`` / ``job_runner``: one job, run in a fresh process in a private course root
  (``job_runner`` assembles the ``pipeline``'s nbgrader steps);
* ``merge``: the single writer to the gradebook;
* ``integrity``: gradebook checks (nothing but the graded rows changed).

Uses ``pipeline`` (the steps a job runs), ``judges`` (limits, pre-flight, the relay a run opens for its jobs) and
``reports.report`` (the per-student report a run writes).
"""
