"""The types a grading job is made of: its settings, its input and its output.

Plain data, imported by ``prepare`` (which makes jobs), ``job`` (which runs
them on a worker), ``job_runner`` (the child process that grades) and
``merge`` (which records results); this module imports none of them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

#: The private course root's folders, as nbgrader's ``CourseDirectory`` is told them (``job_runner``).
SOURCE_FOLDER = "source"
SUBMITTED_FOLDER = "autograder/submitted"
AUTOGRADED_FOLDER = "autograder/autograded"


@dataclasses.dataclass(frozen=True)
class JobRoot:
    """The private course root one job is graded in, laid out here once: ``job`` writes it and reads
    the result back (on a worker), ``job_runner`` grades in it (in the child process)."""

    path: Path

    @property
    def job_file(self) -> Path:
        return self.path / "job.json"

    @property
    def result_file(self) -> Path:
        return self.path / "result.json"

    @property
    def runner_log(self) -> Path:
        return self.path / "runner.log"

    @property
    def gradebook(self) -> Path:
        return self.path / "autograder" / "gradebook.db"

    def source(self, assignment: str) -> Path:
        return self.path / SOURCE_FOLDER / assignment

    def submitted(self, student: str, assignment: str) -> Path:
        return self.path / SUBMITTED_FOLDER / student / assignment

    def autograded(self, student: str, assignment: str) -> Path:
        return self.path / AUTOGRADED_FOLDER / student / assignment


@dataclasses.dataclass
class GradingSettings:
    """How submissions are graded.

    Attributes:
        timeout: Per-cell timeout in seconds.
        launcher_arguments: Sandbox launcher options (limits).
        protected_modules: Modules the tamper guard restores before each test cell.
        wall_seconds: Time one job may take in all.
        late_penalty: The course's late-submission policy as nbgrader_config.py sets it:
            ``AssignLatePenalties.plugin_class`` and ``LateSubmissionPlugin.penalty_method``.
        training_cache_dir: The course's training cache (``judges/training_cache.py``), or None for none.
        judges_limits: ``judge_process.JudgesLimits`` as a dict: what judging one submission may cost.
        judges_threads: Threads for each of TensorFlow's pools in the judges (0: TensorFlow's default);
            :func:`~.autograde.autograde` gives each submission graded at once its share of the cores.
    """

    timeout: int
    launcher_arguments: list[str]
    protected_modules: list[str]
    wall_seconds: int
    late_penalty: dict = dataclasses.field(
        default_factory=lambda: {"plugin_class": "nbgrader.plugins.LateSubmissionPlugin", "penalty_method": "none"}
    )
    training_cache_dir: str | None = None
    judges_limits: dict = dataclasses.field(default_factory=dict)
    judges_threads: int = 0


@dataclasses.dataclass
class GradingJob:
    """Input of one grading job.

    Attributes:
        assignment: Assignment name.
        student: Student id.
        course_id: nbgrader course id.
        template: Template gradebook (sqlite bytes, no students).
        source_files: The assignment's non-notebook source files (relative path -> bytes).
        files: The prepared submission (relative path -> bytes).
        settings: How it is graded (timeouts, sandbox limits, guarded modules).
    """

    assignment: str
    student: str
    course_id: str
    template: bytes
    source_files: dict[str, bytes]
    files: dict[str, bytes]
    settings: GradingSettings


@dataclasses.dataclass
class JobResult:
    """Output of one grading job.

    Attributes:
        student: Student id.
        graded: Whether nbgrader produced grades.
        reason: Why not, or None.
        grades: One dict per graded cell (notebook, cell, auto_score, max_score, needs_manual_grade).
        comments: One dict per commented cell (notebook, cell, auto_comment).
        notebooks: Per notebook: late_submission_penalty, flagged.
        timestamp: The submission time nbgrader recorded (ISO text) or None.
        files: The autograded folder (relative path -> bytes).
        notes: What the sandbox and the guard observed.
        seconds: Time spent in the job.
        log: The end of nbgrader's log.
        kernel_start_failed: Why the sandboxed kernel never answered, when it did not (the
            coordinator then checks whether the machine is at fault; ``instructor_faults.py``).
        judges_fault: Why the assignment's judges could not decide (missing or broken judges file:
            the instructor's fault, so the coordinator stops the run).
        stages: Seconds per grading stage (sandbox start, notebook execution, evidence reading,
            the judges' process, each judge).
        training_cache: Per cached judgement, ``hit``, ``miss`` (judged and stored) or ``unused`` (nothing
            found or stored: not trained, or its training did not end), and the start of its key.
        cpu_seconds: CPU time of the grading process and every process it waited for.
    """

    student: str
    graded: bool
    reason: str | None
    grades: list[dict] = dataclasses.field(default_factory=list)
    comments: list[dict] = dataclasses.field(default_factory=list)
    notebooks: dict[str, dict] = dataclasses.field(default_factory=dict)
    timestamp: str | None = None
    files: dict[str, bytes] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    log: str = ""
    kernel_start_failed: str | None = None
    judges_fault: str | None = None
    stages: dict[str, float] = dataclasses.field(default_factory=dict)
    training_cache: dict[str, str] = dataclasses.field(default_factory=dict)
    cpu_seconds: float = 0.0
