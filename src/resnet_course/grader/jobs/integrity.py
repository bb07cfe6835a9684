"""Gradebook integrity: sqlite's own check, and nothing changed that grading should not change.

Take a :func:`snapshot` before grading and call :func:`check` after it with
the (student, assignment) pairs that were (re)graded: every other
student's and assignment's grades, comments and submissions must be exactly
as before, and so must the assignment definitions (cells, hidden tests,
points).
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

# A grade or comment row, joined up to its student, assignment, notebook and cell.
_PER_CELL_ROWS = """
SELECT sa.student_id, a.name, n.name, bc.name, {columns}
FROM {table} x
JOIN submitted_notebook sn ON x.notebook_id = sn.id
JOIN submitted_assignment sa ON sn.assignment_id = sa.id
JOIN assignment a ON sa.assignment_id = a.id
JOIN notebook n ON sn.notebook_id = n.id
JOIN base_cell bc ON x.cell_id = bc.id
"""
GRADE_ROWS = _PER_CELL_ROWS.format(
    table="grade", columns="'grade', x.auto_score, x.manual_score, x.extra_credit, x.needs_manual_grade"
)
COMMENT_ROWS = _PER_CELL_ROWS.format(table="comment", columns="'comment', x.auto_comment, x.manual_comment, NULL, NULL")
SUBMISSION_ROWS = """
SELECT sa.student_id, a.name, '', '', 'submission', sa.timestamp, sa.extension, NULL, NULL
FROM submitted_assignment sa JOIN assignment a ON sa.assignment_id = a.id
"""
DEFINITION_TABLES = (
    "assignment",
    "notebook",
    "base_cell",
    "grade_cells",
    "solution_cells",
    "source_cell",
    "task_cells",
    "course",
)


def snapshot(db_path: Path) -> dict:
    """Per-student rows keyed by (student, assignment, notebook, cell, kind), and a digest of the definitions."""
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = {}
        for query in (GRADE_ROWS, COMMENT_ROWS, SUBMISSION_ROWS):
            for row in connection.execute(query):
                rows[tuple(row[:5])] = tuple(row[5:])
        digest = hashlib.sha256()
        for table in DEFINITION_TABLES:
            for row in connection.execute(f"SELECT * FROM {table} ORDER BY 1"):
                digest.update(repr(row).encode())
        return {"rows": rows, "definitions": digest.hexdigest()}
    finally:
        connection.close()


def check(db_path: Path, before: dict, regraded: set[tuple[str, str]]) -> list[str]:
    """Problems found (empty: the gradebook is sound).

    Args:
        db_path: The gradebook.
        before: Its :func:`snapshot` from before grading.
        regraded: (student, assignment) pairs that grading was allowed to change.
    """
    problems = []
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            problems.append(f"sqlite integrity_check: {verdict}")
        broken_keys = connection.execute("PRAGMA foreign_key_check").fetchall()
        if broken_keys:
            problems.append(f"{len(broken_keys)} rows reference missing rows (foreign_key_check)")
    finally:
        connection.close()
    after = snapshot(db_path)
    if after["definitions"] != before["definitions"]:
        problems.append("the assignment definitions (cells, hidden tests, points) changed")
    for key in set(before["rows"]) | set(after["rows"]):
        if (key[0], key[1]) in regraded:
            continue
        if before["rows"].get(key) != after["rows"].get(key):
            problems.append(
                f"{key[4]} of {key[0]}/{key[1]}/{key[2]}/{key[3]} changed: "
                f"{before['rows'].get(key)} -> {after['rows'].get(key)}"
            )
    return problems
