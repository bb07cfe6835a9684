"""The instructor's server's side of the Autograde button: one grading run at a time, in the background.

nbgrader's own button grades inside the instructor's Jupyter server, which
then answers nothing (not even JupyterLab) until the grading ends. Here a
click only queues a request and returns. One run grades at a time, in a
process of its own (``background.py``), because the course's grader is the
one writer of the gradebook; students clicked while it grades are queued
and graded together by the next run, in parallel. Nothing here waits: the
process is started with ``Popen`` and watched by a coroutine that sleeps
between looks, and the page's progress requests read the run's small status
file (``grading_run.py``).

The runs' files live beside the gradebook, in ``autograder/.runtime/formgrader/``
of the course: ``run-<id>.json`` and ``run-<id>.log`` (the grader's own
output, for when a run fails), and ``last.json``, the last run that ended,
which the page shows again after a reload or a restart of the server.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

from . import grading_run
from .grading_run import FAILED, OVER, RUNNING, GradingRun

RUNTIME_FOLDER = Path(".runtime") / "formgrader"
POLL_S = 0.5
#: The last lines of a failed run's log that its message quotes.
LOG_TAIL_LINES = 5


class GradingQueue:
    """The course's background grading runs, as the formgrader's handlers see them.

    Attributes:
        root: The course root (where ``nbgrader_config.py`` is); the runs start there.
        folder: Where the runs' status files and logs are kept.
        queued: Runs waiting for the one that grades, oldest first; at most one per assignment.
        running: The run grading now, if any.
    """

    def __init__(self, root: Path, folder: Path, python: str = sys.executable):
        self.root = Path(root)
        self.folder = Path(folder)
        self.python = python
        self.queued: list[GradingRun] = []
        self.running: GradingRun | None = None
        self._process: subprocess.Popen | None = None
        self._ids = itertools.count(1)

    @classmethod
    def for_course(cls, root: Path, db_path: Path) -> "GradingQueue":
        """The queue of the course at ``root`` whose gradebook is ``db_path``."""
        return cls(root, Path(db_path).parent / RUNTIME_FOLDER)

    def request(self, assignment: str, students: list[str] | None) -> tuple[GradingRun, str]:
        """Ask for ``students`` of ``assignment`` (None: every submission) to be graded; return at once.

        Returns:
            The run that will grade them, and one line saying what happened to the request.
        """
        running = self.running
        if running is not None and running.assignment == assignment:
            if students is not None and all(running.covers(s) for s in students):
                return running, "already being graded"
        queued = next((run for run in self.queued if run.assignment == assignment), None)
        if queued is None:
            queued = GradingRun(self._new_id(), assignment, None if students is None else list(students))
            self.queued.append(queued)
        elif students is None:
            queued.students = None
        elif queued.students is not None:
            queued.students += [s for s in students if s not in queued.students]
        self._start_next()
        return queued, "grading started" if queued is self.running else "queued after the run that grades now"

    def status(self) -> dict:
        """What the page shows: the running run, the queued ones, and the last one that ended."""
        now = time.time()
        if self.running is not None:
            saved = grading_run.read(self._status_path(self.running))
            if saved is not None and saved.id == self.running.id:
                self.running.results = saved.results
        last = grading_run.read(self.folder / "last.json")
        return {
            "running": None if self.running is None else self.running.as_dict(now),
            "queued": [run.as_dict(now) for run in self.queued],
            "last": None if last is None else last.as_dict(now),
        }

    def _new_id(self) -> str:
        return f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{next(self._ids)}"

    def _status_path(self, run: GradingRun) -> Path:
        return self.folder / f"run-{run.id}.json"

    def _start_next(self) -> None:
        if self.running is not None or not self.queued:
            return
        run = self.queued.pop(0)
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            self.python,
            "-m",
            "resnet_course.instructor.formgrader.background",
            f"--status={self._status_path(run)}",
            f"--assignment={run.assignment}",
            f"--id={run.id}",
        ]
        if run.students is not None:
            command.append("--students=" + ",".join(run.students))
        run.state, run.started = RUNNING, time.time()
        grading_run.write(self._status_path(run), run)
        with open(self.folder / f"run-{run.id}.log", "wb") as log:
            self._process = subprocess.Popen(
                command, cwd=self.root, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        self.running = run
        asyncio.ensure_future(self._watch(run, self._process))

    async def _watch(self, run: GradingRun, process: subprocess.Popen) -> None:
        """Wait for the run's process without blocking the server; then start the next run."""
        while process.poll() is None:
            await asyncio.sleep(POLL_S)
        self._finish(run, process.returncode)
        self._start_next()

    def _finish(self, run: GradingRun, returncode: int) -> None:
        saved = grading_run.read(self._status_path(run))
        if saved is None or saved.state not in OVER:
            saved = saved or run
            log = self.folder / f"run-{run.id}.log"
            tail = log.read_text(errors="replace").strip().splitlines()[-LOG_TAIL_LINES:] if log.exists() else []
            saved.state, saved.ended = FAILED, time.time()
            ending = " / ".join(tail)
            saved.message = f"the grader exited with status {returncode} before the end ({log}): {ending}"
        grading_run.write(self._status_path(run), saved)
        grading_run.write(self.folder / "last.json", saved)
        self.running, self._process = None, None
