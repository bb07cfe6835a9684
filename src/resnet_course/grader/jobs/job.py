"""One submission's grading job, self-contained: any worker (a local thread, a Dask worker elsewhere) can run it.

A :class:`~.job_types.GradingJob` carries everything needed: the template gradebook,
the assignment's non-notebook source files, the prepared submission and
the settings. :func:`grade_job` lays out a private course root in a
temporary folder, runs nbgrader's autograde in a child process
(``job_runner.py``; nbgrader changes the working folder and environment of
its process, and a crash there must not take the worker down; the child
is forked from a preloaded forkserver where possible) and returns
a :class:`~.job_types.JobResult`: scores, comments and the autograded files. It never
touches the course's own folders or gradebook.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .job_types import GradingJob, JobResult, JobRoot

MAX_RESULT_FILE_BYTES = 20 * 1024 * 1024
# Larger autograded notebooks are not parsed (memory); the relay's output cap keeps them far below.
MAX_PARSED_NOTEBOOK_BYTES = 200 * 1024 * 1024
TRUNCATION_NOTE = "[output removed by the grader: the autograded notebook was larger than it keeps]\n"
RUNNER_OUTPUT_BYTES = 20_000


def grade_job(job: GradingJob) -> JobResult:
    """Grade one submission in a private course root and return the result (runs on a worker)."""
    started = time.monotonic()
    root = JobRoot(Path(tempfile.mkdtemp(prefix=f"resnet-grade-{job.student}-")))
    try:
        write_tree(root.submitted(job.student, job.assignment), job.files)
        write_tree(root.source(job.assignment), job.source_files)
        root.gradebook.write_bytes(job.template)
        described = {"assignment": job.assignment, "student": job.student, "course_id": job.course_id}
        root.job_file.write_text(json.dumps({**described, **dataclasses.asdict(job.settings)}))
        failure = _run_runner(root, job.settings.wall_seconds)
        log = _tail(root.runner_log)
        result_path = root.result_file
        if failure or not result_path.exists():
            return JobResult(
                job.student,
                False,
                failure or "the grading process wrote no result",
                log=log,
                seconds=time.monotonic() - started,
            )
        result = JobResult(**json.loads(result_path.read_text()))
        autograded = root.autograded(job.student, job.assignment)
        result.files, kept_notes = _read_tree(autograded) if result.graded else ({}, [])
        result.notes += kept_notes
        result.log = log + result.log
        result.seconds = time.monotonic() - started
        return result
    finally:
        shutil.rmtree(root.path, ignore_errors=True)


def _run_runner(root: JobRoot, timeout: int) -> str | None:
    """Run ``job_runner`` on ``root`` in a child process; return why it failed, or None.

    Where this process may have children of its own (not a daemonic
    multiprocessing worker, as Dask's are), the child is forked from a
    forkserver that has nbgrader imported already, which saves seconds per
    submission; otherwise it is a fresh interpreter.
    """
    log_path = root.runner_log
    if not multiprocessing.current_process().daemon:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["resnet_course.grader.jobs.job_runner"])
        from . import job_runner

        arguments = (str(root.path), str(log_path), _runner_environment())
        child = context.Process(target=job_runner.child_main, args=arguments)
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
            return f"grading took longer than {timeout} s and was abandoned"
        return None if child.exitcode == 0 else f"the grading process failed (exit {child.exitcode})"
    with open(log_path, "wb") as output:
        try:
            completed = subprocess.run(
                [sys.executable, "-m", "resnet_course.grader.jobs.job_runner", str(root.path)],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                env=_runner_environment(),
            )
        except subprocess.TimeoutExpired:
            return f"grading took longer than {timeout} s and was abandoned"
    return None if completed.returncode == 0 else f"the grading process failed (exit {completed.returncode})"


def _runner_environment() -> dict[str, str]:
    # nbgrader runs `alembic` from PATH: this environment's bin/ must come first.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return dict(os.environ, PATH=path, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"))


def write_tree(folder: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative path -> content) under ``folder``, refusing paths that leave it."""
    folder.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        target = (folder / relative).resolve()
        if folder.resolve() not in target.parents:
            raise ValueError(f"refusing to write {relative!r} outside {folder}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _read_tree(folder: Path) -> tuple[dict[str, bytes], list[str]]:
    """The autograded files to keep, and a note for each one cut or left out for its size."""
    files: dict[str, bytes] = {}
    notes: list[str] = []
    if not folder.is_dir():
        return files, notes
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        relative, size = str(path.relative_to(folder)), path.stat().st_size
        if size <= MAX_RESULT_FILE_BYTES:
            files[relative] = path.read_bytes()
        elif path.suffix == ".ipynb" and size <= MAX_PARSED_NOTEBOOK_BYTES:
            files[relative] = truncated_notebook(path.read_bytes(), MAX_RESULT_FILE_BYTES)
            notes.append(f"{relative}: outputs cut, the autograded notebook was {size // 2**20} MiB")
        else:
            notes.append(f"{relative}: not kept, {size // 2**20} MiB is over the limit for autograded files")
    return files, notes


def truncated_notebook(content: bytes, limit: int) -> bytes:
    """The notebook with the outputs of its last cells replaced by a note until it fits in ``limit`` bytes.

    Scores are already in the gradebook; the note tells the reader of the
    autograded notebook (and its feedback) that outputs are missing.
    """
    notebook = json.loads(content)
    budget = limit - 64 * 1024  # room for the notes and the notebook's own code
    cells = [cell for cell in notebook.get("cells", []) if isinstance(cell, dict)]
    sizes = [len(json.dumps(cell.get("outputs", []))) for cell in cells]
    total = sum(sizes)
    for cell, size in zip(reversed(cells), reversed(sizes)):
        if total <= budget:
            break
        if cell.get("outputs"):
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": TRUNCATION_NOTE}]
            total -= size
    return json.dumps(notebook).encode()


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-RUNNER_OUTPUT_BYTES:].decode(errors="replace")
