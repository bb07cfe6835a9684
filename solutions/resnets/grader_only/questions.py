"""The trusted side of the notebook's "why" questions and of the BatchNorm-recompute exercise.

Instructor-only: it lives in ``grader_only/`` beside the judges (``judges.py`` imports it), which
nbgrader_config.py keeps out of the release and away from submissions. The grader receives each answer as JSON data from
``resnet_course.evidence.submit_answer`` and calls ``QUESTIONS[name].check(value)``: None when the
answer is right, otherwise a short message for the student that does not give the answer away.
``judge_recompute`` judges the evidence of ``resnet_course.bn_exercise.run_on_challenge`` by
recomputing the statistics itself with NumPy.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class Question:
    """One graded short answer.

    Attributes:
        points: What a right answer scores.
        check: ``check(value) -> None | str``: None when right, else a message for the student.
        reference: A right answer (the tests check that it passes).
        typical_wrong: Answers students give that must fail.
    """

    points: int
    check: Callable[[Any], str | None]
    reference: Any
    typical_wrong: list = field(default_factory=list)


def _number(value) -> float | None:
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
    else:
        return None
    return number if math.isfinite(number) else None


def numeric_check(reference: float, relative_tolerance: float, unanswered: str, hints: dict[float, str]):
    """A check accepting numbers within ``relative_tolerance`` of ``reference``.

    Args:
        reference: The right value.
        relative_tolerance: Accepted relative error.
        unanswered: What the student is told when the value is not a number.
        hints: Known wrong values and the hint each deserves (matched with the same tolerance).
    """

    def check(value) -> str | None:
        number = _number(value)
        if number is None:
            return unanswered
        if math.isclose(number, reference, rel_tol=relative_tolerance):
            return None
        for wrong, hint in hints.items():
            if math.isclose(number, wrong, rel_tol=relative_tolerance, abs_tol=1e-12):
                return hint
        return "not the expected value; redo the calculation step by step."

    return check


def choice_check(right: set[str], wrong: dict[str, str], choices: str):
    """A check accepting, case-insensitively, one of the documented spellings of the right choice."""

    def check(value) -> str | None:
        if not isinstance(value, str):
            return f"answer with one of the strings {choices}."
        text = " ".join(value.strip().lower().replace("_", " ").split())
        if text in right:
            return None
        if text in wrong:
            return wrong[text]
        return f"answer with one of the strings {choices}."

    return check


# Kernel weights only: a bottleneck at 256 channels (1x1 256->64, 3x3 64->64, 1x1 64->256) against two
# 3x3 convolutions 256->256. With biases the ratio moves by half a percent, inside the tolerance.
_BOTTLENECK = 256 * 64 + 9 * 64 * 64 + 64 * 256
_TWO_3X3 = 2 * 9 * 256 * 256
# Fraction of the initial moving statistics left after 10 epochs of 34 steps at momentum 0.99.
_SURVIVING = 0.99**340
_TRAINING_CHOICES = '"training" or "inference"'

QUESTIONS: dict[str, Question] = {
    "why_bottleneck": Question(
        points=1,
        check=numeric_check(
            _TWO_3X3 / _BOTTLENECK,
            0.02,
            "give the ratio as a number, e.g. 2.5.",
            {
                9 * 256 * 256 / _BOTTLENECK: "count both 3x3 convolutions of the plain pair.",
                _BOTTLENECK / _TWO_3X3: "the ratio is upside down: the two 3x3 convolutions over the bottleneck.",
                9.0: "count every convolution's weights: f * f * channels in * channels out.",
            },
        ),
        reference=_TWO_3X3 / _BOTTLENECK,
        typical_wrong=[9 * 256 * 256 / _BOTTLENECK, _BOTTLENECK / _TWO_3X3, 9, "many"],
    ),
    "why_momentum": Question(
        points=1,
        check=numeric_check(
            _SURVIVING,
            0.03,
            "give the fraction as a number between 0 and 1.",
            {
                0.99**170: "that is five epochs; the question asks for ten.",
                1 - 0.01 * 340: "the moving average shrinks the old value by a factor each step, it does not subtract.",
                0.99: "that is what survives one step.",
            },
        ),
        reference=_SURVIVING,
        typical_wrong=[0.99**170, 0.99, 0.0, "half"],
    ),
    "why_bn_mode": Question(
        points=1,
        check=choice_check(
            right={"training", "training mode", "batch statistics", "training=true"},
            wrong={
                "inference": "inference mode uses the moving averages, the very statistics that lag behind.",
                "inference mode": "inference mode uses the moving averages, the very statistics that lag behind.",
                "moving averages": "the moving averages are what lags behind the weights.",
                "training=false": "training=False uses the moving averages, which lag behind the weights.",
            },
            choices=_TRAINING_CHOICES,
        ),
        reference="training",
        typical_wrong=["inference", "Inference mode", "training=False", "both"],
    ),
    "why_stride": Question(
        points=1,
        check=numeric_check(
            0.25,
            0.01,
            "give the fraction as a number between 0 and 1.",
            {
                0.5: "the stride applies in both directions, height and width.",
                1.0: "a 1x1 window with stride 2 skips positions: count the ones it reads.",
                0.75: "that is the fraction it skips.",
            },
        ),
        reference=0.25,
        typical_wrong=[0.5, 1, 0.75, "all"],
    ),
}


def _expected_statistics(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Mean and biased variance of each BatchNorm layer's inputs over all the challenge's images, in float64."""
    from resnet_course.bn_exercise import EPSILON, challenge_arrays

    arrays = {key: value.astype(np.float64) for key, value in challenge_arrays(seed).items()}
    axes = (0, 1, 2)
    h1 = arrays["x"] @ arrays["w1"]
    mean1, variance1 = h1.mean(axis=axes), h1.var(axis=axes)
    a1 = np.maximum(arrays["gamma1"] * (h1 - mean1) / np.sqrt(variance1 + EPSILON) + arrays["beta1"], 0.0)
    h2 = a1 @ arrays["w2"]
    return [(mean1, variance1), (h2.mean(axis=axes), h2.var(axis=axes))]


