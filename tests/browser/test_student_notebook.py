"""The student's flow in a real browser: JupyterLab 4 with the nbgrader extension.

A copy of the student notebook is served by ``python -m resnet_course.instructor.lab
student``. The test runs the set-up and data cells, types an implementation
of ``identity_block`` into the solution cell, runs its self-check and reads
the result from the page; then it validates the notebook with nbgrader's
"Validate" toolbar button.
"""

from __future__ import annotations

import os
import re
import shutil

import jupyterlab_ui as ui
import pytest
from lab_server import REPO_ROOT

pytestmark = pytest.mark.browser

NOTEBOOK = "resnets/resnets.ipynb"
README_SCREENSHOT = REPO_ROOT / "docs" / "img" / "student-self-check.png"
# docs/img is committed: rewrite its screenshot only when asked to (or when it is missing),
# so that running the tests leaves the working tree clean.
UPDATE_SCREENSHOTS_ENV = "UPDATE_SCREENSHOTS"

PLACEHOLDER = re.compile(r"^[ \t]*# YOUR CODE HERE\n[ \t]*raise NotImplementedError\(\)[ \t]*$", re.MULTILINE)

# What a student would write: the three main-path components, then the shortcut.
CORRECT_IDENTITY_BLOCK = """\
    X = layers.Conv2D(F1, kernel_size=1, strides=1, padding="valid", kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X = layers.Activation("relu")(X)

    X = layers.Conv2D(F2, kernel_size=f, strides=1, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X = layers.Activation("relu")(X)

    X = layers.Conv2D(F3, kernel_size=1, strides=1, padding="valid", kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)

    X = layers.Add()([X, X_shortcut])
    X = layers.Activation("relu")(X)"""

# A classic mistake: the block ends with the addition, without the final ReLU.
IDENTITY_BLOCK_WITHOUT_FINAL_RELU = CORRECT_IDENTITY_BLOCK.rsplit("\n", 1)[0]

# Text that identifies each cell the tests use, wherever it is in the notebook.
CELL_MARKERS = {
    "setup": "import_keras()",
    "data": "load_signs()",
    "solution": "def identity_block(",
    "check": "checks.check_identity_block(identity_block)",
}

SELF_CHECK_PASSED = re.compile(r"identity_block: all \d+ checks passed")
# checks.SelfCheckError subclasses AssertionError; its message starts with the function's name.
SELF_CHECK_ERROR = re.compile(r"(SelfCheckError|AssertionError): identity_block: ")
MISSING_FINAL_RELU = re.compile(r"final ReLU", re.IGNORECASE)
BACKEND_LINE = re.compile(r"Keras \S+ on \w+, running on ")
VALIDATE_TIMEOUT_MS = 300_000  # the whole notebook runs in a fresh kernel


def with_implementation(source: str, implementation: str) -> str:
    """The solution cell's source with the placeholder replaced by ``implementation``."""
    new_source, replaced = PLACEHOLDER.subn(lambda _: implementation, source)
    assert replaced == 1, f"expected one `# YOUR CODE HERE` placeholder in:\n{source}"
    return new_source


def notebook_cells(student_root):
    """Indices of the cells the tests use, and the solution cell's source."""
    notebook = student_root / NOTEBOOK
    try:
        cells = {name: ui.cell_index(notebook, needle) for name, needle in CELL_MARKERS.items()}
    except LookupError as missing:
        pytest.fail(f"{missing}: is assignments/ generated from the current solutions? (`make assignment`)")
    return cells, ui.cell_source(notebook, cells["solution"])


def open_student_notebook(page, launch_lab, student_root):
    """Start the student lab on ``student_root`` and open the notebook in it."""
    lab = launch_lab("student", student_root)
    ui.open_notebook(page, lab.url(f"lab/tree/{NOTEBOOK}"))
    ui.collapse_left_sidebar(page)
    return lab


