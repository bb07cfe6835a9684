"""The course's formgrader: nbgrader's, whose Autograde button grades in the background, sandboxed.

The instructor's Jupyter server loads this package as a server extension in
place of ``nbgrader.server_extensions.formgrader`` (``make formgrader`` and
the hub's instructor both do). Clicking Autograde, on one row or "Autograde
all", queues the submissions and returns at once; a process of its own
grades them with the course's parallel, sandboxed grader, and the page shows
its progress and then a short result.

Modules, one job each:

* ``extension``: nbgrader's ``FormgradeExtension`` with the course's routes first and its page template;
* ``handlers``: the Autograde, progress and script routes;
* ``grading_queue``: the server's side: one run at a time, started and watched without blocking;
* ``grading_run``: a run's status file, written by the run and read by the server;
* ``background``: the run's process, ``python -m resnet_course.instructor.formgrader.background``;
* ``page``: the Manage Submissions template and script.
"""

from __future__ import annotations


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "resnet_course.instructor.formgrader"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from .extension import load

    load(serverapp)
