"""The trusted side of the notebook's "why" questions and of the BatchNorm-recompute exercise.

Instructor-only: it lives in ``grader_only/`` beside the judges (``judges.py`` imports it), which
nbgrader_config.py keeps out of the release and away from submissions. The grader receives each answer as JSON data from
``resnet_course.evidence.submit_answer`` and calls ``QUESTIONS[name].check(value)``: None when the
answer is right, otherwise a short message for the student that does not give the answer away.
Answers are read with the functions the student's form check uses (``resnet_course.answers``), so an
answer of the asked form reaches the check as the student meant it; the form check never says whether it is
right. ``judge_recompute`` judges the evidence of ``resnet_course.bn_exercise.run_on_challenge`` by
recomputing the statistics itself with NumPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from resnet_course.answers import as_choice, as_number


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


def numeric_check(reference: float, relative_tolerance: float, unanswered: str, hints: dict[float, str]):
    """A check accepting numbers within ``relative_tolerance`` of ``reference``.

    Args:
        reference: The right value.
        relative_tolerance: Accepted relative error.
        unanswered: What the student is told when the value is not a number.
        hints: Known wrong values and the hint each deserves (matched with the same tolerance).
    """

    def check(value) -> str | None:
        number = as_number(value)
        if number is None:
            return unanswered
        if math.isclose(number, reference, rel_tol=relative_tolerance):
            return None
        for wrong, hint in hints.items():
            if math.isclose(number, wrong, rel_tol=relative_tolerance, abs_tol=1e-12):
                return hint
        return "not the expected value; redo the calculation step by step."

    return check


def choice_check(right: str, hints: dict[str, str], choices: tuple[str, ...]):
    """A check accepting the word ``right`` of ``choices``, read as the student's form check reads it
    (case, spaces and the documented synonyms aside: ``resnet_course.answers.as_choice``)."""
    wanted = " or ".join(f'"{choice}"' for choice in choices)

    def check(value) -> str | None:
        choice = as_choice(value, choices)
        if choice is None:
            return f"answer with one of the strings {wanted}."
        if choice == right:
            return None
        return hints.get(choice, "not the expected choice; read each option again against the numbers.")

    return check


# Kernel weights only: a bottleneck at 256 channels (1x1 256->64, 3x3 64->64, 1x1 64->256) against two
# 3x3 convolutions 256->256. With biases the ratio moves by half a percent, inside the tolerance.
_BOTTLENECK = 256 * 64 + 9 * 64 * 64 + 64 * 256
_TWO_3X3 = 2 * 9 * 256 * 256
# Fraction of the initial moving statistics left after 10 epochs of 34 steps at momentum 0.99.
_SURVIVING = 0.99**340
# Fraction of an 18x18 input's positions a 1x1 convolution with stride 3 reads: 6 x 6 of 18 x 18.
_READ_AT_STRIDE_3 = (6 * 6) / (18 * 18)
_LETTERS = ("a", "b", "c", "d")
_MODES = ("training", "inference")

QUESTIONS: dict[str, Question] = {
    "why_degradation": Question(
        points=1,
        check=choice_check(
            "b",
            {
                "a": "overfitting shows as a low training loss and a high test loss; here the training loss is high.",
                "c": "look at the printed gradient norms: the first body layer gets a gradient as large as the last.",
                "d": "a deeper plain network can copy the shallow one and make its extra layers identities.",
            },
            _LETTERS,
        ),
        reference="b",
        typical_wrong=["a", "c", "d", "e", 2],
    ),
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
    "why_stride": Question(
        points=1,
        check=numeric_check(
            _READ_AT_STRIDE_3,
            0.02,
            "give the fraction as a number between 0 and 1.",
            {
                0.25: "that is for a stride of 2; here it is 3.",
                1 / 3: "the stride applies in both directions, height and width.",
                8 / 9: "that is the fraction it skips.",
                1.0: "a 1x1 window with stride 3 skips positions: count the ones it reads.",
            },
        ),
        reference=_READ_AT_STRIDE_3,
        typical_wrong=[0.25, 1 / 3, 8 / 9, 1, "all"],
    ),
    "why_bn_mode": Question(
        points=1,
        check=choice_check(
            "training",
            {
                "inference": "a training value given while the model is built is recorded in its graph, and a call "
                "without a training argument uses it: which value did your blocks pass?"
            },
            _MODES,
        ),
        reference="training",
        typical_wrong=["inference", "Inference mode", "training=False", "both"],
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
