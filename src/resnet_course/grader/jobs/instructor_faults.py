"""Faults on the instructor's side stop the run; they are never recorded against a student.

Before any submission is graded, the sandbox pre-flight
(``resnet_course.sandbox.preflight``) and the judges' pre-flight on the
master's own answers (``judges/judges_preflight.py``) must pass: otherwise nothing
is written to the gradebook or the grading report. Once the judges have
passed there, a failure of theirs on a submission is that submission's. When a kernel fails to
start mid-run, the pre-flight runs again: if the sandbox now fails, the
machine is at fault and the run stops, the submissions graded so far
kept and this one not recorded; if it passes, the submission itself kept
its kernel from starting (too many files, say) and is reported as
ungradable, with the reason.
"""

from __future__ import annotations

from resnet_course.sandbox import preflight

from .job_types import JobResult


class GradingStopped(RuntimeError):
    """Grading cannot go on because of the machine or the course set-up, not a student."""


def check_before_grading(launcher_arguments: list[str]) -> None:
    """Raise :class:`GradingStopped` unless the sandbox works here (checked once per process)."""
    try:
        preflight.check_once(launcher_arguments)
    except preflight.SandboxCheckFailed as failure:
        message = failure.stop_message(
            "before any submission was graded", "Nothing was written to the gradebook or the grading report."
        )
        raise GradingStopped(message) from None


def check_judges(course, assignment: str, notebook_names: list[str], judges_limits: dict) -> None:
    """Raise :class:`GradingStopped` unless the judges pass on the master's own answers."""
    from ..judges.judge_process import JudgesLimits
    from ..judges.judges_preflight import check_master
    from ..judges.judging import JudgesError

    source = course.folder("source", ".", assignment)
    for name in notebook_names:
        try:
            check_master(source, assignment, f"{name}.ipynb", JudgesLimits(**judges_limits))
        except JudgesError as error:
            raise GradingStopped(
                f"{error}. The judges ({source.name}/grader_only/) must pass on the master notebook before "
                "any submission is graded; nothing was written to the gradebook or the grading report. "
                "Fix the judges or the master, then run the same command again."
            ) from None


def check_result(result: JobResult, launcher_arguments: list[str], recorded: int, waiting: int) -> None:
    """Raise :class:`GradingStopped` when ``result``'s kernel failed to start because the sandbox broke.

    Args:
        result: A finished job.
        launcher_arguments: The sandbox limits the job ran with.
        recorded: Submissions already recorded in this run.
        waiting: Submissions not yet graded, besides this one.
    """
    if result.judges_fault:
        raise GradingStopped(
            f"grading stopped at {result.student}: {result.judges_fault}. The {recorded} submissions graded "
            f"before were recorded; {result.student} and the {waiting} not yet graded were not. Fix the "
            "judges file and run the same command again."
        )
    if result.graded or not result.kernel_start_failed:
        return
    failure = preflight.problem(launcher_arguments)
    if failure is not None:
        raise GradingStopped(
            failure.stop_message(
                f"at {result.student}, whose kernel could not start",
                f"The {recorded} submissions graded before were recorded; {result.student} and the {waiting} "
                "not yet graded were not. Run the same command again once it is fixed.",
            )
        )
