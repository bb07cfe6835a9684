"""The mistake each failed test named: read from the autograded notebooks, as data.

A failed test cell's error output (``ename``, ``evalue``) in the autograded
copy of the notebook is the trusted verdict (``pipeline/trusted_verdicts.py``): the
judges' message, decided outside the kernel, which carries the checks'
diagnosis. Its prefix is dropped, and the line quoting the kernel's own
error, and everything after it, is never read (the kernel wrote it).

:func:`diagnose` turns a message into a :class:`Diagnosis`: a stable mistake
id to count, a readable label, and the message's specifics as detail, so that
one mistake is counted once whatever counts, shapes or values its message
names. The rule, applied here to the verdict's text and never to anything the
kernel can set:

1. the text read is the one after ``likely mistake:`` (the self-checks' hint
   line), else the message's first line;
2. a text that starts like one of :data:`KNOWN_MESSAGES` gets that entry's id
   and label. They are the messages that follow their fixed words with the
   kernel's (``building it raised ...``: the error the student's code raised),
   and the tests that were skipped rather than failed (training skipped
   until the exercises pass, or switched off; code not written yet);
3. any other text is cut to its skeleton (:func:`skeleton`): a leading
   ``"<function>: "`` is kept; quoted values, bracketed groups holding a number
   and numbers become ``…``; the text stops at its first ``": "``, ``"; "`` or
   ``". "`` (the specifics after it) and loses a trailing colon or full stop.
   The label is the skeleton, the id its words in lower case joined by ``-``;
4. an empty message: :data:`UNFINISHED` for ``NotImplementedError``, else
   ``"<ename> (no message)"``.

A failed test of an exercise whose answer cell the student left as released
(:func:`unwritten_answers`, the sources compared) was not written yet: listed
with the skipped tests, not as a mistake.

Whitespace runs become one space, control characters and terminal escape
sequences are dropped, and a text is cut to :data:`NAME_LIMIT` characters.
Nothing in a notebook is executed or rendered here.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from ..jobs.course import Course
from ..pipeline.trusted_verdicts import FAILED_MARK, KERNEL_ERROR_MARK
from .exercises import exercise_of

HINT = "likely mistake:"
NAME_LIMIT = 160
ID_LIMIT = 80
UNFINISHED = "the code is not written yet"
NOT_WRITTEN_ID = "not-written-yet"
#: What the skeleton puts in place of a specific (a count, a shape, a quoted value).
SPECIFIC = "…"
#: Larger autograded notebooks are skipped rather than read.
MAX_NOTEBOOK_BYTES = 64 * 2**20
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FUNCTION = re.compile(r"[A-Za-z_][\w.]*: ")
_QUOTED = re.compile(r"""(?<!\w)(['"`])(?:(?!\1).)*\1(?!\w)""")
_GROUP = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]|\{([^{}]*)\}")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w])", re.IGNORECASE)
_CLAUSE_END = re.compile(r": |; |\. ")


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """What one failed test's verdict named, as the class report counts it.

    Attributes:
        mistake_id: Stable id: the same mistake has the same id whatever specifics its message names.
        label: The mistake in words, for the report.
        detail: The specifics: the text the label was read from, when it says more than the label.
        skipped: The test was skipped, not failed on its merits (training skipped or switched off,
            code not written yet): the report lists it apart from the mistakes.
    """

    mistake_id: str
    label: str
    detail: str = ""
    skipped: bool = False


@dataclasses.dataclass(frozen=True)
class KnownMessage:
    """A message the rule names by its first words, whatever follows them.

    Attributes:
        start: The message's first words (matched at its start, case-insensitively).
        mistake_id: The id it is counted under.
        label: Its label.
        skipped: The test was skipped, not failed.
    """

    start: str
    mistake_id: str
    label: str
    skipped: bool = False


KNOWN_MESSAGES = (
    KnownMessage("training skipped", "training-skipped", "training skipped until the exercises it needs pass", True),
    KnownMessage(
        "the training test was skipped by the grader's configuration",
        "training-switched-off",
        "the training test was switched off in the grader's configuration",
        True,
    ),
    KnownMessage(UNFINISHED, NOT_WRITTEN_ID, UNFINISHED, True),
    # The judges' messages that go on with the kernel's words (an error the student's code raised,
    # the layers of the model the kernel handed over): the id never depends on them.
    KnownMessage("building it raised", "building-raised", "building it raised an error"),
    KnownMessage("the model uses", "model-not-keras-layers", "the model uses a layer that is not one of Keras' own"),
    KnownMessage(
        "the model could not be rebuilt", "model-not-rebuilt", "the model could not be rebuilt from its configuration"
    ),
    KnownMessage("the cell raised an error when it ran", "cell-raised", "the cell raised an error when it ran"),
)


