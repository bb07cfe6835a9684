"""The resnets judges judge each distinct block once and rebuild each model once. The block values
cells hand over ResNet50's stage blocks at two input sizes, and a stage whose input is the same at
both (stage 5, 2x2) hands over the same architecture twice, with other layer names: judging it again
would only repeat the verdict. ResNet50's judges build the reference around the blocks the block
cells' judges already rebuilt. A block that builds something else on a later call with the same
arguments is judged again."""

from unittest import mock

from fixtures import trusted_pipeline
from mistakes import REFERENCE, identity_without_final_relu

from resnet_course import checks
from resnet_course.grader.judges import judging, safe_models
from resnet_course.paths import MASTER_NOTEBOOK

IDENTITY_CELLS = ("test_identity_block", "test_identity_block_hidden_shapes", "test_identity_block_hidden_values")
#: Only the identity block's cells run: the others would cost minutes and say nothing here.
OTHER_CELLS = tuple(grade_id for grade_id, _, _ in trusted_pipeline.graded_cells() if grade_id not in IDENTITY_CELLS)


def identity_scores(identity_block, student: str) -> dict:
    return trusted_pipeline.scores({"identity_block": identity_block}, student=student, skip=OTHER_CELLS)


def distinct_value_cases(student: str) -> tuple[int, int]:
    """(cases, cases that differ in more than their seed) of the hidden identity values cell."""
    judges = judging.load_judges(judging.judges_dir(MASTER_NOTEBOOK.parent))
    cases = judging.challenge_for(judges, MASTER_NOTEBOOK.parent.name, student)["identity_block_values"]
    distinct = {repr(sorted((k, v) for k, v in case.items() if k != "seed")) for case in cases}
    return len(cases), len(distinct)


def test_the_reference_is_judged_once_per_distinct_block_and_passes():
    student = "judged-once"

    def identity_block(*args, **kwargs):  # a new function object: no verdict is reused from another test
        return REFERENCE["identity_block"](*args, **kwargs)

    with mock.patch.object(checks, "verify_block_models", wraps=checks.verify_block_models) as verify:
        scores = identity_scores(identity_block, student)
    assert all(earned == possible for earned, possible, _ in scores.values()), scores
    cases, distinct = distinct_value_cases(student)
    assert distinct < cases, "the challenge repeats ResNet50's identity blocks"
    # One call for the public cell's case, one per distinct hidden case.
    assert verify.call_count == 1 + distinct


def test_a_block_that_changes_on_a_repeated_call_is_judged_again_and_fails():
    seen = set()

    def identity_block(X, f, filters, training=True, initializer=None):
        # Right the first time it meets these arguments; without its final ReLU after that.
        key = (f, tuple(filters), tuple(X.shape), training)
        block = identity_without_final_relu if key in seen else REFERENCE["identity_block"]
        seen.add(key)
        return block(X, f, filters, training=training, initializer=initializer)

    scores = identity_scores(identity_block, "changes-when-repeated")
    assert scores["test_identity_block"][0] == scores["test_identity_block"][1]
    earned, possible, message = scores["test_identity_block_hidden_values"]
    assert earned == 0 and possible > 0, message


def test_no_model_is_rebuilt_for_another_cell():
    # New function objects: no cell's evidence or verdict is reused from another test.
    functions = {
        name: (lambda function: lambda *args, **kwargs: function(*args, **kwargs))(REFERENCE[name])
        for name in ("identity_block", "convolutional_block", "ResNet50")
    }
    with mock.patch.object(safe_models, "load_model", wraps=safe_models.load_model) as load:
        scores = trusted_pipeline.scores(functions, student="rebuilt-once")
    assert all(earned == possible for earned, possible, _ in scores.values()), scores
    configurations = [call.args[0] for call in load.call_args_list]
    assert len(configurations) == len(set(configurations)), "a configuration was rebuilt"
