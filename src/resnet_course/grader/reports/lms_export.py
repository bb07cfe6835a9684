"""Grades for the learning management system: Canvas's and Moodle's grade-import CSV files.

Both start from the grades export (``export.export_rows``) and map each
nbgrader student id through the roster (``roster.py``). Each file is laid out
for its importer's rules, read from the importer's source; the tests read our
files with those rules (``tests/fixtures/canvas_importer.py``,
``moodle_importer.py``):

* A submission that could not be graded is left out by default
  (``ungraded="skip"``), so the LMS keeps whatever grade it has: a blank grade
  clears an existing grade in Moodle, and in Canvas it counts as a change
  against a score a teaching assistant entered. :func:`left_out` lists those
  students with the reason. ``ungraded="blank"`` writes them with a blank
  grade, never 0.
* Canvas expects custom gradebook columns (the teacher's Notes among them)
  right after ``Section`` and shifts them off with the student columns; a
  column it does not know is offered as a new assignment. So ``Notes`` is
  written only when asked for, and then right after ``Section``.
* Moodle gives a row whose identity cell is blank to the previous row's
  student, so every student needs the one identity column, or nothing is
  written. It maps ``<item> (Real)`` and ``<item> (Feedback)`` by itself to the
  grade item it shows as ``<item>``.
* Both store points: the LMS item's maximum must be the assignment's
  (:attr:`LmsFile.points_possible`, which the command line prints).

Text cells that a spreadsheet would read as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) get a leading ``'``, and
control characters are escaped (``text_safety.py``).

Canvas (gradebook import)::

    Student,ID,SIS User ID,SIS Login ID,Section[,Notes],<item> (<canvas assignment id>)
    Points Possible,,,,[,]<max score>

Moodle (grade import, "CSV file")::

    Email address (or ID number),<item> (Real),<item> (Feedback)
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections import defaultdict

from . import report
from .export import GradeRow
from .roster import RosterEntry, RosterError, lookup
from .text_safety import csv_cell, escaped

FORMATS = ("canvas", "moodle")
UNGRADED = ("skip", "blank")
# --moodle-id -> (the header Moodle's mapping form maps to that user field by itself, the roster column).
MOODLE_IDS = {"email": ("Email address", "email"), "idnumber": ("ID number", "sis_id")}
NOT_GRADED_COMMENT = "Not graded (this is not a zero): "


@dataclasses.dataclass(frozen=True)
class LeftOut:
    """A student left out of the LMS file, and why."""

    student_id: str
    reason: str


@dataclasses.dataclass(frozen=True)
class LmsFile:
    """A grade-import file and what the instructor must check before importing it.

    Attributes:
        text: The CSV text.
        points_possible: The maximum the grades are out of; the LMS item's must be the same.
        left_out: The students not in the file (their LMS grade stays as it is).
    """

    text: str
    points_possible: float
    left_out: list[LeftOut]


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run: control characters escaped, a formula-like start quoted."""
    return str(csv_cell(value))


def left_out(rows: list[GradeRow], ungraded: str = "skip") -> list[LeftOut]:
    """The students of ``rows`` that the LMS files leave out under the ``ungraded`` policy, with the reason."""
    _check_policy(ungraded)
    if ungraded == "blank":
        return []
    return [LeftOut(row.student_id, row.reason) for row in rows if row.status != report.GRADED]


def _check_policy(ungraded: str) -> None:
    if ungraded not in UNGRADED:
        raise ValueError(f"unknown policy for ungraded submissions {ungraded!r}; one of {', '.join(UNGRADED)}")


def _written(rows: list[GradeRow], ungraded: str) -> list[GradeRow]:
    _check_policy(ungraded)
    return [row for row in rows if row.status == report.GRADED or ungraded == "blank"]


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


def _points(row: GradeRow) -> str:
    """The score as the LMS should get it: empty when the submission could not be graded."""
    return _number(row.score) if row.status == report.GRADED else ""


def _comment(row: GradeRow) -> str:
    return "" if row.status == report.GRADED else f"{NOT_GRADED_COMMENT}{row.reason}"


def _max_score(rows: list[GradeRow]) -> float:
    return rows[0].max_score if rows else 0.0


