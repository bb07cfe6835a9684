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
    """(stage, output shape) of each stage of the notebook's one stage view, the resnet50_stages figure."""
    texts = [
        "".join(t.itertext()) for t in ElementTree.fromstring(figures.svg_text("resnet50_stages")).iter(f"{SVG}text")
    ]
    rows, stage = [], None
    for text in texts:
        named = re.match(r"(?:Stage (\d)|(Head))\b", text)
        shape = re.fullmatch(r"\(([\d, ]+)\)", text.strip())
        if named:
            stage = named.group(1) or "head"
        elif shape and stage:
            rows.append((stage, tuple(int(d) for d in shape.group(1).split(",") if d.strip())))
            stage = None
    return rows


def test_the_notebook_shows_the_stages_once_as_a_figure():
    text = "".join(source(c) for c in master_cells() if c["cell_type"] == "markdown")
    assert "| stage |" not in text, "one stage view: the figure, not a table beside it"
    assert any(source(c).strip() == 'show("resnet50_stages");' for c in master_cells())


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


#: Each question's graded cell, in notebook order: its number and the form the student's session checks.
QUESTION_FORMS = {
    "why_degradation": (1, ("a", "b", "c", "d")),
    "why_bottleneck": (2, "a number"),
    "why_stride": (3, "a fraction"),
    "why_bn_mode": (4, ("training", "inference")),
    "why_momentum": (5, "a fraction"),
}


def test_every_question_passes_its_reference_and_fails_each_typical_wrong_answer(questions):
    assert set(questions.QUESTIONS) == set(QUESTION_FORMS)
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
    assert q["why_stride"].check("1/9") is None and q["why_stride"].check("11.1%") is None
    assert q["why_momentum"].check("3.3 %") is None and q["why_momentum"].check(0.0328) is None
    assert q["why_bn_mode"].check("  Training ") is None and q["why_bn_mode"].check("batch statistics") is None
    assert q["why_degradation"].check("B") is None and q["why_degradation"].check("(b)") is None
    for value in (None, True, float("nan"), [0.25], "a quarter"):
        assert q["why_stride"].check(value)


def test_the_masters_answer_cells_hold_right_answers(questions):
    for cell in master_cells():
        name = nbgrader(cell).get("grade_id", "")
        if name in questions.QUESTIONS:
            namespace = {}
            exec(source(cell), namespace)
            assert questions.QUESTIONS[name].check(namespace[name]) is None, name


def test_no_question_is_answered_by_a_later_cell(questions):
    """No later cell prints or states an answer: the right choice's words, or the number itself."""
    cells = master_cells()
    for name, question in questions.QUESTIONS.items():
        (index,) = [i for i, c in enumerate(cells) if nbgrader(c).get("grade_id") == name]
        later = "".join(source(c) for c in cells[index + 1 :] if "master-only" not in c["metadata"].get("tags", []))
        if isinstance(question.reference, float):
            assert f"{question.reference:.2f}" not in later and f"{question.reference:.3f}" not in later, name


def test_each_question_has_an_answer_cell_and_a_graded_cell_that_checks_its_form_only(questions):
    cells = {nbgrader(c).get("grade_id"): c for c in master_cells() if nbgrader(c)}
    markdown = "".join(source(c) for c in master_cells() if c["cell_type"] == "markdown")
    for name, (number, form) in QUESTION_FORMS.items():
        assert f"**Question {number}" in markdown and f"`{name}`" in markdown, name
        assert nbgrader(cells[name])["solution"] is True
        assert f"{name} = None" in source(cells[name]).split("### BEGIN SOLUTION")[0]
        test = cells[f"test_{name}"]
        assert nbgrader(test)["grade"] is True and nbgrader(test)["points"] == questions.QUESTIONS[name].points
        assert source(test) == (
            "### BEGIN HIDDEN TESTS\n"
            "from resnet_course.evidence import submit_answer\n\n"
            f'submit_answer("{name}", {name})\n'
            "### END HIDDEN TESTS\n"
            f'checks.check_answer("{name}", {name}, {form!r})'.replace("'", '"')
        )


