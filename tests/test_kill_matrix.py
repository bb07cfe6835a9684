"""The kill matrix: every catalogued mistake is caught, and every alternative passes,
by the self-checks and by the hidden tests (the training test excepted).

A mistake must fail its self-check with a message that starts with the
function's name and names the mistake (the entry's ``message``: the place
and, where known, the cause) and must lose points in the hidden tests; a
correct alternative must pass its self-check and earn every hidden point.
The hidden side goes only through ``fixtures.hidden_tests.hidden_test_scores``,
which runs the graded cells as nbgrader autograde does (the self-checks step aside), so
the judges alone must take the points.
The whole matrix takes several minutes, so it is marked slow and writes
``artifacts/kill-matrix.md``; a few entries of each kind run in the fast suite.
The slow tests compute every row first, in two processes (:func:`matrix`): an
entry is mostly single-threaded Python (building models), so two at a time use
both cores of the CI machine.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os

import pytest
from fixtures.hidden_tests import hidden_test_scores
from mistakes import ALTERNATIVES, MISTAKES, REFERENCE

from resnet_course.keras_setup import silenced_stderr
from resnet_course.paths import REPO_ROOT

TABLE = REPO_ROOT / "artifacts" / "kill-matrix.md"
ENTRIES = {entry.name: entry for entry in MISTAKES + ALTERNATIVES}
#: A block mistake, a ResNet50 mistake with the reference's shapes and counts, and a ResNet50 alternative.
FAST = ("identity_without_final_relu", "resnet_stem_without_relu", "resnet_global_average_pooling_head")


#: Rows computed by the worker processes, by entry name.
_ROWS: dict[str, tuple] = {}


def row(name: str) -> tuple[str, float, float, dict]:
    """(self-check message or "", hidden points earned, possible, per-cell scores) for one entry."""
    if name not in _ROWS:
        _ROWS[name] = _computed_row(name)
    return _ROWS[name]


def _computed_row(name: str) -> tuple[str, float, float, dict]:
    entry = ENTRIES[name]
    message = ""
    with contextlib.redirect_stdout(io.StringIO()), silenced_stderr():
        try:
            entry.run_self_check()
        except AssertionError as error:
            message = str(error) or "AssertionError"
    # The other two functions are the reference's (a ResNet50 entry's blocks too), so only the
    # entry's exercise can lose points.
    scores = hidden_test_scores({**REFERENCE, entry.exercise: entry.function}, exercise=entry.exercise)
    earned = sum(score[0] for score in scores.values())
    possible = sum(score[1] for score in scores.values())
    return message, earned, possible, scores


#: Processes computing the matrix's rows (RESNET_KILL_MATRIX_WORKERS; 1 computes them in this process).
WORKERS = int(os.environ.get("RESNET_KILL_MATRIX_WORKERS", "2"))


@pytest.fixture(scope="module")
def matrix():
    """Every entry's row, computed ``WORKERS`` at a time in fresh processes and kept in :func:`row`'s cache."""
    names = [entry.name for entry in MISTAKES + ALTERNATIVES]
    if WORKERS > 1:
        # spawn: a fresh interpreter per worker, never a fork of this one with TensorFlow's threads running.
        with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
            _ROWS.update(zip(names, pool.map(row, names, chunksize=1)))
    return {name: row(name) for name in names}


def assert_killed(name: str):
    entry = ENTRIES[name]
    message, earned, possible, scores = row(name)
    assert message.startswith(f"{entry.exercise}: "), f"{name}: the self-check passed or named nothing: {message!r}"
    assert entry.message in message, message
    lost = {grade_id: score[2] for grade_id, score in scores.items() if score[0] < score[1]}
    assert earned < possible and lost, f"{name} earned every hidden point ({earned}/{possible})"


def assert_full_marks(name: str):
    message, earned, possible, scores = row(name)
    assert message == "", message
    lost = {grade_id: score[2] for grade_id, score in scores.items() if score[0] < score[1]}
    assert earned == possible, f"{name} lost hidden points: {lost}"


@pytest.mark.parametrize("name", FAST)
def test_fast_subset_of_the_matrix(name):
    if name in {entry.name for entry in MISTAKES}:
        assert_killed(name)
    else:
        assert_full_marks(name)


def test_reference_earns_every_hidden_point():
    scores = hidden_test_scores(dict(REFERENCE))
    assert scores and all(earned == possible for earned, possible, _ in scores.values()), scores


@pytest.mark.slow
@pytest.mark.parametrize("entry", MISTAKES, ids=lambda entry: entry.name)
def test_every_mistake_is_caught_by_the_self_check_and_costs_hidden_points(matrix, entry):
    assert_killed(entry.name)


@pytest.mark.slow
@pytest.mark.parametrize("entry", ALTERNATIVES, ids=lambda entry: entry.name)
def test_every_alternative_passes_the_self_check_and_earns_every_hidden_point(matrix, entry):
    assert_full_marks(entry.name)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


@pytest.mark.slow
def test_matrix_is_written_as_a_table(matrix, capsys):
    lines = [
        "| entry | kind | exercise | self-check | message (start) | hidden points of the exercise |",
        "|---|---|---|---|---|---|",
    ]
    counts = {"mistakes caught": 0, "mistakes": 0, "alternatives passed": 0, "alternatives": 0}
    for entry in MISTAKES + ALTERNATIVES:
        message, earned, possible, _ = row(entry.name)
        is_mistake = entry in MISTAKES
        kind = "mistake" if is_mistake else "alternative"
        if is_mistake:
            counts["mistakes"] += 1
            counts["mistakes caught"] += bool(message) and entry.message in message and earned < possible
        else:
            counts["alternatives"] += 1
            counts["alternatives passed"] += not message and earned == possible
        verdict = "fails" if message else "passes"
        start = _cell(message.splitlines()[0])[:110] if message else ""
        lines.append(f"| {entry.name} | {kind} | {entry.exercise} | {verdict} | {start} | {earned:g}/{possible:g} |")
    summary = (
        f"{counts['mistakes caught']}/{counts['mistakes']} mistakes caught by both the self-check and the hidden "
        f"tests; {counts['alternatives passed']}/{counts['alternatives']} alternatives pass both with full points."
    )
    TABLE.parent.mkdir(exist_ok=True)
    TABLE.write_text("# Kill matrix\n\n" + summary + "\n\n" + "\n".join(lines) + "\n")
    with capsys.disabled():
        print(f"\nkill matrix: {summary} Table: {TABLE}")
    assert counts["mistakes caught"] == counts["mistakes"] and counts["alternatives passed"] == counts["alternatives"]