def clean_text(text: str, limit: int = NAME_LIMIT) -> str:
    """``text`` on one line: escape sequences and control characters removed, cut to ``limit``."""
    text = " ".join(_CONTROL.sub("", _ESCAPES.sub("", str(text))).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _verdict_lines(evalue: str) -> list[str]:
    """The lines of a verdict's message, without its prefix and without what the kernel said."""
    lines = []
    for line in str(evalue).splitlines():
        if line.startswith(KERNEL_ERROR_MARK):
            break
        lines.append(line[len(FAILED_MARK) :].strip() if line.startswith(FAILED_MARK) else line)
    return lines


def skeleton(text: str) -> str:
    """``text`` without its specifics (rule 3 of the module docstring): the label of a mistake."""
    function = _FUNCTION.match(text)
    prefix, rest = (function.group(0), text[function.end() :]) if function else ("", text)
    rest = _QUOTED.sub(SPECIFIC, rest)
    for _ in range(32):  # innermost groups first; a few levels are all a message nests
        shorter = _GROUP.sub(_without_numbers, rest)
        if shorter == rest:
            break
        rest = shorter
    rest = _NUMBER.sub(SPECIFIC, rest)
    rest = _CLAUSE_END.split(rest, maxsplit=1)[0]
    rest = re.sub(f"{SPECIFIC}(\\s*{SPECIFIC})+", SPECIFIC, rest).strip().rstrip(":.").strip()
    return clean_text(prefix + rest) if rest else clean_text(prefix.rstrip(": "))


def _without_numbers(group: re.Match) -> str:
    """A bracketed group holding a number or a specific, as its brackets around ``…``; others as they are."""
    inner = next(part for part in group.groups() if part is not None)
    if not re.search(rf"[\d{SPECIFIC}]", inner) or inner == SPECIFIC:
        return group.group(0)
    return group.group(0)[0] + SPECIFIC + group.group(0)[-1]


def mistake_id(label: str) -> str:
    """The id of a label: its words in lower case, joined by ``-``, cut at a word to :data:`ID_LIMIT`."""
    words = re.findall(r"[a-z0-9_]+", label.lower())
    text = "-".join(words)
    if len(text) > ID_LIMIT:
        text = text[: ID_LIMIT + 1].rsplit("-", 1)[0]
    return text or "no-words"


def diagnose(ename: str, evalue: str) -> Diagnosis:
    """The diagnosis of a failed test's error output (rules in the module docstring)."""
    lines = [clean_text(line, 10 * NAME_LIMIT) for line in _verdict_lines(evalue)]
    text = ""
    for line in lines:
        if line.lower().startswith(HINT):
            text = line[len(HINT) :].strip()
            if text:
                break
    text = text or next((line for line in lines if line), "")
    if not text:
        if ename == "NotImplementedError":
            return Diagnosis(NOT_WRITTEN_ID, UNFINISHED, skipped=True)
        label = clean_text(f"{ename or 'Error'} (no message)")
        return Diagnosis(mistake_id(label), label)
    function = _FUNCTION.match(text)
    for known in KNOWN_MESSAGES:
        for start in (text, text[function.end() :] if function else text):
            if start.lower().startswith(known.start.lower()):
                return Diagnosis(known.mistake_id, known.label, _detail(text, known.label), known.skipped)
    label = skeleton(text)
    return Diagnosis(mistake_id(label), label, _detail(text, label))


def _detail(text: str, label: str) -> str:
    detail = clean_text(text)
    return "" if detail.rstrip(".:") == label else detail


def unwritten_answers(notebook: dict, released: dict) -> set[str]:
    """The grade ids of the answer cells that ``notebook`` holds exactly as ``released`` had them."""
    as_released = {meta["grade_id"]: _source(cell) for cell, meta in _nbgrader_cells(released) if meta.get("solution")}
    return {
        meta["grade_id"]
        for cell, meta in _nbgrader_cells(notebook)
        if meta.get("solution")
        and meta.get("grade_id") in as_released
        and _source(cell).strip() == as_released[meta["grade_id"]].strip()
    }


def notebook_diagnoses(notebook: dict, released: dict | None = None) -> dict[str, Diagnosis]:
    """Test cell grade id -> diagnosis, for each graded test cell with an error output.

    Args:
        notebook: An autograded notebook's JSON.
        released: The notebook as released; with it, a failed test of an answer left as released
            is diagnosed "not written yet".
    """
    unwritten = unwritten_answers(notebook, released) if released else set()
    answers = [meta["grade_id"] for _, meta in _nbgrader_cells(released or {}) if meta.get("solution")]
    found = {}
    for cell, meta in _nbgrader_cells(notebook):
        if not meta.get("grade") or meta.get("solution"):
            continue
        for output in cell.get("outputs", []) or []:
            if isinstance(output, dict) and output.get("output_type") == "error":
                test = str(meta.get("grade_id", ""))
                diagnosis = diagnose(output.get("ename", ""), output.get("evalue", ""))
                if not diagnosis.skipped and exercise_of(test, answers) in unwritten:
                    diagnosis = Diagnosis(NOT_WRITTEN_ID, UNFINISHED, diagnosis.detail or diagnosis.label, True)
                found[test] = diagnosis
                break
    return found


def _nbgrader_cells(notebook) -> list[tuple[dict, dict]]:
    """(cell, its nbgrader metadata with a grade id) for each such cell; nothing for a malformed notebook."""
    cells = notebook.get("cells", []) if isinstance(notebook, dict) else []
    found = []
    for cell in cells if isinstance(cells, list) else []:
        metadata = cell.get("metadata") if isinstance(cell, dict) else None
        meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
            found.append((cell, meta))
    return found


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def read_notebook_json(path: Path) -> dict | None:
    """The notebook's JSON, or None when it is missing, a link, too large or not JSON."""
    path = Path(path)
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def class_diagnoses(
    course: Course, assignment: str, students: list[str], released: dict[str, dict]
) -> dict[str, dict[str, Diagnosis]]:
    """Student -> {test cell: diagnosis}, read from each student's autograded notebooks.

    Args:
        course: The course.
        assignment: The assignment.
        students: The students to read (those graded).
        released: The assignment's notebooks as released: name without ``.ipynb`` -> notebook.
    """
    diagnoses = {}
    for student in students:
        folder = course.folder("autograded", student, assignment)
        found: dict[str, Diagnosis] = {}
        for name, notebook_as_released in released.items():
            notebook = read_notebook_json(folder / f"{name}.ipynb")
            found.update(notebook_diagnoses(notebook, notebook_as_released) if notebook else {})
        diagnoses[student] = found
    return diagnoses
