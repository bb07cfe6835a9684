"""The course's judges: what decides each graded cell's points, outside the student's kernel.

An assignment's judges live beside its master notebook, in
``<source>/<assignment>/grader_only/judges.py`` (``grader_only`` is in
nbgrader's ignore list, so it is never released or copied next to a
submission). The module defines:

* ``challenge(rng) -> dict``: the inputs each evidence key gets, drawn for
  one submission with ``rng`` (a ``random.Random`` seeded from the student,
  the assignment and the content of the student's answer cells: a regrade of
  the same notebook asks the same, and any change of an answer draws new
  inputs, so a table of answers collected from earlier feedback earns nothing);
* ``JUDGES``: grade id -> ``(evidence key, judge)``, where
  ``judge(payload, challenge_part)`` returns a :class:`Verdict` or raises
  ``AssertionError`` (or :class:`Rejected`) with a message for the student.
  A judge may also ask, by parameter name, for ``earlier`` (the verdicts of
  the cells judged before it, in the notebook's order: a training test that
  needs the exercises right first), ``evidence`` (every cell's evidence by
  key) and ``challenge`` (the whole challenge): ResNet50 is judged with the
  blocks the block cells handed over. A judge that asks for ``memo`` gets a
  :class:`Memo`: the result an identical earlier judgement stored (the
  training test's, ``training_cache.py``), or None, and a place to store its own.
  A judges file may also list cells in ``SHARED_PASSES`` (grade id -> a version
  label): their judges get, in ``memo``, the digests of every computation that
  passed them before in this class, and skip judging one again
  (:meth:`Memo.passed_before`). The grader keeps those digests; only the judge
  decides what a computation is, so it must put in it everything its verdict
  depends on.

A judge sees only data. Whatever it raises about the evidence is the
student's answer being wrong; a judges file that cannot be loaded, or a
grade id it does not cover, is the instructor's fault and stops grading.
Every verdict's message passes through :func:`bounded_message`, so a judge
may quote the evidence without measuring it first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import inspect
import random
import re
import sys
from pathlib import Path

JUDGES_FOLDER = "grader_only"
JUDGES_FILE = "judges.py"
#: The longest verdict message the student reads: one bounded line per verdict, whatever the evidence held.
MAX_MESSAGE_CHARS = 2000
#: The longest run of characters without a space that a message quotes whole. Longer runs are a student's
#: value (a name, a number, an error text) and are cut in the middle, so the judge's own words around it stay.
MAX_QUOTED_RUN = 120
_LONG_RUN = re.compile(r"\S{%d,}" % (MAX_QUOTED_RUN + 1))


def bounded_message(text: str) -> str:
    """``text`` with every over-long run of characters cut in the middle, then cut to :data:`MAX_MESSAGE_CHARS`."""

    def shorten(match: re.Match) -> str:
        run = match.group(0)
        return f"{run[:40]}…[{len(run) - 80:,} characters cut]…{run[-40:]}"

    text = _LONG_RUN.sub(shorten, str(text))
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The trusted outcome of one graded cell.

    Attributes:
        passed: Whether the cell earns its points.
        message: What the student reads in the feedback.
    """

    passed: bool
    message: str


@dataclasses.dataclass
class Memo:
    """What an identical earlier judgement of this cell stored, and what this one stores.

    The grader finds ``value`` by a key it computes itself from the evidence
    (``training_cache.py``); a judge validates it before use, since an entry
    is only as good as the judge that stored it.

    Attributes:
        value: The stored result (JSON data), or None when there is none.
        stored: What this judgement stores for the next identical one, or None.
    """

    value: object = None
    stored: object = None

    def store(self, value) -> None:
        self.stored = value

    # A judge listed in ``SHARED_PASSES`` keeps, across a class, the computations it saw pass: ``value``
    # is the digests stored so far, ``stored`` the new ones. Only passes are kept, so a failure is
    # always worded from its own judgement.

    def passed_before(self, computation: str) -> bool:
        """Whether an earlier judgement stored ``computation`` (everything that decides the verdict) as passed."""
        known = self.value if isinstance(self.value, list) else ()
        return pass_digest(computation) in known

    def remember_pass(self, computation: str) -> None:
        """Store ``computation`` as passed, for the next judgement of the same computation."""
        digest = pass_digest(computation)
        if not isinstance(self.stored, list):
            self.stored = []
        if digest not in self.stored and not self.passed_before(computation):
            self.stored.append(digest)


def pass_digest(computation: str) -> str:
    """The digest under which a passed computation is stored (``Memo.remember_pass``)."""
    return hashlib.sha256(computation.encode()).hexdigest()


