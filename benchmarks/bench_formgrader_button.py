"""How long the instructor's server takes to answer while one submission grades through the formgrader's Autograde.

Usage (as root, like ``make hub``; needs Chromium)::

    python benchmarks/bench_formgrader_button.py --button course    # the course's formgrader (the default)
    python benchmarks/bench_formgrader_button.py --button nbgrader  # nbgrader's own, as before issue 31

It starts the course hub as the hub loop test does (``tests/browser``, training
test left out), releases ``resnets``, lets one student submit the reference
solution in Chromium, collects, then clicks that row's Autograde in Manage
Submissions while ``GET /user/<instructor>/api/status`` is timed back to back
(``server_timing.StatusTimer``, 120 s per request). ``--button nbgrader``
turns the course's formgrader off and nbgrader's on in the instructor's
configuration before they log in: nbgrader's handler grades inside the
server, so one status request waits for the whole grading. Prints and writes
(``--json``) the answers' count, median and slowest time, the grading's
seconds, and the length of what the page showed at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT / "tests" / "browser"), str(REPO_ROOT / "tests")]

import hub_server  # noqa: E402
import hub_ui  # noqa: E402
import test_hub_course_loop as loop  # noqa: E402
from common import add_json_option, write_json  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from hub_course import ANSWERS, EXERCISES, reference_source  # noqa: E402
from server_timing import StatusTimer, cookie_header  # noqa: E402

from resnet_course.hub.layout import ASSIGNMENT, COURSE_ID  # noqa: E402

GRADING_TIMEOUT_MS = 1_800_000
RESULT_DIALOGS = {"course": "#course-grading-result", "nbgrader": "#success-modal, #error-modal"}


def use_nbgrader_formgrader(hub) -> None:
    """Load nbgrader's formgrader in the instructor's server instead of the course's (before they log in)."""
    path = hub.layout.role_config("instructor") / "jupyter_server_config.json"
    config = json.loads(path.read_text())
    config["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] = True
    config["ServerApp"]["jpserver_extensions"]["resnet_course.instructor.formgrader"] = False
    path.write_text(json.dumps(config, indent=2))


def measure(button: str, artifacts: Path) -> dict:
    from playwright.sync_api import sync_playwright

    hub_dir = Path(tempfile.mkdtemp(prefix="bench-formgrader-hub-"))
    hub_dir.chmod(0o755)
    hub = hub_server.start_hub(hub_dir, artifacts / "hub-start.log")
    try:
        if button == "nbgrader":
            use_nbgrader_formgrader(hub)
        launch = {"executable_path": str(CHROMIUM), "headless": True, "args": CHROMIUM_ARGS}
        with sync_playwright() as driver:
            browser = driver.chromium.launch(**launch)
            instructor, home, formgrader = loop.release_as_instructor(browser, hub, artifacts)
            answers = {exercise: reference_source(exercise) for exercise in EXERCISES + ANSWERS}
            with ThreadPoolExecutor(1) as pool:  # Playwright's sync API, in a thread of its own per user
                pool.submit(loop.student_session, hub, artifacts, launch, loop.CORRECT_STUDENT, answers).result()
            commands = [f"cd ~/{COURSE_ID}", f"nbgrader collect {ASSIGNMENT}"]
            status, output = hub_ui.run_step(instructor, home, "collect", commands, timeout_s=300)
            assert status == 0, output
            formgrader.goto(f"{hub.url}/user/{loop.INSTRUCTOR}/formgrader/manage_submissions/{ASSIGNMENT}")
            row = formgrader.locator("#main-table tr").filter(has_text=loop.CORRECT_STUDENT)
            row.wait_for()
            server = f"{hub.url}/user/{loop.INSTRUCTOR}/"
            timer = StatusTimer(server + "api/status", cookie_header(formgrader.context, server))
            timer.start()
            started = time.monotonic()
            row.locator(".autograde a").click()
            dialog = formgrader.locator(RESULT_DIALOGS[button])
            dialog.wait_for(timeout=GRADING_TIMEOUT_MS)
            shown = dialog.inner_text()
            timing = timer.stop()
            browser.close()
        return dict(timing, button=button, grading_s=round(time.monotonic() - started, 1), shown_chars=len(shown))
    finally:
        hub_server.stop_hub(hub)
        shutil.rmtree(hub_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--button", choices=sorted(RESULT_DIALOGS), default="course")
    add_json_option(parser)
    args = parser.parse_args()
    artifacts = Path(tempfile.mkdtemp(prefix="bench-formgrader-"))
    result = measure(args.button, artifacts)
    summary = {key: value for key, value in result.items() if key != "seconds"}
    print(json.dumps(summary, indent=1))
    write_json(f"formgrader-button-{args.button}", result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
