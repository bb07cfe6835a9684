"""Scoring attacks on the real resnets notebook, on both grading paths: the course's grader and plain
``nbgrader autograde`` through the course's ``nbgrader_config.py``, both with trusted verdicts.

Three students hand in the same wrong solution as ``no_final_relu`` (the identity block
misses its final ReLU) plus an attack: a forged display of a pass and of evidence, an
IPython hook that clears every error, and a print of the kernel's input history. Each
must score exactly what ``no_final_relu`` scores, and the history printer's feedback
must hold no line of the hidden tests (the judges). Three more hand in the reference with
what earns nothing: a ResNet50 that ignores its ``input_shape`` (it loses the other-input
cell), a ``keras.applications`` model at another size (every ResNet50 cell), and the
course's own BatchNorm recompute imported in place of their own (the recompute cell: it
cannot be imported in the sandbox). The training test is skipped
(``RESNET_COURSE_TRAINING_TEST=skip``): the scores compared exclude its 5 points. Plain nbgrader
grades one submission at a time, so it gets the reference, one of the older attacks and the three
of what a student did not write.
"""

import html
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures import toy_course
from fixtures.hidden_tests import graded_cells

from resnet_course.grader.jobs.autograde import autograde, settings_for
from resnet_course.grader.pipeline.nbgrader_steps import generate_assignment, generate_feedback
from resnet_course.instructor.demo import demo_course
from resnet_course.instructor.sample_class import SAMPLE_CLASS, write_sample_class
from resnet_course.paths import REPO_ROOT, SOLUTIONS_DIR
from resnet_course.sandbox.limits import SandboxLimits

pytestmark = [pytest.mark.requires_tool("bwrap"), pytest.mark.slow]

ATTACKS = {
    "attack_forged_display": (
        "from IPython.display import display\n"
        "from resnet_course import evidence\n"
        "_real = identity_block\n"
        "def identity_block(*args, **kwargs):\n"
        "    display({'text/plain': 'Graded outside your notebook: passed.'}, raw=True)\n"
        "    return _real(*args, **kwargs)\n"
        "evidence._send('identity_block_values', {'cases': []})\n"
    ),
    "attack_ipython_hook": (
        "ip = get_ipython()\n"
        "def _succeed(result):\n    result.error_in_exec = None\n"
        "ip.events.register('post_run_cell', _succeed)\n"
        "ip.showtraceback = lambda *a, **k: None\n"
    ),
    "attack_prints_history": (
        "ip = get_ipython()\n"
        "ip.events.register('post_run_cell', lambda result: print('HISTORY', repr(ip.user_ns.get('In'))))\n"
    ),
}


def _points(prefixes: tuple[str, ...]) -> float:
    return sum(points for grade_id, points in graded_cells().items() if grade_id.startswith(prefixes))


#: Every cell the judges decide from a model the kernel handed over (both blocks and ResNet50).
MODEL_CELL_POINTS = _points(("test_identity_block", "test_convolutional_block", "test_ResNet50"))

#: Evidence aimed at the judges themselves: every model the kernel hands over is replaced by a configuration
#: (``keras.Model.to_json`` is the student's to redefine) that makes the judges' verdict text 1.5 MB long, or
#: whose one Dense layer holds 16384 x 262144 weights (17 GB, past any judges' memory limit).
OVERSIZED_VERDICT = (
    "import json\n"
    "import keras\n"
    "_layer = {'module': 'x' * 1_500_000, 'class_name': 'Dense', 'config': {}}\n"
    "_forged = json.dumps({'class_name': 'Functional', 'config': {'layers': [_layer]}})\n"
    "keras.Model.to_json = lambda self, **kwargs: _forged\n"
)
JUDGES_OUT_OF_MEMORY = (
    "import json\n"
    "import keras\n"
    "_inputs = keras.Input((16384,))\n"
    "_config = json.loads(keras.Model(_inputs, keras.layers.Dense(8)(_inputs)).to_json())\n"
    "_config['config']['layers'][1]['config']['units'] = 262144\n"
    "_forged = json.dumps(_config)\n"
    "keras.Model.to_json = lambda self, **kwargs: _forged\n"
)

