"""The class report: one self-contained HTML file of what the class got right and wrong.

``python -m resnet_course.grader report ASSIGNMENT [-o FILE]`` writes it
(default ``<gradebook folder>/class-report-<assignment>.html``, git-ignored) and
prints :func:`class_results.terminal_summary`. The file embeds its plots as
PNG data, so it can be mailed. Every text in it (student ids, reasons,
mistake names: all of them reachable by student code) is HTML-escaped.

Sections: the named mistakes first (what to re-teach), then the tests that
were skipped rather than failed (training skipped, code not written yet),
pass rates, scores, the submissions that could not be graded (and
``lms-left-out``: the Canvas and Moodle grade files leave them out,
``lms_export.left_out``), every student, and grading time. Tables, each with
an ``id`` for tests and scripts: ``mistakes`` (ranked, counted by mistake
id), ``skipped`` (why tests were skipped), ``tests`` (pass rate per graded
test), ``not-graded`` (reasons), ``students`` (score and points per
exercise) and ``timing`` (seconds per submission).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from ..jobs.course import Course
from . import report_plots
from .class_results import ClassResults, collect
from .lms_export import left_out
from .report import GRADED

NO_SCORE = "–"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.summary span { display: inline-block; margin-right: 2em; font-size: 1.1em; }
img { max-width: 100%; } #mistakes td:nth-child(2) { min-width: 24em; }
"""


def default_path(course: Course, assignment: str) -> Path:
    """Where the report goes without ``-o``: beside the gradebook."""
    return course.db_path.parent / f"class-report-{assignment}.html"


def write_report(course: Course, assignment: str, path: Path | None = None) -> tuple[Path, ClassResults]:
    """Collect the class's results, write the HTML report and return its path and the results."""
    results = collect(course, assignment)
    path = Path(path) if path else default_path(course, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results), encoding="utf-8")
    return path, results


