"""Grades for the learning management system: Canvas's and Moodle's grade-import CSV files.

Both start from the grades export (``export.export_rows``) and map each
nbgrader student id through the roster (``roster.py``). A submission that
could not be graded gets an empty grade and a comment saying why: it is
never posted as 0. Text cells that a spreadsheet would read as a formula
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) get a
leading ``'``, and control characters are escaped (``text_safety.py``).

Canvas (gradebook import)::

    Student,ID,SIS User ID,SIS Login ID,Section,<item> (<canvas assignment id>),Notes
    Points Possible,,,,,<max score>,

Moodle (grade import, "CSV file")::

    ID number,Email address,<item>,<item> feedback
"""

from __future__ import annotations

import csv
import io

from . import report
from .export import GradeRow
from .roster import RosterEntry, lookup
from .text_safety import csv_cell

FORMATS = ("canvas", "moodle")


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run: control characters escaped, a formula-like start quoted."""
    return str(csv_cell(value))


def _points(row: GradeRow) -> str:
    """The score as the LMS should get it: empty when the submission could not be graded."""
    return f"{round(row.score, 2):g}" if row.status == report.GRADED else ""


def _comment(row: GradeRow) -> str:
    return "" if row.status == report.GRADED else f"Not graded (this is not a zero): {row.reason}"


def _write(header: list[str], lines: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([[safe_cell(cell) for cell in line] for line in lines])
    return buffer.getvalue()


def canvas_csv(rows: list[GradeRow], roster: dict[str, RosterEntry], item: str, canvas_assignment_id: str = "") -> str:
    """Canvas's gradebook-import CSV of ``rows``.

    Args:
        rows: The grades export.
        roster: Student id -> roster entry; every student of ``rows`` must be in it with a
            ``canvas_id`` or ``sis_id``.
        item: The assignment's name in Canvas.
        canvas_assignment_id: Canvas's id of the assignment; without it Canvas matches the column by name.
    """
    entries = lookup(roster, [row.student_id for row in rows], needed=("canvas_id|sis_id",))
    column = f"{item} ({canvas_assignment_id})" if canvas_assignment_id else item
    max_score = rows[0].max_score if rows else 0.0
    lines = [["Points Possible", "", "", "", "", f"{round(max_score, 2):g}", ""]]
    lines += [
        [
            entry.name or entry.student_id,
            entry.canvas_id,
            entry.sis_id,
            entry.sis_login_id,
            entry.section,
            _points(row),
            _comment(row),
        ]
        for row, entry in zip(rows, entries)
    ]
    return _write(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column, "Notes"], lines)


def moodle_csv(rows: list[GradeRow], roster: dict[str, RosterEntry], item: str) -> str:
    """Moodle's grade-import CSV of ``rows``: map ``Email address`` (or ``ID number``) to the user.

    Args:
        rows: The grades export.
        roster: Student id -> roster entry; every student of ``rows`` must be in it with an
            ``email`` or ``sis_id``.
        item: The grade item's name in Moodle.
    """
    entries = lookup(roster, [row.student_id for row in rows], needed=("email|sis_id",))
    lines = [[entry.sis_id, entry.email, _points(row), _comment(row)] for row, entry in zip(rows, entries)]
    return _write(["ID number", "Email address", item, f"{item} feedback"], lines)


def lms_csv(
    fmt: str, rows: list[GradeRow], roster: dict[str, RosterEntry], item: str, canvas_assignment_id: str = ""
) -> str:
    """The export in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "canvas":
        return canvas_csv(rows, roster, item, canvas_assignment_id)
    if fmt == "moodle":
        return moodle_csv(rows, roster, item)
    raise ValueError(f"unknown LMS format {fmt!r}; one of {', '.join(FORMATS)}")
