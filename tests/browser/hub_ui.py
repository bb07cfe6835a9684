"""What users do on the course hub, as Playwright actions: log in, use the Assignments tab, type in a terminal.

Like ``jupyterlab_ui``, everything goes through the page. Terminal commands
write their exit status to a file in the user's home, which the test (root)
reads: a terminal's screen is a canvas, not text a test can read back.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import jupyterlab_ui as ui

from resnet_course.hub import accounts
from resnet_course.hub.layout import ASSIGNMENT, COURSE_ID

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

SPAWN_TIMEOUT_MS = 120_000
EXCHANGE_TIMEOUT_MS = 120_000
STEPS_FOLDER = ".hub-steps"
TERMINAL_INPUT = ".jp-Terminal:visible .xterm-helper-textarea"
VIEWPORT = {"width": 1280, "height": 900}  # as the other browser tests' pages


def log_in(page: Page, hub_url: str, name: str, password: str) -> None:
    """Log in on the hub's login page and wait for the user's JupyterLab."""
    page.goto(f"{hub_url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf"/user/{re.escape(name)}/lab"), timeout=SPAWN_TIMEOUT_MS)
    ui.wait_for_lab(page)


def open_formgrader_tab(page: Page) -> tuple[list[str], Page]:
    """Nbgrader > Formgrader, which on the hub opens the formgrader in a browser tab of its own.

    Returns:
        The Nbgrader menu's labels, and the formgrader's page once it shows Manage Assignments.
    """
    labels = ui.open_menu(page, "Nbgrader")
    with page.context.expect_page() as opened:
        page.locator(".lm-Menu .lm-Menu-item", has_text="Formgrader").click()
    formgrader = opened.value
    formgrader.wait_for_url(re.compile(r"/formgrader/manage_assignments"), timeout=SPAWN_TIMEOUT_MS)
    return labels, formgrader


def news_question_shown(page: Page, settle_s: float = 3.0) -> bool:
    """Whether JupyterLab asks "Would you like to get notified about official Jupyter news?" on this page.

    JupyterLab asks once the page has been restored; a few seconds after that it would be showing.
    """
    time.sleep(settle_s)
    return page.get_by_text("official Jupyter news").count() > 0


def open_assignment_list(page: Page) -> Locator:
    """Open Nbgrader > Assignment List; return its panel once the lists have loaded."""
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
    page.locator(".lm-Menu .lm-Menu-item", has_text="Assignment List").click()
    panel = page.locator(".jp-MainAreaWidget:visible", has=page.locator("#released_assignments_list"))
    panel.wait_for()
    return panel


def refresh_assignment_list(panel: Locator) -> None:
    panel.locator("#refresh_assignments_list").click()


def assignment_button(panel: Locator, section: str, assignment: str, label: str) -> Locator:
    """The button ``label`` of ``assignment`` in one section (released, fetched, submitted) of the list."""
    item = panel.locator(f"#{section}_assignments_list .list_item", has_text=assignment)
    return item.locator("button", has_text=label).first


def click_when_listed(
    panel: Locator, section: str, assignment: str, label: str, timeout_s: float = EXCHANGE_TIMEOUT_MS / 1000
) -> None:
    """Refresh the list until ``assignment`` shows ``label`` in ``section``, then click it."""
    button = assignment_button(panel, section, assignment, label)
    deadline = time.monotonic() + timeout_s
    while not button.is_visible():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{assignment} never showed {label!r} under {section}")
        refresh_assignment_list(panel)
        time.sleep(2)
    button.click()


def run_first_cell(page: Page, index: int, attempts: int = 3) -> Locator:
    """Run the first cell after opening a notebook; reload and run it again if the kernel never started it.

    With three users' kernels starting at once on two cores, the page's first
    execute request was seen to get lost (the prompt stayed ``[ ]:``, the
    kernel idle). A reload reconnects to the running kernel, as
    ``jupyterlab_ui.open_notebook`` does for a kernel stuck at "Connecting";
    nothing has been typed yet, so nothing is lost.
    """
    from playwright.sync_api import expect

    prompt = ui.cell(page, index).locator(".jp-InputArea-prompt")
    for attempt in range(attempts):
        target = ui.cell(page, index)
        target.scroll_into_view_if_needed()
        target.locator(".jp-InputPrompt").click()
        page.keyboard.press("Shift+Enter")
        try:
            expect(prompt).not_to_have_text("[ ]:", timeout=20_000)
            break
        except AssertionError:
            if attempt == attempts - 1:
                raise
            page.reload()
            ui.wait_for_lab(page)
            ui.wait_for_idle_kernel(page)
    ui.wait_for_finished_prompt(page, index, ui.CELL_TIMEOUT_MS)
    return ui.cell(page, index).locator(".jp-OutputArea")


def open_terminal(page: Page, home: Path) -> None:
    """Start a terminal (File > New > Terminal), and wait until it runs what is typed."""
    page.locator(".lm-MenuBar-item", has_text="File").click()
    menu_item(page, "New").hover()
    menu_item(page, "Terminal").click()
    page.locator(TERMINAL_INPUT).wait_for(timeout=60_000)
    # The shell may not be attached yet when the panel appears: retry until a command ran.
    marker = home / STEPS_FOLDER / "ready"
    for _ in range(30):
        type_command(page, f"mkdir -p ~/{STEPS_FOLDER} && touch ~/{STEPS_FOLDER}/ready")
        for _ in range(10):
            if marker.exists():
                return
            time.sleep(0.3)
    raise TimeoutError("the terminal never ran a command")


def menu_item(page: Page, label: str) -> Locator:
    """The visible item of an open menu whose label is exactly ``label``."""
    return page.locator(".lm-Menu-item:not(.lm-mod-hidden)", has=page.locator(f'.lm-Menu-itemLabel:text-is("{label}")'))


def type_command(page: Page, command: str) -> None:
    page.locator(TERMINAL_INPUT).focus()
    page.keyboard.type(command)
    page.keyboard.press("Enter")


def run_step(page: Page, home: Path, step: str, commands: list[str], timeout_s: float) -> tuple[int, str]:
    """Type ``commands`` (joined with ``&&``) into the open terminal; wait for their exit status.

    Returns:
        The exit status and what the commands printed.
    """
    folder = home / STEPS_FOLDER
    status_file, log_file = folder / step, folder / f"{step}.log"
    joined = " && ".join(commands)
    type_command(
        page, f"({joined}) 2>&1 | tee ~/{STEPS_FOLDER}/{step}.log; echo ${{PIPESTATUS[0]}} > ~/{STEPS_FOLDER}/{step}"
    )
    deadline = time.monotonic() + timeout_s
    while not status_file.exists() or not status_file.read_text().strip():
        if time.monotonic() > deadline:
            output = log_file.read_text(errors="replace") if log_file.exists() else ""
            raise TimeoutError(f"{step} did not finish in {timeout_s} s:\n{output[-3000:]}")
        time.sleep(1)
    return int(status_file.read_text()), log_file.read_text(errors="replace")


def new_page(browser, storage_state=None) -> Page:
    """A page in a browser context of its own: one user's cookies (``storage_state``: saved ones)."""
    context = browser.new_context(viewport=VIEWPORT, storage_state=storage_state)
    context.set_default_timeout(30_000)
    return context.new_page()


