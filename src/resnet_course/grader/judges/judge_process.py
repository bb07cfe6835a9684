"""Run the course's judges in a process of their own: fresh, resource-limited, never touched by student code.

:func:`run_judges` stages the judges and the evidence (data only) into a new
sandbox and starts ``python -m resnet_course.grader.judges.judge_process`` there.
The sandbox holds no student code; it bounds what a hostile model
configuration can cost and what a bug in its parsing could reach.

Limits (:class:`JudgesLimits`, the same on both grading paths): each cell
has a time limit (``JUDGES["cell_seconds"]``, longer for the cells a judges
file lists in ``CELL_SECONDS``, such as the training test), the whole
submission a budget of judges' time, and the process a memory limit.
Verdicts come back one bounded JSON line each (a message is bounded by
``judging.bounded_message``), so a limit hit while judging one cell fails
that cell only: the rest are judged in a new process while the budget
lasts, and no submission costs more than its budget. Each line carries the
request's nonce, drawn when judging starts: a library that prints a
student's text (a layer's name in a warning, say) cannot forge a verdict, a
memo or a judges fault, since the evidence was made before the nonce was.

Once the judges have passed on the master's own answers (the pre-flight,
``judges_preflight.py``), a failure while judging a submission is that
submission's: its cells fail with the reason and grading goes on. Only a
judges file that cannot be loaded or does not cover a graded cell stops
grading as the instructor's fault (:class:`~.judging.JudgesError`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import resource
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from .judging import (
    JUDGES_FOLDER,
    MAX_MESSAGE_CHARS,
    JudgesError,
    Memo,
    Verdict,
    check_coverage,
    judge_cell,
    load_judges,
)

log = logging.getLogger(__name__)

VERDICT_PREFIX = "@@verdict "
MEMO_PREFIX = "@@memo "
FAULT_PREFIX = "@@judges-fault "
CPU_PREFIX = "@@cpu-seconds "
REQUEST_FILE = "request.json"
#: Passed into the judges' process (for example ``RESNET_COURSE_TRAINING_TEST=skip``).
FORWARDED_VARIABLES = ("RESNET_COURSE_TRAINING_TEST", "RESNET_COURSE_JUDGES_PRECISION")
#: TensorFlow's thread pools in the judges: set by :func:`judges_environment` when the grader shares the cores.
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
#: Environment variables that set the judges' limits on both grading paths.
LIMIT_VARIABLES = {
    "cell_seconds": "RESNET_JUDGES_CELL_SECONDS",
    "submission_seconds": "RESNET_JUDGES_SUBMISSION_SECONDS",
    "memory_bytes": "RESNET_JUDGES_MEMORY_BYTES",
}


@dataclasses.dataclass(frozen=True)
class JudgesLimits:
    """What judging one submission may cost.

    Attributes:
        cell_seconds: Wall time for one cell's judge (a judges file's ``CELL_SECONDS`` may allow a cell more).
        submission_seconds: Wall time for all of a submission's judges together, processes included:
            the worst case one submission can cost the grader, the training test included.
        memory_bytes: Memory of the judges' process.
    """

    cell_seconds: int = 120
    submission_seconds: int = 1800
    memory_bytes: int = 6 * 1024**3

    @classmethod
    def from_env(cls) -> "JudgesLimits":
        """The defaults, overridden by ``RESNET_JUDGES_*`` variables (both grading paths read them)."""
        values = {}
        for field, variable in LIMIT_VARIABLES.items():
            raw = os.environ.get(variable)
            if raw is not None:
                try:
                    values[field] = int(raw)
                except ValueError:
                    raise ValueError(f"{variable}={raw!r} is not a whole number; unset it or give an integer") from None
        return cls(**values)


@dataclasses.dataclass
class Judged:
    """What the judges' processes returned.

    Attributes:
        verdicts: Grade id -> verdict.
        memos: Grade id -> what the judge stored for an identical later judgement (``Memo.store``).
        seconds: Grade id -> the seconds its judge took.
        process_seconds: Wall time of the judges' processes, start-up included.
        cpu_seconds: Their CPU time (a preloaded server's start-up is billed to the first submission it judged).
        relayed: Whether the grader's main process judged it (``judges_relay``), so that its CPU time is
            not in the asking process's own accounting.
    """

    verdicts: dict[str, Verdict] = dataclasses.field(default_factory=dict)
    memos: dict[str, object] = dataclasses.field(default_factory=dict)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    process_seconds: float = 0.0
    cpu_seconds: float = 0.0
    relayed: bool = False


def run_judges(
    folder: Path, request: dict, limits: JudgesLimits | None = None, environment: dict[str, str] | None = None
) -> Judged:
    """Judge every graded cell of ``request`` with the judges in ``folder``.

    Where the grader's main process offers its preloaded judges (``judges_relay.py``) they judge;
    otherwise this process does (:func:`judge_here`).

    Args:
        folder: The assignment's ``grader_only`` folder.
        request: ``{"graded": [grade ids], "evidence": {grade id: {key: payload}}, "challenge": {...}}``,
            and optionally ``"memo": {grade id: stored value}`` (``judging.Memo``).
        limits: What judging this submission may cost (default: :meth:`JudgesLimits.from_env`).
        environment: The variables passed into the judges (default: this process's
            :data:`FORWARDED_VARIABLES`).

    Raises:
        JudgesError: the judges cannot be loaded or do not cover a graded cell (the instructor's fault).
    """
    from . import judges_relay

    limits = limits or JudgesLimits.from_env()
    if environment is None:
        environment = judges_environment()
    address = os.environ.get(judges_relay.RELAY_VARIABLE)
    if address:
        try:
            return judges_relay.ask(address, folder, request, limits, environment)
        except judges_relay.RelayUnavailable as error:
            log.warning("judging in this process: %s", error)
    return judge_here(folder, request, limits, environment)


def judges_environment(threads: int = 0) -> dict[str, str]:
    """The variables passed into the judges: this process's :data:`FORWARDED_VARIABLES`, and the threads.

    Args:
        threads: Threads for each of TensorFlow's pools in the judges (:data:`THREAD_VARIABLES`); 0 leaves
            TensorFlow's default, a thread per core. The grader gives each of N submissions graded at
            once its share of the cores: N trainings of a thread per core each contend for the same
            cores and train slower in all than N trainings of a share each.
    """
    environment = {name: os.environ[name] for name in FORWARDED_VARIABLES if name in os.environ}
    if threads > 0:
        environment.update(dict.fromkeys(THREAD_VARIABLES, str(int(threads))))
    return environment


def judge_here(folder: Path, request: dict, limits: JudgesLimits, environment: dict[str, str]) -> Judged:
    """Judge ``request`` from this process: in a preloaded judges server where one works, else in fresh processes.

    Each round judges the cells still pending; a limit hit on one cell fails that cell only,
    and the rest are judged in a new round while the submission's budget lasts. A server that
    cannot answer costs its round's time only: the round is judged again in a fresh process.
    """
    from . import preloaded_judges

    judged = Judged()
    verdicts = judged.verdicts
    pending = list(request["graded"])
    request = {**request, "cell_seconds": limits.cell_seconds, "nonce": secrets.token_hex(16)}
    nonce = request["nonce"]
    deadline = time.monotonic() + limits.submission_seconds
    preloaded = preloaded_judges.enabled()
    while pending:
        remaining = int(deadline - time.monotonic())
        if remaining <= 0:
            for grade_id in pending:
                verdicts[grade_id] = Verdict(
                    False,
                    f"not judged: judging this submission used up its {limits.submission_seconds} s "
                    "(a cell before it took too long)",
                )
            break
        earlier = {grade_id: [v.passed, v.message] for grade_id, v in verdicts.items()}
        round_request = {**request, "graded": pending, "earlier": earlier}
        started = time.monotonic()
        try:
            if preloaded:
                try:
                    with preloaded_judges.borrowed(folder, environment, limits.memory_bytes) as server:
                        served = server.judge(round_request, remaining * (os.cpu_count() or 1), remaining)
                except preloaded_judges.ServerUnavailable as error:
                    log.warning("judging in a fresh process: %s", error)
                    preloaded = False
                    continue
                judged.cpu_seconds += served.cpu_seconds
                _read_lines(served.output, pending, judged, nonce)
                if pending:  # what stopped the child is judged, and worded, as a fresh process does
                    preloaded = False
                continue
            result = _fresh_process(folder, round_request, limits, environment, remaining)
            _read_lines(result.stdout, pending, judged, nonce)
        finally:
            judged.process_seconds += time.monotonic() - started
        if pending:
            verdicts[pending.pop(0)] = Verdict(False, f"the grader could not judge this cell: {_failure(result)}")
    return judged


def _fresh_process(folder: Path, request: dict, limits: JudgesLimits, environment: dict[str, str], remaining: int):
    """Run ``request`` through a new judges' process in a sandbox of its own; return its ``SandboxResult``."""
    from resnet_course.sandbox.run import run_command

    sandbox = sandbox_limits(limits.memory_bytes, remaining)
    staged = Path(tempfile.mkdtemp(prefix="resnet-judges-"))
    try:
        shutil.copytree(folder, staged / JUDGES_FOLDER, symlinks=False)
        (staged / REQUEST_FILE).write_text(json.dumps(request))
        return run_command(
            [sys.executable, "-m", "resnet_course.grader.judges.judge_process"],
            workdir_copy=staged,
            limits=sandbox,
            environment=environment,
        )
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def sandbox_limits(memory_bytes: int, seconds: int):
    """The sandbox's limits for judges that may run ``seconds`` (on every core) within ``memory_bytes``."""
    from resnet_course.sandbox.limits import SandboxLimits

    return dataclasses.replace(
        SandboxLimits.from_env(),
        wall_seconds=seconds,
        cpu_seconds=seconds * (os.cpu_count() or 1),
        memory_bytes=memory_bytes,
    )


def say(prefix: str, nonce: str, text: str) -> None:
    """Print one line of the judges' answer: ``prefix``, the request's nonce, then ``text``."""
    print(f"{prefix}{nonce} {text}", flush=True)


def _read_lines(output: str, pending: list[str], judged: Judged, nonce: str) -> None:
    """Take the verdicts, memos and CPU time of a judges' output for the pending cells (a fault stops grading).

    Only lines with the request's ``nonce`` count: anything else in the output was printed by a library."""

    def said(line: str, prefix: str):
        start = f"{prefix}{nonce} "
        return line[len(start) :] if line.startswith(start) else None

    for line in output.splitlines():
        if (fault := said(line, FAULT_PREFIX)) is not None:
            raise JudgesError(json.loads(fault))
        try:
            if (cpu := said(line, CPU_PREFIX)) is not None:
                judged.cpu_seconds += max(0.0, float(cpu))
            if (memo := said(line, MEMO_PREFIX)) is not None:
                grade_id, value = json.loads(memo)
                if grade_id in pending:
                    judged.memos[grade_id] = value
            if (verdict := said(line, VERDICT_PREFIX)) is not None:
                grade_id, passed, message, seconds = json.loads(verdict)
                if grade_id in pending:
                    judged.verdicts[grade_id] = Verdict(bool(passed), str(message)[:MAX_MESSAGE_CHARS])
                    judged.seconds[grade_id] = float(seconds)
                    pending.remove(grade_id)
        except (ValueError, TypeError):  # a line cut short: that cell is judged again
            continue


def _failure(result) -> str:
    """Why the judges' process stopped before a cell's verdict, in words a student can act on."""
    if result.reason:
        return (
            f"{result.reason}. Judging what this cell handed over costs more than the grader allows; "
            "hand over a smaller model or value"
        )
    last = result.stderr.strip().splitlines()[-1][:300] if result.stderr.strip() else ""
    if "MemoryError" in last:
        return "it ran out of memory on what the cell handed over; hand over a smaller model or value"
    if result.exit_status == 0:
        return "its verdict could not be read (the judges' output was cut short)"
    return f"the judges' process stopped (status {result.exit_status}{': ' + last if last else ''})"


class CellTimeLimit(BaseException):
    """A judge ran past its cell's time limit (a BaseException, so no judge's ``except Exception`` hides it)."""


@contextlib.contextmanager
def _time_limit(seconds: int):
    def stop(signum, frame):
        raise CellTimeLimit()

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(max(1, int(seconds)))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def main() -> int:
    """Inside the sandbox: judge what ``request.json`` asks and print one line per verdict."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    request = json.loads(Path(REQUEST_FILE).read_text())
    nonce = str(request.get("nonce", ""))
    try:
        judges = load_judges(Path(JUDGES_FOLDER))
    except JudgesError as error:
        say(FAULT_PREFIX, nonce, json.dumps(str(error)))
        return 3
    try:
        return judge_request(judges, request)
    finally:
        # The grader cannot see a sandboxed process's CPU time (bubblewrap does not pass it on): say it.
        usage = resource.getrusage(resource.RUSAGE_SELF)
        say(CPU_PREFIX, nonce, f"{usage.ru_utime + usage.ru_stime:.3f}")


def judge_request(judges, request: dict) -> int:
    """Judge each cell of ``request`` with the loaded ``judges``, printing one line per verdict (and memo).

    Returns:
        The process' exit status: 0, or 3 after a judges fault (printed as a :data:`FAULT_PREFIX` line).
    """
    nonce = str(request.get("nonce", ""))
    try:
        check_coverage(judges, request["graded"])
    except JudgesError as error:
        say(FAULT_PREFIX, nonce, json.dumps(str(error)))
        return 3
    earlier: dict[str, Verdict] = {
        grade_id: Verdict(passed, message) for grade_id, (passed, message) in request.get("earlier", {}).items()
    }
    everything = {key: payload for cell in request["evidence"].values() for key, payload in cell.items()}
    memos = request.get("memo", {})
    allowed = cell_allowances(judges, request)
    for grade_id in request["graded"]:
        started = time.monotonic()
        memo = Memo(memos.get(grade_id))
        try:
            evidence = request["evidence"].get(grade_id, {})
            with _time_limit(allowed[grade_id]):
                verdict = judge_cell(judges, grade_id, evidence, request["challenge"], earlier, everything, memo)
        except JudgesError as error:
            say(FAULT_PREFIX, nonce, json.dumps(str(error)))
            return 3
        except CellTimeLimit:
            verdict = Verdict(
                False,
                f"the grader stopped judging this cell after {allowed[grade_id]} s: what it handed over takes "
                "longer to judge than the grader allows",
            )
            memo.stored = None
        earlier[grade_id] = verdict
        if memo.stored is not None:
            say(MEMO_PREFIX, nonce, json.dumps([grade_id, memo.stored]))
        seconds = round(time.monotonic() - started, 3)
        say(VERDICT_PREFIX, nonce, json.dumps([grade_id, verdict.passed, verdict.message, seconds]))
    return 0


def cell_allowances(judges, request: dict) -> dict[str, int]:
    """Grade id -> the seconds its judge may take: the request's ``cell_seconds``, or the judges file's own."""
    allowed = {grade_id: request.get("cell_seconds", 120) for grade_id in request["graded"]}
    allowed.update({k: int(v) for k, v in getattr(judges, "CELL_SECONDS", {}).items() if k in allowed})
    return allowed


if __name__ == "__main__":
    sys.exit(main())
