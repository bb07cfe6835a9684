"""What a run tells the instructor: reports, exports and the class report.

Module map (imports only point down this list):

* ``text_safety``: control characters escaped and formulas neutralised in what the grader prints and exports;
* ``report``: status and reason per student, beside the gradebook;
* ``exercises``: which exercise each graded cell counts towards;
* ``export`` / ``tables``: grades per exercise as CSV, a table and a histogram;
* ``roster`` / ``lms_export``: student ids to LMS users; Canvas and Moodle grade-import CSV;
* ``diagnoses``: each failed test's diagnosis (a stable mistake id, its specifics, or a skipped test),
  read from the autograded notebooks;
* ``class_results``: pass rate per test, mistakes ranked by students (skipped tests apart), the terminal summary;
* ``report_plots`` / ``class_report``: the class report's plots and its self-contained HTML.

Uses ``jobs.course`` (folders), ``jobs.prepare`` (the released notebook),
``jobs.integrity`` (which gradebook rows are grades) and ``pipeline.trusted_verdicts``
(the marks a failed test's output carries).
"""
