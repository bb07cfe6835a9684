"""Command line of the sandboxed, parallel grader.

Usage, from the course root (where ``nbgrader_config.py`` is)::

    python -m resnet_course.grader autograde ASSIGNMENT [--workers N] [--scheduler tcp://HOST:PORT]
        [--students a,b] [--timeout S] [--protect MODULE] [--no-training-cache] [--memory-bytes N ...]
    python -m resnet_course.grader export ASSIGNMENT [-o FILE] [--format csv|canvas|moodle] [--roster FILE]
        [--lms-name NAME] [--ungraded skip|blank] [--canvas-assignment-id ID] [--canvas-notes]
        [--moodle-id email|idnumber]
    python -m resnet_course.grader report ASSIGNMENT [-o FILE]

``autograde`` grades every submission under the submitted folder (or the
listed students), N at a time (default: one per core) or on a Dask
cluster, each in its own sandbox, and prints one line per student.
``export`` prints the grades as CSV (``reports/export.py``: status, reason, score,
points per exercise, grading time and notes per student); with ``-o`` it
writes them to FILE and prints a table instead. ``--format canvas`` or
``moodle`` writes the LMS's grade-import CSV instead (``reports/lms_export.py``),
student ids mapped through the roster (``reports/roster.py``; default
``ROOT/roster.csv``), and prints to stderr the maximum the LMS item must
have and the students left out (could not be graded); it exits 2, writing
nothing, when the roster does not fit. ``report`` writes the class report
(``reports/class_report.py``) and prints a short summary. The exit status of
``autograde`` is 0 when the gradebook passed its integrity check after
grading, 1 when it did not, and 2 when grading stopped for a fault on the
instructor's side (the sandbox pre-flight failed, say), with one message
naming the cause and the fix.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from resnet_course.sandbox.limits import SandboxLimits

from .jobs import integrity
from .jobs.autograde import autograde, settings_for
from .jobs.course import Course
from .jobs.instructor_faults import GradingStopped
from .reports import report, roster
from .reports.export import export_rows, to_csv
from .reports.lms_export import FORMATS, MOODLE_IDS, UNGRADED, lms_csv, notices
from .reports.tables import format_table
from .reports.text_safety import escaped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m resnet_course.grader", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="course root holding nbgrader_config.py (default: .)")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("autograde", help="grade submissions, sandboxed and in parallel")
    grade.add_argument("assignment")
    grade.add_argument("--workers", type=int, help="submissions graded at once (default: number of cores)")
    grade.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    grade.add_argument("--students", help="comma-separated student ids (default: all submitted)")
    grade.add_argument("--timeout", type=int, help="seconds per cell (default: the course's Execute.timeout)")
    grade.add_argument(
        "--protect",
        action="append",
        default=[],
        metavar="MODULE",
        help="a module whose functions the tamper guard restores before tests (repeatable)",
    )
    grade.add_argument(
        "--no-training-cache",
        action="store_true",
        help="train every model for the training test, and judge every block and ResNet50 in full, even one "
        "identical to a model graded before",
    )
    SandboxLimits.add_arguments(grade)
    export = commands.add_parser("export", help="status, reason, score and points per exercise, as CSV")
    export.add_argument("assignment")
    export.add_argument("-o", "--output", help="write the CSV to this file and print a table instead")
    export.add_argument(
        "--format",
        choices=("csv", *FORMATS),
        default="csv",
        help="csv (default), or the gradebook-import CSV of Canvas or Moodle",
    )
    export.add_argument("--roster", help="roster CSV for canvas/moodle (default: ROOT/roster.csv)")
    export.add_argument("--lms-name", help="the assignment's name in the LMS (default: ASSIGNMENT)")
    export.add_argument(
        "--ungraded",
        choices=UNGRADED,
        default="skip",
        help="canvas/moodle: leave out submissions that could not be graded (skip, default: the LMS keeps "
        "their grade) or write them with a blank grade (blank: Moodle clears their grade)",
    )
    export.add_argument("--canvas-assignment-id", default="", help="Canvas's id of the assignment")
    export.add_argument(
        "--canvas-notes",
        action="store_true",
        help="canvas: a Notes column after Section, for a course whose Notes column is shown; "
        "it replaces each listed student's notes",
    )
    export.add_argument(
        "--moodle-id",
        choices=tuple(MOODLE_IDS),
        help="moodle: the one identity column, email (default) or idnumber (the roster's sis_id)",
    )
    class_report = commands.add_parser("report", help="the class report: HTML with plots, pass rates, mistakes")
    class_report.add_argument("assignment")
    class_report.add_argument(
        "-o", "--output", help="HTML file (default: class-report-ASSIGNMENT.html beside the gradebook)"
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    course = Course.load(Path(args.root))
    if args.command == "report":
        return write_class_report(course, args.assignment, args.output)
    if args.command == "export" and args.format != "csv":
        return export_for_lms(course, args)
    if args.command == "export":
        rows = export_rows(course, args.assignment)
        if args.output:
            Path(args.output).write_text(to_csv(rows))
            print(f"{format_table(rows)}\n\nwrote {args.output}")
        else:
            sys.stdout.write(to_csv(rows))
        return 0

    students = [s.strip() for s in args.students.split(",") if s.strip()] if args.students else None
    settings = settings_for(
        course,
        SandboxLimits.from_arguments(args),
        args.timeout,
        args.protect,
        training_cache=not args.no_training_cache,
    )
    before = integrity.snapshot(course.db_path) if course.db_path.exists() else None
    try:
        reports = autograde(course, args.assignment, settings, students, args.workers, args.scheduler)
    except (GradingStopped, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for student, entry in sorted(reports.items()):
        print(f"{escaped(student)}: {entry.status} - {escaped(entry.reason)}")
    if before is not None:
        problems = integrity.check(course.db_path, before, {(s, args.assignment) for s in reports})
        if problems:
            print("gradebook integrity check FAILED:\n  " + "\n  ".join(map(escaped, problems)), file=sys.stderr)
            return 1
    print(f"graded {sum(r.status == report.GRADED for r in reports.values())} of {len(reports)}; gradebook intact")
    return 0


def write_class_report(course: Course, assignment: str, output: str | None) -> int:
    """``report``: write the HTML and print the summary."""
    from .reports.class_report import write_report
    from .reports.class_results import terminal_summary

    try:
        path, results = write_report(course, assignment, Path(output) if output else None)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{terminal_summary(results)}\n\nwrote {path}")
    return 0


def export_for_lms(course: Course, args: argparse.Namespace) -> int:
    """``export --format canvas|moodle``: exit 2, with the reason and nothing written, when the roster does not fit.

    The file is written whole or not at all (a temporary file renamed), so an LMS never sees part of it.
    """
    misplaced = [
        option
        for option, given, fmt in (
            ("--canvas-notes", args.canvas_notes, "canvas"),
            ("--moodle-id", args.moodle_id, "moodle"),
        )
        if given and args.format != fmt
    ]
    if misplaced:
        print(f"error: {', '.join(misplaced)} does not apply to --format {args.format}", file=sys.stderr)
        return 2
    item = args.lms_name or args.assignment
    try:
        entries = roster.load(Path(args.roster) if args.roster else course.root / roster.DEFAULT_FILE)
        lms_file = lms_csv(
            args.format,
            export_rows(course, args.assignment),
            entries,
            item,
            args.canvas_assignment_id,
            canvas_notes=args.canvas_notes,
            moodle_id=args.moodle_id or "email",
            ungraded=args.ungraded,
        )
    except roster.RosterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in notices(args.format, lms_file, item):
        print(line, file=sys.stderr)
    if args.output:
        output = Path(args.output)
        temporary = output.with_name(f".{output.name}.tmp")
        temporary.write_text(lms_file.text, encoding="utf-8", newline="")
        os.replace(temporary, output)
        print(f"wrote {args.output} ({args.format})")
    else:
        sys.stdout.write(lms_file.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
