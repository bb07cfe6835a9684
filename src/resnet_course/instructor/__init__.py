"""The instructor's tools: nothing here runs in a student's kernel.

Modules, one job each:

* ``reference_solution``: run the master notebook's solution cells as code
  (for tests, benchmarks and the pretrained model; students have no solutions/);
* ``release``: generate the student notebooks in assignments/ from solutions/ (``make assignment``);
* ``release_steps``: the course's nbgrader generate_assignment steps (drop the master-only cells and the
  demonstration tags), which every release path takes through ``nbgrader_config.py``;
* ``sample_class``: a class of sample submissions, right and wrong (the demo's students);
* ``demo``: the whole instructor flow on the sample class (``make demo``);
* ``readme_sample``: paste how ``make demo`` ended into the README (its sample comes from a run);
* ``lab``: JupyterLab for students and for instructors (``make lab``, ``make formgrader``);
* ``formgrader``: nbgrader's formgrader, whose Autograde grades in the background with the course's grader
  (the instructor's server loads it in place of nbgrader's);
* ``gradebook_names``: the course roster's names in the gradebook, so that the formgrader lists names;
* ``setup_data``: copy and verify the SIGNS files into data/ (``make data``);
* ``batchnorm_statistics``: BatchNorm statistics recomputed exactly, which ``training.train``
  ends with (the solution of a graded exercise, so never in a student's kernel).

The grader's own code, the nbgrader feedback preprocessor included, is in
``resnet_course.grader``; the sandbox in ``resnet_course.sandbox``.
"""
