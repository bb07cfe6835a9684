"""The repository's folders, defined once.

The package lives in ``src/resnet_course`` of a checkout (installed in
editable mode), so the repository root is two folders above this file.
"""

from __future__ import annotations

from pathlib import Path

#: The folder that holds ``resnet_course`` (``src/``).
PACKAGE_PARENT = Path(__file__).resolve().parents[1]
#: The repository's root folder.
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The SIGNS data and the pretrained model (``make data``).
DATA_DIR = REPO_ROOT / "data"
#: The instructor's master notebooks, reference solutions included.
SOLUTIONS_DIR = REPO_ROOT / "solutions"
#: The student versions generated from ``solutions/`` (``make assignment``).
ASSIGNMENTS_DIR = REPO_ROOT / "assignments"
#: nbgrader's gradebook, submissions, autograded copies and feedback (git-ignored).
AUTOGRADER_DIR = REPO_ROOT / "autograder"
#: The tests (never visible to a sandboxed submission).
TESTS_DIR = REPO_ROOT / "tests"
#: The master notebook of the course's one assignment.
MASTER_NOTEBOOK = SOLUTIONS_DIR / "resnets" / "resnets.ipynb"
