"""nbgrader steps that take the decision on every graded cell out of the student's kernel.

Both grading paths (the course's grader and plain ``nbgrader autograde``)
run them around the sandboxed Execute step:

1. :class:`WriteChallenge`, before it: loads the assignment's judges
   (``judges/judging.py``), draws this submission's inputs and writes them where
   the notebook's evidence requests read them.
2. :class:`TrustedVerdicts`, after it: reads each graded cell's evidence,
   has the judges decide in a sandbox of their own (``judges/judge_process.py``: a fork of a
   preloaded judges server, or a fresh process), and
   replaces the cell's outputs with the verdict. nbgrader's SaveAutoGrades
   then scores the cell from those outputs alone: an error output means no
   points. Nothing the kernel printed, displayed or claimed about itself
   survives in a graded cell, so the kernel cannot award itself points; a
   cell whose own run raised still earns nothing.

A judge the judges file lists in ``CACHED_JUDGEMENTS`` (the training test)
is judged once per distinct model: :class:`TrustedVerdicts` looks its
result up by a key it computes from the evidence (``judges/training_cache.py``).
A judge it lists in ``SHARED_PASSES`` gets the digests of the computations
that passed it earlier in the class, and the grader adds the ones it reports.
Both steps add the seconds of each stage to ``resources["stage_seconds"]``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import time
from pathlib import Path

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors.base import NbGraderPreprocessor as Preprocessor
from traitlets import Float, Integer, Unicode

from resnet_course.evidence import CHALLENGE_FILE

from ..judges import training_cache
from ..judges.judge_process import JudgesLimits, judges_environment, run_judges
from ..judges.judging import JudgesError, answers_digest, challenge_for, judges_dir, load_judges
from .evidence_reader import BadEvidence, cell_evidence, strip_evidence
from .plain_refusals import forget_attempt

PASSED_MARK = "Graded outside your notebook: passed."
FAILED_MARK = "Graded outside your notebook: not passed."
#: Starts the line that quotes the kernel's own error (untrusted text, after the verdict).
KERNEL_ERROR_MARK = "The cell also raised"


def _judges_folder(config, assignment: str) -> Path:
    coursedir = CourseDirectory(config=config)
    return judges_dir(Path(coursedir.format_path(coursedir.source_directory, ".", assignment)))


def _graded_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code" and utils.is_grade(cell)]


class JudgesFault(SystemExit):
    """The judges could not decide: the instructor's fault. A ``SystemExit``, so that nbgrader,
    which records an ``Exception`` from a step against the student, lets it stop the run."""


def _stop(resources, error: JudgesError):
    student = forget_attempt(resources)
    raise JudgesFault(f"[resnet-course] the judges failed at {student}, who was not recorded: {error}") from None


class WriteChallenge(Preprocessor):
    """Write this submission's challenge into the notebook's folder before the kernel starts."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        folder = _judges_folder(self.config, info["assignment"])
        try:
            judges = load_judges(folder)
            answers = answers_digest(cell.source for cell in nb.cells if utils.is_solution(cell))
            challenge = challenge_for(judges, info["assignment"], info["student"], answers)
        except JudgesError as error:
            _stop(resources, error)
        cached = getattr(judges, "CACHED_JUDGEMENTS", {})
        shared = getattr(judges, "SHARED_PASSES", {})
        resources["trusted"] = {
            "folder": str(folder),
            "challenge": challenge,
            "cached": dict(cached),
            "shared": dict(shared),
        }
        path = Path(resources.get("metadata", {}).get("path") or ".") / CHALLENGE_FILE
        if path.is_symlink() or path.exists() and not path.is_file():  # a submission's folder or link of that name
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        path.write_text(json.dumps(challenge))
        return nb, resources


