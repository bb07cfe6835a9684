"""The notebook's self-checks: they catch and name each catalogued mistake,
pass the reference and every correct alternative, and stay quiet on stderr."""

from __future__ import annotations

import json
import re

import mistakes
import numpy as np
import pytest
from mistakes import ALTERNATIVES, EXERCISES, MISTAKES, REFERENCE, public_check, verifier

from resnet_course import checks

keras = mistakes.keras


def test_catalogue_is_large_enough():
    assert len(MISTAKES) >= 50
    assert sum(entry.exercise == "ResNet50" for entry in MISTAKES) >= 15
    assert len(ALTERNATIVES) >= 15
    assert sum(entry.exercise == "ResNet50" for entry in ALTERNATIVES) >= 5
    assert len({entry.name for entry in MISTAKES + ALTERNATIVES}) == len(MISTAKES + ALTERNATIVES)
    assert {entry.exercise for entry in MISTAKES} == set(EXERCISES)


@pytest.mark.parametrize("entry", MISTAKES, ids=lambda entry: entry.name)
def test_mistake_fails_with_a_message_naming_it(entry, capfd):
    with pytest.raises(AssertionError) as caught:
        entry.run_self_check()
    assert entry.message in str(caught.value), str(caught.value)
    assert capfd.readouterr() == ("", "")  # failures raise; nothing is printed


def assert_one_success_line(out: str, exercise: str):
    """One success line, then only notes (ResNet50 explains a hard-coded `training`)."""
    assert re.fullmatch(rf"{exercise}: all \d+ checks passed\.\n(  note: [^\n]+\n)*", out), repr(out)


@pytest.mark.parametrize("entry", ALTERNATIVES, ids=lambda entry: entry.name)
def test_correct_alternative_passes(entry, capfd):
    result = entry.run_self_check()
    out, err = capfd.readouterr()
    assert err == ""
    if entry.case:
        assert result > 0 and out == ""
    else:
        assert_one_success_line(out, entry.exercise)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_passes_with_one_line(exercise, capfd):
    public_check(exercise)(REFERENCE[exercise])
    out, err = capfd.readouterr()
    assert err == ""
    assert_one_success_line(out, exercise)


@pytest.mark.parametrize(
    "exercise, case",
    [
        ("identity_block", mistakes.F5_CASE),
        ("identity_block", {"f": 1, "filters": (5, 2, 3), "input_shape": (2, 4, 5, 3), "seed": 11}),
        ("identity_block", {"f": 2, "filters": (2, 3, 4), "input_shape": (3, 5, 6, 4), "seed": 4}),
        ("convolutional_block", mistakes.S3_CASE),
        ("convolutional_block", {"f": 5, "filters": (3, 4, 2), "s": 1, "input_shape": (2, 6, 6, 3), "seed": 9}),
        ("convolutional_block", {"f": 3, "filters": (4, 4, 4), "s": 2, "input_shape": (3, 7, 5, 4), "seed": 2}),
    ],
    ids=lambda value: str(value) if isinstance(value, str) else "-".join(f"{k}{v}" for k, v in value.items()),
)
def test_reference_passes_hidden_style_cases(exercise, case, capfd):
    assert verifier(exercise)(REFERENCE[exercise], **case) == len(checks.BLOCK_CHECKS)
    assert capfd.readouterr() == ("", "")


def test_resnet50_parameter_formula_matches_the_known_counts():
    assert checks.resnet50_parameter_counts((64, 64, 3), 6) == (23_600_006, 23_546_886, 53_120)


def test_reference_resnet50_passes_for_other_sizes():
    assert checks.verify_resnet50(REFERENCE["ResNet50"], input_shape=(96, 96, 3), classes=10) == len(
        checks.RESNET50_CHECKS
    )


def test_reference_resnet50_passes_with_a_note_on_its_hard_coded_training(capfd):
    checks.check_resnet50(REFERENCE["ResNet50"])
    out = capfd.readouterr().out
    assert "note: your model has training=True in 52 layer call(s)" in out
    assert "model(x, training=False)" in out


def round_trip(model):
    """The model rebuilt from its JSON config, as trusted grading rebuilds it outside the kernel."""
    config = json.loads(model.to_json())
    return keras.saving.deserialize_keras_object(config, safe_mode=True)


def test_resnet50_model_judge_works_on_a_model_rebuilt_from_json():
    model = round_trip(REFERENCE["ResNet50"]())
    assert checks.verify_resnet50_model(model, scope="stages") == 3
    assert checks.verify_resnet50_model(model) == 5
    wrong = round_trip(mistakes.resnet_stem_without_relu())
    with pytest.raises(
        AssertionError, match="at the stem's output.*\n.*\n.*\n  likely mistake: the stem's ReLU is missing"
    ):
        checks.verify_resnet50_model(wrong, scope="stages")


