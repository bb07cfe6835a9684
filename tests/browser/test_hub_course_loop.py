"""The whole course on JupyterHub in a real browser: release, fetch, work, validate, submit, grade, feedback.

The hub runs as ``make hub`` runs it (``hub_server``), with real Linux users:
the instructor releases ``resnets`` from a terminal in their JupyterLab and
opens the formgrader with Nbgrader > Formgrader, which on the hub opens a tab
of its own (JupyterHub >= 4.1 forbids the formgrader's iframe, nbgrader
#1870). Two students, each in their own browser context, fetch it from the
Assignments tab; one types the reference solution and one the same but for
identity_block's final ReLU; both run the self-checks, Validate and Submit.
The instructor collects and clicks the formgrader's Autograde for the correct
student: the course's sandboxed grader grades in the background while the
instructor's server keeps answering (``/api/status`` is timed meanwhile, and
JupyterLab opens) and the page then shows the score. The other student is
graded with the course's grader in a terminal (``python -m resnet_course.grader
autograde``); the instructor generates and releases feedback; each student
fetches theirs, follows "(view feedback)" to the page, and reads their own
result, without hidden-test code or the other's work.

Along the way: no "Jupyter news" question on anyone's first page, the
students' names (the hub's roster) in Manage Submissions, and no "No
nbgrader_config.py file found" warning in the hub's log.

The course leaves out the training test (``--skip-training-test``), so the
possible score is the points of the other test cells, read from the master
notebook; the expected scores follow from which tests each variant fails.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import hub_server
import hub_ui
import jupyterlab_ui as ui
import pytest
from fixtures import tools
from hub_course import (
    ANSWERS,
    EXERCISES,
    MISSING_FINAL_RELU,
    hidden_test_lines,
    points_by_exercise,
    reference_source,
    without_final_relu,
)
from lab_server import REPO_ROOT
from server_timing import StatusTimer, cookie_header

from resnet_course.grader.reports.report import GRADED
from resnet_course.hub import accounts
from resnet_course.hub.layout import ASSIGNMENT, COURSE_ID

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INSTRUCTOR = accounts.INSTRUCTOR.name
CORRECT_STUDENT, WRONG_STUDENT = (account.name for account in accounts.STUDENTS)
README_SCREENSHOT = REPO_ROOT / "docs" / "img" / "hub-instructor-grading.png"
# docs/img is committed: rewritten only when asked to (or missing), so that a test run leaves the tree clean.
UPDATE_SCREENSHOTS_ENV = "UPDATE_SCREENSHOTS"
CHECK_CALLS = {
    "identity_block": "checks.check_identity_block(identity_block)",
    "convolutional_block": "checks.check_convolutional_block(convolutional_block)",
    "ResNet50": "checks.check_resnet50(ResNet50)",
}
VALIDATE_TIMEOUT_MS = 300_000
GRADING_TIMEOUT_S = 420
#: The instructor's server's slowest answer while a submission grades through the formgrader's Autograde.
STATUS_LIMIT_S = 10.0
# Students log in while the instructor releases, and wait for the release.
RELEASE_TIMEOUT_S = 300


@pytest.fixture
def hub_dir():
    """A fresh ``HUB_DIR`` that the demo users can enter (pytest's own temporary folders are root's only)."""
    folder = Path(tempfile.mkdtemp(prefix="resnet-course-hub-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def hub(hub_dir, artifacts_dir):
    """The course hub on free ports, stopped (as by Ctrl-C) after the test at the latest."""
    if os.geteuid() != 0:
        message = "the course hub needs root (it creates Linux users and spawns servers as them)"
        if tools.in_ci():
            pytest.fail(f"CI=true, and {message}", pytrace=False)
        pytest.skip(message)
    tools.require("configurable-http-proxy")
    running = hub_server.start_hub(hub_dir, artifacts_dir / "hub-start.log")
    yield running
    hub_server.stop_hub(running)
    shutil.copy(running.layout.log_file, artifacts_dir / "hub-jupyterhub.log")


def release_as_instructor(browser, hub, artifacts_dir):
    """The instructor logs in, releases from a terminal, and opens the formgrader in its own tab."""
    page = hub_ui.new_page(browser)
    hub_ui.log_in(page, hub.url, INSTRUCTOR, hub.password(INSTRUCTOR))
    assert not hub_ui.news_question_shown(page)
    home = accounts.home_of(INSTRUCTOR)
    hub_ui.open_terminal(page, home)
    status, output = hub_ui.run_step(
        page,
        home,
        "release",
        [
            f"cd ~/{COURSE_ID}",
            f"nbgrader generate_assignment {ASSIGNMENT} --force",
            f"nbgrader release_assignment {ASSIGNMENT} --force",
        ],
        timeout_s=180,
    )
    assert status == 0, output
    assert f"Released as: {COURSE_ID} {ASSIGNMENT}" in output, output

    # Nbgrader > Formgrader opens a tab: the single-user server forbids being framed, so a panel would stay blank.
    labels, formgrader = hub_ui.open_formgrader_tab(page)
    assert labels == ["Assignment List", "Course List", "Formgrader", "Create assignment"], labels
    response = formgrader.request.get(f"{hub.url}/user/{INSTRUCTOR}/formgrader/manage_assignments")
    assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", "")
    formgrader.locator("tr", has_text=ASSIGNMENT).filter(has_text="released").wait_for()
    hub_ui.shot(formgrader, artifacts_dir, "instructor-formgrader-tab")
    return page, home, formgrader


def student_menu_has_no_formgrader(page, hub, name):
    labels = ui.open_menu(page, "Nbgrader")
    ui.close_menu(page)
    assert "Assignment List" in labels, labels
    assert not [label for label in labels if "formgrader" in label.casefold()], labels
    assert page.request.get(f"{hub.url}/user/{name}/formgrader").status == 404


def work_and_submit(page, hub, artifacts_dir, name, answers):
    """A student fetches, types ``answers``, runs the self-checks, validates and submits.

    Returns:
        The self-checks' outputs by exercise and the validation message.
    """
    hub_ui.log_in(page, hub.url, name, hub.password(name))
    assert not hub_ui.news_question_shown(page)
    student_menu_has_no_formgrader(page, hub, name)
    panel = hub_ui.open_assignment_list(page)
    hub_ui.click_when_listed(panel, "released", ASSIGNMENT, "Fetch", timeout_s=RELEASE_TIMEOUT_S)
    hub_ui.assignment_button(panel, "fetched", ASSIGNMENT, "Submit").wait_for(timeout=hub_ui.EXCHANGE_TIMEOUT_MS)
    hub_ui.shot(page, artifacts_dir, f"{name}-fetched")

    relative = f"{COURSE_ID}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    notebook = accounts.home_of(name) / relative
    ui.open_notebook(page, f"{hub.url}/user/{name}/lab/tree/{relative}")
    ui.collapse_left_sidebar(page)
    hub_ui.run_first_cell(page, ui.cell_index(notebook, "import_keras()"))
    checks = {}
    for exercise, source in answers.items():
        marker = (
            f"def {exercise}(" if exercise in CHECK_CALLS or exercise.startswith("recompute") else f"{exercise} = None"
        )
        answer_index = ui.cell_index(notebook, marker)
        ui.replace_cell_source(page, answer_index, source)
        ui.run_cell(page, answer_index)
        if exercise in CHECK_CALLS:
            checks[exercise] = ui.run_cell(page, ui.cell_index(notebook, CHECK_CALLS[exercise])).inner_text()
    dialog = ui.validate(page, timeout_ms=VALIDATE_TIMEOUT_MS)
    message = dialog.locator("#validation-message").inner_text()
    hub_ui.shot(page, artifacts_dir, f"{name}-validated")
    ui.close_dialog(dialog)
    page.keyboard.press("ControlOrMeta+s")  # what the student submits is what they see

    panel = hub_ui.open_assignment_list(page)
    hub_ui.assignment_button(panel, "fetched", ASSIGNMENT, "Submit").click()
    panel.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT).wait_for(
        timeout=hub_ui.EXCHANGE_TIMEOUT_MS
    )
    hub_ui.shot(page, artifacts_dir, f"{name}-submitted")
    return checks, message


def student_session(hub, artifacts_dir, launch_options, name, answers):
    """:func:`work_and_submit` in a browser of this thread's own (Playwright's API is per thread).

    Returns:
        The browser context's cookies (to come back for feedback), the self-checks' outputs, the
        validation message.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(**launch_options)
        page = hub_ui.new_page(browser)
        try:
            checks, message = work_and_submit(page, hub, artifacts_dir, name, answers)
            return page.context.storage_state(), checks, message
        except BaseException:
            page.screenshot(path=str(artifacts_dir / f"hub-{name}-failure.png"))
            raise
        finally:
            browser.close()


