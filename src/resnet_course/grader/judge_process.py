"""Run the course's judges in a process of their own: fresh, resource-limited, never touched by student code.

:func:`run_judges` stages the judges and the evidence (data only) into a new
sandbox and starts ``python -m resnet_course.grader.judge_process`` there.
The sandbox holds no student code; it bounds what a hostile model
configuration can cost (memory, CPU, wall clock) and what a bug in its
parsing could reach. Verdicts come back one JSON line each, so a limit hit
while judging one cell fails that cell only, and the rest are judged again
in a new process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .judging import JUDGES_FOLDER, JudgesError, Memo, Verdict, check_coverage, judge_cell, load_judges

VERDICT_PREFIX = "@@verdict "
MEMO_PREFIX = "@@memo "
FAULT_PREFIX = "@@judges-fault "
REQUEST_FILE = "request.json"
#: Passed into the judges' process (for example ``RESNET_COURSE_TRAINING_TEST=skip``).
FORWARDED_VARIABLES = ("RESNET_COURSE_TRAINING_TEST",)


@dataclasses.dataclass
class Judged:
    """What the judges' processes returned.

    Attributes:
        verdicts: Grade id -> verdict.
        memos: Grade id -> what the judge stored for an identical later judgement (``Memo.store``).
        seconds: Grade id -> the seconds its judge took.
        process_seconds: Wall time of the judges' processes, start-up included.
    """

    verdicts: dict[str, Verdict] = dataclasses.field(default_factory=dict)
    memos: dict[str, object] = dataclasses.field(default_factory=dict)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    process_seconds: float = 0.0


def run_judges(folder: Path, request: dict, limits=None) -> Judged:
    """Judge every graded cell of ``request`` with the judges in ``folder``.

    Args:
        folder: The assignment's ``grader_only`` folder.
        request: ``{"graded": [grade ids], "evidence": {grade id: {key: payload}}, "challenge": {...}}``,
            and optionally ``"memo": {grade id: stored value}`` (``judging.Memo``).
        limits: The sandbox limits of the judges' process.

    Raises:
        JudgesError: the judges cannot be loaded or do not cover a graded cell (the instructor's fault).
    """
    from resnet_course.sandbox.run import run_command

    judged = Judged()
    verdicts = judged.verdicts
    pending = list(request["graded"])
    environment = {name: os.environ[name] for name in FORWARDED_VARIABLES if name in os.environ}
    while pending:
        staged = Path(tempfile.mkdtemp(prefix="resnet-judges-"))
        try:
            shutil.copytree(folder, staged / JUDGES_FOLDER, symlinks=False)
            earlier = {grade_id: [v.passed, v.message] for grade_id, v in verdicts.items()}
            (staged / REQUEST_FILE).write_text(json.dumps({**request, "graded": pending, "earlier": earlier}))
            started = time.monotonic()
            result = run_command(
                [sys.executable, "-m", "resnet_course.grader.judge_process"],
                workdir_copy=staged,
                limits=limits,
                environment=environment,
            )
        finally:
            judged.process_seconds += time.monotonic() - started
            shutil.rmtree(staged, ignore_errors=True)
        for line in result.stdout.splitlines():
            if line.startswith(FAULT_PREFIX):
                raise JudgesError(json.loads(line[len(FAULT_PREFIX) :]))
            if line.startswith(MEMO_PREFIX):
                grade_id, value = json.loads(line[len(MEMO_PREFIX) :])
                if grade_id in pending:
                    judged.memos[grade_id] = value
            if line.startswith(VERDICT_PREFIX):
                grade_id, passed, message, seconds = json.loads(line[len(VERDICT_PREFIX) :])
                if grade_id in pending:
                    verdicts[grade_id] = Verdict(bool(passed), str(message))
                    judged.seconds[grade_id] = float(seconds)
                    pending.remove(grade_id)
        if pending and result.exit_status == 0:
            raise JudgesError(f"the judges' process ended without judging {', '.join(pending)}")
        if pending:
            why = result.reason or f"it stopped with status {result.exit_status}"
            if not result.reason and not verdicts and result.exit_status != 0 and "Traceback" in result.stderr:
                raise JudgesError(f"the judges' process failed: {result.stderr.strip().splitlines()[-1][:500]}")
            verdicts[pending.pop(0)] = Verdict(False, f"the grader could not judge this cell: {why}")
    return judged


def main() -> int:
    """Inside the sandbox: judge what ``request.json`` asks and print one line per verdict."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    request = json.loads(Path(REQUEST_FILE).read_text())
    try:
        judges = load_judges(Path(JUDGES_FOLDER))
        check_coverage(judges, request["graded"])
    except JudgesError as error:
        print(FAULT_PREFIX + json.dumps(str(error)), flush=True)
        return 3
    earlier: dict[str, Verdict] = {
        grade_id: Verdict(passed, message) for grade_id, (passed, message) in request.get("earlier", {}).items()
    }
    everything = {key: payload for cell in request["evidence"].values() for key, payload in cell.items()}
    memos = request.get("memo", {})
    for grade_id in request["graded"]:
        started = time.monotonic()
        memo = Memo(memos.get(grade_id))
        try:
            evidence = request["evidence"].get(grade_id, {})
            verdict = judge_cell(judges, grade_id, evidence, request["challenge"], earlier, everything, memo)
            earlier[grade_id] = verdict
        except JudgesError as error:
            print(FAULT_PREFIX + json.dumps(str(error)), flush=True)
            return 3
        if memo.stored is not None:
            print(MEMO_PREFIX + json.dumps([grade_id, memo.stored]), flush=True)
        seconds = round(time.monotonic() - started, 3)
        print(VERDICT_PREFIX + json.dumps([grade_id, verdict.passed, verdict.message, seconds]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