def test_the_form_check_says_the_same_for_a_right_and_a_wrong_answer_of_the_asked_form(questions, capsys):
    from resnet_course.answers import AnswerFormError, check_answer

    for name, (_, form) in QUESTION_FORMS.items():
        question = questions.QUESTIONS[name]
        check_answer(name, question.reference, form)
        right = capsys.readouterr().out
        assert right.count("\n") == 1 and right.startswith(f"{name}: ") and "right" not in right, right
        for wrong in question.typical_wrong:
            try:
                check_answer(name, wrong, form)
            except AnswerFormError as error:  # refused for its form: the judge refuses it too
                assert question.check(wrong), (name, wrong)
                assert error._render_traceback_() == [f"AnswerFormError: {error}"]
                continue
            assert capsys.readouterr().out == right, "the line must not tell a right answer from a wrong one"
        with pytest.raises(AnswerFormError, match=f"{name} is still None"):
            check_answer(name, None, form)


def test_every_answer_the_judges_accept_passes_the_form_check(questions, capsys):
    from resnet_course.answers import check_answer

    accepted = {
        "why_degradation": ["b", " B", "(b)", "b."],
        "why_bottleneck": ["16.9", 17, "17x"],
        "why_stride": ["1/9", "11.1%", 0.1111],
        "why_bn_mode": ["training", "Training mode", "batch statistics", "training=True"],
        "why_momentum": ["3.3 %", 0.0328, 0.99**340],
    }
    for name, answers in accepted.items():
        for answer in answers:
            assert questions.QUESTIONS[name].check(answer) is None, (name, answer)
            check_answer(name, answer, QUESTION_FORMS[name][1])
    capsys.readouterr()


def test_an_evidence_request_does_nothing_outside_grading_and_hands_over_the_answer_while_grading(
    tmp_path, monkeypatch, capsys
):
    from resnet_course import evidence

    sent = []
    monkeypatch.setattr(evidence, "_send", lambda key, payload: sent.append((key, payload)))
    monkeypatch.chdir(tmp_path)
    evidence.submit_answer("why_stride", 0.25)
    evidence.submit_answer("why_stride", None)
    evidence.submit_block("identity_block_shapes", lambda *args, **kwargs: 1 / 0)
    evidence.submit_resnet50("resnet50_counts", lambda **kwargs: 1 / 0, None, None)
    evidence.submit_recompute("recompute_batchnorm", lambda model, X: 1 / 0)
    assert capsys.readouterr() == ("", "") and sent == []
    (tmp_path / evidence.CHALLENGE_FILE).write_text('{"why_stride": true}')
    evidence.submit_answer("why_stride", 0.25)
    assert capsys.readouterr().out == "" and sent == [("why_stride", {"value": 0.25})]
    with pytest.raises(TypeError, match="must be a number, a string or a list"):
        evidence.submit_answer("why_stride", object())


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
    from resnet_course import demonstration

    assert words in questions.judge_recompute(bn_exercise.run_on_challenge(function, 5), 5)
    with pytest.raises(AssertionError, match=words.split()[0]) as caught:
        bn_exercise.check_recompute_batchnorm(function)
    assert caught.value._render_traceback_()[0].startswith("SelfCheckError: recompute_batchnorm"), "one message"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("builtins.print", lambda *args: None)
        assert not demonstration.ready(object(), function), "the repair after a failed self-check is skipped"


def test_the_judge_refuses_evidence_for_another_seed_or_forged_shapes(questions):
    evidence = bn_exercise.run_on_challenge(notebook_recompute(), 1)
    assert questions.judge_recompute(evidence, 2)
    evidence["layers"][1]["moving_mean"] = evidence["layers"][1]["moving_mean"][:2]
    assert "wrong length" in questions.judge_recompute(evidence, 1)
    assert questions.judge_recompute("not a dict", 1)


