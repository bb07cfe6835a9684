"""What a student does in JupyterLab 4, as Playwright actions.

Everything goes through the page: cells are edited in their CodeMirror 6
editors, run with Shift+Enter, and read back from the rendered output, so a
broken front end (extension, kernel, renderer) fails the tests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # playwright is imported lazily: the tests skip without it
    from playwright.sync_api import Locator, Page

NOTEBOOK_PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CELLS = f"{NOTEBOOK_PANEL} .jp-Notebook .jp-Cell"
KERNEL_INDICATOR = f"{NOTEBOOK_PANEL} .jp-Notebook-ExecutionIndicator"
ERROR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
FINISHED_PROMPT = re.compile(r"\[\d+\]:")  # "[*]:" while running, "[ ]:" before

KERNEL_START_TIMEOUT_MS = 90_000
CELL_TIMEOUT_MS = 120_000
#: How long a run may take to start before the notebook reconnects to its kernel and runs it again.
RUN_START_TIMEOUT_MS = 60_000


def cell_index(notebook: Path, needle: str) -> int:
    """Index of the first cell of ``notebook`` whose source contains ``needle``.

    The page shows one ``.jp-Cell`` per notebook cell, in order, so the index
    found in the file addresses the cell in the page.
    """
    cells = json.loads(notebook.read_text())["cells"]
    for index, cell in enumerate(cells):
        if needle in "".join(cell["source"]):
            return index
    raise LookupError(f"no cell of {notebook} contains {needle!r}")


def cell_source(notebook: Path, index: int) -> str:
    """The source of one cell of ``notebook`` as it is on disk."""
    return "".join(json.loads(notebook.read_text())["cells"][index]["source"])


def open_notebook(page: Page, url: str) -> None:
    """Open a notebook and wait until its kernel is idle.

    On a loaded machine the page's first kernel websocket can stay at
    "Connecting" although the server started the kernel; one reload (a
    student would do the same) reconnects to the running kernel.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for attempt in range(2):
        page.goto(url)
        wait_for_lab(page)
        page.locator(CELLS).first.wait_for(timeout=KERNEL_START_TIMEOUT_MS)
        try:
            wait_for_idle_kernel(page, KERNEL_START_TIMEOUT_MS // 2 if attempt == 0 else KERNEL_START_TIMEOUT_MS)
            return
        except PlaywrightTimeoutError:
            if attempt == 1:
                raise


def wait_for_idle_kernel(page: Page, timeout_ms: int = KERNEL_START_TIMEOUT_MS) -> None:
    """Wait until the notebook's kernel has started and is idle."""
    page.locator(f'{KERNEL_INDICATOR}[data-status="idle"]').wait_for(timeout=timeout_ms)


def cell(page: Page, index: int) -> Locator:
    """The cell at ``index`` (counting from 0) of the open notebook."""
    return page.locator(CELLS).nth(index)


def replace_cell_source(page: Page, index: int, source: str) -> None:
    """Replace a code cell's text by typing into its editor.

    ``insert_text`` sends the text as one input event: unlike key-by-key
    typing, the editor's auto-indent and bracket closing cannot alter it.
    """
    target = cell(page, index)
    target.scroll_into_view_if_needed()
    target.locator(".cm-content").click()
    page.keyboard.press("ControlOrMeta+a")  # in edit mode: select the cell's text
    page.keyboard.insert_text(source)
    page.keyboard.press("Escape")  # back to command mode


def run_cell(page: Page, index: int, timeout_ms: int = CELL_TIMEOUT_MS) -> Locator:
    """Select a cell, run it with Shift+Enter, wait for it to finish.

    Returns:
        The cell's output area.
    """
    from playwright.sync_api import expect

    target = cell(page, index)
    target.scroll_into_view_if_needed()
    prompt = target.locator(".jp-InputArea-prompt")
    count_before = prompt.inner_text()
    target.locator(".jp-InputPrompt").click()  # selects the cell without editing it
    page.keyboard.press("Shift+Enter")
    # A re-run cell still shows its old count until the new run starts.
    try:
        expect(prompt).not_to_have_text(count_before, timeout=RUN_START_TIMEOUT_MS)
    except AssertionError:
        reconnect_kernel(page)
        target.locator(".jp-InputPrompt").click()
        page.keyboard.press("Shift+Enter")
        expect(prompt).not_to_have_text(count_before, timeout=timeout_ms)
    wait_for_finished_prompt(page, index, timeout_ms)
    return target.locator(".jp-OutputArea")


def reconnect_kernel(page: Page) -> None:
    """Reconnect the notebook to its kernel, as a student does when a run does not start.

    On a loaded machine the lab can lose its kernel websocket (the server's ping goes
    unanswered): the status bar says "Connecting" and stays so, or a "Server Connection Error"
    dialog covers the notebook, and the run a student asked for never starts. The student
    closes the dialog and picks Kernel > Reconnect to Kernel.
    """
    dialog = page.locator(".jp-Dialog", has=page.locator(".jp-Dialog-header", has_text="Server Connection Error"))
    if dialog.count():
        dialog.locator(".jp-Dialog-button", has_text="Close").click()
        dialog.wait_for(state="detached")
    open_menu(page, "Kernel")
    page.locator(".lm-Menu .lm-Menu-item:not(.lm-mod-hidden)", has_text="Reconnect to Kernel").click()
    wait_for_idle_kernel(page)


def wait_for_finished_prompt(page: Page, index: int, timeout_ms: int) -> None:
    """Wait until the cell's prompt shows an execution count, not ``[*]``."""
    prompt = cell(page, index).locator(".jp-InputArea-prompt")
    prompt.filter(has_text=FINISHED_PROMPT).wait_for(timeout=timeout_ms)


def validate(page: Page, timeout_ms: int) -> Locator:
    """Click the notebook toolbar's Validate button (nbgrader) and wait for the result.

    Returns:
        The "Validation Results" dialog.
    """
    page.locator(f"{NOTEBOOK_PANEL} .jp-Toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog", has=page.locator(".jp-Dialog-header", has_text="Validation Results"))
    dialog.wait_for(timeout=timeout_ms)
    return dialog


def close_dialog(dialog: Locator) -> None:
    """Press the dialog's Ok button and wait until it has gone."""
    dialog.locator(".jp-Dialog-button", has_text="Ok").click()
    dialog.wait_for(state="detached")


def open_menu(page: Page, menu: str) -> list[str]:
    """Open a menu of the menu bar; return the labels of its visible items.

    Lumino hides (rather than removes) items whose command no plugin registered.
    """
    page.locator(".lm-MenuBar-item", has_text=menu).click()
    items = page.locator(".lm-Menu .lm-Menu-item:not(.lm-mod-hidden) .lm-Menu-itemLabel")
    items.first.wait_for()
    return [label.strip() for label in items.all_inner_texts()]


def close_menu(page: Page) -> None:
    """Close the open menu.

    Escape closes it only while the menu has the keyboard focus, which a slow page does not
    always give it; a click on the menu bar's active item closes it whatever has the focus.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    menus = page.locator(".lm-Menu")
    page.keyboard.press("Escape")
    for _ in range(3):
        try:
            menus.wait_for(state="detached", timeout=5_000)
            return
        except PlaywrightTimeoutError:
            page.locator(".lm-MenuBar-item.lm-mod-active").first.click()
    menus.wait_for(state="detached")


def wait_for_lab(page: Page) -> None:
    """Wait until JupyterLab has started: every plugin activated, the splash screen gone.

    Only then is a command's absence meaningful rather than a plugin still loading.
    """
    page.locator(".lm-MenuBar-item", has_text="Help").wait_for(timeout=KERNEL_START_TIMEOUT_MS)
    page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=KERNEL_START_TIMEOUT_MS)


def collapse_left_sidebar(page: Page) -> None:
    """Hide the file browser so that screenshots show the notebook."""
    if page.locator("#jp-left-stack").is_visible():
        page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
        page.locator("#jp-left-stack").wait_for(state="hidden")