def run_setup_cell(page, index):
    """Run the set-up cell; it imports Keras and prints the backend line."""
    output = ui.run_cell(page, index)
    assert BACKEND_LINE.search(output.inner_text()), f"no backend line in the set-up output:\n{output.inner_text()}"


def type_and_check_identity_block(page, cells, solution_source, implementation):
    """Type ``implementation`` into the solution cell, run it and its self-check."""
    ui.replace_cell_source(page, cells["solution"], with_implementation(solution_source, implementation))
    ui.run_cell(page, cells["solution"])
    return ui.run_cell(page, cells["check"])


def save_readme_screenshot(page, check_cell_index, artifacts_dir):
    """Show the end of the solution cell and the passed self-check; save it for the README."""
    ui.cell(page, check_cell_index).evaluate("cell => cell.scrollIntoView({block: 'end'})")
    path = artifacts_dir / README_SCREENSHOT.name
    page.screenshot(path=str(path))
    if os.environ.get(UPDATE_SCREENSHOTS_ENV) == "1" or not README_SCREENSHOT.exists():
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_SCREENSHOT)


def test_self_check_passes_validates_then_names_a_mistake(page, launch_lab, student_root, screenshot, artifacts_dir):
    cells, solution_source = notebook_cells(student_root)
    open_student_notebook(page, launch_lab, student_root)

    run_setup_cell(page, cells["setup"])
    data_output = ui.run_cell(page, cells["data"]).inner_text()
    assert "SIGNS: 1080 training and 120 test images" in data_output, f"the data cell printed:\n{data_output}"
    check_output = type_and_check_identity_block(page, cells, solution_source, CORRECT_IDENTITY_BLOCK)

    assert SELF_CHECK_PASSED.search(check_output.inner_text()), check_output.inner_text()
    save_readme_screenshot(page, cells["check"], artifacts_dir)

    dialog = ui.validate(page, timeout_ms=VALIDATE_TIMEOUT_MS)
    screenshot("validate")
    message = dialog.locator("#validation-message").inner_text()
    # Exercises 2 and 3 are still unsolved, so validation fails on their
    # checks, but no longer on identity_block's.
    assert "The following cell failed" in message, message
    assert "check_convolutional_block" in message, message
    assert "check_resnet50" in message, message
    assert "check_identity_block" not in message, message
    ui.close_dialog(dialog)

    # The second case, in the same lab session as a student would work (one lab
    # per test keeps this robust on a loaded 2-core machine, where a second
    # lab's kernel websocket was once seen to stay at "Connecting"): the
    # student breaks the block and sees the self-check's message in the page.
    check_output = type_and_check_identity_block(page, cells, solution_source, IDENTITY_BLOCK_WITHOUT_FINAL_RELU)
    check_output.evaluate("output => output.scrollIntoView({block: 'end'})")
    screenshot("self-check-failed")
    error_text = check_output.locator(ui.ERROR_OUTPUT).inner_text()
    # The traceback names the check's exception (an AssertionError) and its message the mistake.
    assert SELF_CHECK_ERROR.search(error_text), error_text
    assert MISSING_FINAL_RELU.search(error_text), error_text
    assert not SELF_CHECK_PASSED.search(check_output.inner_text())


def test_a_notebook_reconnected_to_its_kernel_keeps_what_ran(page, launch_lab, student_root):
    """Kernel > Reconnect to Kernel, what a student does when a run does not start (and what
    ``jupyterlab_ui.run_cell`` does then), reaches the same kernel: the data cell runs on the
    set-up cell's imports."""
    cells, _ = notebook_cells(student_root)
    open_student_notebook(page, launch_lab, student_root)
    run_setup_cell(page, cells["setup"])
    ui.reconnect_kernel(page)
    output = ui.run_cell(page, cells["data"])
    assert "SIGNS:" in output.inner_text() and not output.locator(ui.ERROR_OUTPUT).count(), output.inner_text()
