"""The course on the hub: the exchange, the instructor's course folder, and what students may not read.

nbgrader's exchange is one folder that every user can write to and nobody
but its owner can list inside (nbgrader sets the modes when the instructor
releases: ``inbound`` is write-only for students, and each submission's
folder name ends in a random string). The instructor works in a course
folder of their own, ``~rc-instructor/resnets-course``, private to them: the
repository's ``nbgrader_config.py`` and ``solutions/`` copied in, and the
gradebook, submissions and feedback kept under its ``autograder/``.

Students' servers run this checkout's environment and package, so they can
read the checkout. Its instructor-only folders (the master notebooks with
the hidden tests, the repository's own gradebook, and the tests, which hold
reference solutions) are closed to other users here.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from ..grader.reports.roster import DEFAULT_FILE as ROSTER_FILE
from ..paths import AUTOGRADER_DIR, DATA_DIR, PACKAGE_PARENT, REPO_ROOT, SOLUTIONS_DIR, TESTS_DIR
from . import accounts
from .layout import ASSIGNMENT, COURSE_ID

COURSE_FOLDER = COURSE_ID
#: The hidden test that trains the model for minutes; ``--skip-training-test`` leaves it out.
TRAINING_TEST = "test_training_accuracy"
#: Checkout folders only root (and the owner of the checkout) may read once the hub is set up.
INSTRUCTOR_ONLY_FOLDERS = (SOLUTIONS_DIR, AUTOGRADER_DIR, TESTS_DIR, REPO_ROOT / ".git")


def prepare_exchange(exchange: Path) -> Path:
    """The exchange folder, writable by every user as nbgrader's JupyterHub guide says (mode 0777)."""
    exchange.mkdir(parents=True, exist_ok=True)
    exchange.parent.chmod(0o755)
    exchange.chmod(0o777)
    return exchange


def prepare_course_folder(home: Path, owner: str, skip_training_test: bool = False) -> Path:
    """Refresh the instructor's course folder from the checkout; keep its gradebook and submissions.

    Args:
        home: The instructor's home.
        owner: The instructor's user name.
        skip_training_test: Leave the training test out of the course's master notebook,
            so that grading takes seconds rather than minutes (its points then count for nobody).

    Returns:
        The course folder.
    """
    course = home / COURSE_FOLDER
    course.mkdir(exist_ok=True)
    shutil.copy2(REPO_ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    solutions = course / "solutions"
    shutil.rmtree(solutions, ignore_errors=True)
    shutil.copytree(SOLUTIONS_DIR, solutions, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    master = solutions / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    if skip_training_test:
        drop_test_cell(master, TRAINING_TEST)
    (course / "autograder").mkdir(exist_ok=True)
    write_demo_roster(course / ROSTER_FILE)
    for path in [course, *course.rglob("*")]:
        shutil.chown(path, owner, owner)
    course.chmod(0o700)
    return course


def write_demo_roster(path: Path, students=accounts.STUDENTS) -> bool:
    """Write the course roster of the demo students, unless the course has a roster already.

    The course's formgrader copies the roster's names into the gradebook
    (``instructor/gradebook_names.py``), so that it lists names, not "None, None".

    Returns:
        True when the roster was written now.
    """
    if path.exists():
        return False
    lines = ["student_id,name"] + [f"{student.name},{student.full_name}" for student in students]
    path.write_text("\n".join(lines) + "\n")
    return True


def drop_test_cell(notebook: Path, grade_id: str) -> None:
    """Remove the test cell ``grade_id`` from a master notebook (it must be there)."""
    content = json.loads(notebook.read_text())
    kept = [c for c in content["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != grade_id]
    if len(kept) == len(content["cells"]):
        raise ValueError(f"{notebook} has no cell {grade_id!r} to leave out")
    content["cells"] = kept
    notebook.write_text(json.dumps(content, indent=1) + "\n")


def close_instructor_folders(folders=INSTRUCTOR_ONLY_FOLDERS) -> list[Path]:
    """Take every permission of group and others off the checkout's instructor-only folders.

    Returns:
        The folders closed (those that exist as folders).
    """
    closed = []
    for folder in folders:
        if folder.is_dir() and not folder.is_symlink():
            folder.chmod(folder.stat().st_mode & 0o700)
            closed.append(folder)
    return closed


def open_for_traversal(paths) -> list[Path]:
    """Let every user pass through (``o+x``, never list or read) the folders above ``paths``.

    The users' servers run this checkout's interpreter, package and data; a
    Python installed in root's home (pyenv's ``/root/.pyenv``) sits below
    ``/root``, which others cannot enter by default.

    Returns:
        The folders whose mode changed.
    """
    opened = []
    for path in paths:
        path = Path(path).resolve()
        for folder in reversed([path, *path.parents]):
            mode = folder.stat().st_mode
            if folder.is_dir() and not mode & 0o001:
                folder.chmod(mode | 0o001)
                opened.append(folder)
    return opened


def open_kernelspecs(prefix: Path = Path(sys.prefix)) -> list[Path]:
    """Make this environment's kernelspecs readable by every user; return those changed.

    ``sandbox.kernelspec.install`` copies the spec from a temporary folder,
    whose mode (0700) Jupyter keeps, and then no other user's server or
    ``nbgrader`` can use the kernel.
    """
    changed = []
    kernels = prefix / "share" / "jupyter" / "kernels"
    for folder in sorted(kernels.iterdir()) if kernels.is_dir() else []:
        if folder.is_dir() and folder.stat().st_mode & 0o055 != 0o055:
            folder.chmod(folder.stat().st_mode | 0o055)
            changed.append(folder)
        for file in folder.iterdir():
            file.chmod(file.stat().st_mode | 0o044)
    return changed


def environment_paths() -> list[Path]:
    """What every user's server must reach: the interpreter, the package, the data."""
    return [Path(sys.prefix), PACKAGE_PARENT, DATA_DIR, Path(os.path.realpath(sys.executable))]
