"""Repair a submitted notebook's structure against the released one, before nbgrader sees it.

nbgrader restores edited locked cells and changed cell types by itself, but
a deleted cell, a cell whose nbgrader metadata was stripped or garbled, or
a duplicated cell id either loses points silently or stops the whole
notebook from being graded. Here every graded or locked cell of the
released notebook ends up in the submission exactly once, with the
released metadata:

* cells matched by ``grade_id`` keep the student's source and get the
  released nbgrader metadata and cell type back;
* cells with unknown or broken nbgrader metadata become plain cells (their
  code still runs);
* released cells missing from the submission are put back after the
  nearest released cell that is present: tests and locked cells as
  released (nbgrader then restores their hidden parts), answer cells as
  the unanswered stub, so that a student's stray unlabelled answer further
  down still counts.
"""

from __future__ import annotations

import copy
import re
import uuid

import nbformat
from nbformat import NotebookNode

CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class UnreadableNotebook(ValueError):
    """The submission is not a notebook at all (not JSON, or not nbformat 4)."""


def read_notebook(content: bytes, name: str) -> NotebookNode:
    """Parse a submitted notebook, with an error that says what is wrong with it."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableNotebook(f"{name} is not UTF-8 text ({error})") from None
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises several types for bad JSON and bad versions
        raise UnreadableNotebook(f"{name} is not a valid notebook: {str(error).splitlines()[0][:300]}") from None
    if not isinstance(notebook.get("cells"), list):
        raise UnreadableNotebook(f"{name} has no list of cells")
    return notebook


def reconcile(submitted: NotebookNode, released: NotebookNode) -> tuple[NotebookNode, list[str]]:
    """Return the submission with the released notebook's graded structure, and notes on what changed."""
    notes: list[str] = []
    released_cells = [c for c in released.cells if _grade_id(c)]
    by_id = {_grade_id(c): c for c in released_cells}
    kept: list[NotebookNode] = []
    seen: set[str] = set()
    for cell in submitted.cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            notes.append("dropped a cell that is not a code, markdown or raw cell")
            continue
        cell = _normalise_cell(cell)
        grade_id = _grade_id(cell)
        if "nbgrader" in cell.metadata and (grade_id not in by_id or grade_id in seen):
            what = "duplicate" if grade_id in seen else "unknown or broken"
            notes.append(f"cell with {what} nbgrader metadata ({grade_id!r}) graded as a plain cell")
            del cell.metadata["nbgrader"]
        elif grade_id in by_id:
            original = by_id[grade_id]
            seen.add(grade_id)
            if cell.cell_type != original.cell_type:
                notes.append(f"cell {grade_id} was turned into {cell.cell_type}; restored to {original.cell_type}")
                cell = _retype(cell, original.cell_type)
            cell.metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
            if _is_locked(original) and cell.source.strip() != original.source.strip():
                notes.append(f"locked cell {grade_id} was edited; nbgrader restores the original")
        kept.append(cell)

    for index, original in enumerate(released_cells):
        grade_id = _grade_id(original)
        if grade_id in seen:
            continue
        position = _insert_position(kept, [_grade_id(c) for c in released_cells[:index]])
        restored = _restored_copy(original)
        kept.insert(position, restored)
        seen.add(grade_id)
        what = "answer cell" if original.metadata["nbgrader"].get("solution") else "cell"
        notes.append(f"{what} {grade_id} was missing (deleted or its metadata stripped); restored from the release")

    result = copy.deepcopy(submitted)
    result.cells = _unique_ids(kept)
    result.nbformat, result.nbformat_minor = 4, max(int(result.get("nbformat_minor", 5) or 5), 5)
    try:
        nbformat.validate(result)
    except nbformat.ValidationError as error:
        first_line = str(error).splitlines()[0][:300]
        raise UnreadableNotebook(f"notebook does not validate after repair: {first_line}") from None
    return result, notes


def _grade_id(cell) -> str | None:
    nbgrader = cell.get("metadata", {}).get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
    if isinstance(nbgrader, dict) and isinstance(nbgrader.get("grade_id"), str):
        return nbgrader["grade_id"]
    return None


def _is_locked(cell) -> bool:
    nbgrader = cell.metadata["nbgrader"]
    return bool(nbgrader.get("locked")) and not nbgrader.get("solution")


def _normalise_cell(cell: dict) -> NotebookNode:
    """A cell with the fields its type requires and nothing else (students' editors vary)."""
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(str(part) for part in source)
    metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
    fields = {"cell_type": cell["cell_type"], "metadata": copy.deepcopy(metadata), "source": str(source)}
    if isinstance(cell.get("id"), str) and CELL_ID.match(cell["id"]):
        fields["id"] = cell["id"]
    if cell["cell_type"] == "code":
        fields["outputs"] = []
        fields["execution_count"] = None
    return nbformat.from_dict(fields)


def _retype(cell: NotebookNode, cell_type: str) -> NotebookNode:
    cell.cell_type = cell_type
    if cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    return cell


def _restored_copy(original: NotebookNode) -> NotebookNode:
    cell = copy.deepcopy(original)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def _insert_position(cells: list[NotebookNode], earlier_ids: list[str | None]) -> int:
    """Just after the last cell whose id comes earlier in the release (0 when none is present)."""
    wanted = set(earlier_ids)
    for position in range(len(cells) - 1, -1, -1):
        if _grade_id(cells[position]) in wanted:
            return position + 1
    return 0


def _unique_ids(cells: list[NotebookNode]) -> list[NotebookNode]:
    used: set[str] = set()
    for cell in cells:
        if not isinstance(cell.get("id"), str) or cell["id"] in used:
            cell["id"] = uuid.uuid4().hex[:8]
        used.add(cell["id"])
    return cells
