"""The grading report: per student, whether the submission was graded, and why (not).

Kept as JSON in ``autograder/.runtime/reports/<assignment>.json`` (git-ignored,
beside the gradebook, never copied into feedback), and joined with the
gradebook's scores by ``export.py``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

GRADED = "graded"
NOT_GRADED = "could not be graded"


@dataclasses.dataclass
class StudentReport:
    """What happened to one submission.

    Attributes:
        student: Student id.
        status: ``graded`` or ``could not be graded``.
        reason: In words: why not graded, or what was notable while grading.
        notes: Every observation (dropped files, restored cells, kernel events, tampering).
        seconds: Time the grading job took.
        stages: Seconds per grading stage (``job_types.JobResult.stages``).
        training_cache: Per cached judgement, ``hit``, ``miss`` or ``unused``.
        cpu_seconds: CPU time of the grading job's processes.
    """

    student: str
    status: str
    reason: str
    notes: list[str]
    seconds: float = 0.0
    stages: dict[str, float] = dataclasses.field(default_factory=dict)
    training_cache: dict[str, str] = dataclasses.field(default_factory=dict)
    cpu_seconds: float = 0.0


def load(path: Path) -> dict[str, StudentReport]:
    """The saved report (empty when there is none)."""
    if not path.exists():
        return {}
    return {name: StudentReport(**entry) for name, entry in json.loads(path.read_text()).items()}


def save(path: Path, reports: dict[str, StudentReport]) -> None:
    """Save atomically, merged into what is there (students graded earlier stay)."""
    merged = load(path)
    merged.update(reports)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({k: dataclasses.asdict(v) for k, v in sorted(merged.items())}, indent=1))
    os.replace(temporary, path)


def reason_line(graded: bool, reason: str | None, notes: list[str]) -> str:
    """The one-line reason shown in the export."""
    if not graded:
        return reason or "could not be graded"
    important = [n for n in notes if n.startswith(("kernel:", "tampering"))]
    return "; ".join(important or notes) or "graded normally"
