"""The teaching side of the notebook: diagrams, the stage table, the "why" questions, the BatchNorm
exercise, the points table, the figures' labels and the degradation experiment."""

import importlib.util
import json
import math
import re
import sys
import tomllib
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

from resnet_course import bn_exercise, figures
from resnet_course.demonstration import demonstration_epochs
from resnet_course.instructor.reference_solution import load_cells, load_reference_solution
from resnet_course.paths import ASSIGNMENTS_DIR, MASTER_NOTEBOOK, REPO_ROOT
from resnet_course.plots import fingers, show_misclassified, show_prediction
from resnet_course.shapes import stage_shapes, trace_shapes

SVG = "{http://www.w3.org/2000/svg}"
QUESTIONS_FILE = REPO_ROOT / "solutions" / "resnets" / "grader_only" / "questions.py"


def master_cells():
    return json.loads(MASTER_NOTEBOOK.read_text())["cells"]


def source(cell) -> str:
    return "".join(cell["source"])


def nbgrader(cell) -> dict:
    return cell["metadata"].get("nbgrader", {})


@pytest.fixture(scope="module")
def questions():
    """solutions/resnets/grader_only/questions.py, loaded by path as the grader loads it."""
    spec = importlib.util.spec_from_file_location("course_questions", QUESTIONS_FILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference():
    return load_reference_solution()


# --- diagrams -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", figures.FIGURES)
def test_each_figure_loads_and_parses_as_svg_at_notebook_width(name):
    root = ElementTree.fromstring(figures.svg_text(name))
    assert root.tag == f"{SVG}svg"
    assert int(root.get("width")) <= 640
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert re.search(r"\(\d+, \d+, \d+\)", texts), "the figure shows tensor shapes"


def test_figures_show_the_shapes_of_resnet50():
    texts = {name: "".join(ElementTree.fromstring(figures.svg_text(name)).itertext()) for name in figures.FIGURES}
    assert "(15, 15, 256)" in texts["identity_block"] and "F3 = 256" in texts["identity_block"]
    assert "(8, 8, 512)" in texts["convolutional_block"] and "stride s" in texts["convolutional_block"]
    for shape in ("(15, 15, 64)", "(15, 15, 256)", "(8, 8, 512)", "(4, 4, 1024)", "(2, 2, 2048)", "(6,)"):
        assert shape in texts["resnet50_stages"]


def _path_end(d: str) -> tuple[float, float]:
    """End point of an SVG path made of M, H and V commands."""
    x = y = 0.0
    for command, value in re.findall(r"([MHV])\s*([-0-9.,]+)", d):
        if command == "M":
            x, y = (float(v) for v in value.split(","))
        elif command == "H":
            x = float(value)
        else:
            y = float(value)
    return x, y


@pytest.mark.parametrize("name", ["identity_block", "convolutional_block"])
def test_the_shortcut_joins_the_main_path_at_the_addition(name):
    root = ElementTree.fromstring(figures.svg_text(name))
    (circle,) = root.iter(f"{SVG}circle")
    centre, radius = (float(circle.get("cx")), float(circle.get("cy"))), float(circle.get("r"))
    shortcut_ends = [_path_end(p.get("d")) for p in root.iter(f"{SVG}path") if p.get("class") == "shortcut"]
    x, y = shortcut_ends[-1]
    assert math.dist((x, y), centre) <= radius + 3


def test_show_displays_an_svg_and_unknown_names_are_refused():
    assert figures.show("identity_block").data.lstrip().startswith("<svg")
    with pytest.raises(ValueError, match="resnet50_stages"):
        figures.svg_text("bottleneck")


def test_the_package_ships_the_svg_files():
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert "*.svg" in config["tool"]["setuptools"]["package-data"]["resnet_course.figures"]


# --- the stage table ------------------------------------------------------------------------------------------


def notebook_stage_table() -> list[tuple[str, tuple]]:
    """(stage, output shape) of each row of the master notebook's markdown stage table."""
    rows = []
    for cell in master_cells():
        if cell["cell_type"] != "markdown" or "| stage | layers | output shape |" not in source(cell):
            continue
        for line in source(cell).splitlines():
            match = re.fullmatch(r"\|\s*(\w+)\s*\|.*\|\s*\(([\d, ]+)\)\s*\|", line.strip())
            if match:
                rows.append((match.group(1), tuple(int(d) for d in match.group(2).split(",") if d.strip())))
    return rows


def test_trace_shapes_matches_the_notebooks_stage_table(reference, capsys):
    table = notebook_stage_table()
    assert [name for name, _ in table] == ["1", "2", "3", "4", "5", "head"]
    stages = trace_shapes(reference["ResNet50"])
    assert [(s.name, s.output_shape) for s in stages] == table
    assert [s.blocks.count("identity") for s in stages[1:5]] == [2, 3, 5, 2]
    printed = capsys.readouterr().out
    assert "Total params: 23,600,006" in printed and "Non-trainable params: 53,120" in printed
    for name, shape in table:
        assert re.search(rf"^{name}\s.*{re.escape(str(shape))}$", printed, re.MULTILINE)


def test_trace_shapes_shows_a_wrong_stride_in_its_stage():
    source_text = [source(c) for c in master_cells() if nbgrader(c).get("grade_id") == "ResNet50"][0]
    namespace = load_cells(MASTER_NOTEBOOK, ("imports", "identity_block", "convolutional_block"))
    exec(source_text.replace("([128, 128, 512], 2, 3)", "([128, 128, 512], 1, 3)"), namespace)
    stages = stage_shapes(namespace["ResNet50"]())
    assert [s.output_shape for s in stages[1:3]] == [(15, 15, 256), (15, 15, 512)]


# --- the "why" questions --------------------------------------------------------------------------------------


def test_every_question_passes_its_reference_and_fails_each_typical_wrong_answer(questions):
    assert set(questions.QUESTIONS) == {"why_bottleneck", "why_momentum", "why_bn_mode", "why_stride"}
    for name, question in questions.QUESTIONS.items():
        assert question.check(question.reference) is None, name
        assert question.typical_wrong, name
        for wrong in question.typical_wrong:
            message = question.check(wrong)
            assert isinstance(message, str) and message, (name, wrong)
            if isinstance(question.reference, float):
                assert f"{question.reference:.2f}" not in message, "a message must not give the answer away"


def test_answers_are_parsed_tolerantly(questions):
    q = questions.QUESTIONS
    assert q["why_bottleneck"].check("16.9") is None and q["why_bottleneck"].check(17) is None
    assert q["why_stride"].check("1/4") is None and q["why_stride"].check("25%") is None
    assert q["why_momentum"].check("3.3 %") is None and q["why_momentum"].check(0.0328) is None
    assert q["why_bn_mode"].check("  Training ") is None and q["why_bn_mode"].check("batch statistics") is None
    for value in (None, True, float("nan"), [0.25], "a quarter"):
        assert q["why_stride"].check(value)


def test_the_masters_answer_cells_hold_right_answers(questions):
    for cell in master_cells():
        name = nbgrader(cell).get("grade_id", "")
        if name in questions.QUESTIONS:
            namespace = {}
            exec(source(cell), namespace)
            assert questions.QUESTIONS[name].check(namespace[name]) is None, name


def test_each_question_has_an_answer_cell_and_a_one_line_graded_cell_with_its_points(questions):
    cells = {nbgrader(c).get("grade_id"): c for c in master_cells() if nbgrader(c)}
    for number, name in enumerate(("why_bottleneck", "why_stride", "why_bn_mode", "why_momentum"), start=1):
        assert nbgrader(cells[name])["solution"] is True
        assert f"{name} = None" in source(cells[name]).split("### BEGIN SOLUTION")[0]
        test = cells[f"test_{name}"]
        assert nbgrader(test)["grade"] is True and nbgrader(test)["points"] == questions.QUESTIONS[name].points
        assert source(test) == (
            f'"""Graded by the course\'s grader, outside your notebook: question {number}."""\n'
            "from resnet_course.evidence import submit_answer\n\n"
            f'submit_answer("{name}", {name})'
        )


def test_a_question_cell_shows_one_line_outside_grading_and_hands_over_the_answer_while_grading(
    tmp_path, monkeypatch, capsys
):
    from resnet_course import evidence

    sent = []
    monkeypatch.setattr(evidence, "_send", lambda key, payload: sent.append((key, payload)))
    monkeypatch.chdir(tmp_path)
    evidence.submit_answer("why_stride", 0.25)
    assert capsys.readouterr().out == evidence.NOT_GRADING + "\n" and sent == []
    with pytest.raises(TypeError, match="must be a number, a string or a list"):
        evidence.submit_answer("why_stride", object())
    (tmp_path / evidence.CHALLENGE_FILE).write_text('{"why_stride": true}')
    evidence.submit_answer("why_stride", 0.25)
    assert capsys.readouterr().out == "" and sent == [("why_stride", {"value": 0.25})]


# --- the BatchNorm recompute ----------------------------------------------------------------------------------


def notebook_recompute():
    namespace = {}
    for name in ("imports", "recompute_batchnorm"):
        exec([source(c) for c in master_cells() if nbgrader(c).get("grade_id") == name][0], namespace)
    return namespace["recompute_batchnorm"]


def test_the_reference_recompute_passes_the_judge_and_the_self_check(questions, capsys):
    function = notebook_recompute()
    for seed in (0, 3, 12345):
        assert questions.judge_recompute(bn_exercise.run_on_challenge(function, seed), seed) is None
    bn_exercise.check_recompute_batchnorm(function)
    assert "inference mode now matches training mode" in capsys.readouterr().out


def _one_training_call(model, X):
    model(X, training=True)


def _momentum_left_at_zero(model, X):
    for layer in model.layers:
        if hasattr(layer, "moving_mean"):
            layer.momentum = 0.0
    model(X, training=True)


def _not_written(model, X):
    raise NotImplementedError()


@pytest.mark.parametrize(
    "function, words",
    [
        (_one_training_call, "not those of its inputs"),
        (_momentum_left_at_zero, "momentum 0.0 afterwards"),
        (lambda model, X: None, "unchanged"),
        (_not_written, "raised NotImplementedError"),
    ],
)
def test_typical_mistakes_fail_the_judge_and_the_self_check(questions, function, words):
    assert words in questions.judge_recompute(bn_exercise.run_on_challenge(function, 5), 5)
    with pytest.raises(AssertionError, match=words.split()[0]):
        bn_exercise.check_recompute_batchnorm(function)


def test_the_judge_refuses_evidence_for_another_seed_or_forged_shapes(questions):
    evidence = bn_exercise.run_on_challenge(notebook_recompute(), 1)
    assert questions.judge_recompute(evidence, 2)
    evidence["layers"][1]["moving_mean"] = evidence["layers"][1]["moving_mean"][:2]
    assert "wrong length" in questions.judge_recompute(evidence, 1)
    assert questions.judge_recompute("not a dict", 1)


def test_the_recompute_graded_cell_is_one_quiet_line():
    (cell,) = [c for c in master_cells() if nbgrader(c).get("grade_id") == "test_recompute_batchnorm"]
    assert nbgrader(cell)["points"] == 2
    assert source(cell) == (
        '"""Graded by the course\'s grader, outside your notebook: your BatchNorm recompute."""\n'
        "from resnet_course.evidence import submit_recompute\n\n"
        'submit_recompute("recompute_batchnorm", recompute_batchnorm)'
    )


# --- what the student sees ------------------------------------------------------------------------------------


def test_the_introductions_points_table_matches_the_graded_cells():
    cells = master_cells()
    intro = next(source(c) for c in cells if source(c).startswith("# Residual Networks"))
    table = dict(re.findall(r"^\| (.+?) \|.*\| \**(\d+)\** \|$", intro, re.MULTILINE))
    points = {nbgrader(c)["grade_id"]: nbgrader(c)["points"] for c in cells if nbgrader(c).get("grade")}
    prefixes = {
        "Exercise 1, `identity_block` (section 2)": "test_identity_block",
        "Exercise 2, `convolutional_block` (section 3)": "test_convolutional_block",
        "Exercise 3, `ResNet50` (section 4)": "test_ResNet50",
        "Training (section 6)": "test_training_accuracy",
        "Exercise 4, `recompute_batchnorm` (section 6)": "test_recompute_batchnorm",
        "Questions 1 to 4 (sections 2, 3 and 6)": "test_why_",
    }
    for row, prefix in prefixes.items():
        assert int(table[row]) == sum(p for gid, p in points.items() if gid.startswith(prefix)), row
    assert int(table["**total**"]) == sum(points.values())


def test_the_student_version_has_no_maintainer_notes_and_no_judge():
    student = json.loads((ASSIGNMENTS_DIR / "resnets" / "resnets.ipynb").read_text())
    text = "".join(source(c) for c in student["cells"])
    assert "Maintainer" not in text and "make assignment" not in text and "autograding()" not in text
    assert not (ASSIGNMENTS_DIR / "resnets" / "questions.py").exists()
    assert student["metadata"]["resnet_course"]["generated_from"] == "solutions/resnets/resnets.ipynb"
    assert any("master-only" in c["metadata"].get("tags", []) for c in master_cells())


def test_the_demonstrations_train_for_zero_epochs_only_while_grading(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert demonstration_epochs(5) == 5
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert demonstration_epochs(5) == 0


def test_labels_say_one_finger_and_the_misclassified_count_is_honest():
    assert [fingers(n) for n in (0, 1, 2)] == ["0 fingers", "1 finger", "2 fingers"]
    fig = show_prediction(np.zeros((64, 64, 3)), np.eye(6)[1])
    assert fig.axes[1].get_title() == "prediction: 1 finger"
    y_true = np.zeros(20, dtype=int)
    probabilities = np.tile(np.eye(6)[3], (20, 1))
    probabilities[:5] = np.eye(6)[0]
    fig = show_misclassified(np.zeros((20, 8, 8, 3)), y_true, probabilities)
    assert fig._suptitle.get_text() == "15 of 20 test images misclassified (the first 12 shown)"
    assert sum(1 for ax in fig.axes if ax.images) == 12


# --- the degradation experiment -------------------------------------------------------------------------------


def test_zero_epochs_run_and_draw_nothing():
    from resnet_course.degradation import run_degradation_experiment, summary_lines
    from resnet_course.plots import plot_degradation

    runs = run_degradation_experiment(np.zeros((4, 8, 8, 3)), np.eye(6)[:4], epochs=0)
    assert runs == {} and summary_lines(runs) == [] and plot_degradation(runs) is None


def test_the_two_networks_differ_only_in_the_shortcuts():
    from resnet_course.degradation import degradation_network

    plain, residual = degradation_network(False, depth=6), degradation_network(True, depth=6)
    kinds = lambda model: [type(layer).__name__ for layer in model.layers]  # noqa: E731
    assert [k for k in kinds(residual) if k != "Add"] == kinds(plain)
    assert kinds(residual).count("Add") == 3 and kinds(plain).count("BatchNormalization") == 7
    assert plain.count_params() == residual.count_params()


@pytest.mark.slow
def test_the_residual_network_ends_with_the_lower_training_loss():
    """The notebook's run (seed 0), about a minute on 2 cores."""
    from resnet_course.data import load_signs, model_inputs
    from resnet_course.degradation import run_degradation_experiment, summary_lines

    x, y, _, _ = model_inputs(load_signs())
    runs = run_degradation_experiment(x[::2, ::4, ::4], y[::2], seed=0)
    assert runs["residual"].losses[-1] < runs["plain"].losses[-1]
    assert len(runs["plain"].gradient_norms) == 30
    assert any(line.startswith("  loss ratio = plain / residual") for line in summary_lines(runs))
