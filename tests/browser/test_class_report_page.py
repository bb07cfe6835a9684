"""The class report of the demo class in headless Chromium: the numbers the page shows
equal the gradebook's, and a screenshot is saved (artifacts/browser/class-report.png;
docs/img/class-report.png for the README when missing or with UPDATE_SCREENSHOTS=1).

Uses the session's one demo run (``demo_root`` in tests/conftest.py)."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from lab_server import REPO_ROOT
from nbgrader.api import Gradebook

from resnet_course.instructor.demo import demo_course
from resnet_course.instructor.sample_class import ASSIGNMENT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

README_SCREENSHOT = REPO_ROOT / "docs" / "img" / "class-report.png"
UPDATE_SCREENSHOTS_ENV = "UPDATE_SCREENSHOTS"
README_CLIP = {"x": 0, "y": 0, "width": 1280, "height": 1500}
NOT_GRADED = "could not be graded"


def shown_table(page, table_id: str) -> list[dict[str, str]]:
    """The rows of a table as the page shows them, keyed by its header cells."""
    return page.evaluate(
        """(id) => {
        const table = document.getElementById(id);
        const head = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
        return [...table.querySelectorAll('tbody tr')].map(tr => Object.fromEntries(
            [...tr.querySelectorAll('td')].map((td, i) => [head[i], td.innerText.trim()])));
    }""",
        table_id,
    )


def gradebook_numbers(root):
    """(status and score per student, (passed, graded) per test cell, the maximum score) from the gradebook's API."""
    course = demo_course(root)
    statuses = {s: e["status"] for s, e in json.loads(course.report_path(ASSIGNMENT).read_text()).items()}
    graded = {s for s, status in statuses.items() if status != NOT_GRADED}
    with Gradebook(course.coursedir.db_url, course.course_id) as gradebook:
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT) if s.student.id in graded}
        passes, max_score = {}, gradebook.find_assignment(ASSIGNMENT).max_score
        for notebook in gradebook.find_assignment(ASSIGNMENT).notebooks:
            for cell in notebook.grade_cells:
                grades = [gradebook.find_grade(cell.name, notebook.name, ASSIGNMENT, s) for s in sorted(graded)]
                passes[cell.name] = (sum(g.score >= cell.max_score for g in grades), len(grades))
    return statuses, scores, passes, max_score


def test_report_shows_the_gradebooks_numbers(page, demo_root, artifacts_dir):
    statuses, scores, passes, max_score = gradebook_numbers(demo_root)
    page.goto((demo_root / "class-report.html").as_uri())
    page.wait_for_load_state("load")
    # Every plot decoded (embedded PNG data, nothing fetched).
    assert page.evaluate("[...document.images].map(i => i.complete && i.naturalWidth > 0)") == [True] * 3

    students = {row["student"]: row for row in shown_table(page, "students")}
    assert set(students) == set(statuses)
    for student, row in students.items():
        assert row["status"] == statuses[student]
        if statuses[student] == NOT_GRADED:
            assert row["score"] == "–", "an ungraded submission is not shown as a zero"
        else:
            assert float(row["score"]) == pytest.approx(scores[student]), student
    tests = {row["test"]: row for row in shown_table(page, "tests")}
    assert {name: (int(row["passed"]), int(row["graded"])) for name, row in tests.items()} == passes
    assert page.inner_text("#count-graded").endswith(str(len(scores)))
    assert page.inner_text("#count-not-graded").endswith(str(len(statuses) - len(scores)))
    mean = sum(scores.values()) / len(scores)
    assert f"{mean:.2f} / {max_score:g}" in page.inner_text("#mean-score")

    mistakes = shown_table(page, "mistakes")
    counts = [int(row["students"]) for row in mistakes]
    assert counts == sorted(counts, reverse=True)
    assert all(len(row["students affected"].split(", ")) == int(row["students"]) for row in mistakes)
    relu = [row for row in mistakes if "the final ReLU is missing" in row["mistake"]]
    assert relu and "no_final_relu" in relu[0]["students affected"]
    reasons = {row["student"]: row["reason"] for row in shown_table(page, "not-graded")}
    assert set(reasons) == {s for s, status in statuses.items() if status == NOT_GRADED}
    assert "not a valid notebook" in reasons["broken_notebook"]

    page.screenshot(path=str(artifacts_dir / "class-report-full.png"), full_page=True)
    path = artifacts_dir / README_SCREENSHOT.name
    page.screenshot(path=str(path), full_page=True, clip=README_CLIP)  # the summary, mistakes and pass rates
    if os.environ.get(UPDATE_SCREENSHOTS_ENV) == "1" or not README_SCREENSHOT.exists():
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_SCREENSHOT)
