"""nbgrader is wired as the course expects: sources in solutions/, the student
version generated into assignments/ and identical to what is committed."""

import json
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbgrader.converters import GenerateAssignment

from resnet_course.grader.jobs.course import Course
from resnet_course.instructor import release, release_steps


@pytest.fixture(scope="module")
def plain_course(tmp_path_factory, repo_root):
    """A private copy of the course after the README's plain ``nbgrader generate_assignment resnets``.

    The real gradebook and assignments/ stay untouched; no resnet_course command runs.
    """
    course = tmp_path_factory.mktemp("plain") / "course"
    course.mkdir()
    shutil.copy(repo_root / "nbgrader_config.py", course)
    shutil.copytree(repo_root / "solutions", course / "solutions")
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "resnets"],
        cwd=course,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return course


def test_generate_assignment_lands_in_assignments(plain_course):
    student = plain_course / "assignments" / "resnets" / "resnets.ipynb"
    assert student.is_file()
    assert (plain_course / "autograder" / "gradebook.db").is_file()
    text = student.read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert "raise NotImplementedError()" in text


def test_plain_nbgrader_release_equals_the_committed_student_version_cell_for_cell(plain_course, repo_root):
    released = nbformat.read(plain_course / "assignments" / "resnets" / "resnets.ipynb", as_version=4)
    committed = nbformat.read(repo_root / "assignments" / "resnets" / "resnets.ipynb", as_version=4)
    assert len(released.cells) == len(committed.cells)
    for index, (mine, theirs) in enumerate(zip(released.cells, committed.cells)):
        assert mine == theirs, f"cell {index} differs from the committed student version"
    tags = [tag for cell in released.cells for tag in cell.metadata.get("tags", [])]
    assert release_steps.MASTER_ONLY_TAG not in tags and "demonstration" not in tags


def test_the_course_release_keeps_nbgraders_own_steps_in_their_order(repo_root):
    configured = list(Course.load(repo_root).config.GenerateAssignment.preprocessors)
    course_steps = [f"{release_steps.__name__}.{name}" for name in ("DropMasterOnlyCells", "RemoveDemonstrationTags")]
    assert configured[:2] == course_steps
    assert [name.rsplit(".", 1)[1] for name in configured[2:]] == [
        step.__name__ for step in GenerateAssignment().preprocessors
    ]


def test_committed_student_version_matches_its_source():
    assert release.main(["--check"]) == 0


def test_student_notebook_is_committed_without_outputs_and_with_header(repo_root):
    notebook = json.loads((repo_root / "assignments" / "resnets" / "resnets.ipynb").read_text())
    assert all(not cell.get("outputs") for cell in notebook["cells"] if cell["cell_type"] == "code")
    header = json.loads((repo_root / "solutions" / "header.ipynb").read_text())["cells"][0]["source"]
    assert notebook["cells"][0]["source"] == header
    # The note for maintainers is the notebook's metadata, which students do not read.
    assert notebook["metadata"]["resnet_course"]["generated_from"] == "solutions/resnets/resnets.ipynb"
