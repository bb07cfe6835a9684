"""The grader's tables: what an instructor looks at after an export (a terminal table and a grade histogram)."""

from __future__ import annotations

from pathlib import Path

from .export import GradeRow
from .report import GRADED
from .text_safety import escaped

REASON_WIDTH = 60


def table_columns(exercises: list[str]) -> list[str]:
    """The columns of :func:`format_table` for an assignment of ``exercises`` (in notebook order)."""
    return ["student", "status", "score", *map(escaped, exercises), "seconds", "reason"]


def format_table(rows: list[GradeRow]) -> str:
    """A plain-text table of the rows: status, score, points per exercise, seconds and reason."""
    exercises = list(rows[0].by_exercise) if rows else []
    header = table_columns(exercises)
    lines = [
        [
            escaped(row.student_id),
            escaped(row.status),
            f"{row.score:g}/{row.max_score:g}",
            *(f"{row.by_exercise.get(e, 0.0):g}" for e in exercises),
            f"{row.seconds:.0f}",
            _shortened(row.reason),
        ]
        for row in rows
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines)]

    def render(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()

    return "\n".join([render(header), render(["-" * w for w in widths]), *map(render, lines)])


def _shortened(reason: str) -> str:
    """The reason on one line, control characters escaped, cut to the table's width."""
    text = " ".join(escaped(reason).split())
    return text if len(text) <= REASON_WIDTH else text[: REASON_WIDTH - 1] + "…"


def plot_distribution(rows: list[GradeRow], path: Path) -> Path:
    """A histogram of the scores of graded submissions, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graded = [row.score for row in rows if row.status == GRADED]
    not_graded = len(rows) - len(graded)
    max_score = max((row.max_score for row in rows), default=1.0)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.hist(graded, bins=[x - 0.5 for x in range(int(max_score) + 2)], color="tab:blue", edgecolor="white")
    ax.set_xlabel(f"score (out of {max_score:g})")
    ax.set_ylabel("students")
    ax.set_title(f"Grade distribution: {len(graded)} graded, {not_graded} could not be graded")
    ax.set_xlim(-0.5, max_score + 0.5)
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
