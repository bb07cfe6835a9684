"""A verdict's message is bounded by the judges' framework, whatever a judge quotes from the evidence."""

from __future__ import annotations

from types import SimpleNamespace

from resnet_course.grader.judges.judging import MAX_MESSAGE_CHARS, Rejected, Verdict, bounded_message, judge_cell


def judges_quoting(template: str):
    """Judges whose one cell rejects the evidence with ``template`` filled in by the handed-over value."""

    def judge(payload, _asked):
        raise Rejected(template.format(value=payload["value"]))

    return SimpleNamespace(JUDGES={"test_cell": ("cell", judge)})


def test_a_quoted_value_is_cut_in_the_middle_and_the_judges_words_around_it_stay():
    value = "x" * 1_500_000  # the run quoted is this value and ".Dense;": 1,500,007 characters, 80 kept
    judges = judges_quoting("the model uses {value}.Dense; only Keras' own layers can be graded")
    verdict = judge_cell(judges, "test_cell", {"cell": {"value": value}}, {})
    assert verdict.passed is False
    assert verdict.message.startswith("the model uses " + "x" * 40 + "…[1,499,927 characters cut]…")
    assert verdict.message.endswith("xxxx.Dense; only Keras' own layers can be graded")
    assert len(verdict.message) < 200


def test_a_long_message_of_short_words_is_cut_to_the_bound():
    judges = judges_quoting("got {value}")
    verdict = judge_cell(judges, "test_cell", {"cell": {"value": "ab " * 100_000}}, {})
    assert len(verdict.message) == MAX_MESSAGE_CHARS and verdict.message.endswith("…")


def test_a_judges_own_message_reaches_the_student_unchanged():
    message = "identity_block: the output shape is (2, 4, 4, 3), expected (2, 4, 4, 6); check the last Conv2D."
    assert bounded_message(message) == message
    judges = SimpleNamespace(JUDGES={"test_cell": ("cell", lambda payload, asked: Verdict(True, message))})
    assert judge_cell(judges, "test_cell", {"cell": {}}, {}) == Verdict(True, message)
