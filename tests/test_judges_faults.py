"""Whose fault a failure of the judges is: the instructor's before grading, the submission's after.

The judges run on the master's own answers before any submission is graded. If they fail there,
grading stops and records nobody. If they pass, a failure while judging one submission fails only
that submission's cells, and the run goes on to the next student.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from fixtures import toy_course

#: A judge that crashes its whole process on one answer, as evidence that exhausts memory would.
CRASHING_JUDGE = """

def judge_normalize_or_crash(payload, arguments):
    import os

    if any(result.get("value") == "crash" for result in payload.get("results", [])):
        os._exit(9)
    return judge_normalize(payload, arguments)


JUDGES["test_normalize"] = ("normalize", judge_normalize_or_crash)
"""


def submit(course, student, normalize_body):
    notebook = toy_course.released_notebook(course)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "normalize":
            cell.source = f"def normalize(v):\n    {normalize_body}\n"
        if grade_id == "add":
            cell.source = "def add(a, b):\n    return a + b\n"
    nbformat.write(notebook, toy_course.submission_folder(course, student) / toy_course.NOTEBOOK)


def judges_file(course):
    return course / "solutions" / toy_course.ASSIGNMENT / "grader_only" / "judges.py"


@pytest.fixture
def course(tmp_path, monkeypatch):
    monkeypatch.setenv("RESNET_COURSE_CACHE_DIR", str(tmp_path / "cache"))  # no pre-flight stamp from elsewhere
    return toy_course.course_copy(tmp_path / "course")


def test_judges_that_fail_the_master_stop_grading_and_record_nobody(course, tmp_path):
    judges = judges_file(course)
    judges.write_text(judges.read_text().replace("value != a + b", "value != a + b + 1"))
    submit(course, "ann", "return np.asarray(v, dtype=float) / np.linalg.norm(v)")
    result = toy_course.grader(course, "autograde", "toy", extra_env={"RESNET_COURSE_CACHE_DIR": str(tmp_path / "c")})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "do not pass the master notebook's own answers: test_add" in result.stderr
    assert toy_course.scores(course) == {}
    assert not (course / "autograder" / ".runtime" / "reports" / "toy.json").exists()


def test_a_judges_file_that_cannot_load_stops_grading(course, tmp_path):
    judges_file(course).write_text("this is not python\n")
    submit(course, "ann", "return v")
    result = toy_course.grader(course, "autograde", "toy", extra_env={"RESNET_COURSE_CACHE_DIR": str(tmp_path / "c")})
    assert result.returncode == 2 and "could not be loaded" in result.stderr
    assert toy_course.scores(course) == {}


def test_evidence_that_breaks_the_judges_fails_only_that_students_cell(course, tmp_path):
    judges = judges_file(course)
    judges.write_text(judges.read_text() + CRASHING_JUDGE)
    submit(course, "ann", 'return "crash"')
    submit(course, "bob", "return np.asarray(v, dtype=float) / np.linalg.norm(v)")
    submit(course, "cy", 'return "x" * 300_000')  # a verdict quoting this value would be 300 KB
    env = {"RESNET_COURSE_CACHE_DIR": str(tmp_path / "c")}
    result = toy_course.grader(course, "autograde", "toy", "--workers", "1", extra_env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    scores = toy_course.scores(course)
    assert scores == {"ann": 1.0, "bob": 3.0, "cy": 1.0}, scores  # add (1 point) judged in a fresh process
    graded = nbformat.read(course / "autograder" / "autograded" / "ann" / "toy" / "toy.ipynb", as_version=4)
    (normalize,) = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_normalize"]
    assert "the grader could not judge this cell" in json.dumps(normalize.outputs)
    cy = nbformat.read(course / "autograder" / "autograded" / "cy" / "toy" / "toy.ipynb", as_version=4)
    assert len(json.dumps([c.outputs for c in cy.cells if c.cell_type == "code"])) < 100_000
    assert toy_course.report(course)["ann"]["status"] == "graded"


#: A judge whose memory use the student's answer decides, as a judge that copies a student's model does.
ALLOCATING_JUDGE = """

def judge_normalize_or_allocate(payload, arguments):
    for result in payload.get("results", []):
        value = result.get("value")
        if isinstance(value, str) and value.startswith("allocate "):
            b"x" * int(value.split()[1])  # written, so the pages are really used
    return judge_normalize(payload, arguments)


JUDGES["test_normalize"] = ("normalize", judge_normalize_or_allocate)
"""
JUDGES_MEMORY_BYTES = 1024**3


@pytest.mark.parametrize("path", ["G", "P"])
def test_evidence_that_exhausts_the_judges_memory_fails_only_that_students_cell(course, tmp_path, path):
    """A real allocation past the judges' memory limit (1 GiB here, from the course's variable), not a stand-in."""
    judges = judges_file(course)
    judges.write_text(judges.read_text() + ALLOCATING_JUDGE)
    # Right on the self-check's vectors, so the cell runs clean and only the judges meet the answer.
    allocate = f'if list(v) == [0, 0, 5]:\n        return "allocate {4 * JUDGES_MEMORY_BYTES}"\n'
    submit(course, "ann", allocate + "    return np.asarray(v, dtype=float) / np.linalg.norm(v)")
    submit(course, "bob", "return np.asarray(v, dtype=float) / np.linalg.norm(v)")
    env = {"RESNET_COURSE_CACHE_DIR": str(tmp_path / "c"), "RESNET_JUDGES_MEMORY_BYTES": str(JUDGES_MEMORY_BYTES)}
    if path == "G":
        result = toy_course.grader(course, "autograde", "toy", "--workers", "1", extra_env=env)
    else:
        result = toy_course.nbgrader(course, "autograde", "toy", extra_env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert toy_course.scores(course) == {"ann": 1.0, "bob": 3.0}, result.stderr[-3000:]
    graded = nbformat.read(course / "autograder" / "autograded" / "ann" / "toy" / "toy.ipynb", as_version=4)
    (normalize,) = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_normalize"]
    assert "memory" in json.dumps(normalize.outputs), normalize.outputs


def test_plain_nbgrader_stops_too_when_the_judges_fail_the_master(course, tmp_path):
    judges = judges_file(course)
    judges.write_text(judges.read_text().replace("value != a + b", "value != a + b + 1"))
    submit(course, "ann", "return np.asarray(v, dtype=float) / np.linalg.norm(v)")
    env = {"RESNET_COURSE_CACHE_DIR": str(tmp_path / "c")}
    result = toy_course.nbgrader(course, "autograde", "toy", extra_env=env)
    assert result.returncode != 0
    assert "do not pass the master notebook's own answers: test_add" in result.stdout + result.stderr
    assert toy_course.scores(course) == {}