def test_the_recompute_graded_cell_shows_one_comment_and_hides_its_evidence_request():
    (cell,) = [c for c in master_cells() if nbgrader(c).get("grade_id") == "test_recompute_batchnorm"]
    assert nbgrader(cell)["points"] == 2
    assert source(cell) == (
        "# Graded outside your notebook: recompute_batchnorm on another small model and data.\n"
        "### BEGIN HIDDEN TESTS\n"
        "from resnet_course.evidence import submit_recompute\n\n"
        'submit_recompute("recompute_batchnorm", recompute_batchnorm)\n'
        "### END HIDDEN TESTS"
    )


def test_the_repair_demonstration_runs_the_students_own_recompute():
    (cell,) = [c for c in master_cells() if "recompute_batchnorm(model, X_train" in source(c)]
    assert "demonstration" in cell["metadata"].get("tags", [])
    assert "ready(model, recompute_batchnorm)" in source(cell)
    everything = "".join(source(c) for c in master_cells())
    assert "recompute_batchnorm_statistics" not in everything and "tqdm" not in everything


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
        "Questions 1 to 5 (sections 1, 2, 3 and 6)": "test_why_",
    }
    for row, prefix in prefixes.items():
        assert int(table[row]) == sum(p for gid, p in points.items() if gid.startswith(prefix)), row
    assert int(table["**total**"]) == sum(points.values())


def student_cells() -> list:
    return json.loads((ASSIGNMENTS_DIR / "resnets" / "resnets.ipynb").read_text())["cells"]


def test_the_student_version_has_no_maintainer_notes_and_no_judge():
    student = json.loads((ASSIGNMENTS_DIR / "resnets" / "resnets.ipynb").read_text())
    text = "".join(source(c) for c in student["cells"])
    assert "Maintainer" not in text and "make assignment" not in text and "autograding()" not in text
    assert not (ASSIGNMENTS_DIR / "resnets" / "questions.py").exists()
    assert student["metadata"]["resnet_course"]["generated_from"] == "solutions/resnets/resnets.ipynb"
    assert any("master-only" in c["metadata"].get("tags", []) for c in master_cells())


def test_grading_stays_out_of_the_students_sight():
    """No evidence request, no grading-time comment; one import cell; at most one short line per graded cell."""
    cells = student_cells()
    text = "".join(source(c) for c in cells)
    for machinery in ("submit_", "resnet_course.evidence", "HIDDEN TESTS", "Graded by the course's grader"):
        assert machinery not in text, machinery
    for comment in ("while your notebook is graded", "0 while", "the grader decides", "make data"):
        assert comment not in text, comment
    code = [c for c in cells if c["cell_type"] == "code"]
    assert sum("resnet_course" in source(c) for c in code) == 1, "the set-up cell imports everything"
    for cell in code:
        if nbgrader(cell).get("grade") and not nbgrader(cell).get("solution"):
            lines = source(cell).strip().splitlines()
            assert len(lines) == 1 and len(lines[0]) <= 110, source(cell)


def test_the_notebook_is_at_least_15_percent_shorter_than_round_2():
    """Round 2's student version had 3,443 words of markdown; round 3 asked for 15 to 20% less."""
    words = sum(len(source(c).split()) for c in student_cells() if c["cell_type"] == "markdown")
    assert words <= 0.85 * 3443, words


def test_a_model_that_does_not_build_gets_one_skip_line_in_every_later_cell(capsys):
    from resnet_course import checks, demonstration

    def ResNet50(input_shape=(64, 64, 3), classes=6):
        raise ValueError("\x1b[1mComputed output size would be zero or negative\x1b[0m")

    assert trace_shapes(ResNet50) == []
    model = demonstration.demonstration_model(ResNet50, input_shape=(64, 64, 3), classes=6)
    assert model is None and not demonstration.ready(model)
    skipped = "skipped: ResNet50 does not build yet; see the self-check above.\n"
    assert capsys.readouterr() == (skipped * 2, "")

    def identity_block(X, f, filters, training=True, initializer=None):
        raise NotImplementedError()

    with pytest.raises(checks.SelfCheckError):
        checks.check_identity_block(identity_block)
    assert not demonstration.ready(object(), identity_block)
    assert (
        capsys.readouterr().out
        == "skipped: identity_block does not pass its self-check yet; see the self-check above.\n"
    )
    assert demonstration.ready(object(), lambda: None) and capsys.readouterr().out == ""


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