def judge_recompute(evidence: dict, seed: int) -> str | None:
    """None when the evidence holds the exact statistics for ``seed`` and the momentum was restored, else why not."""
    from resnet_course.bn_exercise import MOMENTUM, challenge_arrays

    if not isinstance(evidence, dict) or evidence.get("seed") != seed:
        return "recompute_batchnorm: no result for the grader's model came back."
    if "error" in evidence:
        return f"recompute_batchnorm raised {str(evidence['error'])[:300]}"
    layers = evidence.get("layers")
    expected = _expected_statistics(seed)
    if not isinstance(layers, list) or len(layers) != len(expected):
        return f"recompute_batchnorm: expected {len(expected)} BatchNorm layers in the result."
    stale = challenge_arrays(seed)
    for index, (layer, (mean, variance)) in enumerate(zip(layers, expected), start=1):
        try:
            got_mean = np.asarray(layer["moving_mean"], dtype=np.float64)
            got_variance = np.asarray(layer["moving_variance"], dtype=np.float64)
            momentum = float(layer["momentum"])
        except (KeyError, TypeError, ValueError):
            return "recompute_batchnorm: the result could not be read."
        name = f"BatchNorm layer {index}"
        if got_mean.shape != mean.shape or got_variance.shape != variance.shape:
            return f"recompute_batchnorm: {name} has statistics of the wrong length."
        if not math.isclose(momentum, MOMENTUM):
            return f"recompute_batchnorm: {name} has momentum {momentum} afterwards; put it back to {MOMENTUM}."
        if np.allclose(got_mean, stale[f"stale_mean{index}"]):
            return f"recompute_batchnorm: {name}'s moving mean is unchanged; it should be recomputed."
        if not (
            np.allclose(got_mean, mean, rtol=1e-4, atol=1e-4)
            and np.allclose(got_variance, variance, rtol=1e-4, atol=1e-4)
        ):
            return (
                f"recompute_batchnorm: {name}'s statistics are not those of its inputs over all of X; use X as one "
                "batch in training mode, with every BatchNorm layer's momentum at 0."
            )
    return None
