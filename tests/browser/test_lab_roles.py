"""Students must not see the instructor-only formgrader; instructors do.

Each test launches the lab the Makefile launches (``python -m resnet_course.instructor.lab
ROLE``) and looks at it as a user would: the Nbgrader menu, and whether the
formgrader's pages are served at all.
"""

from __future__ import annotations

import jupyterlab_ui as ui
import pytest

pytestmark = pytest.mark.browser

NBGRADER_MENU = "Nbgrader"
# Compared case-insensitively: nbgrader labels the second one "Create assignment".
INSTRUCTOR_ONLY_ITEMS = ("formgrader", "create assignment")


def instructor_items_in(labels: list[str]) -> set[str]:
    """The instructor-only tools that the menu labels name."""
    return {item for item in INSTRUCTOR_ONLY_ITEMS for label in labels if item in label.casefold()}


def test_student_lab_has_no_formgrader(page, launch_lab, student_root, screenshot):
    lab = launch_lab("student", student_root)
    page.goto(lab.url("lab"))
    ui.wait_for_lab(page)

    labels = ui.open_menu(page, NBGRADER_MENU)
    screenshot("student-nbgrader-menu")
    ui.close_menu(page)

    assert "Assignment List" in labels, labels  # the student's own nbgrader tools stay
    assert instructor_items_in(labels) == set(), labels
    assert lab.http_status("formgrader") == 404  # not even by URL


def test_instructor_lab_has_formgrader(page, launch_lab, tmp_path, screenshot):
    course = tmp_path / "course"
    course.mkdir()
    lab = launch_lab("instructor", course)
    page.goto(lab.url("lab"))
    ui.wait_for_lab(page)

    labels = ui.open_menu(page, NBGRADER_MENU)
    screenshot("instructor-nbgrader-menu")
    ui.close_menu(page)

    assert instructor_items_in(labels) == set(INSTRUCTOR_ONLY_ITEMS), labels
    assert lab.http_status("formgrader") == 200
