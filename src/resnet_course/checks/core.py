"""What every check shares: the error type, message layout, quiet calls, comparisons.

The module is written for untrusted notebooks: the numpy functions the checks
need are bound at import time, arrays are compared with ndarray methods, and
failures raise instead of printing.
"""

from __future__ import annotations

import builtins
import contextlib
import re
import warnings

import numpy as np

from ..keras_setup import import_keras, silenced_stderr

keras = import_keras()

# Bound once at import, so a notebook that rebinds numpy's functions (or
# ``print``) after importing this module cannot change how checks behave.
_asarray = np.asarray
_zeros = np.zeros
_default_rng = np.random.default_rng
_float32 = np.float32
_float64 = np.float64
_exp = np.exp
_print = builtins.print

#: Largest accepted max-abs difference, relative to max(1, max |expected|).
TOLERANCE = 1e-4

_AXIS_NAMES = {0: "the batch axis", 1: "the height axis", 2: "the width axis", 3: "the channel axis"}


class SelfCheckError(AssertionError):
    """A self-check found a mistake; the message says which and how to fix it."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of a traceback: the message once, and no frame
        # of the checker, whose internals say nothing about the student's mistake.
        return [f"{type(self).__name__}: {self}", "(raised by the self-check of this cell)"]


def _fail(function_name: str, problem: str, *, expected=None, got=None, hint: str = "", case=None):
    """Raise a SelfCheckError with a message laid out the same way every time.

    Args:
        function_name: The checked function, named first in the message.
        problem: One sentence naming the part that is wrong.
        expected: What the check wanted (optional).
        got: What it found (optional).
        hint: The suspected mistake, in plain words (optional).
        case: The arguments the function was checked with (optional).

    Raises:
        SelfCheckError: Always.
    """
    lines = [f"{function_name}: {problem}"]
    if expected is not None:
        lines.append(f"  expected: {expected}")
    if got is not None:
        lines.append(f"  got:      {got}")
    if hint:
        lines.append(f"  likely mistake: {hint}")
    if case is not None:
        lines.append(f"  (checked with {case})")
    raise SelfCheckError("\n".join(lines))


@contextlib.contextmanager
def _quiet():
    """Keep Keras warnings and C-level chatter out of stderr (nbgrader zeroes
    a test cell that writes to stderr); exceptions still propagate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with silenced_stderr():
            yield


def _attempt(function, *args, **kwargs):
    """Run (student) code quietly; return (result, None) or (None, the error).

    Errors are returned rather than handled in place so the SelfCheckError
    raised for them is not chained to the student's traceback.
    """
    try:
        with _quiet():
            return function(*args, **kwargs), None
    except Exception as error:  # whatever the student's code raised
        return None, error


_UNFINISHED = "the code is not written yet: replace `raise NotImplementedError()` with your implementation"


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Keras 3 wraps an error raised in a layer's call: the layer, then the message in bold, then the arguments.
_KERAS_CALL = re.compile(r"Exception encountered when calling (?:layer )?['\"]?(\w+)['\"]?(?:\.call\(\))?")
_KERAS_MESSAGE = re.compile(r"\x1b\[1m(.*?)\x1b\[0m", re.S)


def clean_error_text(error: BaseException, limit: int = 400) -> str:
    """The error's type and message as one clean line: Keras' own message without its terminal
    colours and its list of call arguments, whitespace collapsed, shortened at a word to ``limit``."""
    message = str(error)
    core, layer = _KERAS_MESSAGE.search(message), _KERAS_CALL.search(message)
    if core:
        message = core.group(1) + (f" (in {layer.group(1)})" if layer else "")
    message = _ANSI.sub("", message.split("Arguments received by")[0])
    if layer and not core:
        message = message.replace(layer.group(0), "").strip(" .\n") + f" (in {layer.group(1)})"
    return shorten(f"{type(error).__name__}: {' '.join(message.split())}", limit)


def shorten(text: str, limit: int) -> str:
    """``text``, or its first words within ``limit`` characters and an ellipsis; never cut mid-word."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:") + "…"


_error_text = clean_error_text


def _difference(got: np.ndarray, expected: np.ndarray) -> float:
    """Max abs difference relative to max(1, max |expected|); inf if shapes differ."""
    if got.shape != expected.shape:
        return float("inf")
    scale = max(1.0, float(abs(expected).max()))
    return float(abs(got - expected).max()) / scale


def _count_parameters(model) -> tuple:
    """(total, trainable, non-trainable) parameter counts of a Keras model."""

    def size(variables):
        total = 0
        for variable in variables:
            count = 1
            for dim in variable.shape:
                count *= int(dim)
            total += count
        return total

    trainable = size(model.trainable_weights)
    non_trainable = size(model.non_trainable_weights)
    return trainable + non_trainable, trainable, non_trainable


def _run_check(verify, function, *args, **kwargs) -> int:
    """Run a verify_* function on the student's ``function``; a failure is raised afresh from here, so the
    student's traceback shows the message, not the checker's internals. The outcome is remembered, so that
    the demonstrations after the check skip a function that failed it (:mod:`resnet_course.demonstration`)."""
    from ..demonstration import record_self_check

    __tracebackhide__ = True  # IPython leaves this frame out of the student's traceback
    try:
        count = verify(function, *args, **kwargs)
    except SelfCheckError as error:
        record_self_check(function, False)
        raise SelfCheckError(str(error)) from None
    record_self_check(function, True)
    return count
