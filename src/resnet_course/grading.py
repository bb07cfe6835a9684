"""What the notebook's demonstrations and the course's judges share about grading.

Grading decides no score in the student's kernel: the master's graded cells
hand over evidence (:mod:`resnet_course.evidence`) and the judges in
``solutions/<assignment>/grader_only/`` decide outside it. This module holds
the two small facts both sides need: whether nbgrader is executing the
notebook now, and a parameter count made with nothing the notebook supplied.
"""

from __future__ import annotations

import math
import os

#: nbgrader sets this in the kernel's environment to "autograde" or "validate".
NBGRADER_EXECUTION_ENV = "NBGRADER_EXECUTION"


def autograding() -> bool:
    """True while nbgrader autogrades or validates the notebook: the notebook then
    skips its own long demonstrations, which grading does not need."""
    return os.environ.get(NBGRADER_EXECUTION_ENV, "") in ("autograde", "validate")


def parameter_counts(model) -> tuple[int, int, int]:
    """(total, trainable, non-trainable) parameter counts, counted here rather than
    with anything the notebook could have replaced."""
    trainable = sum(int(math.prod(w.shape)) for w in model.trainable_weights)
    frozen = sum(int(math.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable + frozen, trainable, frozen
