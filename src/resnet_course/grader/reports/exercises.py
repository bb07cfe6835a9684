"""Which exercise each graded cell counts towards: the export's per-exercise columns.

Test cells are named ``test_<exercise>[_<detail>]``. A test counts towards
the answer cell its name continues with, the longest such
(``test_identity_block_hidden_shapes`` -> ``identity_block``); a test with
no answer cell of its own counts towards the first word of its name
(``test_training_accuracy`` -> ``training``). A graded answer cell is its
own exercise.
"""

from __future__ import annotations

from nbformat import NotebookNode


def exercise_of(grade_id: str, answers: list[str]) -> str:
    """The exercise of the graded cell ``grade_id``, given the answer cells' grade ids."""
    name = grade_id.removeprefix("test_")
    named = [answer for answer in answers if name == answer or name.startswith(answer + "_")]
    return max(named, key=len) if named else name.split("_")[0]


def answer_cells(notebook: NotebookNode) -> list[str]:
    """The grade ids of a notebook's answer (solution) cells, in order."""
    return [m["grade_id"] for m in _nbgrader_metadata(notebook) if m.get("solution")]


def exercises(notebook: NotebookNode) -> list[str]:
    """The exercises of a notebook's graded cells, in the order they first appear."""
    answers = answer_cells(notebook)
    return list(dict.fromkeys(exercise_of(grade_id, answers) for grade_id in graded_cells(notebook)))


def graded_cells(notebook: NotebookNode) -> list[str]:
    """The grade ids of a notebook's graded cells (tests and graded answers), in order."""
    return [m["grade_id"] for m in _nbgrader_metadata(notebook) if m.get("grade")]


def _nbgrader_metadata(notebook: NotebookNode) -> list[dict]:
    return [cell.metadata["nbgrader"] for cell in notebook.cells if "grade_id" in cell.metadata.get("nbgrader", {})]
