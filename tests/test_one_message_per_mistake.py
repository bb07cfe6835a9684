"""One message per mistake: the executed student notebook shows each build-breaking mistake in one error cell.

The student version, solved with the master's answers, is executed in a fresh kernel once as it is (no error
cell) and once per typical mistake that keeps the model from building: the catalogue's (``tests/mistakes.py``,
imported into the notebook in place of the student's function) and the paper's ImageNet head. The self-check
below the exercise shows the error; every later cell that needs the model or the function prints one
"skipped: ..." line instead of failing again. The notebook runs as nbgrader's Validate runs it
(``NBGRADER_EXECUTION=validate``), so its demonstrations train for 0 epochs: about a minute per notebook, two at a time.
"""

from __future__ import annotations

import copy
import json
import os
import re

import nbformat
import pytest
from nbclient import NotebookClient

from resnet_course.instructor.sample_class import SampleStudent, solution_code, submission
from resnet_course.paths import ASSIGNMENTS_DIR, REPO_ROOT

pytestmark = pytest.mark.slow

STUDENT_NOTEBOOK = ASSIGNMENTS_DIR / "resnets" / "resnets.ipynb"
TESTS_DIR = REPO_ROOT / "tests"

#: The catalogue's mistakes that keep ResNet50 from building (found by building ResNet50 with each one;
#: ``test_each_listed_mistake_keeps_resnet50_from_building`` keeps the list honest), by exercise.
BUILD_BREAKING = {
    "identity_block": (
        "identity_middle_conv_valid_padding",
        "identity_third_conv_with_f2_filters",
        "identity_middle_conv_stride_2",
    ),
    "convolutional_block": (
        "conv_stride_hard_coded_2",
        "conv_shortcut_without_stride",
        "conv_shortcut_with_f1_filters",
        "conv_identity_shortcut",
    ),
    "ResNet50": ("resnet_stage4_identity_filters_typo", "resnet_stage2_stride_2"),
}
#: The paper's ImageNet head on 64x64 images: a 7x7 pool window on stage 5's 2x2 output.
HEAD_7X7 = ("AveragePooling2D(pool_size=2)", "AveragePooling2D(pool_size=(7, 7))")
SKIPPED = re.compile(r"^skipped: .* see the self-check above\.$", re.MULTILINE)


def solved_student_notebook() -> dict:
    """The student version with every answer cell filled in with the master's answer."""
    released = json.loads(STUDENT_NOTEBOOK.read_text())
    return submission(SampleStudent("reference", "the reference solution"), released, solution_code())


def cell_index(notebook: dict, grade_id: str) -> int:
    return next(
        i for i, c in enumerate(notebook["cells"]) if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id
    )


def with_mistake(notebook: dict, exercise: str, name: str) -> dict:
    """The notebook with the student's ``exercise`` replaced by the catalogue's ``name``."""
    changed = copy.deepcopy(notebook)
    cell = changed["cells"][cell_index(changed, exercise)]
    cell["source"] = (
        f"import sys\n\nsys.path.insert(0, {str(TESTS_DIR)!r})\nfrom mistakes import {name} as {exercise}\n"
    )
    return changed


def with_head_7x7(notebook: dict) -> dict:
    changed = copy.deepcopy(notebook)
    cell = changed["cells"][cell_index(changed, "ResNet50")]
    text = "".join(cell["source"])
    assert HEAD_7X7[0] in text
    cell["source"] = text.replace(*HEAD_7X7)
    return changed


def execute(notebook: dict, folder) -> nbformat.NotebookNode:
    """Run the notebook in a fresh kernel, as Validate does; errors stay in their cells."""
    node = nbformat.reads(json.dumps(notebook), as_version=4)
    environment = {**os.environ, "NBGRADER_EXECUTION": "validate", "RESNET_COURSE_DATA_DIR": str(REPO_ROOT / "data")}
    client = NotebookClient(
        node, timeout=600, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(folder)}}
    )
    client.execute(env=environment)  # the kernel's own environment, not the process's: several run at once
    return node


def error_cells(notebook) -> list[tuple[int, str]]:
    return [
        (index, f"{output.get('ename')}: {output.get('evalue')}")
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


def printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


@pytest.fixture(scope="module")
def solved():
    return solved_student_notebook()


CASES = [(exercise, name) for exercise, names in BUILD_BREAKING.items() for name in names] + [("ResNet50", "head 7x7")]
AS_RELEASED = "as released, solved"
#: Notebooks executed at once: a kernel spends most of its minute on one core (imports, building models).
CONCURRENT_KERNELS = 2


@pytest.fixture(scope="module")
def executed(solved, tmp_path_factory):
    """Every case's notebook and its execution, by name (the solved one under AS_RELEASED), two kernels at a time."""
    from concurrent.futures import ThreadPoolExecutor

    notebooks = {AS_RELEASED: solved}
    for exercise, name in CASES:
        notebooks[name] = with_head_7x7(solved) if name == "head 7x7" else with_mistake(solved, exercise, name)
    folders = {name: tmp_path_factory.mktemp("one-message") for name in notebooks}
    with ThreadPoolExecutor(CONCURRENT_KERNELS) as pool:
        futures = {name: pool.submit(execute, notebook, folders[name]) for name, notebook in notebooks.items()}
        return {name: (notebooks[name], future.result()) for name, future in futures.items()}


def test_the_solved_student_notebook_shows_no_error(executed):
    _, notebook = executed[AS_RELEASED]
    assert error_cells(notebook) == []
    assert not SKIPPED.search("".join(printed(c) for c in notebook.cells if c.cell_type == "code"))


@pytest.mark.parametrize("exercise, name", CASES, ids=[name for _, name in CASES])
def test_a_build_breaking_mistake_shows_in_exactly_one_error_cell(executed, exercise, name):
    notebook, executed = executed[name]
    errors = error_cells(executed)
    assert len(errors) == 1, errors
    (index, message), check = errors[0], cell_index(notebook, f"test_{exercise}")
    if index != check:  # a block that passes its own check, at one set of arguments, and breaks ResNet50
        assert index == cell_index(notebook, "test_ResNet50"), (
            f"cell {index} is neither {exercise}'s check nor ResNet50's"
        )
        assert f"{exercise}(X, " in message, f"ResNet50's check must name the {exercise} call at fault: {message}"
    assert "\x1b" not in message and "Arguments received by" not in message, message
    after = [printed(c) for c in executed.cells[index + 1 :] if c.cell_type == "code"]
    assert sum(len(SKIPPED.findall(text)) for text in after) >= 4, "the training demo and its followers say why"
    if name == "head 7x7":
        assert "the pool window 7×7 is larger than stage 5's 2×2 output" in message
        (REPO_ROOT / "artifacts").mkdir(exist_ok=True)
        nbformat.write(executed, REPO_ROOT / "artifacts" / "student_notebook_head_7x7.ipynb")  # to look at it


@pytest.mark.parametrize("exercise, name", CASES[:-1], ids=[name for _, name in CASES[:-1]])
def test_each_listed_mistake_keeps_resnet50_from_building(exercise, name):
    import mistakes

    function = getattr(mistakes, name)
    resnet = function if exercise == "ResNet50" else mistakes.REFERENCE["ResNet50"]
    namespace = resnet.__globals__
    saved = namespace.get(exercise)
    if exercise != "ResNet50":
        namespace[exercise] = function
    try:
        with pytest.raises(Exception):
            resnet(input_shape=(64, 64, 3), classes=6)
    finally:
        if exercise != "ResNet50":
            namespace[exercise] = saved
