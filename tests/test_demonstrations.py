"""Grading skips the notebook's demonstrations: exactly the master's tagged cells, matched by source."""

from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from resnet_course.grader.pipeline import demonstrations
from resnet_course.paths import MASTER_NOTEBOOK, SOLUTIONS_DIR

DEMO = "model.fit(X_train, Y_train, epochs=5)\nplot_history(history)"


def course_with_fingerprints(tmp_path, sources):
    """A course whose master's demonstrations have ``sources``; returns its nbgrader configuration."""
    judges = tmp_path / "source" / "toy" / "grader_only"
    judges.mkdir(parents=True)
    content = {"fingerprints": [demonstrations.fingerprint(source) for source in sources]}
    (judges / demonstrations.FINGERPRINTS_FILE).write_text(json.dumps(content))
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    config.CourseDirectory.source_directory = "source"
    return config


def test_a_demonstration_is_emptied_for_the_kernel_and_restored_with_a_note(tmp_path):
    config = course_with_fingerprints(tmp_path, [DEMO])
    edited = DEMO.replace("epochs=5", "epochs=50")
    graded = new_code_cell(DEMO)
    graded.metadata["nbgrader"] = {"grade": True, "grade_id": "test_x", "points": 1, "solution": False}
    notebook = new_notebook(
        cells=[new_code_cell("x = 1"), new_code_cell("  " + DEMO + "\n"), new_code_cell(edited), graded]
    )
    resources = {"nbgrader": {"assignment": "toy", "student": "someone"}}

    notebook, resources = demonstrations.SkipDemonstrations(config=config).preprocess(notebook, resources)
    assert [cell.source for cell in notebook.cells] == ["x = 1", "", edited, DEMO]

    notebook, resources = demonstrations.RestoreDemonstrations(config=config).preprocess(notebook, resources)
    assert notebook.cells[1].source == "  " + DEMO + "\n"
    assert notebook.cells[1].outputs[0]["text"] == demonstrations.SKIPPED_NOTE
    assert notebook.cells[2].outputs == [] and notebook.cells[3].outputs == []


def test_without_fingerprints_every_cell_runs(tmp_path):
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    notebook = new_notebook(cells=[new_code_cell(DEMO)])
    resources = {"nbgrader": {"assignment": "toy", "student": "someone"}}
    notebook, _ = demonstrations.SkipDemonstrations(config=config).preprocess(notebook, resources)
    assert notebook.cells[0].source == DEMO


def test_the_committed_fingerprints_are_the_masters_demonstrations():
    master = nbformat.read(MASTER_NOTEBOOK, as_version=4)
    tagged = demonstrations.demonstration_cells(master)
    kept = demonstrations.read_fingerprints(SOLUTIONS_DIR / "resnets" / "grader_only")
    assert kept == {demonstrations.fingerprint(cell.source) for cell in tagged}
    # The training demonstration, its evaluation and the BatchNorm repair are among them;
    # no cell that defines the student's functions or hands over evidence is.
    assert any("model.fit(" in cell.source for cell in tagged)
    assert any("recompute_batchnorm" in cell.source for cell in tagged)
    assert not any("submit_" in cell.source or "def " in cell.source for cell in tagged)
