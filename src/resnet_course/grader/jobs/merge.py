"""The single writer: put one job's result into the course gradebook and autograded folder.

Only the coordinating process calls this, one result at a time, so the
course's sqlite gradebook has exactly one writer and no worker ever opens
it. Automatic scores and comments are replaced; manual scores and comments
that graders entered are kept, as ``nbgrader autograde`` keeps them.
"""

from __future__ import annotations

import shutil
import uuid
import warnings
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc

from .course import Course
from .job import write_tree
from .job_types import JobResult


def merge_result(course: Course, assignment: str, result: JobResult) -> None:
    """Write ``result`` into the gradebook (one transaction) and install its autograded files."""
    with warnings.catch_warnings(), Gradebook(course.coursedir.db_url, course.course_id) as gradebook:
        # nbgrader's own ORM use makes SQLAlchemy warn about autoflush; harmless, and noise here.
        warnings.simplefilter("ignore")
        gradebook.update_or_create_student(result.student)
        extra = {"timestamp": parse_utc(result.timestamp)} if result.timestamp else {}
        submission = gradebook.update_or_create_submission(assignment, result.student, **extra)
        if result.graded:
            _apply_grades(gradebook, assignment, result)
        else:
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = False
        gradebook.db.commit()
    install_files(course.folder("autograded", result.student, assignment), result.files)


def _apply_grades(gradebook: Gradebook, assignment: str, result: JobResult) -> None:
    for item in result.grades:
        grade = gradebook.find_grade(item["cell"], item["notebook"], assignment, result.student)
        grade.auto_score = item["auto_score"]
        grade.needs_manual_grade = item["needs_manual_grade"]
    for item in result.comments:
        comment = gradebook.find_comment(item["cell"], item["notebook"], assignment, result.student)
        comment.auto_comment = item["auto_comment"]
    for name, values in result.notebooks.items():
        notebook = gradebook.find_submission_notebook(name, assignment, result.student)
        notebook.late_submission_penalty = values["late_submission_penalty"]
        notebook.flagged = values["flagged"]


def install_files(target: Path, files: dict[str, bytes]) -> None:
    """Replace the folder ``target`` with ``files`` (an empty dict removes it)."""
    staging = target.parent / f".{target.name}.incoming-{uuid.uuid4().hex[:8]}"
    if files:
        try:
            write_tree(staging, files)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)  # no half-written result is left behind
            raise
    if target.exists():
        shutil.rmtree(target)
    if files:
        staging.rename(target)
