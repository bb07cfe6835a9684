"""nbgrader is wired as the course expects: sources in solutions/, the student
version generated into assignments/ and identical to what is committed."""

import json
import shutil
import subprocess
import sys

from resnet_course.instructor import release


def test_generate_assignment_lands_in_assignments(tmp_path, repo_root):
    # A private copy of the course, so the real gradebook and assignments/ stay untouched.
    course = tmp_path / "course"
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
    student = course / "assignments" / "resnets" / "resnets.ipynb"
    assert student.is_file()
    assert (course / "autograder" / "gradebook.db").is_file()
    text = student.read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert "raise NotImplementedError()" in text


def test_committed_student_version_matches_its_source():
    assert release.main(["--check"]) == 0


def test_student_notebook_is_committed_without_outputs_and_with_header(repo_root):
    notebook = json.loads((repo_root / "assignments" / "resnets" / "resnets.ipynb").read_text())
    assert all(not cell.get("outputs") for cell in notebook["cells"] if cell["cell_type"] == "code")
    header = json.loads((repo_root / "solutions" / "header.ipynb").read_text())["cells"][0]["source"]
    assert notebook["cells"][0]["source"] == header
    # The note for maintainers is the notebook's metadata, which students do not read.
    assert notebook["metadata"]["resnet_course"]["generated_from"] == "solutions/resnets/resnets.ipynb"
