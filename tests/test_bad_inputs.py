"""The bad-input suite: a class of fake submissions that break the toy assignment in every
way we know (see fixtures/bad_submissions.py), graded in one batch with two workers.

Every case must get its correct score and a reason that says what happened, the batch
must complete, and afterwards the gradebook must pass its integrity check with every
other student's grades, the solutions and the other submissions untouched.
"""

import csv
import hashlib
import io
import socket
import threading

import nbformat
import pytest
from fixtures import bad_submissions, toy_course

from resnet_course.grader.jobs import integrity

pytestmark = [
    pytest.mark.requires_tool("bwrap"),
    pytest.mark.slow,
]


def tree_digest(folder):
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def outputs_text(path):
    """All stream text and error messages of a notebook's cells."""
    notebook = nbformat.read(path, as_version=4)
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") or f"{output.get('ename', '')}: {output.get('evalue', '')}")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The toy course with every bad-input case submitted and graded once."""
    course = toy_course.course_copy(tmp_path_factory.mktemp("bad-inputs") / "course")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    cases = bad_submissions.all_cases(listener.getsockname()[1])
    bad_submissions.write_class(course, cases)
    from test_grader import add_bystander

    add_bystander(course)
    db = course / "autograder" / "gradebook.db"
    before = {
        "gradebook": integrity.snapshot(db),
        "solutions": tree_digest(course / "solutions"),
        "good submission": tree_digest(course / "autograder" / "submitted" / "good"),
    }
    result = toy_course.grader(course, "autograde", "toy", "--workers", "2")
    export = toy_course.grader(course, "export", "toy")
    listener.close()
    return {
        "course": course,
        "cases": cases,
        "result": result,
        "export": export,
        "before": before,
        "accepted": accepted,
        "scores": toy_course.scores(course),
        "report": toy_course.report(course),
    }


def test_the_batch_completes_and_grades_every_case(graded_class):
    result = graded_class["result"]
    assert result.returncode == 0, result.stdout + result.stderr
    names = {case.name for case in graded_class["cases"]}
    assert names <= set(graded_class["report"]), "every case has a report entry"
    print(f"{len(names)} cases; graded {sum(graded_class['report'][n]['status'] == 'graded' for n in names)}")


@pytest.mark.parametrize("case", bad_submissions.all_cases(0), ids=lambda case: case.name)
def test_each_case_gets_its_correct_score_and_reason(graded_class, case):
    entry = graded_class["report"][case.name]
    assert graded_class["scores"].get(case.name, 0.0) == case.score, entry
    assert entry["status"] == ("graded" if case.graded else "could not be graded"), entry
    told = (entry["reason"] + " " + " ".join(entry["notes"])).lower()
    assert case.reason.lower() in told, entry
    if case.check is not None:
        text = outputs_text(graded_class["course"] / "autograder" / "autograded" / case.name / "toy" / "toy.ipynb")
        assert case.check(text), text[-3000:]


def test_gradebook_integrity_and_nothing_else_touched(graded_class):
    course, before = graded_class["course"], graded_class["before"]
    regraded = {(name, "toy") for name in graded_class["report"]}
    assert integrity.check(course / "autograder" / "gradebook.db", before["gradebook"], regraded) == []
    assert graded_class["scores"]["bystander"] == 1.5, "a manual grade of another student survives"
    assert tree_digest(course / "solutions") == before["solutions"]
    assert tree_digest(course / "autograder" / "submitted" / "good") == before["good submission"]
    assert not (course / "hacked.txt").exists()
    assert graded_class["accepted"] == [], "no submission reached the host's loopback"


def test_export_tells_status_and_reason_of_each_case(graded_class):
    export = graded_class["export"]
    assert export.returncode == 0, export.stderr
    rows = {row["student_id"].removeprefix("'"): row for row in csv.DictReader(io.StringIO(export.stdout))}
    for case in graded_class["cases"]:
        row = rows[case.name]
        assert row["status"] == ("graded" if case.graded else "could not be graded")
        assert float(row["score"]) == case.score and row["reason"]
        assert float(row["normalize"]) + float(row["add"]) == case.score, row


def test_no_forged_lines_control_characters_or_formulas_reach_the_instructor(graded_class):
    result, export = graded_class["result"], graded_class["export"]
    for text in (result.stdout, result.stderr, export.stdout):
        assert "\x1b" not in text and "\u202e" not in text and "\r" not in text.replace("\r\n", "\n")
    assert not any(line.startswith("mallory") for line in result.stdout.splitlines()), "no forged report line"
    assert "\\nmallory: graded - graded normally\\x1b[2K" in result.stdout, "the name is shown, escaped"
    rows = list(csv.DictReader(io.StringIO(export.stdout)))
    assert len(rows) == len(graded_class["report"]), "one CSV row per student, none forged"
    assert "'-1+1@formula" in {row["student_id"] for row in rows}, "a formula-like id is neutralised"
    assert all(
        not row[key].startswith(("=", "+", "-", "@")) for row in rows for key in ("student_id", "reason", "notes")
    )
    assert all(float(row["score"]) >= 0 for row in rows), "scores stay numbers"


def test_nothing_read_through_a_link_was_graded_or_kept(graded_class):
    autograded = graded_class["course"] / "autograder" / "autograded"
    for name in ("linked_notebook", "linked_extra_files", "linked_student_folder"):
        assert not (autograded / name).exists(), name
    assert graded_class["scores"].get("good") == 3.0