class TrustedVerdicts(Preprocessor):
    """Replace each graded cell's outputs with the judges' verdict on its evidence."""

    training_cache_dir = Unicode(
        "", help="Folder of the training test's results per distinct model (empty: no cache)."
    ).tag(config=True)

    training_cache_wait = Float(1800.0, help="Seconds to wait for another worker that is judging the same model.").tag(
        config=True
    )

    judges_cell_seconds = Integer(
        None, allow_none=True, help="Seconds one cell's judge may take (default: RESNET_JUDGES_CELL_SECONDS or 120)."
    ).tag(config=True)

    judges_submission_seconds = Integer(
        None,
        allow_none=True,
        help="Seconds all of a submission's judges may take, the training test included "
        "(default: RESNET_JUDGES_SUBMISSION_SECONDS or 1800).",
    ).tag(config=True)

    judges_memory_bytes = Integer(
        None, allow_none=True, help="Memory of the judges' process (default: RESNET_JUDGES_MEMORY_BYTES or 6 GiB)."
    ).tag(config=True)

    judges_threads = Integer(
        0,
        help="Threads for each of TensorFlow's pools in the judges (0: TensorFlow's default, a thread per core); "
        "the course's grader gives each submission graded at once its share of the cores.",
    ).tag(config=True)

    timings_file = Unicode("", help="JSON file to which the seconds of each grading stage are written.").tag(
        config=True
    )

    def preprocess(self, nb, resources):
        trusted = resources.get("trusted")
        if trusted is None:
            raise JudgesError("TrustedVerdicts needs WriteChallenge before the Execute step")
        stages = resources.setdefault("stage_seconds", {})
        started = time.monotonic()
        graded = _graded_cells(nb)
        evidence, errored = {}, {}
        for cell in graded:
            found = cell_evidence(cell)
            evidence[cell.metadata.nbgrader["grade_id"]] = {
                key: {"__bad_evidence__": str(value)} if isinstance(value, BadEvidence) else value
                for key, value in found.items()
            }
            errored[cell.metadata.nbgrader["grade_id"]] = _kernel_error(cell)
        for cell in nb.cells:
            strip_evidence(cell)
        request = {"graded": list(evidence), "evidence": evidence, "challenge": trusted["challenge"]}
        stages["evidence reading"] = round(time.monotonic() - started, 3)
        keys = self._cache_keys(trusted, request)
        shared = self._shared_keys(trusted, request)
        cache = training_cache.TrainingCache(Path(self.training_cache_dir)) if keys or shared else None
        request["memo"] = {grade_id: cache.get(key) for grade_id, key in keys.items()} if cache else {}
        request["memo"].update({grade_id: cache.passes(key) for grade_id, key in shared.items()})
        misses = [key for grade_id, key in keys.items() if request["memo"].get(grade_id) is None]
        try:
            with cache.locked(misses[0], self.training_cache_wait) if misses else contextlib.nullcontext():
                for grade_id, key in keys.items():  # another worker may have judged the same model meanwhile
                    request["memo"][grade_id] = request["memo"].get(grade_id) or cache.get(key)
                judged = (
                    run_judges(Path(trusted["folder"]), request, self.judges_limits(), self.judges_environment())
                    if graded
                    else None
                )
                for grade_id, value in (judged.memos if judged else {}).items():
                    if grade_id in keys:
                        cache.put(keys[grade_id], value)
                    elif grade_id in shared:
                        cache.add_passes(shared[grade_id], value)
        except JudgesError as error:
            _stop(resources, error)
        verdicts = judged.verdicts if judged else {}
        if judged:
            stages["judges process"] = round(judged.process_seconds, 3)
            stages.update({f"judge {grade_id}": seconds for grade_id, seconds in judged.seconds.items()})
        stored = judged.memos if judged else {}
        for grade_id, key in keys.items():
            # "unused": nothing found and nothing stored (the model was not trained, or its training did not end).
            found = request["memo"].get(grade_id) is not None
            outcome = "hit" if found else "miss" if grade_id in stored else "unused"
            resources.setdefault("training_cache", {})[grade_id] = f"{outcome} {key[:16]}"
        for cell in graded:
            grade_id = cell.metadata.nbgrader["grade_id"]
            cell.outputs = _verdict_outputs(verdicts[grade_id], errored[grade_id])
        resources["trusted"]["verdicts"] = {key: [v.passed, v.message] for key, v in verdicts.items()}
        if self.timings_file:
            timings = {
                "stages": stages,
                "training_cache": resources.get("training_cache", {}),
                # Judged in the grader's main process: CPU time this job's own accounting does not see.
                "judges_cpu_seconds_elsewhere": judged.cpu_seconds if judged and judged.relayed else 0.0,
            }
            Path(self.timings_file).write_text(json.dumps(timings))
        return nb, resources

    def judges_limits(self) -> JudgesLimits:
        """The configured limits, each one not set taken from the environment's (or the default)."""
        limits = JudgesLimits.from_env()
        given = {
            "cell_seconds": self.judges_cell_seconds,
            "submission_seconds": self.judges_submission_seconds,
            "memory_bytes": self.judges_memory_bytes,
        }
        return dataclasses.replace(limits, **{key: value for key, value in given.items() if value is not None})

    def judges_environment(self) -> dict[str, str]:
        """The variables passed into the judges: the forwarded ones, and the threads when set."""
        return judges_environment(self.judges_threads)

    def _shared_keys(self, trusted: dict, request: dict) -> dict[str, str]:
        """Grade id -> the key of its shared passes, for each cell the judges share passes of (none without a cache)."""
        if not self.training_cache_dir:
            return {}
        return {
            grade_id: training_cache.shared_key(grade_id, str(label), Path(trusted["folder"]), self.judges_threads)
            for grade_id, label in trusted.get("shared", {}).items()
            if grade_id in request["evidence"]
        }

    def _cache_keys(self, trusted: dict, request: dict) -> dict[str, str]:
        """Grade id -> cache key, for each cached judgement whose evidence holds a model (none without a cache)."""
        if not self.training_cache_dir:
            return {}
        keys = {}
        for grade_id, spec in trusted.get("cached", {}).items():
            if grade_id not in request["evidence"]:
                continue
            try:
                payload = canonical_payload(request["evidence"][grade_id])
                keys[grade_id] = training_cache.cache_key(
                    payload, spec, Path(trusted["folder"]), threads=self.judges_threads
                )
            except (ValueError, TypeError):  # nothing cacheable handed over: the judge decides as usual
                continue
        return keys


