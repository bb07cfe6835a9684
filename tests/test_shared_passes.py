"""Shared passes: across a class, the resnets judges judge each computation once, and nothing one
submission hands over changes another's verdict.

A block values case, or a ResNet50 cell, whose computation (arguments and architectures, layer
names and the challenge's initializer left out) passed for an earlier student passes again
without being rebuilt. These tests run the real judges in one process
(``fixtures/trusted_pipeline``) with a class's shared passes carried from one student to the
next, as the grader keeps them; the grader's side is in ``test_training_cache.py``.
"""

import functools
from unittest import mock

from fixtures import trusted_pipeline
from mistakes import REFERENCE, conv_shortcut_without_batchnorm, identity_without_final_relu

from resnet_course import checks
from resnet_course.grader.judges import safe_models
from resnet_course.grader.judges.judging import judges_dir, load_judges
from resnet_course.keras_setup import import_keras
from resnet_course.paths import MASTER_NOTEBOOK

EXERCISES = ("identity_block", "convolutional_block", "ResNet50")


def fresh(function):
    """A new function object: no cell's evidence or verdict is reused from another test."""
    return lambda *args, **kwargs: function(*args, **kwargs)


def functions(**replaced) -> dict:
    return {name: fresh(replaced.get(name, REFERENCE[name])) for name in EXERCISES}


def judged(student: str, shared, **replaced):
    """(scores, block cases verified, ResNet50-sized models rebuilt) of one student's judgement."""
    with (
        mock.patch.object(checks, "verify_block_models", wraps=checks.verify_block_models) as verify,
        mock.patch.object(safe_models, "load_model", wraps=safe_models.load_model) as load,
    ):
        scores = trusted_pipeline.scores(functions(**replaced), student=student, shared=shared)
    resnets = [call for call in load.call_args_list if len(call.args[0]) > 100_000]
    return scores, verify.call_count, len(resnets)


def test_a_class_judges_each_computation_once_with_the_same_words():
    shared: dict = {}
    first, first_verified, first_resnets = judged("class-a", shared)
    assert all(earned == possible for earned, possible, _ in first.values()), first
    assert first_resnets > 0 and shared  # the first student's passes are kept
    second, verified, resnets = judged("class-b", shared)
    alone, _, _ = judged("class-b", None)
    assert second == alone  # the points and the words a full judgement gives
    # Only what the first student's challenge did not ask is judged: each values cell's random cases,
    # and ResNet50's other input size when it is not the first student's.
    assert verified < first_verified
    regrade, verified_again, resnets_again = judged("class-a", shared)
    assert regrade == first
    assert verified_again == 0 and resnets_again == 0


def test_a_passed_computation_never_passes_another_students_mistake():
    """A class whose reference passes are kept grades each mistake as it grades it alone: the mistake's
    computation is another one, however close, and is judged in full."""
    shared: dict = {}
    judged("poison-reference", shared)
    for student, mistake in (
        ("poison-identity", {"identity_block": identity_without_final_relu}),
        ("poison-conv", {"convolutional_block": conv_shortcut_without_batchnorm}),
    ):
        in_class, _, _ = judged(student, shared, **mistake)
        alone, _, _ = judged(student, None, **mistake)
        assert in_class == alone
        assert any(earned < possible for earned, possible, _ in in_class.values())


# -- what a computation holds ----------------------------------------------------------------


def block_config(stddev: float = 0.05) -> str:
    """The reference identity block's configuration, built with the challenge's initializer."""
    keras = import_keras()
    inputs = keras.Input((5, 5, 3))
    initializer = functools.partial(keras.initializers.RandomNormal, stddev=stddev)
    outputs = REFERENCE["identity_block"](inputs, 3, [2, 4, 3], training=True, initializer=initializer)
    return keras.Model(inputs, outputs).to_json()


def test_only_the_challenges_stddev_leaves_a_computation():
    judges = load_judges(judges_dir(MASTER_NOTEBOOK.parent))
    config = block_config(0.05)
    ours = judges._checked_architecture(config, 0.05)
    assert ours == judges._checked_architecture(block_config(0.07), 0.07)  # another student's challenge
    # Kept as written, so the initializer check decides alike on a hit: another stddev, a Conv2D under
    # another class name Keras also reads, a key the initializer does not take.
    assert judges._checked_architecture(config, 0.07) != ours
    alias = config.replace('"class_name": "Conv2D"', '"class_name": "Convolution2D"')
    assert alias != config and judges._checked_architecture(alias, 0.05) != ours
    extra = config.replace('"stddev": 0.05', '"stddev": 0.05, "bogus": 1')
    assert extra != config and judges._checked_architecture(extra, 0.05) != ours
    # A configuration larger than the judges rebuild has none: it is judged, and refused, in full.
    padded = config[:-1] + " " * (safe_models.MAX_CONFIG_BYTES + 1) + "}"
    assert judges._checked_architecture(padded, 0.05) is None


def test_blocks_whose_models_share_a_name_are_judged_by_what_they_compute():
    """A block that calls keras.backend.clear_session() hands over models that all have the same name.
    ResNet50's judges build the reference around those blocks, and their names must not decide its
    verdict (a shared pass stands for the computation, names left out): the right blocks pass."""
    keras = import_keras()

    def cleared(function):
        def block(*args, **kwargs):
            keras.backend.clear_session()
            return function(*args, **kwargs)

        return block

    scores, _, _ = judged(
        "cleared-session",
        None,
        identity_block=cleared(REFERENCE["identity_block"]),
        convolutional_block=cleared(REFERENCE["convolutional_block"]),
    )
    assert all(earned == possible for earned, possible, _ in scores.values()), scores
