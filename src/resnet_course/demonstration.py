"""How long the notebook's own demonstrations run: in full for the student, not at all while grading.

The grader trains the student's ResNet50 itself, so the notebook's 5-epoch demonstration would only
double the grading time. The notebook asks :func:`demonstration_epochs` for its epoch count instead of
branching on the grader's environment in a cell the student reads.
"""

from __future__ import annotations

from .grading import autograding


def demonstration_epochs(epochs: int) -> int:
    """``epochs`` in a student's session; 0 while nbgrader grades or validates the notebook."""
    return 0 if autograding() else int(epochs)
