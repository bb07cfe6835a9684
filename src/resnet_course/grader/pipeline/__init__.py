"""The nbgrader steps run on one notebook: in a job, or in plain ``nbgrader autograde``.

Module map:

* ``execute`` / ``kernel_messages`` / ``late_output``: sandboxed execution, dead kernels, malformed kernel
  messages, output that comes late or never ends;
* ``kernel_guard``: the tamper guard ``execute`` installs in the kernel; it decides no score
  (its docstring says what it still protects);
* ``demonstrations``: cells that show, not test: skipped in the kernel, their outputs restored;
* ``evidence_reader``: the evidence the graded cells handed over, taken out of the notebook;
* ``trusted_verdicts``: the steps that put the judges' verdicts in place of the kernel's;
* ``plain_nbgrader`` / ``plain_refusals``: the same pre-flight, refusals and verdicts on plain
  ``nbgrader autograde`` (``nbgrader_config.py`` names them by dotted path);
* ``feedback``: the nbgrader preprocessor that keeps hidden test code out of feedback;
* ``nbgrader_steps``: nbgrader's generate_assignment and generate_feedback on a course.

Uses ``judges`` (the verdicts), ``jobs.course`` and ``jobs.submissions`` (folders,
links) and ``reports`` (a refusal's report line, escaped text).
"""
