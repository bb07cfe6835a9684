"""Run grading jobs N at a time: on local threads, or on an existing Dask cluster.

Each job is self-contained (``job.py``), so where it runs does not change
its result. Locally, a thread per worker starts the job's child process;
with a scheduler address, jobs are submitted to the cluster's workers
(which need this package, bubblewrap and the same Python environment).
Results come back in completion order; a job that raises, or whose worker
dies twice, comes back as "could not be graded" with the error as reason.
On a cluster, every worker runs the sandbox pre-flight before any job.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Iterable, Iterator

from resnet_course.sandbox import preflight

from .instructor_faults import GradingStopped
from .job import grade_job
from .job_types import GradingJob, JobResult


def default_workers() -> int:
    """The number of cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_jobs(
    jobs: Iterable[GradingJob], workers: int | None = None, scheduler: str | None = None
) -> Iterator[tuple[GradingJob, JobResult]]:
    """Grade ``jobs``, yielding (job, result) as each finishes.

    Args:
        jobs: The jobs.
        workers: Local concurrency (default: the number of cores); ignored with ``scheduler``.
        scheduler: A Dask scheduler address such as ``tcp://10.0.0.5:8786``.
    """
    jobs = list(jobs)
    if scheduler:
        yield from _run_on_dask(jobs, scheduler)
        return
    pool = ThreadPoolExecutor(max_workers=workers or default_workers(), thread_name_prefix="grade")
    try:
        futures = {pool.submit(grade_job, job): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            yield job, _result_or_failure(job, future)
    finally:  # a caller that stops early (grading stopped) leaves no job queued
        pool.shutdown(wait=True, cancel_futures=True)


def _run_on_dask(jobs: list[GradingJob], scheduler: str) -> Iterator[tuple[GradingJob, JobResult]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise RuntimeError("grading on a Dask cluster needs `pip install distributed`") from None
    with Client(scheduler, timeout=30) as client:
        if jobs:
            _check_workers(client, jobs[0].settings.launcher_arguments)
        futures = {
            client.submit(
                grade_job, job, pure=False, retries=1, key=f"grade-{job.assignment}-{job.student}-{index}"
            ): job
            for index, job in enumerate(jobs)
        }
        for future in dask_completed(futures):
            job = futures[future]
            yield job, _result_or_failure(job, future)


def _check_workers(client, launcher_arguments: list[str]) -> None:
    """Run the sandbox pre-flight on every Dask worker; stop before grading if one fails it."""
    problems = client.run(_sandbox_problem, launcher_arguments)
    broken = {worker: text for worker, text in problems.items() if text}
    if broken:
        worker, text = sorted(broken.items())[0]
        raise GradingStopped(
            f"grading stopped before any submission was graded: the sandbox does not work on "
            f"{len(broken)} of {len(problems)} Dask workers (e.g. {worker}).\n{text}\n"
            "Nothing was written to the gradebook or the grading report."
        )


def _sandbox_problem(launcher_arguments: list[str]) -> str | None:
    """On a worker: the pre-flight's cause and fix, or None when the sandbox works there."""
    failure = preflight.problem(launcher_arguments)
    return None if failure is None else f"Cause: {failure.cause}\nFix: {failure.fix}"


def _result_or_failure(job: GradingJob, future) -> JobResult:
    try:
        return future.result()
    except Exception as error:  # a grader fault, not the student's: say so
        return JobResult(job.student, False, f"the grading worker failed: {type(error).__name__}: {error}")
