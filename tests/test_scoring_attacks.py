"""In-kernel scoring attacks (fixtures/scoring_attacks.py), graded on both paths: the course's
grader (G) and plain ``nbgrader autograde`` through nbgrader_config.py (P).

Every attack's answers deserve 2 of 3 points, and that is what each must get: the
verdicts are decided outside the kernel, from evidence the kernel cannot forge without
solving the exercise. The honest student keeps 3 points, the bystander's manual grade
survives, the gradebook passes its integrity check, and the feedback of a submission
that prints its input history contains no line of the hidden tests.
"""

import html

import pytest
from fixtures import bad_submissions, scoring_attacks, toy_course

from resnet_course.grader.jobs import integrity

pytestmark = [pytest.mark.requires_tool("bwrap"), pytest.mark.slow]

CASES = scoring_attacks.cases()


@pytest.fixture(scope="module", params=["G", "P"])
def attacked_class(request, tmp_path_factory):
    """The toy course with every attack, an honest student and a bystander, graded by one path."""
    course = toy_course.course_copy(tmp_path_factory.mktemp(f"attacks-{request.param}") / "course")
    honest = bad_submissions.Case("honest", bad_submissions._variant(lambda nb, c: nb), 3)
    bad_submissions.write_class(course, [honest, *CASES])
    from test_grader import add_bystander

    add_bystander(course)
    db = course / "autograder" / "gradebook.db"
    before = integrity.snapshot(db)
    if request.param == "G":
        result = toy_course.grader(course, "autograde", "toy", "--workers", "2")
    else:
        result = toy_course.nbgrader(course, "autograde", "toy")
    return {"path": request.param, "course": course, "result": result, "before": before, "db": db}


def test_the_run_completes(attacked_class):
    result = attacked_class["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_each_attack_earns_only_what_its_answers_deserve(attacked_class, case):
    scores = toy_course.scores(attacked_class["course"])
    assert scores.get(case.name) == case.score, f"{attacked_class['path']}: {case.name} scored {scores.get(case.name)}"
    if case.check is not None:
        path = attacked_class["course"] / "autograder" / "autograded" / case.name / "toy" / "toy.ipynb"
        assert case.check(path.read_text()), path.read_text()[-2000:]


def test_honest_student_bystander_and_gradebook_are_untouched(attacked_class):
    scores = toy_course.scores(attacked_class["course"])
    assert scores["honest"] == 3.0
    assert scores["bystander"] == 1.5
    regraded = {(case.name, "toy") for case in CASES} | {("honest", "toy")}
    assert integrity.check(attacked_class["db"], attacked_class["before"], regraded) == []


def hidden_lines(course) -> list[str]:
    """The substantial lines of the assignment's hidden tests (its judges file)."""
    judges = (course / "solutions" / "toy" / "grader_only" / "judges.py").read_text()
    return [line.strip() for line in judges.splitlines() if len(line.strip()) > 24 and not line.strip().startswith("#")]


def test_feedback_of_a_history_printer_has_no_hidden_test_line(attacked_class):
    course = attacked_class["course"]
    student = "attack_prints_input_history"
    result = toy_course.nbgrader(course, "generate_feedback", "toy", "--student", student, "--force")
    assert result.returncode == 0, result.stderr[-2000:]
    page = html.unescape((course / "autograder" / "feedback" / student / "toy" / "toy.html").read_text())
    assert "HISTORY" in page, "the attack ran and printed the kernel's input history"
    leaked = [line for line in hidden_lines(course) if line in page]
    assert leaked == []