def autograde_in_the_formgrader(page, formgrader, hub, home, artifacts_dir, student, possible):
    """Collect, then Autograde ``student`` in the formgrader, timing the instructor's server meanwhile.

    Returns:
        The result the page showed, and :meth:`StatusTimer.stop`'s summary with the grading's seconds.
    """
    status, output = hub_ui.run_step(
        page, home, "collect", [f"cd ~/{COURSE_ID}", f"nbgrader collect {ASSIGNMENT}"], timeout_s=120
    )
    assert status == 0, output
    formgrader.goto(f"{hub.url}/user/{INSTRUCTOR}/formgrader/manage_submissions/{ASSIGNMENT}")
    rows = formgrader.locator("#main-table tr")
    for account in accounts.STUDENTS:  # the hub's roster names them in the gradebook, not "None, None"
        first, last = account.full_name.rsplit(" ", 1)
        rows.filter(has_text=account.name).filter(has_text=f"{last}, {first}").wait_for()
    assert rows.filter(has_text="None, None").count() == 0

    server = f"{hub.url}/user/{INSTRUCTOR}/"
    timer = StatusTimer(server + "api/status", cookie_header(formgrader.context, server))
    timer.start()
    started = time.monotonic()
    row = rows.filter(has_text=student)
    row.locator(".autograde a").click()
    row.locator(".status", has_text="grading in the background").wait_for()
    lab_page = formgrader.context.new_page()  # JupyterLab itself opens while the submission grades
    lab_page.goto(f"{hub.url}/user/{INSTRUCTOR}/lab")
    ui.wait_for_lab(lab_page)
    lab_opened_s = time.monotonic() - started
    lab_page.close()
    result = formgrader.locator("#course-grading-result")
    result.wait_for(timeout=GRADING_TIMEOUT_S * 1000)
    timing = dict(timer.stop(), grading_s=round(time.monotonic() - started, 1), lab_opened_s=round(lab_opened_s, 1))
    hub_ui.shot(formgrader, artifacts_dir, "instructor-formgrader-autograde")
    (artifacts_dir / "hub-formgrader-status-times.json").write_text(json.dumps(timing, indent=1))
    text = result.inner_text()
    assert f"{student}: graded, {possible:g} / {possible:g}" in text, text
    assert "DEBUG" not in text and len(text) < 2_000, text
    assert timing["failures"] == 0 and timing["max_s"] < STATUS_LIMIT_S, timing
    assert lab_opened_s < timing["grading_s"], timing
    result.locator("button.close").first.click()
    return text, timing


