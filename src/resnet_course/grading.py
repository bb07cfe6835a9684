"""What the notebook's demonstrations and the course's judges share about grading.

Grading decides no score in the student's kernel: the master's graded cells
hand over evidence (:mod:`resnet_course.evidence`) and the judges in
``solutions/<assignment>/grader_only/`` decide outside it. This module holds
the small facts both sides need: whether nbgrader is executing the notebook
now (and whether for scores, when the self-checks step aside), and a
parameter count made with nothing the notebook supplied.
"""

from __future__ import annotations

import builtins
import functools
import math
import os

#: Bound at import, so that a notebook that rebinds ``print`` does not change what a check prints.
_print = builtins.print

#: nbgrader sets this in the kernel's environment to "autograde" or "validate".
NBGRADER_EXECUTION_ENV = "NBGRADER_EXECUTION"


def autograding() -> bool:
    """True while nbgrader autogrades or validates the notebook: the notebook then
    skips its own long demonstrations, which grading does not need."""
    return os.environ.get(NBGRADER_EXECUTION_ENV, "") in ("autograde", "validate")


def autograding_for_scores() -> bool:
    """True while nbgrader autogrades the notebook (not while a student validates it).

    The self-checks then skip their own comparison: the judges decide each graded cell
    from its evidence and replace the cell's outputs with their verdict, so what a
    self-check would print there is never read. ``nbgrader validate`` still runs them,
    because there the student reads their messages.
    """
    return os.environ.get(NBGRADER_EXECUTION_ENV, "") == "autograde"


def skipped_while_autograding(name: str):
    """Decorate a ``check_*`` self-check so that it prints one line and returns while nbgrader autogrades.

    Autograding replaces every graded cell's outputs with the judges' verdict, so the
    comparison (seconds of model building per submission: ResNet50's is the notebook's
    costliest cell) would be computed for nobody. Validation and the student's own runs
    still check in full.

    Args:
        name: The checked function's name, for the line printed instead.
    """

    def decorate(check):
        @functools.wraps(check)
        def wrapper(*args, **kwargs):
            __tracebackhide__ = True
            if autograding_for_scores():
                _print(f"{name}: judged by the grader.")
                return None
            return check(*args, **kwargs)

        return wrapper

    return decorate


def parameter_counts(model) -> tuple[int, int, int]:
    """(total, trainable, non-trainable) parameter counts, counted here rather than
    with anything the notebook could have replaced."""
    trainable = sum(int(math.prod(w.shape)) for w in model.trainable_weights)
    frozen = sum(int(math.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable + frozen, trainable, frozen
