"""`make demo` grades the sample class: every student gets the exact score and
status their submission deserves, feedback hides the hidden tests, and the
export, plot and class report are written. ``demo_root`` (one demo run per
session, shared with the class report's browser test) is in conftest.py."""

import csv
import html as htmllib
import json
import re

import pytest

pytestmark = pytest.mark.slow

#: The exercises worth 5 points each; the rest of the maximum is the "why" answers and the recompute,
#: which every sample student but `untouched` answered with the master's answers.
EXERCISES = ("identity_block", "convolutional_block", "ResNet50")
TRAINING_POINTS = 5

# student -> (status, {exercise: points}, what the training test does). The training test trains every
# ResNet50 built from the student's own blocks with the right shapes, whatever the other cells scored
# ("trained": its points are its own accuracy's); "skipped" when there is no such model.
EXPECTED = {
    "reference": ("graded", {"identity_block": 5, "convolutional_block": 5, "ResNet50": 5}, "passes"),
    # Blocks right, ResNet50 left as released: nothing to train.
    "partly_correct": ("graded", {"identity_block": 5, "convolutional_block": 5, "ResNet50": 0}, "skipped"),
    # Shapes survive a missing final ReLU (1 point); values do not. ResNet50 around its own blocks passes.
    "no_final_relu": ("graded", {"identity_block": 1, "convolutional_block": 5, "ResNet50": 5}, "trained"),
    "bn_always_training": ("graded", {"identity_block": 1, "convolutional_block": 1, "ResNet50": 5}, "trained"),
    # A stride on the f x f "same" convolution gives the same shapes, wrong values.
    "stride_on_second_conv": ("graded", {"identity_block": 5, "convolutional_block": 1, "ResNet50": 5}, "trained"),
    # Same parameter count, but not built from the student's blocks: no ResNet50 point, nothing trained.
    "keras_applications": ("graded", {"identity_block": 5, "convolutional_block": 5, "ResNet50": 0}, "skipped"),
    # Stage outputs keep their shapes (1 point); counts and the self-check fail; its own model trains.
    "short_stage_4": ("graded", {"identity_block": 5, "convolutional_block": 5, "ResNet50": 1}, "trained"),
    "untouched": ("graded", {"identity_block": 0, "convolutional_block": 0, "ResNet50": 0}, "skipped"),
}


@pytest.fixture(scope="module")
def grades(demo_root):
    with open(demo_root / "grades.csv") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def master_points() -> float:
    from resnet_course.paths import MASTER_NOTEBOOK

    cells = json.loads(MASTER_NOTEBOOK.read_text())["cells"]
    return sum(
        float(c["metadata"]["nbgrader"]["points"]) for c in cells if c["metadata"].get("nbgrader", {}).get("grade")
    )


def training_verdict(demo_root, student) -> str:
    notebook = json.loads((demo_root / "autograded" / student / "resnets" / "resnets.ipynb").read_text())
    (cell,) = [
        c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "test_training_accuracy"
    ]
    return json.dumps(cell["outputs"])


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_student_gets_the_expected_score(grades, demo_root, student):
    status, by_exercise, training = EXPECTED[student]
    row = grades[student]
    assert row["status"] == status
    maximum = master_points()
    assert float(row["max_score"]) == maximum
    assert {exercise: float(row[exercise]) for exercise in by_exercise} == by_exercise
    verdict = training_verdict(demo_root, student)
    if training == "skipped":
        assert float(row["training"]) == 0 and "training skipped" in verdict, verdict
    else:
        assert "test accuracy" in verdict, f"{student}'s own ResNet50 was not trained: {verdict}"
        passed = "Graded outside your notebook: passed." in verdict
        assert float(row["training"]) == (TRAINING_POINTS if passed else 0), verdict
        if training == "passes":
            assert float(row["training"]) == TRAINING_POINTS, verdict
    answers = 0 if student == "untouched" else maximum - TRAINING_POINTS - 5 * len(EXERCISES)
    assert float(row["score"]) == sum(by_exercise.values()) + float(row["training"]) + answers


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
    # The verdicts, naming the mistake, and the graded cells' visible lines reach the student...
    assert "likely mistake: the final ReLU is missing" in text
    assert "Graded outside your notebook: not passed." in text
    assert "# Graded outside your notebook: ResNet50 for another input size and number of classes." in text
    # ...the hidden tests (the judges), their cases and thresholds do not.
    for hidden in ("BEGIN HIDDEN TESTS", "OTHER_INPUTS", "TRAINING_THRESHOLD", "PUBLIC_IDENTITY", "def challenge("):
        assert hidden not in text


def test_distribution_plot_is_written(demo_root):
    assert (demo_root / "grade_distribution.png").stat().st_size > 10_000


def test_class_report_is_written(demo_root):
    text = (demo_root / "class-report.html").read_text()
    assert text.count("data:image/png;base64,") == 3 and '<table id="mistakes">' in text