def test_resnet50_model_judge_names_a_head_mistake_with_same_shapes_and_counts():
    model = mistakes.resnet_head_max_pool()
    assert checks.verify_resnet50_model(model, scope="stages") == 3
    with pytest.raises(AssertionError, match="the head pools with MaxPooling2D"):
        checks.verify_resnet50_model(model)


BLOCK_MODEL_CASES = {
    "identity_block": {"f": 3, "filters": (2, 4, 3), "input_shape": (4, 6, 5, 3)},
    "convolutional_block": {"f": 3, "filters": (2, 4, 5), "s": 2, "input_shape": (4, 6, 5, 3)},
}


def built_block_models(kind, block, case):
    """The block built on keras.Input with training=True and False, then rebuilt from JSON."""
    arguments = {"s": case["s"]} if "s" in case else {}
    built = {}
    for training in (True, False):
        inputs = keras.Input(case["input_shape"][1:])
        outputs = block(inputs, case["f"], list(case["filters"]), training=training, **arguments)
        built[training] = round_trip(keras.Model(inputs, outputs))
    return built


@pytest.mark.parametrize("kind", list(BLOCK_MODEL_CASES))
def test_block_model_judge_passes_the_reference_rebuilt_from_json(kind):
    case = BLOCK_MODEL_CASES[kind]
    built = built_block_models(kind, REFERENCE[kind], case)
    assert checks.verify_block_models(kind, built, **case) == len(checks.BLOCK_CHECKS)


@pytest.mark.parametrize(
    "kind, block, message",
    [
        ("identity_block", mistakes.identity_without_final_relu, "the final ReLU is missing"),
        ("identity_block", mistakes.identity_training_not_passed, "moving averages even when training=True"),
        ("convolutional_block", mistakes.conv_training_hard_coded_true, "batch statistics even when training=False"),
        ("convolutional_block", mistakes.conv_stride_on_second_conv, "ResNet 'v1.5'"),
    ],
)
def test_block_model_judge_names_the_mistake(kind, block, message):
    case = BLOCK_MODEL_CASES[kind]
    with pytest.raises(AssertionError, match=re.escape(message)):
        checks.verify_block_models(kind, built_block_models(kind, block, case), **case)


def test_verify_resnet50_restores_the_blocks_even_when_building_fails():
    originals = (mistakes.identity_block, mistakes.convolutional_block)
    with pytest.raises(AssertionError):
        checks.verify_resnet50(mistakes.resnet_stage4_identity_filters_typo)
    assert (mistakes.identity_block, mistakes.convolutional_block) == originals


def test_resnet50_without_blocks_in_its_namespace_is_rejected():
    namespace = {"keras": mistakes.keras}
    exec(
        "def ResNet50(input_shape=(64, 64, 3), classes=6):\n"
        "    X = keras.Input(input_shape)\n"
        "    return keras.Model(X, keras.layers.Dense(classes)(keras.layers.Flatten()(X)))\n",
        namespace,
    )
    with pytest.raises(AssertionError, match="identity_block and convolutional_block not defined"):
        checks.verify_resnet50(namespace["ResNet50"])


def test_checks_ignore_a_notebook_that_rebinds_numpy(monkeypatch):
    """A student cannot make the checks pass by overriding numpy's comparisons."""
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    monkeypatch.setattr(np, "max", lambda *args, **kwargs: 0.0)
    monkeypatch.setattr(np, "abs", lambda x: x * 0)
    monkeypatch.setattr(np.testing, "assert_allclose", lambda *args, **kwargs: None)
    with pytest.raises(AssertionError, match="the final ReLU is missing"):
        checks.verify_identity_block(mistakes.identity_without_final_relu)
    assert checks.verify_identity_block(REFERENCE["identity_block"]) == len(checks.BLOCK_CHECKS)


def test_initializer_depends_only_on_kernel_shape():
    initializer = checks.make_initializer(seed=1)
    first = mistakes.keras.ops.convert_to_numpy(initializer(seed=0)((1, 1, 3, 2)))
    again = mistakes.keras.ops.convert_to_numpy(initializer(seed=42)((1, 1, 3, 2)))
    other = checks.deterministic_kernel((1, 1, 2, 3), seed=1)
    np.testing.assert_array_equal(first, again)
    assert first.shape == (1, 1, 3, 2) and other.shape == (1, 1, 2, 3)
    assert not np.array_equal(first, checks.deterministic_kernel((1, 1, 3, 2), seed=2))


def test_self_check_error_is_an_assertion_error():
    assert issubclass(checks.SelfCheckError, AssertionError)