#: Attacks on the reference: (the cell they follow, their code, the points the answer deserves to lose).
REFERENCE_ATTACKS = {
    "attack_hard_coded_input_shape": (
        "ResNet50",
        "_course_ResNet50 = ResNet50\n"
        "def ResNet50(input_shape=(64, 64, 3), classes=6):\n"
        "    return _course_ResNet50((64, 64, 3), classes)\n",
        1,  # the other-input cell
    ),
    "attack_borrowed_model": (
        "ResNet50",
        "def ResNet50(input_shape=(64, 64, 3), classes=6):\n"
        "    return keras.applications.ResNet50(weights=None, input_shape=(60, 60, 3), classes=classes)\n",
        5,  # every ResNet50 cell: self-check, counts, stage shapes, other input
    ),
    "attack_imported_solution": (
        "recompute_batchnorm",
        "del recompute_batchnorm\n"
        "from resnet_course.instructor.batchnorm_statistics import (\n"
        "    recompute_batchnorm_statistics as recompute_batchnorm,\n"
        ")\n",
        2,  # the recompute cell
    ),
    # The judges fail on this student's evidence: every model cell is lost, the run goes on (issue: derail).
    "attack_oversized_verdict": ("identity_block", OVERSIZED_VERDICT, MODEL_CELL_POINTS),
    "attack_judges_out_of_memory": ("identity_block", JUDGES_OUT_OF_MEMORY, MODEL_CELL_POINTS),
}


def _insert_attack(path, code: str, after: str = "identity_block") -> None:
    notebook = json.loads(path.read_text())
    index = next(
        i
        for i, cell in enumerate(notebook["cells"])
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == after
    )
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "id": "attack0",
        "metadata": {},
        "outputs": [],
        "source": code,
    }
    notebook["cells"].insert(index + 1, cell)
    path.write_text(json.dumps(notebook, indent=1))


def write_attack_class(submitted: Path, attacks=tuple(ATTACKS), reference_attacks=tuple(REFERENCE_ATTACKS)) -> None:
    """The reference, no_final_relu and each named attack, in nbgrader's ``submitted/<student>/resnets/``."""
    students = [s for s in SAMPLE_CLASS if s.student_id in ("reference", "no_final_relu")]
    write_sample_class(submitted, students)
    wrong = submitted / "no_final_relu" / "resnets" / "resnets.ipynb"
    for name in attacks:
        target = submitted / name / "resnets"
        target.mkdir(parents=True)
        (target / "resnets.ipynb").write_text(wrong.read_text())
        _insert_attack(target / "resnets.ipynb", ATTACKS[name])
    right = submitted / "reference" / "resnets" / "resnets.ipynb"
    for name in reference_attacks:
        after, code, _ = REFERENCE_ATTACKS[name]
        target = submitted / name / "resnets"
        target.mkdir(parents=True)
        (target / "resnets.ipynb").write_text(right.read_text())
        _insert_attack(target / "resnets.ipynb", code, after)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import os

    root = tmp_path_factory.mktemp("resnets-attacks")
    course = demo_course(root)
    generate_assignment(course, "resnets")
    write_attack_class(root / "submitted")
    previous = os.environ.get("RESNET_COURSE_TRAINING_TEST")
    os.environ["RESNET_COURSE_TRAINING_TEST"] = "skip"
    try:
        reports = autograde(course, "resnets", settings_for(course, SandboxLimits.from_env()), workers=2)
    finally:
        if previous is None:
            os.environ.pop("RESNET_COURSE_TRAINING_TEST")
        else:
            os.environ["RESNET_COURSE_TRAINING_TEST"] = previous
    from nbgrader.api import Gradebook

    with Gradebook(course.coursedir.db_url) as gradebook:
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions("resnets")}
    return {"course": course, "root": root, "reports": reports, "scores": scores}


#: What the identity block's self-check cell tells each student whose evidence the judges could not weigh.
JUDGES_FAILURE_REASONS = {
    "attack_oversized_verdict": "only Keras' own layers can be graded",
    "attack_judges_out_of_memory": "ran out of the grader's memory (the judges' memory limit)",
}


def assert_judges_failure_reasons(autograded: Path) -> None:
    """Each such student's graded notebook names the cause in the cell, and quotes no more than a bounded verdict."""
    for student, reason in JUDGES_FAILURE_REASONS.items():
        notebook = json.loads((autograded / student / "resnets" / "resnets.ipynb").read_text())
        (cell,) = [
            c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "test_identity_block"
        ]
        assert reason in json.dumps(cell["outputs"]), (student, cell["outputs"])
        outputs = json.dumps([c.get("outputs", []) for c in notebook["cells"] if c["cell_type"] == "code"])
        assert len(outputs) < 200_000, (student, len(outputs))


def _points_without_training() -> float:
    return sum(points for grade_id, points in graded_cells().items() if grade_id != "test_training_accuracy")


