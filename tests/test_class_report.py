"""The class report: mistake ids from failed tests, skipped tests apart, pass rates per test, the HTML
(self-contained, escaped) and the terminal summary, on a small synthetic graded class."""

import re

import pytest
from fixtures import graded_class, toy_course

from resnet_course.grader.__main__ import main
from resnet_course.grader.reports.class_report import render, write_report
from resnet_course.grader.reports.class_results import collect, terminal_summary
from resnet_course.grader.reports.diagnoses import Diagnosis, diagnose, notebook_diagnoses

NORM = graded_class.MISTAKES["test_normalize"][0]
SHAPE = graded_class.MISTAKES["test_normalize"][1]
ADD = graded_class.MISTAKES["test_add"][0]
ADD_OTHER_NUMBERS = "add(2, 4) returned 7, expected 6"
TRAINING_SKIPPED = (
    "Graded outside your notebook: not passed. training skipped: fix the exercises first (test_x did not pass)"
)
BUILD_FAILED = "Graded outside your notebook: not passed. building it raised NotImplementedError: "
HOSTILE = "normalize: wrong.\n  likely mistake: <img src=x onerror=alert(1)> \x1b[31mred\x1b[0m\x07"
FAILED = "Graded outside your notebook: not passed. "


@pytest.fixture
def small_class(tmp_path):
    root = toy_course.course_copy(tmp_path / "course")
    students = [
        graded_class.Student("ann", seconds=2.0),
        graded_class.Student("bob", {"test_normalize": NORM}, seconds=3.0),
        graded_class.Student("cy", {"test_normalize": NORM, "test_add": ADD}, seconds=4.5),
        graded_class.Student("dee", {"test_normalize": SHAPE}, seconds=1.5),
        graded_class.Student("<b>eve</b>", {"test_normalize": HOSTILE}, seconds=1.0),
        graded_class.Student("fay", graded=False, reason="toy.ipynb is not a valid notebook <JSON>", seconds=0.5),
        graded_class.Student("gus", {"test_add": ADD_OTHER_NUMBERS}, seconds=1.0),
        graded_class.Student("hal", {"test_add": TRAINING_SKIPPED}, seconds=1.0),
        graded_class.Student("ivy", {"test_add": BUILD_FAILED}, seconds=1.0, unwritten=("add",)),
    ]
    return graded_class.write(root, students)


def test_one_mistake_has_one_id_whatever_specifics_its_message_names():
    assert diagnose("SelfCheckError", NORM) == Diagnosis(
        "divides-by-the-sum-instead-of-the-norm", "divides by the sum instead of the norm"
    )
    counts = [
        "building ResNet50 called your blocks {'identity_block': 0, 'convolutional_block': 0}; expected 12",
        "building ResNet50 called your blocks {'identity_block': 11, 'convolutional_block': 4}; expected 12",
    ]
    shapes = [
        "identity_block: the output shape is (2, 4, 4, 3), expected (2, 4, 4, 6); check the last Conv2D.",
        "identity_block: the output shape is (1, 8, 8, 5), expected (1, 8, 8, 4); check the last Conv2D.",
    ]
    colon = ["ResNet50 parameter counts are wrong:", "ResNet50 parameter counts are wrong: expected 3, got 4"]
    for same in (counts, shapes, colon, [ADD, ADD_OTHER_NUMBERS]):
        found = [diagnose("NotPassed", FAILED + message) for message in same]
        assert len({d.mistake_id for d in found}) == 1, found
        assert all(not d.skipped and "12" not in d.label and "(2" not in d.label for d in found)
    assert diagnose("NotPassed", FAILED + shapes[0]) == Diagnosis(
        "identity_block-the-output-shape-is-expected",
        "identity_block: the output shape is (…), expected (…)",
        shapes[0],
    )
    assert diagnose("NotPassed", FAILED + counts[0]).detail == counts[0]
    # The hint's first clause names the mistake; what follows it is detail.
    assert diagnose("SelfCheckError", "f: x\n  likely mistake: uses keras.applications (copied?). Use yours") == (
        Diagnosis(
            "uses-keras-applications-copied",
            "uses keras.applications (copied?)",
            "uses keras.applications (copied?). Use yours",
        )
    )
    assert diagnose("SelfCheckError", "f: x\n  likely mistake: \x1b[1mbold\x1b[0m\tend\x00").label == "bold end"
    assert diagnose("AssertionError", "") == Diagnosis("assertionerror-no-message", "AssertionError (no message)")
    assert len(diagnose("E", "x" * 1000).label) == 160 and len(diagnose("E", "x " * 500).mistake_id) <= 80


def test_skipped_tests_are_not_mistakes_and_the_kernel_cannot_choose_an_id():
    training = diagnose("NotPassed", TRAINING_SKIPPED)
    assert (training.mistake_id, training.skipped) == ("training-skipped", True)
    assert "test_x" in training.detail and "test_x" not in training.label
    switched_off = (
        FAILED + "the training test was skipped by the grader's configuration (RESNET_COURSE_TRAINING_TEST=skip)"
    )
    assert diagnose("NotPassed", switched_off).skipped
    assert diagnose("NotImplementedError", "") == Diagnosis("not-written-yet", "the code is not written yet", "", True)
    assert diagnose("SelfCheckError", "f: x\n  likely mistake: the code is not written yet: replace it").skipped
    # What follows "building it raised" is the error the student's code raised: detail, never the id.
    for kernel_words in ("NotImplementedError: ", "the-final-relu-is-missing", "training skipped: yes"):
        found = diagnose("NotPassed", f"{FAILED}building it raised {kernel_words}")
        assert (found.mistake_id, found.skipped) == ("building-raised", False)
    # The kernel's own error, quoted after the verdict, is never read.
    raised = diagnose("NotPassed", f"{FAILED}The cell raised an error.\nThe cell also raised training skipped: no")
    assert (raised.mistake_id, raised.detail) == ("the-cell-raised-an-error", "")


