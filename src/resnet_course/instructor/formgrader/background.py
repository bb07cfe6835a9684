"""The process behind the formgrader's Autograde button: the course's grader, reporting as it goes.

Usage (the instructor's server starts it, in the course root)::

    python -m resnet_course.instructor.formgrader.background --status FILE --assignment A [--students=a,b]

It grades exactly as ``python -m resnet_course.grader autograde A --students a,b``
does, with that command's defaults (one sandbox per core, the course's cell
timeout, the training cache): the same public functions, the same gradebook
integrity check afterwards. What it adds is the status file
(``grading_run.py``), rewritten as each submission is recorded, which is
how the formgrader page shows progress and then a short result: each
student's score or the reason they could not be graded.

It runs at the CPU priority of the instructor's server, as the command in a
terminal would: the server keeps answering because nothing in it waits for
the grading, not because the grading yields. A niced run would yield to
every busy student kernel, and on a small machine in class it starves.
Before grading it copies the roster's names into the gradebook
(``gradebook_names.py``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from ...grader.jobs import integrity
from ...grader.jobs.autograde import autograde, settings_for
from ...grader.jobs.course import Course
from ...grader.jobs.instructor_faults import GradingStopped
from ...grader.reports import report
from ...grader.reports.export import export_rows
from ...grader.reports.roster import DEFAULT_FILE as ROSTER_FILE
from ...grader.reports.roster import RosterError
from ...sandbox.limits import SandboxLimits
from ..gradebook_names import import_roster_names
from . import grading_run
from .grading_run import FINISHED, RUNNING, STOPPED, GradingRun

log = logging.getLogger(__name__)


def grade(run: GradingRun, status_path: Path, root: Path) -> int:
    """Grade ``run``'s submissions in the course at ``root``, saving ``run`` at ``status_path`` as it goes.

    Returns:
        The exit status of ``python -m resnet_course.grader autograde``: 0 graded with the gradebook
        intact, 1 the gradebook check failed, 2 grading stopped (``run.message`` says why).
    """
    course = Course.load(root)
    try:
        import_roster_names(course.coursedir.db_url, course.course_id, root / ROSTER_FILE)
    except RosterError as error:
        log.warning("the roster's names were not copied into the gradebook: %s", error)
    settings = settings_for(course, SandboxLimits.from_env())
    before = integrity.snapshot(course.db_path) if course.db_path.exists() else None

    def recorded(entry: report.StudentReport) -> None:
        run.results.append({"student": entry.student, "status": entry.status, "reason": entry.reason})
        grading_run.write(status_path, run)

    try:
        reports = autograde(course, run.assignment, settings, run.students, on_report=recorded)
    except (GradingStopped, ValueError) as error:
        run.state, run.message, run.ended = STOPPED, str(error), time.time()
        grading_run.write(status_path, run)
        return 2
    scores = {row.student_id: row for row in export_rows(course, run.assignment)}
    for result in run.results:
        row = scores.get(result["student"])
        if row is not None and result["status"] == report.GRADED:
            result["score"], result["max_score"] = round(row.score, 2), round(row.max_score, 2)
    problems = integrity.check(course.db_path, before, {(s, run.assignment) for s in reports}) if before else []
    graded = sum(entry.status == report.GRADED for entry in reports.values())
    if problems:
        run.message = "the gradebook integrity check FAILED: " + "; ".join(problems)
    else:
        run.message = f"graded {graded} of {len(reports)}; gradebook intact"
    run.state, run.ended = FINISHED, time.time()
    grading_run.write(status_path, run)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m resnet_course.instructor.formgrader.background")
    parser.add_argument("--status", required=True, type=Path, help="the run's status file (grading_run.py)")
    parser.add_argument("--assignment", required=True)
    parser.add_argument("--students", help="comma-separated student ids (default: every submission collected)")
    parser.add_argument("--id", default="", help="the run's id, as the server named it")
    parser.add_argument("--root", type=Path, default=Path("."), help="the course root (default: .)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    students = [s.strip() for s in args.students.split(",") if s.strip()] if args.students else None
    run = GradingRun(args.id or str(os.getpid()), args.assignment, students, RUNNING, started=time.time())
    queued = grading_run.read(args.status)
    if queued is not None and queued.id == run.id:
        run.started = queued.started  # the click's time: the page counts from it
    grading_run.write(args.status, run)
    return grade(run, args.status, args.root.resolve())


if __name__ == "__main__":
    sys.exit(main())
