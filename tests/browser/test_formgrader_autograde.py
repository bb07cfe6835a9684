"""The formgrader's Autograde on ``make formgrader``: it grades in the background, and the page says how it went.

The instructor's lab (``python -m resnet_course.instructor.lab instructor``)
serves a toy course (``fixtures/toy_course``, 3 points) with three collected
submissions: a correct one, one with a wrong ``add``, and one that is not a
notebook. The test clicks "Autograde all", then the row's Autograde of the
correct student (already being graded: nothing more), and meanwhile times
the server's ``/api/status``. The page must mark the rows, then show each
student's score or why the submission could not be graded, and list the
roster's names instead of "None, None".
"""

from __future__ import annotations

import json
import time

import pytest
from fixtures import bad_submissions, toy_course
from server_timing import StatusTimer

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.requires_tool("bwrap")]

GRADING_TIMEOUT_MS = 300_000
#: Slowest answer of /api/status allowed while grading; nbgrader's own button blocked it for the whole grading.
STATUS_LIMIT_S = 5.0
ROSTER = "student_id,name\ngood,Ada Lovelace\nwrong,Bob Dupont\nbroken,Cem Yilmaz\n"


@pytest.fixture
def course(tmp_path):
    course = toy_course.course_copy(tmp_path / "course")
    good = bad_submissions.Case("good", bad_submissions._variant(lambda nb, c: nb), 3)
    wrong = bad_submissions.Case(
        "wrong", bad_submissions._variant(lambda nb, c: bad_submissions._set(nb, "add", bad_submissions.WRONG_ADD)), 2
    )
    bad_submissions.write_class(course, [good, wrong])
    (toy_course.submission_folder(course, "broken") / toy_course.NOTEBOOK).write_text("not a notebook")
    (course / "roster.csv").write_text(ROSTER)
    return course


def test_autograde_grades_in_the_background_and_shows_scores_and_reasons(
    page, launch_lab, course, screenshot, artifacts_dir
):
    lab = launch_lab("instructor", course)
    # The formgrader's own requests carry no token, and a token in the URL sets no cookie.
    page.context.set_extra_http_headers({"Authorization": f"token {lab.token}"})
    page.goto(lab.url("formgrader/manage_submissions/toy"))
    rows = page.locator("#main-table tr")
    rows.filter(has_text="broken").wait_for()
    # The roster's names, not "None, None".
    assert rows.filter(has_text="Lovelace, Ada").count() == 1 and rows.filter(has_text="None, None").count() == 0

    timer = StatusTimer(lab.url("api/status").split("?")[0], {"Authorization": f"token {lab.token}"})
    timer.start()
    clicked = time.monotonic()
    page.locator("#autograde-all").click()
    good = rows.filter(has_text="Lovelace, Ada")
    good.locator(".autograde a").click()
    good.locator(".status", has_text="grading in the background").wait_for()
    page.locator("#course-grading-progress", has_text="in the background").wait_for()
    screenshot("grading")

    result = page.locator("#course-grading-result")
    result.wait_for(timeout=GRADING_TIMEOUT_MS)
    graded_after = time.monotonic() - clicked
    text = result.inner_text()
    screenshot("result")
    timing = timer.stop()
    (artifacts_dir / "formgrader-autograde-status-times.json").write_text(
        json.dumps({"grading_s": round(graded_after, 1), **timing}, indent=1)
    )

    assert "good: graded, 3 / 3" in text, text
    assert "wrong: graded, 2 / 3" in text, text
    assert "broken: could not be graded: toy.ipynb is not a valid notebook" in text, text
    assert "gradebook intact" in text, text
    assert "DEBUG" not in text and len(text) < 2_000, text
    assert timing["answers"] and timing["failures"] == 0 and timing["max_s"] < STATUS_LIMIT_S, timing
    # The rows show the new scores once the run has ended.
    result.locator("button.close").first.click()
    good.locator(".score", has_text="3 / 3").wait_for()
    rows.filter(has_text="Dupont, Bob").locator(".score", has_text="2 / 3").wait_for()
