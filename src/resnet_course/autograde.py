"""Run nbgrader on a course folder, one submission at a time, and record
an :class:`~resnet_course.outcomes.Outcome` for each.

``nbgrader autograde`` fails a whole submission on an invalid notebook or a
dead kernel and says so only in its log; this module checks the submission
first, runs nbgrader for that one student, and turns what happened into a
status and a reason an instructor can act on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .outcomes import GRADED, NOT_GRADED, Outcome, write_outcome

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Course:
    """An nbgrader course folder; sources always come from the repository's solutions/.

    Attributes:
        root: Folder holding release/, submitted/, autograded/, feedback/,
            status/ and gradebook.db.
    """

    root: Path

    @property
    def submitted(self) -> Path:
        return self.root / "submitted"

    @property
    def autograded(self) -> Path:
        return self.root / "autograded"

    @property
    def feedback(self) -> Path:
        return self.root / "feedback"

    @property
    def status(self) -> Path:
        return self.root / "status"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def nbgrader_flags(self) -> list[str]:
        """Command-line settings that point nbgrader at this folder."""
        return [
            f"--CourseDirectory.root={self.root}",
            f"--CourseDirectory.source_directory={REPO_ROOT / 'solutions'}",
            "--CourseDirectory.release_directory=release",
            "--CourseDirectory.submitted_directory=submitted",
            "--CourseDirectory.autograded_directory=autograded",
            "--CourseDirectory.feedback_directory=feedback",
            f"--CourseDirectory.db_url={self.db_url}",
        ]


def run_nbgrader(course: Course, *args: str) -> subprocess.CompletedProcess:
    """Run one nbgrader command from the repository root (so nbgrader_config.py applies)."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, PATH=path, TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "nbgrader", *args, *course.nbgrader_flags()]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)


def precheck(folder: Path, notebook: str) -> str:
    """Why a submission cannot be graded before running it, or '' if it can."""
    path = folder / f"{notebook}.ipynb"
    if not path.is_file():
        found = sorted(p.name for p in folder.glob("*.ipynb"))
        return f"no {path.name} in the submission" + (f" (found {', '.join(found)}: renamed?)" if found else "")
    try:
        content = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"{path.name} is not valid notebook JSON ({error})"
    if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
        return f"{path.name} is JSON but not a notebook (no list of cells)"
    return ""


def reason_from_log(log: str) -> str:
    """The most telling line of a failed nbgrader run."""
    known = {
        "DeadKernelError": "the kernel died while running the notebook (crash, os._exit or memory)",
        "Kernel died": "the kernel died while running the notebook (crash, os._exit or memory)",
        "CellTimeoutError": "a cell ran longer than the time limit",
        "NotJSONError": "the notebook is not valid JSON",
        "NotebookValidationError": "the notebook does not follow the notebook format",
    }
    for marker, reason in known.items():
        if marker in log:
            return reason
    errors = [line for line in log.splitlines() if "ERROR" in line]
    return errors[0].split("]", 1)[-1].strip() if errors else "nbgrader failed without saying why"


def grade_submission(course: Course, assignment: str, student: str) -> Outcome:
    """Autograde one student's submission and record the outcome."""
    start = time.perf_counter()
    folder = course.submitted / student / assignment
    reason = precheck(folder, assignment)
    if not reason:
        result = run_nbgrader(course, "autograde", assignment, f"--student={student}", "--force")
        graded = (course.autograded / student / assignment / f"{assignment}.ipynb").is_file()
        if result.returncode != 0 or not graded:
            reason = reason_from_log(result.stdout + result.stderr)
    outcome = Outcome(
        student_id=student,
        assignment=assignment,
        status=NOT_GRADED if reason else GRADED,
        reason=reason,
        seconds=round(time.perf_counter() - start, 1),
    )
    write_outcome(course.status, outcome)
    return outcome


def course_in_repository() -> Course:
    """The course as ``nbgrader_config.py`` lays it out: everything under autograder/."""
    return Course(REPO_ROOT / "autograder")


def main(argv: list[str] | None = None) -> int:
    """Autograde every submitted student (or those named), one at a time, recording outcomes."""
    import argparse

    parser = argparse.ArgumentParser(description="Autograde submissions and record whether each could be graded.")
    parser.add_argument("assignment")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    args = parser.parse_args(argv)
    course = course_in_repository()
    folder = course.submitted
    students = args.student or sorted(p.name for p in folder.iterdir() if (p / args.assignment).is_dir()) if folder.is_dir() else []
    if not students:
        print(f"no submissions of {args.assignment} in {folder}")
        return 1
    for student in students:
        outcome = grade_submission(course, args.assignment, student)
        print(f"{student:<24} {outcome.status:<20} {outcome.seconds:6.1f} s  {outcome.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
