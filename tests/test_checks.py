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


def test_reference_resnet50_passes_with_one_line_and_no_warning_looking_note(capfd):
    """The blocks' default training=True is baked into a correct model: section 6 teaches it, the check is quiet."""
    checks.check_resnet50(REFERENCE["ResNet50"])
    assert capfd.readouterr().out == "ResNet50: all 6 checks passed.\n"
    notes = []
    checks.verify_resnet50_model(REFERENCE["ResNet50"](), notes=notes)
    assert "training=True in 52 layer call(s)" in notes[0], "a caller that asks for notes still gets it"


def notebook_resnet50(*replacements):
    """The master's ResNet50 with its text replaced, around the master's own blocks, as a student would write it."""
    from resnet_course.instructor.reference_solution import cell_sources, load_cells
    from resnet_course.paths import MASTER_NOTEBOOK

    text = cell_sources(MASTER_NOTEBOOK)["ResNet50"]
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    namespace = load_cells(MASTER_NOTEBOOK, ("imports", "identity_block", "convolutional_block"))
    exec(text, namespace)
    return namespace["ResNet50"]


def test_a_head_pool_larger_than_stage_5_gets_one_clean_message_that_names_it(capfd):
    """The paper's ImageNet head, AveragePooling2D((7, 7)), on 64x64 images: one message, Keras' text clean."""
    resnet = notebook_resnet50(("AveragePooling2D(pool_size=2)", "AveragePooling2D(pool_size=(7, 7))"))
    capfd.readouterr()  # the notebook's set-up cell names the backend
    with pytest.raises(checks.SelfCheckError) as caught:
        checks.check_resnet50(resnet)
    message = str(caught.value)
    assert "likely mistake: the pool window 7×7 is larger than stage 5's 2×2 output" in message
    assert "\x1b" not in message and "Arguments received by" not in message and "•" not in message
    assert "run the checks of identity_block and convolutional_block first" not in message, "both blocks pass"
    got = next(line for line in message.splitlines() if line.startswith("  got:"))
    assert got.endswith("(in AveragePooling2D)"), got
    assert caught.value._render_traceback_()[0] == f"SelfCheckError: {message}"
    assert capfd.readouterr().out == ""


def test_a_build_error_inside_a_block_names_the_stage_and_the_call():
    resnet = notebook_resnet50(("X = identity_block(X, 3, filters)", "X = identity_block(X, 3, filters[:2] + [64])"))
    with pytest.raises(checks.SelfCheckError, match="identity block 1 of stage 2 has the wrong filters"):
        checks.check_resnet50(resnet)


def test_a_block_that_hard_codes_its_stride_is_named_when_resnet50_does_not_build():
    """Its own check passes at s=2; ResNet50's stage 2 calls it with s=1, and its head then cannot pool."""
    resnet = REFERENCE["ResNet50"]
    namespace = resnet.__globals__
    saved = namespace["convolutional_block"]
    namespace["convolutional_block"] = mistakes.conv_stride_hard_coded_2
    try:
        with pytest.raises(checks.SelfCheckError) as caught:
            checks.check_resnet50(resnet)
    finally:
        namespace["convolutional_block"] = saved
    assert (
        "likely mistake: stage 2's convolutional_block(X, f=3, filters=[64, 64, 256], s=1) on X of shape "
        "(15, 15, 64) returned shape (8, 8, 256), expected (15, 15, 256)"
    ) in str(caught.value)


def test_keras_error_text_is_clean_and_cut_at_a_word():
    from resnet_course.checks.core import clean_error_text

    error = ValueError(
        "Exception encountered when calling AveragePooling2D.call().\n\n\x1b[1mComputed output size would be "
        "zero or negative. Received: `inputs.shape=[None 2 2 2048]`, `pool_size=[7 7]`.\x1b[0m\n\nArguments "
        "received by AveragePooling2D.call():\n  • args=('<KerasTensor shape=(None, 2, 2, 2048)>',)\n  • kwargs=..."
    )
    text = clean_error_text(error)
    assert text == (
        "ValueError: Computed output size would be zero or negative. Received: `inputs.shape=[None 2 2 2048]`, "
        "`pool_size=[7 7]`. (in AveragePooling2D)"
    )
    short = clean_error_text(error, limit=60)
    assert short.endswith("…") and len(short) <= 60 and text.startswith(short[:-1])
    assert text[len(short) - 1] == " ", "cut between two words"


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


def _wrong_block(*args, **kwargs):
    raise RuntimeError("this student code must not run while autograding")


@pytest.mark.parametrize("exercise", [*EXERCISES, "recompute_batchnorm"])
def test_checks_leave_the_verdict_to_the_judges_while_autograding_and_check_in_full_while_validating(
    exercise, monkeypatch, capfd
):
    """nbgrader autograde replaces a graded cell's outputs with the judges' verdict: a self-check computed
    there is read by nobody. `nbgrader validate`, whose messages the student reads, still checks."""
    check = checks.check_recompute_batchnorm if exercise == "recompute_batchnorm" else public_check(exercise)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert check(_wrong_block) is None
    assert capfd.readouterr() == (f"{exercise}: judged by the grader.\n", "")
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    with pytest.raises(AssertionError):
        check(_wrong_block)


@pytest.mark.parametrize(
    "name", ["identity_training_passed_to_first_batchnorm_only", "conv_shortcut_batchnorm_without_training"]
)
def test_judging_built_blocks_catches_training_passed_to_only_some_batchnorms(name):
    """In one model(x) call the first layer given `training` sets it for the layers after it that got none;
    the judges' check of built blocks calls each layer on its own, as the block's eager run does."""
    (entry,) = [entry for entry in MISTAKES if entry.name == name]
    case = {"f": 3, "filters": (2, 4, 3), "input_shape": (4, 6, 5, 3), "seed": 0}
    arguments = {"f": 3, "filters": case["filters"]}
    if entry.exercise == "convolutional_block":
        case.update(filters=(2, 4, 5), s=2)
        arguments.update(filters=(2, 4, 5), s=2)
    built = {}
    for training in (True, False):
        inputs = keras.Input(case["input_shape"][1:])
        built[training] = keras.Model(inputs, entry.function(inputs, training=training, **arguments))
    with pytest.raises(checks.SelfCheckError) as caught:
        checks.verify_block_models(entry.exercise, built, **case)
    assert entry.message in str(caught.value)
