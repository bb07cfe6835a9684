"""Grade an assignment's submissions in parallel, sandboxed, with one writer to the gradebook.

The coordinator (this module) prepares every submission (``prepare.py``),
hands the gradable ones to workers (``parallel.py``), and merges each
result into the gradebook and autograded folder as it arrives
(``merge.py``), then saves the grading report (``reports/report.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from contextlib import closing
from typing import Callable

from resnet_course.sandbox.limits import SandboxLimits

from ..judges.judges_relay import JudgesRelay
from ..reports import report
from . import instructor_faults
from .course import Course
from .job_types import GradingSettings, JobResult
from .merge import merge_result
from .parallel import default_workers, run_jobs
from .prepare import check_student_id, prepare_submission, source_files
from .template import has_assignment, imports_of_test_cells, template_gradebook

log = logging.getLogger(__name__)
JOB_OVERHEAD_SECONDS = 120


def settings_for(
    course: Course,
    limits: SandboxLimits,
    timeout: int | None = None,
    protected_modules: list[str] | None = None,
    training_cache: bool = True,
) -> GradingSettings:
    """Grading settings from the course configuration, the limits and overrides.

    ``training_cache`` keeps the training test's results per distinct model, and the judges'
    shared passes, beside the gradebook (``judges/training_cache.py``); False trains and judges
    every submission's model again.
    """
    from ..judges.training_cache import FOLDER_NAME
    from ..pipeline.execute import DEFAULT_PROTECTED_MODULES

    return GradingSettings(
        timeout=timeout or course.execute_timeout(),
        launcher_arguments=limits.as_arguments(),
        protected_modules=list(DEFAULT_PROTECTED_MODULES) + list(protected_modules or []),
        wall_seconds=limits.wall_seconds + JOB_OVERHEAD_SECONDS,
        late_penalty=course.late_penalty(),
        training_cache_dir=str(course.db_path.parent / FOLDER_NAME) if training_cache else None,
        judges_limits=course.judges_limits(),
    )


def autograde(
    course: Course,
    assignment: str,
    settings: GradingSettings,
    students: list[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    on_report: Callable[[report.StudentReport], None] | None = None,
) -> dict[str, report.StudentReport]:
    """Grade ``students`` (default: all with a submission) and return their reports.

    Args:
        course: The course.
        assignment: The assignment to grade.
        settings: Timeouts, sandbox limits and protected modules.
        students: Student ids; default: every student with a submitted folder.
        workers: Submissions graded at once (default: one per core); ignored with ``scheduler``.
        scheduler: A Dask scheduler address to grade on instead of local threads.
        on_report: Called with each student's report as soon as it is recorded, e.g. for progress.

    Raises:
        ValueError: The assignment is not in the gradebook.
        GradingStopped: The sandbox does not work here (nothing recorded), or broke mid-run
            (the submissions graded before are recorded, the rest not).
    """
    template = template_gradebook(course.db_path)
    notebook_names = has_assignment(template, assignment)
    if not notebook_names:
        raise ValueError(
            f"assignment {assignment!r} is not in the gradebook; run `nbgrader generate_assignment {assignment}` first"
        )
    instructor_faults.check_before_grading(settings.launcher_arguments)
    instructor_faults.check_judges(course, assignment, notebook_names, settings.judges_limits)
    if students:
        students = [check_student_id(s) for s in students]
    else:
        students = []
        for name in course.students_with_submissions(assignment):
            try:
                students.append(check_student_id(name))
            except ValueError as error:
                log.warning("skipping submitted folder: %s", error)
    protected = list(dict.fromkeys(settings.protected_modules + imports_of_test_cells(template, assignment)))
    settings = dataclasses.replace(settings, protected_modules=protected)
    if scheduler is None and not settings.judges_threads:
        settings = dataclasses.replace(settings, judges_threads=judges_threads(workers))
    sources = source_files(course, assignment)
    reports: dict[str, report.StudentReport] = {}
    notes_before: dict[str, list[str]] = {}
    jobs = []
    for student in students:
        prepared = prepare_submission(course, assignment, student, notebook_names, template, sources, settings)
        if prepared.job is None:
            _record(course, assignment, JobResult(student, False, prepared.reason), prepared.notes, reports, on_report)
        else:
            notes_before[student] = prepared.notes
            jobs.append(prepared.job)
    # Local jobs reach this process's preloaded judges; a Dask worker's jobs judge on their own machine.
    relay = JudgesRelay() if scheduler is None else contextlib.nullcontext()
    try:
        with relay, closing(run_jobs(jobs, workers=workers, scheduler=scheduler)) as finished:
            for done, (job, result) in enumerate(finished):
                instructor_faults.check_result(result, settings.launcher_arguments, len(reports), len(jobs) - done - 1)
                _record(course, assignment, result, notes_before[job.student], reports, on_report)
    except instructor_faults.GradingStopped:
        if reports:  # those in the gradebook already are reported; nobody else is
            report.save(course.report_path(assignment), reports)
        raise
    report.save(course.report_path(assignment), reports)
    return reports


def judges_threads(workers: int | None) -> int:
    """Each local submission's share of the cores for its judges' TensorFlow (at least one thread).

    Two trainings at a thread per core each, on the same cores, train slower in all than two at one
    thread each (docs/measurements.md): the submissions graded at once split the cores instead.
    """
    cores = default_workers()
    return max(1, cores // max(1, workers or cores))


def _record(
    course: Course,
    assignment: str,
    result: JobResult,
    earlier_notes: list[str],
    reports: dict[str, report.StudentReport],
    on_report: Callable[[report.StudentReport], None] | None,
) -> None:
    notes = list(earlier_notes) + list(result.notes)
    merge_result(course, assignment, result)
    status = report.GRADED if result.graded else report.NOT_GRADED
    reports[result.student] = report.StudentReport(
        result.student,
        status,
        report.reason_line(result.graded, result.reason, notes),
        notes,
        round(result.seconds, 2),
        stages=dict(result.stages),
        training_cache=dict(result.training_cache),
        cpu_seconds=result.cpu_seconds,
    )
    log.info("%s: %s (%s)", result.student, status, reports[result.student].reason)
    if on_report is not None:
        on_report(reports[result.student])
