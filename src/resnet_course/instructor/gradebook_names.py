"""The students' names in the gradebook, from the course roster, so that the formgrader shows names.

nbgrader creates a student from their id alone when it first grades them,
and the formgrader then lists them as "None, None". The course roster
(``ROOT/roster.csv``, ``resnet_course.grader.reports.roster``) already names every
student for the LMS exports; this copies those names into the gradebook.
A roster name is one field ("Ada Lovelace"); nbgrader wants a first and a
last name, so the last word is taken as the last name.

Run by the hub's set-up (the demo students' roster), when the course's
formgrader starts, and before each grading run of its Autograde button.
"""

from __future__ import annotations

from pathlib import Path

from nbgrader.api import Gradebook

from ..grader.reports import roster


def split_name(name: str) -> tuple[str, str]:
    """``(first, last)`` of a roster name: the last word is the last name."""
    words = name.split()
    if not words:
        return "", ""
    return " ".join(words[:-1]), words[-1]


def import_roster_names(db_url: str, course_id: str, roster_path: Path) -> int:
    """Create or update, in the gradebook at ``db_url``, every roster student that has a name.

    Students the roster does not list, and roster students without a name, are left as they are.

    Args:
        db_url: The gradebook's SQLAlchemy URL (nbgrader's ``CourseDirectory.db_url``).
        course_id: The course id (``CourseDirectory.course_id``), as nbgrader opens the gradebook.
        roster_path: The roster CSV; nothing happens when there is none.

    Returns:
        The number of students whose names are now in the gradebook.

    Raises:
        roster.RosterError: The roster exists but cannot be read.
    """
    if not Path(roster_path).is_file():
        return 0
    named = [entry for entry in roster.load(Path(roster_path)).values() if entry.name]
    with Gradebook(db_url, course_id) as gradebook:
        for entry in named:
            first, last = split_name(entry.name)
            details = {"first_name": first, "last_name": last}
            if entry.email:
                details["email"] = entry.email
            gradebook.update_or_create_student(entry.student_id, **details)
    return len(named)
