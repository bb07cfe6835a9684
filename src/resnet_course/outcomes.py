"""What happened when a submission was graded, kept beside the gradebook.

nbgrader's gradebook records scores, but a notebook that could not be graded
at all (invalid JSON, a dead kernel, a time-out) leaves no trace there, and
``nbgrader export`` then writes 0.0 as if it had been graded. The grading
commands record one :class:`Outcome` per submission in
``<status dir>/<assignment>/<student>.json``; the export reads them back.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

GRADED = "graded"
NOT_GRADED = "could not be graded"


@dataclass(frozen=True)
class Outcome:
    """The result of grading one submission.

    Attributes:
        student_id: The student.
        assignment: The assignment.
        status: ``"graded"`` or ``"could not be graded"``.
        reason: Why it could not be graded (empty when graded), in words an
            instructor can act on.
        seconds: Wall-clock time spent grading it.
    """

    student_id: str
    assignment: str
    status: str
    reason: str = ""
    seconds: float = 0.0


def outcome_path(status_dir: Path, assignment: str, student_id: str) -> Path:
    return Path(status_dir) / assignment / f"{student_id}.json"


def write_outcome(status_dir: Path, outcome: Outcome) -> Path:
    """Record an outcome, replacing the one from an earlier run."""
    path = outcome_path(status_dir, outcome.assignment, outcome.student_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(outcome), indent=1) + "\n")
    return path


def read_outcomes(status_dir: Path, assignment: str) -> dict[str, Outcome]:
    """All recorded outcomes of an assignment, by student id."""
    folder = Path(status_dir) / assignment
    outcomes = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        outcome = Outcome(**json.loads(path.read_text()))
        outcomes[outcome.student_id] = outcome
    return outcomes