def grade_as_instructor(page, home, artifacts_dir, students):
    """Autograde ``students`` with the sandboxed grader, generate and release feedback, export."""
    status, output = hub_ui.run_step(
        page,
        home,
        "grade",
        [
            f"cd ~/{COURSE_ID}",
            f"python -m resnet_course.grader autograde {ASSIGNMENT} --students {','.join(students)}",
            f"nbgrader generate_feedback {ASSIGNMENT} --force",
            f"nbgrader release_feedback {ASSIGNMENT}",
            f"python -m resnet_course.grader export {ASSIGNMENT} -o grades.csv",
        ],
        timeout_s=GRADING_TIMEOUT_S,
    )
    path = hub_ui.shot(page, artifacts_dir, "instructor-grading-terminal")
    assert status == 0, output
    if os.environ.get(UPDATE_SCREENSHOTS_ENV) == "1" or not README_SCREENSHOT.exists():
        shutil.copyfile(path, README_SCREENSHOT)
    with open(home / COURSE_ID / "grades.csv", newline="") as file:
        return {row["student_id"]: row for row in csv.DictReader(file)}, output


def test_release_fetch_submit_grade_feedback_on_the_hub(hub, chromium_browser, chromium_launch_options, artifacts_dir):
    browser = chromium_browser
    started = time.monotonic()
    timings = {}
    correct = {exercise: reference_source(exercise) for exercise in EXERCISES + ANSWERS}
    wrong = dict(correct, identity_block=without_final_relu(correct["identity_block"]))
    # The students work at the same time, as a class does; the instructor releases meanwhile.
    with ThreadPoolExecutor(max_workers=2) as pool:
        sessions = {
            name: pool.submit(student_session, hub, artifacts_dir, chromium_launch_options, name, answers)
            for name, answers in ((CORRECT_STUDENT, correct), (WRONG_STUDENT, wrong))
        }
        instructor, instructor_home, formgrader = release_as_instructor(browser, hub, artifacts_dir)
        timings["released"] = time.monotonic() - started
        (alice_state, alice_checks, alice_validation), (bob_state, bob_checks, bob_validation) = (
            sessions[CORRECT_STUDENT].result(),
            sessions[WRONG_STUDENT].result(),
        )
    timings["submitted"] = time.monotonic() - started
    for exercise in EXERCISES:
        assert "passed" in alice_checks[exercise], alice_checks
    assert MISSING_FINAL_RELU in bob_checks["identity_block"], bob_checks
    assert "passed" in bob_checks["convolutional_block"], bob_checks
    assert "Success" in alice_validation, alice_validation
    assert "check_identity_block" in bob_validation, bob_validation

    points = points_by_exercise()
    possible = sum(points.values())
    # The correct student through the formgrader's Autograde, the other with the grader's command.
    _, server_timing = autograde_in_the_formgrader(
        instructor, formgrader, hub, instructor_home, artifacts_dir, CORRECT_STUDENT, possible
    )
    timings["graded_in_the_formgrader"] = time.monotonic() - started
    timings["instructor_status_while_grading"] = {k: v for k, v in server_timing.items() if k != "seconds"}
    grades, grading_output = grade_as_instructor(instructor, instructor_home, artifacts_dir, [WRONG_STUDENT])
    timings["graded"] = time.monotonic() - started
    assert set(grades) == {CORRECT_STUDENT, WRONG_STUDENT}, grading_output
    for name in grades:
        assert grades[name]["status"] == GRADED, grades[name]
        assert float(grades[name]["max_score"]) == possible, (grades[name], points)
    assert float(grades[CORRECT_STUDENT]["score"]) == possible, grades[CORRECT_STUDENT]
    wrong_row = grades[WRONG_STUDENT]
    assert float(wrong_row["identity_block"]) < points["identity_block"], wrong_row
    assert float(wrong_row["convolutional_block"]) == points["convolutional_block"], wrong_row
    assert float(wrong_row["score"]) == sum(float(wrong_row[e]) for e in EXERCISES + ANSWERS), wrong_row

    alice, alice_feedback, _ = hub_ui.fetch_feedback(browser, alice_state, hub, CORRECT_STUDENT)
    bob, bob_feedback, bob_url = hub_ui.fetch_feedback(browser, bob_state, hub, WRONG_STUDENT)
    bob.locator("body").evaluate("body => window.scrollTo(0, 0)")
    hub_ui.shot(bob, artifacts_dir, f"{WRONG_STUDENT}-feedback")
    timings["feedback"] = time.monotonic() - started

    for name, text in ((CORRECT_STUDENT, alice_feedback), (WRONG_STUDENT, bob_feedback)):
        score = f"(Score: {float(grades[name]['score']):.1f} / {possible:.1f})"
        assert f"{ASSIGNMENT} {score}" in text, text[:300]
    assert MISSING_FINAL_RELU in bob_feedback
    assert MISSING_FINAL_RELU not in alice_feedback
    for text in (alice_feedback, bob_feedback):
        assert "BEGIN HIDDEN TESTS" not in text
        leaked = [line for line in hidden_test_lines() if line in text]
        assert leaked == [], leaked
    assert WRONG_STUDENT not in alice_feedback and CORRECT_STUDENT not in bob_feedback
    # Alice's session cannot open Bob's feedback either.
    response = alice.request.get(bob_url, max_redirects=0)
    assert response.status != 200 and MISSING_FINAL_RELU not in response.text()

    hub_server.stop_hub(hub)
    timings["stopped"] = time.monotonic() - started
    (artifacts_dir / "hub-loop-timings.json").write_text(json.dumps(timings, indent=2))
    assert hub.process.returncode == 0, hub.output()
    assert hub_server.leftover_processes(hub) == {}
    # The course's nbgrader configuration is found by every server: no warning at each of their requests.
    assert "No nbgrader_config.py file found" not in hub.layout.log_file.read_text(errors="replace")
