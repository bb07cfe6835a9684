"""Sandboxed, parallel autograding of untrusted notebooks with nbgrader.

How a submission flows through the rooms:

1. ``jobs``: ``autograde`` reads the course, ``prepare`` turns each submission into a self-contained job;
2. ``jobs``: ``parallel`` runs the jobs, each in a fresh process (``job`` / ``job_runner``);
3. ``pipeline``: nbgrader's steps execute the notebook in the sandbox and take the evidence out of it;
4. ``judges``: the course's judges weigh the evidence in a sandboxed fork of a preloaded judges server (reached
   from a job through the main process' relay) or a fresh process; their verdicts are the scores;
5. ``jobs`` / ``reports``: ``merge`` writes each result to the gradebook, ``report`` / ``export`` say what happened.

``python -m resnet_course.grader autograde ASSIGNMENT`` (``__main__``) grades every
submission in its own sandbox (``resnet_course.sandbox``), N at a time or on a
Dask cluster, and merges the results into the gradebook from one process. No
score is decided in the student's kernel: its graded cells only hand over
evidence, which the course's judges weigh in a process of their own.

Rooms, one job each (imports between rooms are listed in each room's map):

* ``jobs``: per-student jobs and their orchestration, from the course's folders to the gradebook;
* ``pipeline``: the nbgrader steps a job (or plain ``nbgrader autograde``) runs on one notebook;
* ``judges``: the course's judges, their processes and servers, their pre-flight and their training cache;
* ``reports``: what a run tells the instructor: per-student report, exports, class report, LMS CSV.
"""
