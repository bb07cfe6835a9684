"""Child process of a grading job: nbgrader autograde in a private course root.

Usage: ``python -m resnet_course.grader.jobs.job_runner ROOT`` where ROOT holds
``job.json``, ``source/``, ``autograder/submitted/`` and a template
``autograder/gradebook.db`` (see ``job.py``). Writes ``ROOT/result.json``.
The notebook runs in a sandboxed kernel (``execute.SandboxedExecute``);
this process holds the private gradebook, the kernel never does.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
import warnings
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades
from nbgrader.utils import capture_log
from traitlets.config import Config

from ..judges.judging import JUDGES_FOLDER
from ..pipeline.demonstrations import RestoreDemonstrations, SkipDemonstrations
from ..pipeline.execute import SandboxedExecute
from ..pipeline.trusted_verdicts import JudgesFault, TrustedVerdicts, WriteChallenge
from .job_types import AUTOGRADED_FOLDER, SOURCE_FOLDER, SUBMITTED_FOLDER, JobResult, JobRoot

LOG_TAIL = 6000
TIMINGS_FILE = "stage-times.json"
JOB_MEMORY_BYTES = 2 * 1024**3


def autograde_config(root: Path, job: dict) -> Config:
    """nbgrader configuration for grading one student in ``root`` with the sandboxed executor."""
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = job["course_id"]
    config.CourseDirectory.source_directory = SOURCE_FOLDER
    config.CourseDirectory.submitted_directory = SUBMITTED_FOLDER
    config.CourseDirectory.autograded_directory = AUTOGRADED_FOLDER
    config.CourseDirectory.db_url = f"sqlite:///{JobRoot(root).gradebook}"
    config.CourseDirectory.assignment_id = job["assignment"]
    config.CourseDirectory.student_id = job["student"]
    config.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", JUDGES_FOLDER]
    config.Autograde.autograde_preprocessors = [
        WriteChallenge,
        SkipDemonstrations,
        SandboxedExecute,
        RestoreDemonstrations,
        TrustedVerdicts,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    # The course's late policy, as nbgrader_config.py sets it: the job's configuration is built here.
    late = job.get("late_penalty") or {}
    config.AssignLatePenalties.plugin_class = late.get("plugin_class", "nbgrader.plugins.LateSubmissionPlugin")
    config.LateSubmissionPlugin.penalty_method = late.get("penalty_method", "none")
    config.SandboxedExecute.timeout = job["timeout"]
    config.SandboxedExecute.launcher_arguments = job["launcher_arguments"]
    config.SandboxedExecute.protected_modules = job["protected_modules"]
    config.SandboxedExecute.runtime_dir = str(root / "runtime")
    config.SandboxedExecute.report_file = str(root / "sandbox-report.json")
    config.TrustedVerdicts.training_cache_dir = job.get("training_cache_dir") or ""
    config.TrustedVerdicts.judges_threads = int(job.get("judges_threads") or 0)
    config.TrustedVerdicts.timings_file = str(root / TIMINGS_FILE)
    for name, value in (job.get("judges_limits") or {}).items():
        config.TrustedVerdicts[f"judges_{name}"] = value
    return config


def run(root: Path) -> JobResult:
    """Autograde the one submission under ``root`` and collect its grades."""
    job = json.loads(JobRoot(root).job_file.read_text())
    config = autograde_config(root, job)
    coursedir = CourseDirectory(config=config)
    app = Autograde(coursedir=coursedir, config=config)
    app.force = True
    app.create_student = True
    started = time.monotonic()
    outcome = capture_log(app)
    elapsed = time.monotonic() - started
    log = outcome.get("log", "")
    sandbox_report = _sandbox_report(root / "sandbox-report.json")
    notes = _sandbox_notes(sandbox_report)
    if not outcome["success"]:
        refusal = _sandbox_refusal(root / "runtime")
        reason = refusal or _failure_reason(outcome.get("error", ""), log) + _kernel_stderr(root / "runtime")
        return JobResult(
            job["student"],
            False,
            reason,
            notes=notes,
            log=log[-LOG_TAIL:],
            kernel_start_failed=sandbox_report.get("kernel_start_failed"),
        )
    result = _collect_grades(config, job["assignment"], job["student"])
    result.notes = notes
    result.log = log[-LOG_TAIL:]
    timings = _sandbox_report(root / TIMINGS_FILE)
    result.stages = timings.get("stages", {})
    timed = ("sandbox start", "notebook execution", "evidence reading", "judges process")
    result.stages["nbgrader's other steps"] = round(elapsed - sum(result.stages.get(key, 0.0) for key in timed), 3)
    result.training_cache = timings.get("training_cache", {})
    result.cpu_seconds = float(timings.get("judges_cpu_seconds_elsewhere", 0.0))  # main() adds this process's own
    return result


def _collect_grades(config: Config, assignment: str, student: str) -> JobResult:
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gradebook:
        submission = gradebook.find_submission(assignment, student)
        result = JobResult(
            student, True, None, timestamp=submission.timestamp.isoformat() if submission.timestamp else None
        )
        for notebook in submission.notebooks:
            result.notebooks[notebook.name] = {
                "late_submission_penalty": notebook.late_submission_penalty,
                "flagged": notebook.flagged,
            }
            for grade in notebook.grades:
                result.grades.append(
                    {
                        "notebook": notebook.name,
                        "cell": grade.name,
                        "auto_score": grade.auto_score,
                        "max_score": grade.max_score,
                        "needs_manual_grade": grade.needs_manual_grade,
                    }
                )
            for comment in notebook.comments:
                result.comments.append(
                    {"notebook": notebook.name, "cell": comment.name, "auto_comment": comment.auto_comment}
                )
    return result


def _sandbox_report(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _sandbox_notes(report: dict) -> list[str]:
    notes = [f"kernel: {event}" for event in report.get("events", [])]
    notes += [f"tampering undone before the test {item}" for item in report.get("tampering", [])]
    return notes


def _kernel_stderr(runtime: Path) -> str:
    """What a kernel that failed to start printed (e.g. bubblewrap's complaint), for the reason."""
    for path in sorted(runtime.glob("*-status.json")) if runtime.is_dir() else []:
        status = json.loads(path.read_text())
        tail = status.get("stderr_tail", "").strip()
        if status.get("exit_status") and tail:
            return f"; the sandboxed kernel said: {tail.splitlines()[-1][:300]}"
        if status.get("reason") and "exit_status" not in status:  # refused before the kernel started
            return f"; the sandbox said: {str(status['reason'])[:300]}"
    return ""


def _sandbox_refusal(runtime: Path) -> str | None:
    """The sandbox's own reason when it refused to start the kernel (the submission too large, say)."""
    for path in sorted(runtime.glob("*-status.json")) if runtime.is_dir() else []:
        status = json.loads(path.read_text())
        if status.get("reason") and "exit_status" not in status:
            return str(status["reason"])[:500]
    return None


def _failure_reason(error: str, log: str) -> str:
    lines = [line for line in error.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "unknown error"
    for line in log.splitlines():
        if line.startswith("[ERROR]"):
            return f"nbgrader could not grade it: {line[len('[ERROR] ') :]} ({last})"
    return f"nbgrader could not grade it: {last}"


def child_main(root: str, log_path: str, environment: dict[str, str]) -> None:
    """Entry point in a forked child: output to ``log_path``, environment replaced, then :func:`main`."""
    import os

    descriptor = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    os.close(descriptor)
    os.environ.clear()
    os.environ.update(environment)
    main(root)


def limit_memory(limit_bytes: int | None = None) -> None:
    """Cap this process's memory (RLIMIT_DATA; ``RESNET_GRADER_JOB_MEMORY_BYTES``, default 2 GiB).

    The runner holds the messages and outputs of a kernel the student
    controls: whatever slips past the relay's caps ends in a MemoryError
    here, which fails this one job, rather than in a grader the size of the
    machine.
    """
    import os
    import resource

    limit = limit_bytes or int(os.environ.get("RESNET_GRADER_JOB_MEMORY_BYTES", JOB_MEMORY_BYTES))
    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    resource.setrlimit(resource.RLIMIT_DATA, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


CPU_ACCOUNTING = Path("/sys/fs/cgroup/cpuacct")


def _join_cpu_accounting() -> Path | None:
    """A cgroup v1 ``cpuacct`` group of this job's own, joined; its processes' children inherit it.

    The sandboxes put their processes into memory and pids groups of their own,
    never into another ``cpuacct`` group, so the group counts the CPU time of
    nbgrader, the kernel and the judges. None where no such group can be made
    (cgroup v2 alone, or no permission): the job then reports its own and its
    waited-for children's time, a lower bound.
    """
    import os

    try:
        parent = next(
            line.split(":", 2)[2].strip()
            for line in Path("/proc/self/cgroup").read_text().splitlines()
            if "cpuacct" in line.split(":", 2)[1].split(",")
        )
        group = CPU_ACCOUNTING / parent.lstrip("/") / f"resnet-grading-job-{os.getpid()}"
        group.mkdir()
        (group / "cgroup.procs").write_text(str(os.getpid()))
        return group
    except (OSError, StopIteration, IndexError):
        return None


def _cpu_seconds(group: Path | None) -> float:
    """CPU time of the job's processes (``_join_cpu_accounting``); the group is removed afterwards."""
    import os
    import resource

    if group is not None:
        try:
            usage = int((group / "cpuacct.usage").read_text()) / 1e9
            (group.parent / "cgroup.procs").write_text(str(os.getpid()))
            group.rmdir()
            return round(usage, 2)
        except (OSError, ValueError):
            pass
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return round(own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime, 2)


def main(root_argument: str | None = None) -> None:
    accounting = _join_cpu_accounting()
    limit_memory()
    warnings.simplefilter("ignore")  # nbgrader's SQLAlchemy autoflush warnings would fill the log
    root = Path(root_argument or sys.argv[1])
    try:
        result = run(root)
    except JudgesFault as fault:
        result = JobResult(root.name, False, "the assignment's judges failed", judges_fault=str(fault))
    except MissingEntry as error:
        result = JobResult(root.name, False, f"the gradebook lacks an entry: {error}")
    result.cpu_seconds += _cpu_seconds(accounting)
    JobRoot(root).result_file.write_text(json.dumps(dataclasses.asdict(result)))


if __name__ == "__main__":
    main()
