"""A submission's hidden inputs depend on its answers: a table of answers from earlier feedback earns nothing."""

from __future__ import annotations

import pytest

from resnet_course.grader.judges.judging import Rejected, answers_digest, challenge_for, load_judges
from resnet_course.paths import TESTS_DIR

TOY_JUDGES = TESTS_DIR / "fixtures" / "course" / "solutions" / "toy" / "grader_only"
FIRST_TRY = "def add(a, b):\n    return 0\n"


@pytest.fixture(scope="module")
def judges():
    return load_judges(TOY_JUDGES)


def test_a_regrade_of_the_same_notebook_asks_the_same(judges):
    digest = answers_digest([FIRST_TRY, "x = 1"])
    assert challenge_for(judges, "toy", "ann", digest) == challenge_for(judges, "toy", "ann", digest)
    assert answers_digest(["  " + FIRST_TRY + "\n", "x = 1"]) == digest  # whitespace around a cell is no change


def test_a_table_of_the_inputs_seen_before_fails_the_new_inputs(judges):
    seen = challenge_for(judges, "toy", "ann", answers_digest([FIRST_TRY]))
    table = {tuple(pair): pair[0] + pair[1] for pair in seen["add"]}
    source = f"TABLE = {table!r}\n\ndef add(a, b):\n    return TABLE[(a, b)]\n"
    asked = challenge_for(judges, "toy", "ann", answers_digest([source]))["add"]
    assert asked != seen["add"]
    namespace = {}
    exec(source, namespace)
    results = []
    for a, b in asked:
        try:
            results.append({"value": namespace["add"](a, b)})
        except KeyError as error:
            results.append({"error": f"KeyError: {error}"})
    _, judge = judges.JUDGES["test_add"]
    with pytest.raises(Rejected):
        judge({"results": results}, asked)


def test_feedback_names_the_input_but_never_its_expected_output(judges):
    _, judge = judges.JUDGES["test_add"]
    with pytest.raises(Rejected) as rejected:
        judge({"results": [{"value": 6}]}, [[2, 3]])
    assert "add(2, 3) returned 6" in str(rejected.value) and "5" not in str(rejected.value)
