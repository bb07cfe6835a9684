"""The block checks by values: outputs against the numpy reference, and the mistake that explains them.

For both ``training`` values the output is compared with the reference; on a
mismatch every known wiring (:data:`~.block_case._WIRINGS`) is tried with
every choice of batch or moving statistics per BatchNormalization, fewest
deviations first, and the first combination that reproduces the output is
named.
"""

from __future__ import annotations

import itertools

from .block_case import _WIRINGS, _BlockCase
from .core import TOLERANCE, _asarray, _attempt, _difference, _error_text, _fail, _float64, keras


def _usage_patterns(count: int, training: bool):
    """All per-BatchNorm choices of batch statistics, fewest deviations from
    the correct one (all ``training``) first."""
    patterns = list(itertools.product((training, not training), repeat=count))
    return sorted(patterns, key=lambda pattern: sum(used != training for used in pattern))


def _matching_usage(case, x, wiring, got, training):
    """The first BatchNorm usage pattern under which ``wiring`` reproduces ``got``."""
    for pattern in _usage_patterns(len(case.bn_names), training):
        if _difference(got, case.reference(x, wiring, pattern)) <= TOLERANCE:
            return pattern
    return None


def _describe_training_mistakes(case: _BlockCase, used_when_true, used_when_false) -> str:
    """Plain words for how the BatchNorm layers ignore ``training``."""
    behaviours = {
        (True, True): "uses batch statistics even when training=False (training=True hard-coded?)",
        (False, False): "uses its moving averages even when training=True (training not passed?)",
        (False, True): "does the opposite of `training` (training=not training?)",
    }
    wrong = [
        (name, behaviours[(on_true, on_false)])
        for name, on_true, on_false in zip(case.bn_names, used_when_true, used_when_false)
        if (on_true, on_false) != (True, False)
    ]
    if not wrong:
        return ""
    if len(wrong) == len(case.bn_names) and len({text for _, text in wrong}) == 1:
        text = f"every BatchNormalization {wrong[0][1]}"
    else:
        text = "; ".join(f"{name} {behaviour}" for name, behaviour in wrong)
    return (
        f"{text}. Pass training=training to every BatchNormalization call: "
        "BatchNormalization(axis=3)(X, training=training)"
    )


def _check_values(case: _BlockCase, block, initializer):
    """Compare eager outputs for training=True and False with the numpy reference."""
    x = case.input_values()
    outputs = {}
    for training in (True, False):
        result, error = _attempt(case.call, block, keras.ops.convert_to_tensor(x), training, initializer)
        if error is None:
            result, error = _attempt(keras.ops.convert_to_numpy, result)
        if error is not None:
            _fail(
                case.name,
                f"calling it on a concrete tensor with training={training} raised an error.",
                got=_error_text(error),
                hint="the block must work both on keras.Input tensors and on ordinary tensors; "
                "use only Keras layers and keras.ops inside it",
                case=case.describe(),
            )
        outputs[training] = _asarray(result).astype(_float64)
    _judge_values(case, x, outputs)


def _judge_values(case: _BlockCase, x, outputs):
    """Compare the outputs for training=True and False (``outputs[training]``) with the
    reference; on a mismatch, name the known mistake whose numpy variant matches."""
    correct = _WIRINGS[0]
    differences = {
        training: _difference(outputs[training], case.reference(x, correct, (training,) * len(case.bn_names)))
        for training in (True, False)
    }
    if max(differences.values()) <= TOLERANCE:
        return
    for wiring in _WIRINGS:
        used_when_true = _matching_usage(case, x, wiring, outputs[True], True)
        if used_when_true is None:
            continue
        used_when_false = _matching_usage(case, x, wiring, outputs[False], False)
        if used_when_false is None:
            continue
        training_mistakes = _describe_training_mistakes(case, used_when_true, used_when_false)
        mistakes = [text for text in (wiring.diagnosis, training_mistakes) if text]
        _fail(
            case.name,
            "the layers look right, but the output values are wrong.",
            expected=f"the reference block's output (max relative difference at most {TOLERANCE:g})",
            got=_describe_differences(differences),
            hint="; and ".join(mistakes),
            case=case.describe(),
        )
    _fail(
        case.name,
        "the layers look right, but the output values are wrong.",
        expected=f"the reference block's output (max relative difference at most {TOLERANCE:g})",
        got=_describe_differences(differences),
        hint="check the order of the steps: conv -> BN -> ReLU, conv -> BN -> ReLU, conv -> BN, "
        "add the shortcut, ReLU; "
        "and that training=training reaches every BatchNormalization",
        case=case.describe(),
    )


def _describe_differences(differences) -> str:
    """Per ``training`` value: matches, or how far off the output is."""
    return ", ".join(
        f"training={training}: {'matches' if value <= TOLERANCE else f'max relative difference {value:.3g}'}"
        for training, value in differences.items()
    )


# ---------------------------------------------------------------------------
# Block verification
# ---------------------------------------------------------------------------
