"""The mistake each failed test named: read from the autograded notebooks, as data.

A failed test cell's error output (``ename``, ``evalue``) in the autograded
copy of the notebook is the trusted verdict (``trusted_verdicts.py``): the
judges' message, decided outside the kernel, which carries the checks'
diagnosis. Its prefix is dropped, and the line quoting the kernel's own
error, and everything after it, is never read (the kernel wrote it). :func:`mistake_name` turns a message into a short
name to count, with one simple, documented rule:

1. the text after ``likely mistake:`` (the self-checks' hint line), up to its
   first ``": "`` or ``". "`` (the hint's first clause: "the final ReLU is
   missing: apply ReLU to ..." is "the final ReLU is missing");
2. otherwise the message's first line, whole (for a self-check without a hint,
   ``"<function>: <problem>"``; for a plain ``assert``, its message);
3. an empty message: :data:`UNFINISHED` for ``NotImplementedError`` (the
   released placeholder, named as the self-checks name it), else
   ``"<ename> (no message)"``.

Whitespace runs become one space, control characters and terminal escape
sequences are dropped, and a name is cut to :data:`NAME_LIMIT` characters.
Nothing in a notebook is executed or rendered here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .course import Course
from .trusted_verdicts import FAILED_MARK, KERNEL_ERROR_MARK

HINT = "likely mistake:"
NAME_LIMIT = 160
UNFINISHED = "the code is not written yet"
_FIRST_CLAUSE = re.compile(r"(: |\. )")
#: Larger autograded notebooks are skipped rather than read.
MAX_NOTEBOOK_BYTES = 64 * 2**20
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str, limit: int = NAME_LIMIT) -> str:
    """``text`` on one line: escape sequences and control characters removed, cut to ``limit``."""
    text = " ".join(_CONTROL.sub("", _ESCAPES.sub("", str(text))).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _verdict_lines(evalue: str) -> list[str]:
    """The lines of a verdict's message, without its prefix and without what the kernel said."""
    lines = []
    for line in str(evalue).splitlines():
        if line.startswith(KERNEL_ERROR_MARK):
            break
        lines.append(line[len(FAILED_MARK) :].strip() if line.startswith(FAILED_MARK) else line)
    return lines


def mistake_name(ename: str, evalue: str) -> str:
    """The short name of the mistake an error message names (rules in the module docstring)."""
    lines = [clean_text(line, 10 * NAME_LIMIT) for line in _verdict_lines(evalue)]
    for line in lines:
        if line.lower().startswith(HINT):
            hint = _FIRST_CLAUSE.split(line[len(HINT) :].strip(), maxsplit=1)[0].rstrip(".")
            if hint:
                return clean_text(hint)
    first = next((line for line in lines if line), "")
    if first:
        return clean_text(first)
    return UNFINISHED if ename == "NotImplementedError" else clean_text(f"{ename or 'Error'} (no message)")


def notebook_mistakes(notebook: dict) -> dict[str, str]:
    """Test cell grade id -> mistake name, for each graded test cell with an error output."""
    found = {}
    for cell in notebook.get("cells", []) if isinstance(notebook, dict) else []:
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        if not isinstance(meta, dict) or not meta.get("grade") or meta.get("solution"):
            continue
        for output in cell.get("outputs", []) or []:
            if isinstance(output, dict) and output.get("output_type") == "error":
                found[str(meta.get("grade_id", ""))] = mistake_name(output.get("ename", ""), output.get("evalue", ""))
                break
    return found


def read_notebook_json(path: Path) -> dict | None:
    """The notebook's JSON, or None when it is missing, a link, too large or not JSON."""
    path = Path(path)
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def class_mistakes(
    course: Course, assignment: str, students: list[str], notebooks: list[str]
) -> dict[str, dict[str, str]]:
    """Student -> {test cell: mistake name}, read from each student's autograded notebooks.

    Args:
        course: The course.
        assignment: The assignment.
        students: The students to read (those graded).
        notebooks: The assignment's notebook names, without ``.ipynb``.
    """
    mistakes = {}
    for student in students:
        folder = course.folder("autograded", student, assignment)
        found: dict[str, str] = {}
        for name in notebooks:
            notebook = read_notebook_json(folder / f"{name}.ipynb")
            found.update(notebook_mistakes(notebook) if notebook else {})
        mistakes[student] = found
    return mistakes
