"""The course's judges: the trusted side that decides every score.

Module map (imports only point down this list):

* ``safe_models``: a student's Keras model rebuilt from its configuration as data, never as code;
* ``behaviour``: two models compared by what they compute, whatever their layers;
* ``judging``: load an assignment's judges file, draw the challenge, judge one cell;
* ``judge_process``: the judges in a resource-limited sandbox of their own
  (``python -m resnet_course.grader.judges.judge_process``), or in a preloaded server's fork;
* ``judges_server``: inside a sandbox, one preloaded interpreter that judges each submission in a fork of itself
  and removes whatever that fork left before the next;
* ``preloaded_judges``: the grader's side of those servers: start once, lend to one submission at a time;
* ``judges_relay``: a local socket through which each grading job's process reaches the main process' servers;
* ``training_cache``: the training test's judgements, reused for an identical model, and the class's shared passes;
* ``judges_preflight``: the judges on the master's own answers before any student is graded.

The judges files (``solutions/<assignment>/grader_only/judges.py``) import
``judging``, ``safe_models`` and ``behaviour``. Nothing here imports another room
but ``judges_preflight``, which reads ``pipeline.demonstrations``' fingerprints.
"""
