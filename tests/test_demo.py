"""`make demo` grades the sample class: every student gets the exact score and
status their submission deserves, feedback hides the hidden tests, and the
export, plot and class report are written. ``demo_root`` (one demo run per
session, shared with the class report's browser test) is in conftest.py."""

import csv
import html as htmllib
import re

import pytest

pytestmark = pytest.mark.slow

# student -> (status, total, {exercise: points}); out of 26: 5 per exercise, and 6 for the four
# "why" answers and the recompute, which every sample student but `untouched` answered.
EXPECTED = {
    "reference": ("graded", 26, {"identity_block": 5, "convolutional_block": 5, "ResNet50": 5, "training": 5}),
    # Blocks right, ResNet50 left as released.
    "partly_correct": ("graded", 16, {"identity_block": 5, "convolutional_block": 5, "ResNet50": 0, "training": 0}),
    # Shapes survive a missing final ReLU (1 point); values do not. ResNet50's own checks pass.
    "no_final_relu": ("graded", 17, {"identity_block": 1, "convolutional_block": 5, "ResNet50": 5, "training": 0}),
    "bn_always_training": ("graded", 13, {"identity_block": 1, "convolutional_block": 1, "ResNet50": 5, "training": 0}),
    # A stride on the f x f "same" convolution gives the same shapes, wrong values.
    "stride_on_second_conv": (
        "graded",
        17,
        {"identity_block": 5, "convolutional_block": 1, "ResNet50": 5, "training": 0},
    ),
    # Same parameter count, but not built from the student's blocks: nothing for ResNet50.
    "keras_applications": ("graded", 16, {"identity_block": 5, "convolutional_block": 5, "ResNet50": 0, "training": 0}),
    # Stage outputs keep their shapes (1 point); counts and the self-check fail.
    "short_stage_4": ("graded", 17, {"identity_block": 5, "convolutional_block": 5, "ResNet50": 1, "training": 0}),
    "untouched": ("graded", 0, {"identity_block": 0, "convolutional_block": 0, "ResNet50": 0, "training": 0}),
}


@pytest.fixture(scope="module")
def grades(demo_root):
    with open(demo_root / "grades.csv") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_student_gets_the_expected_score(grades, student):
    status, total, by_exercise = EXPECTED[student]
    row = grades[student]
    assert row["status"] == status
    assert float(row["max_score"]) == 26
    assert {exercise: float(row[exercise]) for exercise in by_exercise} == by_exercise
    assert float(row["score"]) == total


def test_broken_notebook_could_not_be_graded_and_says_why(grades):
    row = grades["broken_notebook"]
    assert row["status"] == "could not be graded"
    assert "resnets.ipynb is not a valid notebook" in row["reason"] and "JSON" in row["reason"]
    assert float(row["score"]) == 0


def _visible_text(html: str) -> str:
    """The text a browser shows: tags (syntax highlighting splits code into spans) removed."""
    return htmllib.unescape(re.sub(r"<[^>]+>", "", html))


def test_feedback_shows_messages_but_no_hidden_test_code(demo_root):
    text = _visible_text((demo_root / "feedback" / "no_final_relu" / "resnets" / "resnets.html").read_text())
    # The verdicts, naming the mistake, and the evidence requests of the graded cells reach the student...
    assert "likely mistake: the final ReLU is missing" in text
    assert "Graded outside your notebook: not passed." in text
    assert 'submit_resnet50("resnet50_other_input", ResNet50' in text
    # ...the hidden tests (the judges), their cases and thresholds do not.
    for hidden in ("BEGIN HIDDEN TESTS", "OTHER_INPUTS", "TRAINING_THRESHOLD", "PUBLIC_IDENTITY", "def challenge("):
        assert hidden not in text


def test_distribution_plot_is_written(demo_root):
    assert (demo_root / "grade_distribution.png").stat().st_size > 10_000


def test_class_report_is_written(demo_root):
    text = (demo_root / "class-report.html").read_text()
    assert text.count("data:image/png;base64,") == 3 and '<table id="mistakes">' in text
