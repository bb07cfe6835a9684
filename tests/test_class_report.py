"""The class report: mistake names from failed tests, pass rates per test, the HTML
(self-contained, escaped) and the terminal summary, on a small synthetic graded class."""

import re

import pytest
from fixtures import graded_class, toy_course

from resnet_course.grader.__main__ import main
from resnet_course.grader.class_report import render, write_report
from resnet_course.grader.class_results import collect, terminal_summary
from resnet_course.grader.diagnoses import mistake_name, notebook_mistakes

NORM = graded_class.MISTAKES["test_normalize"][0]
SHAPE = graded_class.MISTAKES["test_normalize"][1]
ADD = graded_class.MISTAKES["test_add"][0]
HOSTILE = "normalize: wrong.\n  likely mistake: <img src=x onerror=alert(1)> \x1b[31mred\x1b[0m\x07"


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
    ]
    return graded_class.write(root, students)


def test_mistake_names_follow_the_documented_rule():
    assert mistake_name("SelfCheckError", NORM) == "divides by the sum instead of the norm"
    assert mistake_name("AssertionError", "add(2, 3) returned 6\nmore") == "add(2, 3) returned 6"
    assert mistake_name("AssertionError", "") == "AssertionError (no message)"
    assert mistake_name("NotImplementedError", "") == "the code is not written yet"
    assert mistake_name("SelfCheckError", "f: x\n  likely mistake: the code is not written yet: replace it") == (
        "the code is not written yet"
    )
    assert mistake_name("SelfCheckError", "f: x\n  likely mistake: uses keras.applications (copied?). Use yours") == (
        "uses keras.applications (copied?)"
    )
    assert mistake_name("AssertionError", "called {'a': 0}; expected 4") == "called {'a': 0}; expected 4"
    assert mistake_name("SelfCheckError", "f: x\n  likely mistake: \x1b[1mbold\x1b[0m\tend\x00") == "bold end"
    assert len(mistake_name("E", "x" * 1000)) == 160
    notebook = {
        "cells": [
            {
                "metadata": {"nbgrader": {"grade": True, "solution": False, "grade_id": "test_a"}},
                "outputs": [{"output_type": "error", "ename": "SelfCheckError", "evalue": NORM}],
            },
            {
                "metadata": {"nbgrader": {"grade": True, "solution": True, "grade_id": "answer"}},
                "outputs": [{"output_type": "error", "ename": "E", "evalue": "in an answer cell: not a test"}],
            },
            {"metadata": {}, "outputs": [{"output_type": "error", "ename": "E", "evalue": "ungraded cell"}]},
        ]
    }
    assert notebook_mistakes(notebook) == {"test_a": "divides by the sum instead of the norm"}


def test_pass_rates_and_mistakes_ranked_by_students(small_class):
    results = collect(small_class, "toy")
    assert [(t.name, t.exercise, t.max_score, t.passed, t.graded) for t in results.tests] == [
        ("test_normalize", "normalize", 2.0, 1, 5),
        ("test_add", "add", 1.0, 4, 5),
    ]
    assert [(m.name, m.students, m.tests) for m in results.mistakes] == [
        ("divides by the sum instead of the norm", ["bob", "cy"], ["test_normalize"]),
        ("<img src=x onerror=alert(1)> red", ["<b>eve</b>"], ["test_normalize"]),
        ("add(2, 3) returned 6, expected 5", ["cy"], ["test_add"]),
        ("returns a list instead of an array", ["dee"], ["test_normalize"]),
    ]
    assert [row.student_id for row in results.not_graded] == ["fay"]
    assert [t.commonest_mistake for t in results.tests] == [
        "divides by the sum instead of the norm (2)",
        "add(2, 3) returned 6, expected 5 (1)",
    ]
    assert results.total_seconds == pytest.approx(12.5)


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
    assert '<b id="timing-total">12.5 s</b>' in text


def test_terminal_summary_is_short_and_has_no_control_characters(small_class, tmp_path, capsys):
    assert main(["--root", str(small_class.root), "report", "toy", "-o", str(tmp_path / "r.html")]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "r.html").is_file() and f"wrote {tmp_path / 'r.html'}" in out
    assert "toy: 5 graded, 1 could not be graded; mean 1.2/3; grading took 12 s in all" in out
    assert "   2  divides by the sum instead of the norm" in out
    assert "not graded: fay: toy.ipynb is not a valid notebook <JSON>" in out
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", out)
    assert len(out.splitlines()) < 20
    assert terminal_summary(collect(small_class, "toy")) in out
    assert main(["--root", str(small_class.root), "report", "nosuch"]) == 2
    assert "error: the gradebook has no assignment 'nosuch'" in capsys.readouterr().err
