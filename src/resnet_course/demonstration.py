"""The notebook's demonstrations: how long they run, and one line instead of an error when they cannot run.

The grader trains the student's ResNet50 itself, so the notebook's 5-epoch demonstration would only
double the grading time. The notebook asks :func:`demonstration_epochs` for its epoch count instead of
branching on the grader's environment in a cell the student reads.

A mistake should show once, in the self-check below the exercise where it was made. The cells after it
that use the student's model or functions (the training demo, the evaluation, the BatchNorm repair, the
confusion matrix, the photo) ask :func:`ready` first: while the model does not build, or a function
failed its self-check (:func:`record_self_check`, called by the self-checks), such a cell prints one
line saying it was skipped and why, and runs nothing.
"""

from __future__ import annotations

import weakref

from .grading import autograding

#: The functions whose latest self-check in this kernel failed.
_FAILED = weakref.WeakSet()


def demonstration_epochs(epochs: int) -> int:
    """``epochs`` in a student's session; 0 while nbgrader grades or validates the notebook."""
    return 0 if autograding() else int(epochs)


def record_self_check(function, passed: bool) -> None:
    """Remember whether ``function``'s latest self-check passed (functions that cannot be remembered are skipped)."""
    try:
        if passed:
            _FAILED.discard(function)
        else:
            _FAILED.add(function)
    except TypeError:  # not weak-referenceable: nothing to remember it by
        pass


def demonstration_model(build_model, **arguments):
    """The model ``build_model(**arguments)`` builds, or None while it raises (its self-check says why)."""
    from .keras_setup import silenced_stderr

    try:
        with silenced_stderr():
            return build_model(**arguments)
    except Exception:  # the student's code: its self-check above shows the error once
        return None


def ready(model, *functions) -> bool:
    """Whether a demonstration can run: True, or False after printing the one line that says why not.

    Args:
        model: The model the demonstration uses; None stands for one that did not build.
        functions: Student functions the demonstration calls; one whose latest self-check failed stops it.
    """
    if model is None:
        print("skipped: ResNet50 does not build yet; see the self-check above.")
        return False
    for function in functions:
        try:
            failed = function in _FAILED
        except TypeError:
            failed = False
        if failed:
            name = getattr(function, "__name__", "a function")
            print(f"skipped: {name} does not pass its self-check yet; see the self-check above.")
            return False
    return True