def render(results: ClassResults) -> str:
    """The report's HTML text."""
    e = html.escape
    exercises = list(results.rows[0].by_exercise) if results.rows else []
    summary = "".join(
        f'<span id="{key}">{e(label)}: <b>{e(value)}</b></span>'
        for key, label, value in (
            ("count-graded", "graded", str(len(results.graded))),
            ("count-not-graded", "could not be graded", str(len(results.not_graded))),
            ("mean-score", "mean score", f"{results.mean_score:.2f} / {results.max_score:g}"),
            ("total-seconds", "grading time, whole class", f"{results.total_seconds:.1f} s"),
        )
    )
    # A submission that could not be graded shows no points: it is not a zero.
    student_rows = [
        [
            row.student_id,
            row.status,
            *(
                (_number(row.score), *(_number(row.by_exercise.get(x, 0.0)) for x in exercises))
                if row.status == GRADED
                else [NO_SCORE] * (1 + len(exercises))
            ),
        ]
        for row in results.rows
    ]
    test_rows = [
        [
            t.name,
            t.exercise,
            _number(t.max_score),
            str(t.passed),
            str(t.graded),
            f"{100 * t.pass_rate:.0f}%",
            str(t.skipped),
            t.commonest_mistake,
        ]
        for t in results.tests
    ]
    mistake_rows = [
        [
            str(rank),
            m.name,
            m.mistake_id,
            str(len(m.students)),
            ", ".join(m.tests),
            ", ".join(m.students),
            _specifics(m),
        ]
        for rank, m in enumerate(results.mistakes, 1)
    ]
    skipped_rows = [
        [m.name, m.mistake_id, str(len(m.students)), ", ".join(m.tests), ", ".join(m.students)] for m in results.skipped
    ]
    reasons = [[row.student_id, row.reason] for row in results.not_graded]
    lms_left_out = ", ".join(e(student.student_id) for student in left_out(results.rows))
    slowest = max((row.seconds for row in results.rows), default=0.0)
    timing = [
        [row.student_id, row.status, f"{row.seconds:.1f}"]
        for row in sorted(results.rows, key=lambda r: (-r.seconds, r.student_id))
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>Class report: {e(results.assignment)}</title><style>{STYLE}</style></head><body>",
            f"<h1>Class report: {e(results.assignment)}</h1>",
            f'<p class="summary">{summary}</p>',
            "<h2>Named mistakes, most students first</h2>",
            "<p>Counted by mistake id, read from the failed tests' messages (the self-check's <i>likely "
            "mistake</i>, else the message's first line) without their specifics: counts, shapes and values are "
            "listed apart. A student counts once per mistake; graded submissions only.</p>",
            _table(
                "mistakes",
                ["rank", "mistake", "id", "students", "tests", "students affected", "specifics"],
                mistake_rows,
                numeric_columns=(0, 3),
            )
            if mistake_rows
            else "<p>No failed test named a mistake.</p>",
            "<h2>Skipped tests, not mistakes</h2>",
            _table(
                "skipped",
                ["why skipped", "id", "students", "tests", "students affected"],
                skipped_rows,
                numeric_columns=(2,),
            )
            if skipped_rows
            else "<p>No test was skipped.</p>",
            "<h2>Pass rate of every graded test</h2>",
            _image(report_plots.pass_rates(results), "pass rate per test"),
            _table(
                "tests",
                ["test", "exercise", "points", "passed", "graded", "pass rate", "skipped", "commonest named mistake"],
                test_rows,
                numeric_columns=(2, 3, 4, 5, 6),
            ),
            "<h2>Scores</h2>",
            _image(report_plots.score_histogram(results), "score histogram"),
            _image(report_plots.exercise_scores(results), "points per exercise"),
            "<h2>Could not be graded</h2>",
            _table("not-graded", ["student", "reason"], reasons) if reasons else "<p>Every submission was graded.</p>",
            f'<p id="lms-left-out">Left out of the Canvas and Moodle grade files (<code>export --format '
            f"canvas|moodle</code>; <code>--ungraded blank</code> writes them with a blank grade), so the LMS "
            f"keeps their grade: {lms_left_out}.</p>"
            if lms_left_out
            else "",
            "<h2>Every student</h2>",
            _table("students", ["student", "status", "score", *exercises], student_rows, numeric_from=2),
            "<h2>Grading time</h2>",
            f'<p>Whole class: <b id="timing-total">{results.total_seconds:.1f} s</b> over {len(results.rows)} '
            f"submissions, {slowest:.1f} s the longest (the sum of each job's time; grading in parallel takes "
            "less wall time).</p>",
            _table("timing", ["student", "status", "seconds"], timing, numeric_from=2),
            "</body></html>",
            "",
        ]
    )


def _specifics(mistake, most: int = 3) -> str:
    """The first few distinct specifics of a mistake's messages, and how many more there were."""
    shown = "; ".join(mistake.details[:most])
    more = len(mistake.details) - most
    return f"{shown}; and {more} more" if more > 0 else shown


def _number(value: float) -> str:
    return f"{value:g}"


def _image(png: bytes, alt: str) -> str:
    return f'<p><img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}"></p>'


def _table(
    table_id: str,
    header: list[str],
    rows: list[list[str]],
    numeric_from: int | None = None,
    numeric_columns: tuple[int, ...] = (),
) -> str:
    """An HTML table; every cell escaped; numeric columns right-aligned."""

    def kind(index: int) -> str:
        numeric = index in numeric_columns or (numeric_from is not None and index >= numeric_from)
        return ' class="num"' if numeric else ""

    head = "".join(f"<th{kind(i)}>{html.escape(cell)}</th>" for i, cell in enumerate(header))
    body = "\n".join(
        "<tr>" + "".join(f"<td{kind(i)}>{html.escape(cell)}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<table id="{html.escape(table_id)}"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>'
