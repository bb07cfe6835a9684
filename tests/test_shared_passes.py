"""Shared passes: across a class, the resnets judges judge each computation once, and nothing one
submission hands over changes another's verdict.

A block values case, or a ResNet50 cell, whose computation (arguments and architectures, layer
names and the challenge's initializer left out) passed for an earlier student passes again
without being rebuilt. These tests run the real judges in one process
(``fixtures/trusted_pipeline``) with a class's shared passes carried from one student to the
next, as the grader keeps them; the grader's side is in ``test_training_cache.py``.
"""

from unittest import mock

from fixtures import trusted_pipeline
from mistakes import REFERENCE, conv_shortcut_without_batchnorm, identity_without_final_relu

from resnet_course import checks
from resnet_course.grader.judges import safe_models

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
