"""The notebook's short answers: how they are read, and a check of their form in the student's session.

:func:`check_answer` tells a student whether an answer has the form its question asks for (a number, a
fraction between 0 and 1, one of a few words), never whether it is right: the judges outside the kernel
decide that (``solutions/<assignment>/grader_only/questions.py``). Both sides read an answer with the
same functions, :func:`as_number` and :func:`as_choice`, so every answer of the right form reaches the
judges as the student meant it, and an answer the form check refuses is one no judge could accept.
"""

from __future__ import annotations

import math
import re

#: Other spellings of the words an answer may choose from, mapped to the word itself.
SYNONYMS = {
    "training mode": "training",
    "batch statistics": "training",
    "training=true": "training",
    "inference mode": "inference",
    "moving averages": "inference",
    "training=false": "inference",
}

#: The forms :func:`check_answer` knows, in the words its messages use.
FORMS = {"a number": "a number, e.g. 2.5", "a fraction": "a number between 0 and 1, e.g. 0.5"}


def as_number(value) -> float | None:
    """A finite float from a number or a string like "16.9", "3.3 %" or "1/4"; None if there is none.

    A string ending in "%" is read as a percentage (so "25%" is 0.25).
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("×", "").replace("x", "")
        percent = text.endswith("%")
        text = text.rstrip("%").strip()
        match = re.fullmatch(r"([-+]?[0-9.eE+-]+)\s*(?:/\s*([0-9.eE+-]+))?", text)
        if not match:
            return None
        try:
            number = float(match.group(1)) / (float(match.group(2)) if match.group(2) else 1.0)
        except (ValueError, ZeroDivisionError):
            return None
        number = number / 100 if percent else number
    elif getattr(value, "ndim", None) == 0 and hasattr(value, "item"):  # a numpy number, a number once handed over
        return as_number(value.item())
    else:
        return None
    return number if math.isfinite(number) else None


def as_choice(value, choices) -> str | None:
    """The word of ``choices`` that ``value`` names (case, spaces and the synonyms above aside), or None."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.strip().strip("().").lower().replace("_", " ").split())
    text = SYNONYMS.get(text, text)
    return text if text in choices else None


class AnswerFormError(AssertionError):
    """An answer is missing or not of the form its question asks for."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


def check_answer(name: str, value, form) -> None:
    """Print one line when ``value`` has the form asked for; raise :class:`AnswerFormError` otherwise.

    Args:
        name: The answer's variable, named in the message.
        value: The answer.
        form: "a number", "a fraction" (a number from 0 to 1), or a tuple of the words to choose from.
    """
    __tracebackhide__ = True
    if value is None:
        raise AnswerFormError(f"{name} is still None: replace None with your answer.")
    if isinstance(form, tuple):
        wanted = " or ".join(f'"{word}"' for word in form)
        if as_choice(value, form) is None:
            raise AnswerFormError(f"{name} should be one of the strings {wanted}, not {value!r}.")
        print(f"{name}: one of {wanted}, as asked.")
        return
    if form not in FORMS:
        raise ValueError(f"form must be one of {sorted(FORMS)} or a tuple of words, not {form!r}")
    number = as_number(value)
    if number is None or (form == "a fraction" and not 0.0 <= number <= 1.0):
        raise AnswerFormError(f"{name} should be {FORMS[form]}, not {value!r}.")
    print(f"{name}: {FORMS[form].split(', e.g.')[0]}, as asked.")
