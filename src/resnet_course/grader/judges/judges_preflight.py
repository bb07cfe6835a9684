"""Before grading: the judges must pass on the master notebook's own answers, or grading stops.

This is what decides whose fault a failure of the judges is. If the judges
cannot judge the instructor's own solution, they are broken, and grading
stops with the cause before any submission is recorded (the instructor's
fault). If they pass here, a later failure while judging a submission
(its evidence too large, too slow or crashing the judges) is that
submission's, and fails only its own cells (``judge_process.py``).

The master's evidence comes from running its imports, solution and graded
cells (not its demonstrations) in a child process of the instructor's
Python (``python -m resnet_course.grader.judges.judges_preflight``: the master is
trusted code, and the child keeps its Keras state out of the grader), with
the pre-flight's challenge written beside it. The judges then decide every
graded cell in their usual sandbox. The training test is left out: it
costs minutes, and the master's training is measured by ``make pretrained``
and the accuracy benchmarks; every other cell must pass.

A pass is remembered in a stamp named by a digest of everything that
decides it (the judges' files, the master notebook, the package's version
and the backend), under ``~/.cache/resnet-course/`` (or
``RESNET_COURSE_CACHE_DIR``), so the next run with the same course does not
pay for it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .judging import JudgesError, challenge_for, judges_dir, judges_files, load_judges

PREFLIGHT_STUDENT = "the master notebook"
CACHE_VARIABLE = "RESNET_COURSE_CACHE_DIR"
EVIDENCE_SECONDS = 900


def _cache_dir() -> Path:
    return Path(os.environ.get(CACHE_VARIABLE) or Path.home() / ".cache" / "resnet-course") / "judges-preflight"


def _stamp(judges_folder: Path, notebook: Path) -> Path:
    from importlib import metadata

    digest = hashlib.sha256()
    for path in [*judges_files(judges_folder), notebook]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    try:
        version = metadata.version("resnet-course")
    except metadata.PackageNotFoundError:
        version = "unknown"
    digest.update(f"{version}\0{os.environ.get('KERAS_BACKEND', 'tensorflow')}".encode())
    return _cache_dir() / f"{digest.hexdigest()}.ok"


def check_master(source_dir: Path, assignment: str, notebook_name: str, limits=None) -> None:
    """Run the judges on the master's own answers; raise :class:`JudgesError` with the cause if any cell fails.

    Args:
        source_dir: The assignment's source folder (the master notebook and ``grader_only/``).
        assignment: The assignment's name.
        notebook_name: The master notebook's file name.
        limits: The judges' limits (``judge_process.JudgesLimits``).
    """
    from . import judge_process

    source_dir = Path(source_dir).resolve()
    notebook = source_dir / notebook_name
    judges_folder = judges_dir(source_dir)
    stamp = _stamp(judges_folder, notebook)
    if stamp.exists():
        return
    judges = load_judges(judges_folder)
    challenge = challenge_for(judges, assignment, PREFLIGHT_STUDENT)
    cells = master_evidence(notebook, challenge, judges_folder)
    cached = set(getattr(judges, "CACHED_JUDGEMENTS", {}))
    graded = [grade_id for grade_id in cells["graded"] if grade_id not in cached]
    errors = {grade_id: error for grade_id, error in cells["errors"].items() if grade_id in graded}
    if errors:
        grade_id, error = next(iter(errors.items()))
        raise JudgesError(f"the master notebook's own cell {grade_id} raised {error}")
    request = {"graded": graded, "evidence": {g: cells["evidence"].get(g, {}) for g in graded}, "challenge": challenge}
    judged = judge_process.run_judges(judges_folder, request, limits)
    failed = {grade_id: v.message for grade_id, v in judged.verdicts.items() if not v.passed}
    if failed:
        grade_id, message = next(iter(failed.items()))
        more = f" (and {len(failed) - 1} more cells)" if len(failed) > 1 else ""
        raise JudgesError(f"the judges do not pass the master notebook's own answers: {grade_id}: {message}{more}")
    with contextlib.suppress(OSError):
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"assignment": assignment, "graded": graded}))


def master_evidence(notebook: Path, challenge: dict, judges_folder: Path) -> dict:
    """The evidence the master's graded cells hand over: ``{"graded": [...], "evidence": {...}, "errors": {...}}``."""
    with tempfile.TemporaryDirectory(prefix="resnet-preflight-") as folder:
        (Path(folder) / "challenge.json").write_text(json.dumps(challenge))
        out = Path(folder) / "evidence.json"
        command = [sys.executable, "-m", __name__, str(notebook), str(judges_folder), folder, str(out)]
        environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"))
        try:
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=EVIDENCE_SECONDS, env=environment, cwd=folder
            )
        except subprocess.TimeoutExpired:
            raise JudgesError(f"the master notebook's cells took longer than {EVIDENCE_SECONDS} s") from None
        if completed.returncode != 0 or not out.exists():
            last = (completed.stderr.strip().splitlines() or ["no message"])[-1][:500]
            raise JudgesError(f"the master notebook's cells could not be run: {last}")
        return json.loads(out.read_text())


def _run_master(notebook: Path, judges_folder: Path, folder: Path, out: Path) -> None:
    """In the child: run the master's cells in ``folder`` (challenge file written there) and save the evidence."""
    import nbformat
    from nbgrader import utils

    from resnet_course import evidence
    from resnet_course.evidence import CHALLENGE_FILE

    from ..pipeline.demonstrations import fingerprint, read_fingerprints

    os.chdir(folder)
    sys.path.insert(0, str(notebook.parent))  # the assignment's own modules, as graded notebooks find them
    Path(CHALLENGE_FILE).write_text(Path("challenge.json").read_text())
    skipped = read_fingerprints(judges_folder)
    master = nbformat.read(notebook, as_version=4)
    sent: dict[str, dict] = {}
    current: dict = {}
    evidence._send = lambda key, payload: current.__setitem__(key, json.loads(json.dumps(payload)))
    namespace: dict = {"__name__": "__main__"}
    graded, errors = [], {}
    for cell in master.cells:
        if cell.cell_type != "code" or fingerprint(cell.source) in skipped:
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        is_test = utils.is_grade(cell) and not utils.is_solution(cell)
        current = sent.setdefault(grade_id, {}) if is_test else {}
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(compile(cell.source, grade_id or "cell", "exec"), namespace)
        except Exception as error:  # the master's own cell failed: the pre-flight reports it
            errors[grade_id or "an ungraded cell"] = f"{type(error).__name__}: {str(error)[:300]}"
        if is_test:
            graded.append(grade_id)
    out.write_text(json.dumps({"graded": graded, "evidence": sent, "errors": errors}))


if __name__ == "__main__":
    _run_master(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