def test_a_failed_test_of_an_answer_left_as_released_was_not_written_yet():
    def cell(grade_id, source, solution=False, evalue=None):
        outputs = [{"output_type": "error", "ename": "NotPassed", "evalue": evalue}] if evalue else []
        grade = not solution
        meta = {"grade": grade, "solution": solution, "grade_id": grade_id}
        return {"cell_type": "code", "source": source, "metadata": {"nbgrader": meta}, "outputs": outputs}

    released = {"cells": [cell("add", "def add(a, b):\n    raise NotImplementedError()", solution=True)]}
    failed = cell("test_add", "check(add)", evalue=BUILD_FAILED)
    as_released = {"cells": [cell("add", ["def add(a, b):\n", "    raise NotImplementedError()\n"], True), failed]}
    written = {"cells": [cell("add", "def add(a, b):\n    return a - b", solution=True), failed]}
    assert notebook_diagnoses(as_released, released)["test_add"] == Diagnosis(
        "not-written-yet", "the code is not written yet", "building it raised NotImplementedError:", True
    )
    assert notebook_diagnoses(written, released)["test_add"].mistake_id == "building-raised"
    ungraded = {"cells": [{"metadata": {}, "outputs": [{"output_type": "error", "ename": "E", "evalue": "x"}]}]}
    assert notebook_diagnoses(ungraded, released) == {} and notebook_diagnoses(written) != {}


def test_pass_rates_and_mistakes_ranked_by_students(small_class):
    results = collect(small_class, "toy")
    assert [(t.name, t.exercise, t.max_score, t.passed, t.graded, t.skipped) for t in results.tests] == [
        ("test_normalize", "normalize", 2.0, 4, 8, 0),
        ("test_add", "add", 1.0, 4, 8, 2),
    ]
    assert [(m.mistake_id, m.name, m.students, m.tests) for m in results.mistakes] == [
        ("add-returned-expected", "add(…) returned …, expected …", ["cy", "gus"], ["test_add"]),
        (
            "divides-by-the-sum-instead-of-the-norm",
            "divides by the sum instead of the norm",
            ["bob", "cy"],
            ["test_normalize"],
        ),
        ("img-src-x-onerror-alert-red", "<img src=x onerror=alert(…)> red", ["<b>eve</b>"], ["test_normalize"]),
        ("returns-a-list-instead-of-an-array", "returns a list instead of an array", ["dee"], ["test_normalize"]),
    ]
    assert results.mistakes[0].details == [ADD, ADD_OTHER_NUMBERS]
    assert [(m.mistake_id, m.students, m.tests) for m in results.skipped] == [
        ("not-written-yet", ["ivy"], ["test_add"]),
        ("training-skipped", ["hal"], ["test_add"]),
    ]
    assert [row.student_id for row in results.not_graded] == ["fay"]
    assert [t.commonest_mistake for t in results.tests] == [
        "divides by the sum instead of the norm (2)",
        "add(…) returned …, expected … (2)",
    ]
    assert results.total_seconds == pytest.approx(15.5)


def test_html_is_self_contained_escaped_and_never_shows_a_zero_for_the_ungraded(small_class, tmp_path):
    path, results = write_report(small_class, "toy", tmp_path / "out" / "report.html")
    text = path.read_text()
    assert text == render(results)
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,', text)) == 3
    assert not re.search(r"""(src|href)=["'](?!data:)""", text), "nothing loaded from elsewhere"
    assert "<img src=x" not in text and "<b>eve" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text and "&lt;b&gt;eve&lt;/b&gt;" in text
    assert "not a valid notebook &lt;JSON&gt;" in text
    students = re.search(r'<table id="students">.*?</table>', text, re.S).group(0)
    fay = re.search(r"<tr><td>fay</td>.*?</tr>", students).group(0)
    assert "could not be graded" in fay and ">0<" not in fay and "–" in fay
    assert '<b id="timing-total">15.5 s</b>' in text
    skipped = re.search(r'<table id="skipped">.*?</table>', text, re.S).group(0)
    assert "training-skipped" in skipped and "hal" in skipped and "training-skipped" not in _table(text, "mistakes")
    assert "add(2, 4) returned 7, expected 6" in _table(text, "mistakes")


def test_terminal_summary_is_short_and_has_no_control_characters(small_class, tmp_path, capsys):
    assert main(["--root", str(small_class.root), "report", "toy", "-o", str(tmp_path / "r.html")]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "r.html").is_file() and f"wrote {tmp_path / 'r.html'}" in out
    assert "toy: 8 graded, 1 could not be graded; mean 1.5/3; grading took 16 s in all" in out
    assert (
        "commonest mistakes:\n    2  add(…) returned …, expected …\n    2  divides by the sum instead of the norm"
        in out
    )
    assert "skipped tests (not mistakes):\n    1  the code is not written yet\n    1  training skipped" in out
    assert "not graded: fay: toy.ipynb is not a valid notebook <JSON>" in out
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", out)
    assert len(out.splitlines()) < 20
    assert terminal_summary(collect(small_class, "toy")) in out
    assert main(["--root", str(small_class.root), "report", "nosuch"]) == 2
    assert "error: the gradebook has no assignment 'nosuch'" in capsys.readouterr().err


def _table(text: str, table_id: str) -> str:
    return re.search(rf'<table id="{table_id}">.*?</table>', text, re.S).group(0)
