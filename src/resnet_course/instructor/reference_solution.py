"""The reference solution, loaded from the master notebook.

Runs selected cells of a notebook as code: the master notebook is the one
source of the reference solution, for tests, benchmarks and the pretrained model."""

from __future__ import annotations

import json
from pathlib import Path

from ..paths import MASTER_NOTEBOOK

GRADED_FUNCTIONS = ("identity_block", "convolutional_block", "ResNet50")


def cell_sources(notebook: Path) -> dict[str, str]:
    """Map each cell's nbgrader ``grade_id`` to its source text."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    sources = {}
    for cell in cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            source = cell["source"]
            sources[grade_id] = "".join(source) if isinstance(source, list) else source
    return sources


def load_cells(notebook: Path, grade_ids, namespace: dict | None = None) -> dict:
    """Execute the cells with the given grade ids, in order, in one namespace.

    Args:
        notebook: Path of the notebook.
        grade_ids: The nbgrader ``grade_id`` of each cell to run.
        namespace: Globals to run them in (a new dict by default).

    Returns:
        The namespace, holding whatever the cells defined.
    """
    from ..keras_setup import import_keras

    import_keras()  # quietly, before a cell imports it
    sources = cell_sources(notebook)
    namespace = {} if namespace is None else namespace
    namespace.setdefault("__name__", "course_notebook")
    for grade_id in grade_ids:
        if grade_id not in sources:
            raise KeyError(f"{notebook} has no cell with grade_id {grade_id!r}; it has {sorted(sources)}")
        exec(compile(sources[grade_id], f"{Path(notebook).name}:{grade_id}", "exec"), namespace)
    return namespace


def load_reference_solution(notebook: Path = MASTER_NOTEBOOK) -> dict:
    """The reference ``identity_block``, ``convolutional_block`` and ``ResNet50``
    from the master notebook (instructor side only: students have no solutions/)."""
    namespace = load_cells(notebook, ("imports", *GRADED_FUNCTIONS))
    return {name: namespace[name] for name in GRADED_FUNCTIONS}