def _write(header: list[str], lines: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([[safe_cell(cell) for cell in line] for line in lines])
    return buffer.getvalue()


def canvas_csv(
    rows: list[GradeRow],
    roster: dict[str, RosterEntry],
    item: str,
    canvas_assignment_id: str = "",
    *,
    notes: bool = False,
    ungraded: str = "skip",
) -> LmsFile:
    """Canvas's gradebook-import CSV of ``rows``.

    Args:
        rows: The grades export.
        roster: Student id -> roster entry; every student written must be in it with a
            ``canvas_id`` or ``sis_id``.
        item: The assignment's name in Canvas.
        canvas_assignment_id: Canvas's id of the assignment; without it Canvas matches the column by name.
        notes: Write a ``Notes`` column (why a submission was not graded) right after ``Section``. Canvas
            takes it for the course's Notes column only where that column is shown; it replaces the Notes
            of every student in the file.
        ungraded: ``skip`` leaves out submissions that could not be graded; ``blank`` writes a blank grade.

    Raises:
        RosterError: A student written is missing from the roster or lacks both ids.
    """
    written = _written(rows, ungraded)
    entries = lookup(roster, [row.student_id for row in written], needed=("canvas_id|sis_id",))
    max_score = _max_score(rows)
    column = f"{item} ({canvas_assignment_id})" if canvas_assignment_id else item
    custom = ["Notes"] if notes else []
    lines = [["Points Possible", "", "", "", "", *[""] * len(custom), _number(max_score)]]
    for row, entry in zip(written, entries):
        student = [entry.name or entry.student_id, entry.canvas_id, entry.sis_id, entry.sis_login_id, entry.section]
        lines.append([*student, *([_comment(row)] if notes else []), _points(row)])
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *custom, column]
    return LmsFile(_write(header, lines), max_score, left_out(rows, ungraded))


def moodle_csv(
    rows: list[GradeRow],
    roster: dict[str, RosterEntry],
    item: str,
    *,
    identity: str = "email",
    ungraded: str = "skip",
) -> LmsFile:
    """Moodle's grade-import CSV of ``rows``: one identity column, the grade and the feedback.

    Args:
        rows: The grades export.
        roster: Student id -> roster entry.
        item: The grade item as Moodle shows it (``Assignment: ResNets`` for an assignment activity).
        identity: ``email`` (``Email address``) or ``idnumber`` (``ID number``, the roster's ``sis_id``).
        ungraded: ``skip`` leaves out submissions that could not be graded; ``blank`` writes a blank grade,
            which clears a grade already in Moodle.

    Raises:
        RosterError: A student written is missing from the roster, lacks the identity, or shares it
            with another student: Moodle would give the row to another student, so nothing is written.
    """
    if identity not in MOODLE_IDS:
        raise ValueError(f"unknown Moodle identity {identity!r}; one of {', '.join(MOODLE_IDS)}")
    header, column = MOODLE_IDS[identity]
    written = _written(rows, ungraded)
    entries = lookup(roster, [row.student_id for row in written])
    values = [getattr(entry, column).strip() for entry in entries]
    # Moodle's importer tests the cell with PHP's empty(): "0" is blank too.
    lacking = [entry.student_id for entry, value in zip(entries, values) if value in ("", "0")]
    if lacking:
        raise RosterError(
            f"roster lacks {column} for: {', '.join(map(repr, lacking))}; Moodle would give a row without it "
            f"to the student on the row above, so nothing was written: fill in {column}, or choose the "
            "other --moodle-id"
        )
    holders: dict[str, list[str]] = defaultdict(list)
    for entry, value in zip(entries, values):
        holders[value.casefold()].append(entry.student_id)
    shared = [students for students in holders.values() if len(students) > 1]
    if shared:
        raise RosterError(
            f"roster gives the same {column} to: "
            + "; ".join(" and ".join(map(repr, students)) for students in shared)
            + "; Moodle would put both rows on one user, so nothing was written"
        )
    lines = [[value, _points(row), _comment(row)] for row, value in zip(written, values)]
    text = _write([header, f"{item} (Real)", f"{item} (Feedback)"], lines)
    return LmsFile(text, _max_score(rows), left_out(rows, ungraded))


def lms_csv(
    fmt: str,
    rows: list[GradeRow],
    roster: dict[str, RosterEntry],
    item: str,
    canvas_assignment_id: str = "",
    *,
    canvas_notes: bool = False,
    moodle_id: str = "email",
    ungraded: str = "skip",
) -> LmsFile:
    """The export in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "canvas":
        return canvas_csv(rows, roster, item, canvas_assignment_id, notes=canvas_notes, ungraded=ungraded)
    if fmt == "moodle":
        return moodle_csv(rows, roster, item, identity=moodle_id, ungraded=ungraded)
    raise ValueError(f"unknown LMS format {fmt!r}; one of {', '.join(FORMATS)}")


def notices(fmt: str, lms_file: LmsFile, item: str) -> list[str]:
    """What the instructor must check before importing ``lms_file``, one line each, safe to print."""
    points = _number(lms_file.points_possible)
    if fmt == "canvas":
        lms = "Canvas"
        lines = [f"Points Possible in the file: {points}; the Canvas assignment's points must be {points}"]
    else:
        lms = "Moodle"
        lines = [
            f"grades out of {points}; the Moodle grade item's maximum grade must be {points}",
            f"Moodle maps the columns by itself to the grade item it shows as {escaped(item)!r} (--lms-name)",
        ]
    if lms_file.left_out:
        lines.append(f"left out, could not be graded ({len(lms_file.left_out)}; {lms} keeps their grade):")
        lines += [f"  {escaped(student.student_id)}: {escaped(student.reason)}" for student in lms_file.left_out]
    return lines
