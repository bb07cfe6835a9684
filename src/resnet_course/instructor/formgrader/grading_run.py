"""One background grading run of the formgrader, as a small JSON file the page reads.

The run's process (``background.py``) writes it as each submission is
recorded and when it ends; the instructor's server (``grading_queue.py``)
reads it to answer the page's progress requests without waiting on anything.
Student ids and reasons are the grader's text about a student's work: the
page shows them as text, never as HTML.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

#: Waiting for its turn (another run grades), grading, or over.
QUEUED, RUNNING = "queued", "running"
#: Every requested submission was graded or found ungradable (each result says which).
FINISHED = "finished"
#: The grader stopped before the end: the sandbox does not work here, or the assignment is unknown.
STOPPED = "stopped"
#: The run's process ended without saying how (crashed, killed); its log holds the rest.
FAILED = "failed"
OVER = (FINISHED, STOPPED, FAILED)


@dataclasses.dataclass
class GradingRun:
    """What a run grades and what it found so far.

    Attributes:
        id: Unique among the course's runs (the start time, then a counter).
        assignment: The assignment graded.
        students: The students asked for; None means every submission collected.
        state: One of ``queued``, ``running``, ``finished``, ``stopped``, ``failed``.
        started: When the run's process started (epoch seconds), 0 while queued.
        ended: When it ended, 0 before.
        results: One entry per submission recorded: ``student``, ``status`` (the grader's
            ``graded`` or ``could not be graded``), ``reason``, and once the run is over
            ``score`` and ``max_score``.
        message: One line on the whole run (the grader's error when it stopped, the
            gradebook check's verdict when it finished).
    """

    id: str
    assignment: str
    students: list[str] | None = None
    state: str = QUEUED
    started: float = 0.0
    ended: float = 0.0
    results: list[dict] = dataclasses.field(default_factory=list)
    message: str = ""

    def as_dict(self, now: float | None = None) -> dict:
        """The JSON the page gets, with the seconds the run has taken so far."""
        data = dataclasses.asdict(self)
        if self.started:
            data["elapsed_s"] = round((self.ended or (now or time.time())) - self.started, 1)
        return data

    def result_of(self, student: str) -> dict | None:
        return next((r for r in self.results if r["student"] == student), None)

    def covers(self, student: str) -> bool:
        """Whether this run grades ``student`` (a run of every submission covers everyone)."""
        return self.students is None or student in self.students


def read(path: Path) -> GradingRun | None:
    """The run saved at ``path``, or None if there is none (or it is being replaced)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    data.pop("elapsed_s", None)
    return GradingRun(**data)


def write(path: Path, run: GradingRun) -> None:
    """Save ``run`` at ``path`` atomically: a reader sees the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(dataclasses.asdict(run), indent=1))
    os.replace(temporary, path)
