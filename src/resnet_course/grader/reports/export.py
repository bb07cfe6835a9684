"""The grades export: the grading report joined with the gradebook's scores, one row per student.

``nbgrader export`` writes 0.0 both for a notebook that earned nothing and
for one that could not be graded at all. Each row here says ``graded`` or
``could not be graded`` and why (``report.py``), and adds the score of each
exercise (``exercises.py``), the time grading took and what the grader
noticed on the way.
"""

from __future__ import annotations

import csv
import dataclasses
import io

from nbgrader.api import Gradebook, MissingEntry

from ..jobs.course import Course
from ..jobs.prepare import released_notebook
from . import report
from .exercises import answer_cells, exercise_of, exercises
from .text_safety import csv_cell


@dataclasses.dataclass
class GradeRow:
    """One student's line of the export.

    Attributes:
        student_id: The student.
        assignment: The assignment.
        status: ``graded`` or ``could not be graded``.
        reason: Why not graded, or what was notable while grading.
        score: Points in the gradebook.
        max_score: Points available.
        by_exercise: Points per exercise, every exercise of the assignment in notebook order.
        seconds: Time the grading job took.
        notes: Everything the grader noticed (dropped files, repaired cells, kernel events, tampering).
    """

    student_id: str
    assignment: str
    status: str
    reason: str
    score: float
    max_score: float
    by_exercise: dict[str, float]
    seconds: float
    notes: list[str]

    def as_csv_dict(self) -> dict[str, object]:
        row = {
            "student_id": self.student_id,
            "assignment": self.assignment,
            "status": self.status,
            "reason": self.reason,
            "score": round(self.score, 2),
            "max_score": round(self.max_score, 2),
        }
        row.update({exercise: round(points, 2) for exercise, points in self.by_exercise.items()})
        row["grading_seconds"] = self.seconds
        row["notes"] = " | ".join(self.notes)
        return row


def export_rows(course: Course, assignment: str) -> list[GradeRow]:
    """One row per student in the assignment's grading report, by student id."""
    reports = report.load(course.report_path(assignment))
    if not reports:
        return []
    rows = []
    with Gradebook(course.coursedir.db_url, course.course_id) as gradebook:
        definition = gradebook.find_assignment(assignment)
        notebooks = [released_notebook(course, assignment, f"{n.name}.ipynb") for n in definition.notebooks]
        answers = [answer for notebook in notebooks for answer in answer_cells(notebook)]
        columns = [exercise for notebook in notebooks for exercise in exercises(notebook)]
        for student, entry in sorted(reports.items()):
            by_exercise = dict.fromkeys(columns, 0.0)
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                submission = None
            for notebook in submission.notebooks if submission else []:
                for grade in notebook.grades:
                    exercise = exercise_of(grade.name, answers)
                    by_exercise[exercise] = by_exercise.get(exercise, 0.0) + grade.score
            rows.append(
                GradeRow(
                    student_id=student,
                    assignment=assignment,
                    status=entry.status,
                    reason=entry.reason,
                    score=submission.score if submission else 0.0,
                    max_score=definition.max_score,
                    by_exercise=by_exercise,
                    seconds=entry.seconds,
                    notes=entry.notes,
                )
            )
    return rows


def to_csv(rows: list[GradeRow]) -> str:
    """CSV text of the rows: one header line, one line per student, every cell safe (``text_safety``)."""
    lines = [{csv_cell(key): csv_cell(value) for key, value in row.as_csv_dict().items()} for row in rows]
    buffer = io.StringIO()
    # Every row has the same columns, unless the release lacks a cell the gradebook grades.
    writer = csv.DictWriter(buffer, fieldnames=list(dict.fromkeys(k for line in lines for k in line)) or ["student_id"])
    writer.writeheader()
    writer.writerows(lines)
    return buffer.getvalue()