def test_the_deep_networks_differ_only_in_the_shortcuts_and_the_last_gamma_of_each_unit():
    from resnet_course.degradation import degradation_network

    plain, residual = degradation_network(False, depth=6), degradation_network(True, depth=6)
    kinds = lambda model: [type(layer).__name__ for layer in model.layers]  # noqa: E731
    assert [k for k in kinds(residual) if k != "Add"] == kinds(plain)
    assert kinds(residual).count("Add") == 3 and kinds(plain).count("BatchNormalization") == 7
    assert plain.count_params() == residual.count_params()

    def gammas(model):
        return [float(np.max(np.abs(layer.gamma.numpy()))) for layer in model.layers if hasattr(layer, "gamma")]

    assert gammas(plain) == [1.0] * 7
    assert gammas(residual) == [1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0], "each unit's last BatchNorm starts at 0"
    assert gammas(degradation_network(True, depth=6, zero_gamma=False)) == [1.0] * 7


def test_a_residual_network_with_zero_gammas_starts_as_its_stem():
    """Each unit starts as the identity, so every depth computes the same function before training."""
    from resnet_course.degradation import degradation_network

    x = np.random.default_rng(0).random((4, 16, 16, 3)).astype("float32")
    shallow, deep = degradation_network(True, depth=2), degradation_network(True, depth=30)
    deep.layers[-1].set_weights(shallow.layers[-1].get_weights())
    for model in (shallow, deep):  # the same stem kernel, as the seeds give it
        assert model.get_layer("stem").kernel.shape == (3, 3, 3, 16)
    deep.get_layer("stem").kernel.assign(shallow.get_layer("stem").kernel)
    np.testing.assert_allclose(deep(x, training=False), shallow(x, training=False), rtol=1e-5, atol=1e-6)


def test_the_plot_draws_three_loss_curves_with_whole_epochs_and_the_plain_gradients():
    from resnet_course.degradation import DegradationRun
    from resnet_course.plots import plot_degradation

    runs = {
        "shallow plain": DegradationRun("shallow plain", 6, [1.8, 1.5, 1.3], [0.2, 0.1, 0.1]),
        "plain": DegradationRun("plain", 30, [1.8, 1.6, 1.5], [3.0, 1.0, 0.1]),
        "residual": DegradationRun("residual", 30, [1.8, 1.2, 0.9], [0.0, 0.0, 0.0]),
    }
    fig = plot_degradation(runs)
    ax_loss, ax_grad = fig.axes
    assert [line.get_label() for line in ax_loss.lines] == [
        "plain, 6 layers",
        "plain, 30 layers",
        "residual, 30 layers",
    ]
    assert [line.get_label() for line in ax_grad.lines] == ["plain, 6 layers", "plain, 30 layers"]
    fig.canvas.draw()
    assert all(float(tick).is_integer() for tick in ax_loss.get_xticks())


@pytest.mark.slow
def test_the_deep_plain_network_degrades_and_the_residual_one_does_not():
    """The notebook's run (seed 0), under a minute on 2 cores."""
    from resnet_course.data import load_signs, model_inputs
    from resnet_course.degradation import run_degradation_experiment, summary_lines

    x, y, _, _ = model_inputs(load_signs())
    runs = run_degradation_experiment(x[::2, ::4, ::4], y[::2], seed=0)
    final = {name: run.losses[-1] for name, run in runs.items()}
    assert final["residual"] < final["shallow plain"] < final["plain"], final
    first = {name: run.losses[0] for name, run in runs.items()}
    assert abs(first["residual"] - first["plain"]) < 0.1, "the residual curve starts where the plain one does"
    assert len(runs["plain"].gradient_norms) == 30 and len(runs["shallow plain"].gradient_norms) == 6
    assert any(line.startswith("  degradation = deep plain / shallow plain") for line in summary_lines(runs))