def test_reference_and_wrong_solution_score_as_the_judges_decide(graded):
    scores = graded["scores"]
    assert scores["reference"] == _points_without_training(), graded["reports"]
    # Only the identity block's self-check and hidden values (2 + 2 points) are lost: ResNet50 is
    # judged around the student's own blocks, so the block's mistake costs ResNet50 nothing.
    assert scores["no_final_relu"] == scores["reference"] - 4


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_attack_earns_what_the_same_answers_earn_without_it(graded, attack):
    assert graded["scores"][attack] == graded["scores"]["no_final_relu"], graded["reports"][attack]


@pytest.mark.parametrize("attack", sorted(REFERENCE_ATTACKS))
def test_what_a_student_did_not_write_earns_nothing(graded, attack):
    lost = REFERENCE_ATTACKS[attack][2]
    assert graded["scores"][attack] == graded["scores"]["reference"] - lost, graded["reports"][attack]


def test_judges_failing_on_a_students_evidence_say_why_in_that_students_cell(graded):
    assert_judges_failure_reasons(graded["root"] / "autograded")
    assert {graded["reports"][student].status for student in JUDGES_FAILURE_REASONS} == {"graded"}


def test_feedback_of_the_history_printer_has_no_hidden_test_line(graded):
    course = graded["course"]
    generate_feedback(course, "resnets")
    page = (graded["root"] / "feedback" / "attack_prints_history" / "resnets" / "resnets.html").read_text()
    page = html.unescape(page)
    assert "HISTORY" in page
    judges = (SOLUTIONS_DIR / "resnets" / "grader_only" / "judges.py").read_text().splitlines()
    # Import lines are shared with the notebook itself; every other substantial line is the judges' own.
    skipped = ("#", '"""', "from ", "import ")
    hidden = [line.strip() for line in judges if len(line.strip()) > 24 and not line.strip().startswith(skipped)]
    assert [line for line in hidden if line in page] == []


#: The plain path grades one submission at a time: the reference, one older attack and the three classes
#: of what a student did not write (a hard-coded argument, a borrowed model, an imported solution).
PLAIN_ATTACKS = ("attack_forged_display",)
PLAIN_REFERENCE_ATTACKS = tuple(REFERENCE_ATTACKS)


@pytest.fixture(scope="module")
def graded_plain(tmp_path_factory):
    """``nbgrader autograde resnets`` in a course folder set up as the README's: nbgrader_config.py and solutions/."""
    from nbgrader.api import Gradebook

    root = tmp_path_factory.mktemp("resnets-attacks-plain") / "course"
    root.mkdir()
    shutil.copy(REPO_ROOT / "nbgrader_config.py", root)
    (root / "solutions").mkdir()
    shutil.copy(SOLUTIONS_DIR / "header.ipynb", root / "solutions")
    shutil.copytree(SOLUTIONS_DIR / "resnets", root / "solutions" / "resnets")
    submitted = root / "autograder" / "submitted"
    write_attack_class(submitted, PLAIN_ATTACKS, PLAIN_REFERENCE_ATTACKS)
    shutil.rmtree(submitted / "no_final_relu")  # its score is reference - 4 on the grader's path (above)
    environment = toy_course.environment({"RESNET_COURSE_TRAINING_TEST": "skip"})
    for arguments in (["generate_assignment", "resnets", "--force"], ["autograde", "resnets"]):
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", *arguments],
            cwd=root,
            env=environment,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    with Gradebook(f"sqlite:///{root / 'autograder' / 'gradebook.db'}") as gradebook:
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions("resnets")}
    return {"scores": scores, "stderr": result.stderr, "autograded": root / "autograder" / "autograded"}


def test_plain_path_gives_the_reference_its_points(graded_plain):
    assert graded_plain["scores"]["reference"] == _points_without_training(), graded_plain["stderr"][-3000:]


@pytest.mark.parametrize("attack", PLAIN_ATTACKS)
def test_plain_path_an_attack_earns_what_the_same_answers_earn_without_it(graded_plain, attack):
    scores = graded_plain["scores"]
    assert scores[attack] == scores["reference"] - 4, graded_plain["stderr"][-3000:]  # no_final_relu's score


@pytest.mark.parametrize("attack", PLAIN_REFERENCE_ATTACKS)
def test_plain_path_what_a_student_did_not_write_earns_nothing(graded_plain, attack):
    scores = graded_plain["scores"]
    assert scores[attack] == scores["reference"] - REFERENCE_ATTACKS[attack][2], graded_plain["stderr"][-3000:]


def test_plain_path_judges_failing_on_a_students_evidence_say_why_in_that_students_cell(graded_plain):
    assert_judges_failure_reasons(graded_plain["autograded"])