class Rejected(AssertionError):
    """The evidence shows a wrong answer; the message says what is wrong."""


class JudgesError(RuntimeError):
    """The instructor's judges are missing or broken: grading must stop, no student is scored."""


def judges_dir(source_assignment_dir: Path) -> Path:
    return Path(source_assignment_dir) / JUDGES_FOLDER


def judges_files(folder: Path) -> list[Path]:
    """The files of a judges folder, sorted (Python's byte-code caches left out): what decides the judges."""
    return sorted(path for path in Path(folder).rglob("*") if path.is_file() and "__pycache__" not in path.parts)


def load_judges(folder: Path):
    """Import ``folder/judges.py`` as a fresh module (its folder first on ``sys.path`` for helpers beside it)."""
    path = Path(folder) / JUDGES_FILE
    if not path.is_file():
        raise JudgesError(f"no judges file at {path}: every graded cell needs a judge outside the notebook")
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(f"course_judges_{abs(hash(str(path)))}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception as error:
        raise JudgesError(f"the judges file {path} could not be loaded: {type(error).__name__}: {error}") from error
    finally:
        sys.path.remove(str(path.parent))
    if not isinstance(getattr(module, "JUDGES", None), dict) or not callable(getattr(module, "challenge", None)):
        raise JudgesError(f"{path} must define JUDGES (a dict) and challenge(rng)")
    return module


def challenge_for(judges, assignment: str, student: str, answers: str = "") -> dict:
    """The inputs this submission's evidence is built on.

    Args:
        judges: The loaded judges module.
        assignment: The assignment's name.
        student: The student's id.
        answers: A digest of the student's answer cells (:func:`answers_digest`): the same notebook
            gets the same inputs on every regrade; a changed answer gets new ones.
    """
    digest = hashlib.sha256(f"{assignment}\0{student}\0{answers}".encode()).digest()
    return judges.challenge(random.Random(int.from_bytes(digest[:8], "big")))


def answers_digest(sources) -> str:
    """A digest of the answer cells' sources, in order (surrounding whitespace ignored)."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(str(source).strip().encode() + b"\0")
    return digest.hexdigest()


def check_coverage(judges, graded_ids) -> None:
    """Every graded cell of the notebook must have a judge."""
    missing = sorted(set(graded_ids) - set(judges.JUDGES))
    if missing:
        raise JudgesError(f"graded cells without a judge in judges.py: {', '.join(missing)}")


def judge_cell(
    judges,
    grade_id: str,
    evidence: dict,
    challenge: dict,
    earlier: dict | None = None,
    everything: dict | None = None,
    memo: Memo | None = None,
) -> Verdict:
    """Judge one graded cell from the evidence its own outputs carried (``everything``: all cells' evidence by key).

    Returns:
        The judge's verdict, its message bounded by :func:`bounded_message`.
    """
    verdict = _judge(judges, grade_id, evidence, challenge, earlier, everything, memo)
    return Verdict(verdict.passed, bounded_message(verdict.message))


def _judge(judges, grade_id, evidence, challenge, earlier, everything, memo) -> Verdict:
    key, judge = judges.JUDGES[grade_id]
    payload = evidence.get(key)
    if payload is None:
        return Verdict(False, "the cell handed nothing to the grader: run it without changing it")
    if isinstance(payload, dict) and payload.get("__bad_evidence__"):
        return Verdict(False, payload["__bad_evidence__"])
    try:
        wanted = inspect.signature(judge).parameters
        extra = {
            "earlier": dict(earlier or {}),
            "evidence": dict(everything or {}),
            "challenge": challenge,
            "memo": memo if memo is not None else Memo(),
        }
        verdict = judge(payload, challenge.get(key), **{name: value for name, value in extra.items() if name in wanted})
    except AssertionError as error:
        return Verdict(False, str(error) or "wrong answer")
    except MemoryError:  # the process's limit (JudgesLimits.memory_bytes), reached on this cell's evidence
        return Verdict(
            False,
            "the grader ran out of memory judging what the cell handed over (the judges' memory limit); "
            "hand over a smaller model or value",
        )
    except Exception as error:  # the student's model or values broke the judge's computation
        problem = f"{type(error).__name__}: {error}"[:800]
        return Verdict(False, f"the grader could not use what the cell handed over: {problem}")
    if not isinstance(verdict, Verdict):
        raise JudgesError(f"judge for {grade_id} returned {type(verdict).__name__}, not a Verdict")
    return verdict