def canonical_payload(evidence: dict) -> str:
    """A cell's evidence as canonical text, each model's configuration as its canonical architecture.

    Raises:
        ValueError: The evidence holds no model configuration.
    """
    found = []

    def walk(value):
        if isinstance(value, dict):
            if isinstance(value.get("config"), str):
                found.append(True)
                return {"architecture": training_cache.canonical_architecture(value["config"])}
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    canonical = walk(evidence)
    if not found:
        raise ValueError("no model configuration in the evidence")
    return json.dumps(canonical, sort_keys=True)


def _kernel_error(cell) -> str | None:
    """The error the cell's own run ended with, as the kernel reported it (untrusted: it only takes points away)."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"[:1000]
    return None


def _verdict_outputs(verdict, kernel_error: str | None) -> list:
    """The graded cell's new outputs: the verdict first; what the kernel raised, if anything, after it."""
    if verdict.passed and kernel_error is None:
        return [new_output("stream", name="stdout", text=f"{PASSED_MARK} {verdict.message}".strip() + "\n")]
    if verdict.passed:
        text = f"{FAILED_MARK} The cell raised an error when it ran, and such a cell earns nothing."
    else:
        text = f"{FAILED_MARK} {verdict.message}"
    if kernel_error is not None:
        text += f"\n{KERNEL_ERROR_MARK} {kernel_error}"
    return [new_output("error", ename="NotPassed", evalue=text, traceback=text.splitlines())]
