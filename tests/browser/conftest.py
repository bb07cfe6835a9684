"""Fixtures of the browser tests: a headless Chromium page and JupyterLab servers.

The tests drive Debian's Chromium (``/usr/bin/chromium``) through Playwright's
Python API; Playwright's own browser download is not used. Without either of
the two the tests are skipped, saying which one is missing.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from pathlib import Path

import pytest
from lab_server import REPO_ROOT, RunningLab, start_lab, stop_lab

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 900}
ARTIFACTS_DIR = REPO_ROOT / "artifacts" / "browser"
STUDENT_ASSIGNMENT = REPO_ROOT / "assignments" / "resnets"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: drives JupyterLab in headless Chromium (needs playwright and /usr/bin/chromium)"
    )


def pytest_collection_modifyitems(config, items):
    # Skipped on a machine without them; under CI=true, failed (fixtures/tools.py).
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.requires_tool("playwright"))
            item.add_marker(pytest.mark.requires_tool("chromium"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, for the failure screenshot.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def artifact_name(node_name: str) -> str:
    """A file-name-safe version of a test's name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node_name).strip("_")


def run_id_of(config) -> str:
    """The same for every pytest-xdist worker of one run, and new for each run."""
    workerinput = getattr(config, "workerinput", None)
    return workerinput["testrunuid"] if workerinput else f"serial-{os.getpid()}"


@pytest.fixture(scope="session")
def artifacts_dir(pytestconfig) -> Path:
    """``artifacts/browser/``: screenshots and server logs of this run (git-ignored).

    The first worker of a run to ask empties it (no stale failure screenshots); the others keep
    what it has written since, so the run id and the emptying happen under one lock."""
    ARTIFACTS_DIR.parent.mkdir(parents=True, exist_ok=True)
    run_id = run_id_of(pytestconfig)
    with open(ARTIFACTS_DIR.parent / ".browser-artifacts.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = ARTIFACTS_DIR / ".run-id"
        if not marker.is_file() or marker.read_text() != run_id:
            shutil.rmtree(ARTIFACTS_DIR, ignore_errors=True)
            ARTIFACTS_DIR.mkdir(parents=True)
            marker.write_text(run_id)
    return ARTIFACTS_DIR


@pytest.fixture
def screenshot(page, artifacts_dir, request):
    """``screenshot(step)`` saves the page as artifacts/browser/<test>-<step>.png."""
    prefix = artifact_name(request.node.name)

    def save(step: str) -> Path:
        path = artifacts_dir / f"{prefix}-{step}.png"
        page.screenshot(path=str(path))
        return path

    return save


@pytest.fixture(scope="module")
def playwright_driver():
    """Playwright's sync API, for one test module.

    While it is open its event loop counts as running in the main thread, so
    ``asyncio.run`` fails there; a session-wide driver broke the asyncio tests
    that run after tests/browser/ (tests/test_formgrader.py).
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def page(playwright_driver, tmp_path_factory, artifacts_dir, request):
    """A page of a fresh headless Chromium profile; screenshot on failure."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    context = playwright_driver.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport=VIEWPORT,
    )
    context.set_default_timeout(30_000)
    page = context.pages[0] if context.pages else context.new_page()
    yield page
    call_report = getattr(request.node, "report_call", None)
    if call_report is not None and call_report.failed:
        page.screenshot(path=str(artifacts_dir / f"{artifact_name(request.node.name)}-failure.png"))
    context.close()


@pytest.fixture
def chromium_launch_options() -> dict:
    """Keyword arguments of ``chromium.launch`` for Debian's Chromium, for tests that start their own."""
    return {"executable_path": str(CHROMIUM), "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture
def chromium_browser(playwright_driver, chromium_launch_options, artifacts_dir, request):
    """Headless Chromium for tests with several users, each in a context of its own.

    Every page still open is saved as artifacts/browser/<test>-failure-<context>-<page>.png if the test fails.
    """
    browser = playwright_driver.chromium.launch(**chromium_launch_options)
    yield browser
    call_report = getattr(request.node, "report_call", None)
    if call_report is not None and call_report.failed:
        prefix = artifact_name(request.node.name)
        for index, context in enumerate(browser.contexts):
            for number, page in enumerate(context.pages):
                page.screenshot(path=str(artifacts_dir / f"{prefix}-failure-{index}-{number}.png"))
    browser.close()


@pytest.fixture
def student_root(tmp_path) -> Path:
    """A private copy of the student's ``assignments/resnets``, as ``<root>/resnets``."""
    root = tmp_path / "assignments"
    shutil.copytree(STUDENT_ASSIGNMENT, root / "resnets", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return root


@pytest.fixture
def launch_lab(tmp_path_factory, artifacts_dir, request):
    """``launch_lab(role, root)`` starts ``python -m resnet_course.instructor.lab ROLE``; stopped after the test.

    The server's output is kept as artifacts/browser/<test>-<role>-lab.log.
    """
    running: list[RunningLab] = []

    def launch(role: str, root: Path) -> RunningLab:
        log_path = artifacts_dir / f"{artifact_name(request.node.name)}-{role}-lab.log"
        lab = start_lab(role, root, tmp_path_factory.mktemp(f"{role}-lab-state"), log_path)
        running.append(lab)
        return lab

    yield launch
    for lab in running:
        stop_lab(lab)
