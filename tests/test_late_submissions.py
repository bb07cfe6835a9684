"""A submission after the due date is recorded as late by the course's grader, and the course's
late-penalty policy (``nbgrader_config.py``: no automatic penalty) leaves its score as it is."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import nbformat
import pytest
from fixtures import bad_submissions, toy_course
from nbgrader.api import Gradebook

from resnet_course.grader.jobs.course import Course

DUE = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def submit(course, student: str, at: datetime) -> None:
    """A correct toy submission with the timestamp nbgrader's exchange would have written."""
    folder = toy_course.submission_folder(course, student)
    nbformat.write(bad_submissions.good_notebook(course), folder / toy_course.NOTEBOOK)
    (folder / "timestamp.txt").write_text(at.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))


def test_the_course_sets_a_late_penalty_policy(repo_root):
    config = Course.load(repo_root).config
    assert config.AssignLatePenalties.plugin_class == "nbgrader.plugins.LateSubmissionPlugin"
    assert config.LateSubmissionPlugin.penalty_method == "none"


@pytest.mark.requires_tool("bwrap")
@pytest.mark.parametrize("policy", ["none", "zero"])
def test_a_submission_after_the_due_date_is_recorded_late_with_the_courses_policy(tmp_path, policy):
    """The grader applies the policy the course's nbgrader_config.py sets ("zero": a late submission's
    penalty is its whole score)."""
    course = toy_course.course_copy(tmp_path / "course")
    if policy != "none":
        with open(course / "nbgrader_config.py", "a") as config:
            config.write(f"\nc.LateSubmissionPlugin.penalty_method = {policy!r}\n")
    db_url = f"sqlite:///{course / 'autograder' / 'gradebook.db'}"
    with Gradebook(db_url) as gradebook:
        gradebook.update_or_create_assignment(toy_course.ASSIGNMENT, duedate=DUE.replace(tzinfo=None))
    submit(course, "punctual", DUE - timedelta(hours=1))
    submit(course, "tardy", DUE + timedelta(days=2, hours=3))

    result = toy_course.grader(course, "autograde", toy_course.ASSIGNMENT)

    assert result.returncode == 0, result.stdout + result.stderr
    with Gradebook(db_url) as gradebook:
        submissions = {s.student.id: s for s in gradebook.assignment_submissions(toy_course.ASSIGNMENT)}
        late = {student: s.total_seconds_late for student, s in submissions.items()}
        penalties = {student: s.late_submission_penalty for student, s in submissions.items()}
        scores = {student: s.score for student, s in submissions.items()}
    assert late == {"punctual": 0, "tardy": timedelta(days=2, hours=3).total_seconds()}
    expected_penalty = toy_course.MAX_SCORE if policy == "zero" else 0
    assert penalties == {"punctual": 0, "tardy": expected_penalty}
    # nbgrader keeps the raw score and the penalty side by side (its reports subtract one from the other).
    assert scores == {"punctual": toy_course.MAX_SCORE, "tardy": toy_course.MAX_SCORE}