def shot(page, artifacts_dir, step: str):
    """Save the page as ``artifacts/browser/hub-<step>.png``; return the path."""
    path = artifacts_dir / f"hub-{step}.png"
    page.screenshot(path=str(path))
    return path


def fetch_feedback(browser, storage_state, hub, name: str) -> tuple[Page, str, str]:
    """Back in the student's session: fetch feedback from the Assignments tab and open it.

    Returns:
        The page, the feedback's text and its address.
    """
    page = new_page(browser, storage_state)
    page.goto(f"{hub.url}/user/{name}/lab")
    ui.wait_for_lab(page)
    panel = open_assignment_list(page)
    click_when_listed(panel, "submitted", ASSIGNMENT, "Fetch Feedback")
    link = panel.locator("#submitted_assignments_list a", has_text="view feedback")
    link.wait_for(timeout=EXCHANGE_TIMEOUT_MS)
    # "(view feedback)" opens the file browser on the feedback page itself, selected (hub/feedback_link.py).
    link.click()
    selected = page.locator(".jp-DirListing-item.jp-mod-selected .jp-DirListing-itemName")
    selected.filter(has_text=f"{ASSIGNMENT}.html").wait_for(timeout=EXCHANGE_TIMEOUT_MS)
    folder = accounts.home_of(name) / COURSE_ID / ASSIGNMENT / "feedback"
    (html,) = folder.glob(f"*/{ASSIGNMENT}.html")
    url = f"{hub.url}/user/{name}/files/{html.relative_to(accounts.home_of(name))}"
    page.goto(url)
    return page, page.inner_text("body"), url
