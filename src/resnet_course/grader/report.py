"""The grading report: per student, whether the submission was graded, and why (not).

Kept as JSON in ``autograder/.runtime/reports/<assignment>.json`` (git-ignored,
beside the gradebook, never copied into feedback), and exported with the
gradebook's scores as CSV by ``python -m resnet_course.grader export``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .course import Course

GRADED = "graded"
NOT_GRADED = "could not be graded"


@dataclasses.dataclass
class StudentReport:
    """What happened to one submission.

    Attributes:
        student: Student id.
        status: ``graded`` or ``could not be graded``.
        reason: In words: why not graded, or what was notable while grading.
        notes: Every observation (dropped files, restored cells, kernel events, tampering).
        seconds: Time the grading job took.
    """

    student: str
    status: str
    reason: str
    notes: list[str]
    seconds: float = 0.0


def load(path: Path) -> dict[str, StudentReport]:
    """The saved report (empty when there is none)."""
    if not path.exists():
        return {}
    return {name: StudentReport(**entry) for name, entry in json.loads(path.read_text()).items()}


def save(path: Path, reports: dict[str, StudentReport]) -> None:
    """Save atomically, merged into what is there (students graded earlier stay)."""
    merged = load(path)
    merged.update(reports)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({k: dataclasses.asdict(v) for k, v in sorted(merged.items())}, indent=1))
    os.replace(temporary, path)


def summarise(graded: bool, reason: str | None, notes: list[str]) -> str:
    """The one-line reason shown in the export."""
    if not graded:
        return reason or "could not be graded"
    important = [n for n in notes if n.startswith(("kernel:", "tampering"))]
    return "; ".join(important or notes) or "graded normally"


def export_rows(course: Course, assignment: str) -> list[dict]:
    """One row per reported student: status, score, max score, reason."""
    reports = load(course.report_path(assignment))
    rows = []
    with Gradebook(course.coursedir.db_url, course.course_id) as gradebook:
        for student, report in sorted(reports.items()):
            try:
                submission = gradebook.find_submission(assignment, student)
                score, max_score = submission.score, submission.max_score
            except MissingEntry:
                score, max_score = 0.0, None
            rows.append({"student": student, "status": report.status, "score": score, "max_score": max_score,
                         "reason": report.reason, "notes": " | ".join(report.notes)})
    return rows


def to_csv(rows: list[dict]) -> str:
    """CSV text of export rows."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["student", "status", "score", "max_score", "reason", "notes"])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
