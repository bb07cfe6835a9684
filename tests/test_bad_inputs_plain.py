"""The path, resource and injection cases of the bad-input suite on the plain path: ``nbgrader
autograde`` run from the course root through ``nbgrader_config.py``, graded in one run.

A refused submission (a symbolic link anywhere on its way or in its tree, a working folder
over the sandbox's limits) must be reported "could not be graded" with its reason, hold no
score in the gradebook and leave nothing copied through a link behind; the others get their
exact score; the honest student and the bystander keep theirs and the gradebook stays intact.
"""

import csv
import io

import nbformat
import pytest
from fixtures import bad_submissions, toy_course

from resnet_course.grader.jobs import integrity

pytestmark = [pytest.mark.requires_tool("bwrap"), pytest.mark.slow]

# nbgrader has no renaming of a notebook submitted under another name: that case is the grader's.
PLAIN_CASES = [bad_submissions.CASES[0]] + [
    case for case in bad_submissions.PATH_RESOURCE_CASES if case.name != "forged_file_name"
]


@pytest.fixture(scope="module")
def plain_class(tmp_path_factory):
    """The toy course with the plain-path cases submitted and graded by one ``nbgrader autograde``."""
    course = toy_course.course_copy(tmp_path_factory.mktemp("bad-inputs-plain") / "course")
    bad_submissions.write_class(course, PLAIN_CASES)
    from test_grader import add_bystander

    add_bystander(course)
    db = course / "autograder" / "gradebook.db"
    before = integrity.snapshot(db)
    result = toy_course.nbgrader(course, "autograde", "toy")
    export = toy_course.grader(course, "export", "toy")
    return {
        "course": course,
        "result": result,
        "export": export,
        "before": before,
        "scores": toy_course.scores(course),
        "report": toy_course.report(course),
    }


@pytest.mark.parametrize("case", PLAIN_CASES, ids=lambda case: case.name)
def test_each_case_gets_its_correct_score_on_the_plain_path(plain_class, case):
    scores, entries = plain_class["scores"], plain_class["report"]
    autograded = plain_class["course"] / "autograder" / "autograded" / case.name / "toy"
    if case.graded:
        assert scores.get(case.name) == case.score, plain_class["result"].stderr[-3000:]
        if case.check is not None:
            notebook = nbformat.read(autograded / "toy.ipynb", as_version=4)
            assert case.check(nbformat.writes(notebook)), case.name
        return
    assert case.name not in scores, "a refused submission holds no score"
    entry = entries[case.name]
    assert entry["status"] == "could not be graded" and case.reason in entry["reason"], entry
    assert not autograded.exists(), "nothing it copied is left behind"


def test_the_refusals_are_in_the_export_and_the_class_is_intact(plain_class):
    course, before = plain_class["course"], plain_class["before"]
    assert plain_class["scores"]["bystander"] == 1.5 and plain_class["scores"]["good"] == 3.0
    students = {case.name for case in PLAIN_CASES} | {"bystander"}
    assert integrity.check(course / "autograder" / "gradebook.db", before, {(s, "toy") for s in students}) == []
    rows = {row["student_id"]: row for row in csv.DictReader(io.StringIO(plain_class["export"].stdout))}
    for case in PLAIN_CASES:
        if not case.graded:
            assert rows[case.name]["status"] == "could not be graded" and case.reason in rows[case.name]["reason"]


def test_kernel_stderr_reaches_the_terminal_escaped(plain_class):
    stderr = plain_class["result"].stderr
    assert "\x1b]0;owned" not in stderr and "\x1b[2J" not in stderr
    assert "[kernel stderr] \\x1b]0;owned\\x07\\x1b[2J\\r[resnet-course] all graded 3/3" in stderr
    assert "could not be graded: refused: the submission contains a symbolic link" in stderr
