"""The course roster: how an nbgrader student id maps to the student in the learning management system.

A roster is a UTF-8 CSV file with a header line. Columns (any order; extra
columns are ignored):

* ``student_id`` (required): the nbgrader student id (the submission folder's name);
* ``name``: the student's name as the LMS shows it;
* ``email``: Moodle's default identifier;
* ``sis_id``: the student information system id (Canvas "SIS User ID", Moodle "ID number");
* ``sis_login_id``: Canvas "SIS Login ID";
* ``canvas_id``: Canvas's own user id (Canvas "ID");
* ``section``: Canvas "Section".

Example::

    student_id,name,email,sis_id,sis_login_id,canvas_id,section
    ada,Ada Lovelace,ada@example.edu,S1001,ada,4711,Monday lab
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

COLUMNS = ("student_id", "name", "email", "sis_id", "sis_login_id", "canvas_id", "section")
DEFAULT_FILE = "roster.csv"


class RosterError(ValueError):
    """The roster is missing, malformed, or lacks a student."""


@dataclasses.dataclass(frozen=True)
class RosterEntry:
    """One student of the roster; absent columns are empty strings."""

    student_id: str
    name: str = ""
    email: str = ""
    sis_id: str = ""
    sis_login_id: str = ""
    canvas_id: str = ""
    section: str = ""


def load(path: Path) -> dict[str, RosterEntry]:
    """Student id -> entry, from the roster CSV at ``path``.

    Raises:
        RosterError: The file is missing, has no ``student_id`` column, or lists a student twice.
    """
    path = Path(path)
    if not path.is_file():
        raise RosterError(
            f"no roster at {path}: write a CSV with a header line starting "
            f"'student_id,name,email' (README, 'For instructors'), or pass --roster FILE"
        )
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if "student_id" not in (reader.fieldnames or []):
            raise RosterError(f"{path}: the header line has no 'student_id' column (found: {reader.fieldnames})")
        entries: dict[str, RosterEntry] = {}
        for line, row in enumerate(reader, start=2):
            values = {column: (row.get(column) or "").strip() for column in COLUMNS}
            if not values["student_id"]:
                continue
            if values["student_id"] in entries:
                raise RosterError(f"{path}, line {line}: student {values['student_id']!r} is listed twice")
            entries[values["student_id"]] = RosterEntry(**values)
    return entries


def lookup(roster: dict[str, RosterEntry], students: list[str], needed: tuple[str, ...] = ()) -> list[RosterEntry]:
    """The roster entries of ``students``, in order.

    Args:
        roster: From :func:`load`.
        students: nbgrader student ids.
        needed: Columns every one of them must have filled in; one of a pair such as
            ``"email|sis_id"`` is enough.

    Raises:
        RosterError: Naming every student missing from the roster, or lacking a needed column.
    """
    missing = [student for student in students if student not in roster]
    if missing:
        raise RosterError(
            f"{len(missing)} graded student(s) missing from the roster: {', '.join(map(repr, missing))}; "
            "add a line for each (columns: student_id,name,email,sis_id,...)"
        )
    entries = [roster[student] for student in students]
    for columns in needed:
        lacking = [e.student_id for e in entries if not any(getattr(e, c) for c in columns.split("|"))]
        if lacking:
            raise RosterError(f"roster lacks {' or '.join(columns.split('|'))} for: {', '.join(map(repr, lacking))}")
    return entries
