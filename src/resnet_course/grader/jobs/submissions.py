"""Read a student's submitted folder safely, before anything of it runs.

A submission that holds a symbolic link anywhere, or whose student or
assignment folder is one, is refused before anything of it is read or
copied (:func:`find_links`): a link could point at the solutions, the
gradebook, another student's folder or the instructor's files. Of the
rest, only regular files are read (a link could point at the gradebook), within
size limits. Files that would shadow an installed module when the kernel
imports it (``numpy.py``, ``ipykernel_launcher.py``) are dropped. A
notebook submitted under another name is recognised by its nbgrader cell
ids. Every decision is recorded as a note for the grading report.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path

from resnet_course.sandbox.workdir_copy import installed_module_names, shadows_module

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
SKIPPED_FOLDERS = {".ipynb_checkpoints", "__pycache__", ".git"}


@dataclasses.dataclass
class Submission:
    """What the grader accepted of one student's folder.

    Attributes:
        student: The student id.
        files: Relative path -> contents, notebooks included.
        notes: What was dropped or renamed, and why.
    """

    student: str
    files: dict[str, bytes]
    notes: list[str]


def find_links(submitted_root: Path, student: str, assignment: str, limit: int = 5) -> list[str]:
    """Symbolic links on the way from ``submitted_root`` to the submission, and inside it.

    Every component below ``submitted_root`` (the student's folder, the
    assignment's folder) is checked with ``lstat``, then the whole tree
    below, without following any link.

    Returns:
        Up to ``limit`` offending paths, relative to ``submitted_root`` (empty: none).
    """
    found: list[str] = []
    here = Path(submitted_root)
    for part in (student, assignment):
        here = here / part
        if here.is_symlink():
            return [f"{_relative(here, submitted_root)} (-> {os.readlink(here)})"]
    if not here.is_dir():
        return []
    for directory, subfolders, names in os.walk(here, followlinks=False):
        for name in sorted(subfolders + names):
            path = Path(directory) / name
            if path.is_symlink():
                found.append(f"{_relative(path, submitted_root)} (-> {os.readlink(path)})")
                if len(found) >= limit:
                    return found
    return found


def link_refusal(links: list[str]) -> str:
    """The reason given for refusing a submission that holds ``links``."""
    return (
        f"refused: the submission contains a symbolic link ({', '.join(links)}); links are not graded, "
        "nothing of this submission was copied or run"
    )


def oversize_reason(size: int, max_file_bytes: int = MAX_FILE_BYTES) -> str:
    """Why a file of ``size`` bytes is not taken, and what the student can do (the same on both grading paths)."""
    return (
        f"{size / 2**20:.0f} MiB is over the grader's limit of {max_file_bytes // 2**20} MiB a file; "
        "clear the notebook's outputs (Kernel > Restart Kernel and Clear Outputs of All Cells) and leave large "
        "data files out, then submit again"
    )


def read_submission(
    folder: Path, student: str, max_file_bytes: int = MAX_FILE_BYTES, max_total_bytes: int = MAX_TOTAL_BYTES
) -> Submission:
    """Collect the regular files of a submitted folder.

    Args:
        folder: ``submitted/<student>/<assignment>``.
        student: The student id.
        max_file_bytes: Larger files are dropped.
        max_total_bytes: Files past this running total are dropped.
    """
    files: dict[str, bytes] = {}
    notes: list[str] = []
    total = 0
    protected = installed_module_names()
    for directory, subfolders, names in os.walk(folder, followlinks=False):
        here = Path(directory)
        for name in sorted(subfolders):
            if name in SKIPPED_FOLDERS or (here / name).is_symlink():
                subfolders.remove(name)
                if (here / name).is_symlink():
                    notes.append(f"ignored link {_relative(here / name, folder)}")
        if here == folder:
            for name in list(subfolders):
                if name in protected:
                    subfolders.remove(name)
                    notes.append(f"ignored folder {name}/: it would shadow the installed module '{name}'")
        for name in sorted(names):
            path = here / name
            relative = _relative(path, folder)
            mode = path.lstat().st_mode
            if not stat.S_ISREG(mode):
                notes.append(f"ignored {relative}: not a regular file (link or special file)")
                continue
            if here == folder and shadows_module(name, protected):
                notes.append(f"ignored {relative}: it would shadow the installed module '{name.split('.')[0]}'")
                continue
            size = path.lstat().st_size
            if size > max_file_bytes:
                notes.append(f"ignored {relative}: {oversize_reason(size, max_file_bytes)}")
                continue
            if total + size > max_total_bytes:
                notes.append(f"ignored {relative}: the submission's files are over {max_total_bytes // 2**20} MiB")
                continue
            total += size
            files[relative] = path.read_bytes()
    return Submission(student, files, notes)


def locate_notebook(submission: Submission, name: str, grade_ids: set[str]) -> str | None:
    """Find the submitted notebook ``name`` (e.g. ``toy.ipynb``), renaming a lone stand-in.

    When ``name`` is missing and exactly one other top-level notebook holds
    at least one of the assignment's cell ids, that one is taken as the
    submission and moved to ``name`` (a note says so).

    Returns:
        ``name`` when found or recovered, else None.
    """
    if name in submission.files:
        return name
    candidates = [
        path
        for path in submission.files
        if path.endswith(".ipynb") and "/" not in path and _mentions_any(submission.files[path], grade_ids)
    ]
    if len(candidates) == 1:
        submission.files[name] = submission.files.pop(candidates[0])
        submission.notes.append(f"notebook submitted as '{candidates[0]}'; graded as '{name}'")
        return name
    return None


def _mentions_any(content: bytes, grade_ids: set[str]) -> bool:
    try:
        notebook = json.loads(content)
    except ValueError:
        return False
    for cell in notebook.get("cells", []) if isinstance(notebook, dict) else []:
        metadata = cell.get("metadata", {}) if isinstance(cell, dict) else {}
        grade_id = metadata.get("nbgrader", {}).get("grade_id") if isinstance(metadata.get("nbgrader"), dict) else None
        if grade_id in grade_ids:
            return True
    return False


def _relative(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder))
