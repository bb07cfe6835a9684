"""The class report's plots, as PNG bytes to embed: scores, points per exercise, test pass rates.

The score histogram is ``tables.plot_distribution`` (the demo's plot); the
other two follow its style: matplotlib with the Agg backend, labelled axes,
120 dpi.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .class_results import ClassResults
from .tables import plot_distribution

DPI = 120


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    """The figure as PNG bytes; the figure is closed."""
    plt = _pyplot()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plot.png"
        fig.tight_layout()
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
        return path.read_bytes()


def score_histogram(results: ClassResults) -> bytes:
    """Histogram of the graded students' scores (``tables.plot_distribution``)."""
    with tempfile.TemporaryDirectory() as folder:
        return plot_distribution(results.rows, Path(folder) / "scores.png").read_bytes()


def exercise_scores(results: ClassResults) -> bytes:
    """Bars: the graded students' mean points per exercise, against the exercise's maximum (outline)."""
    plt = _pyplot()
    graded = results.graded
    exercises = list(results.rows[0].by_exercise) if results.rows else []
    maxima = {exercise: 0.0 for exercise in exercises}
    for test in results.tests:
        maxima[test.exercise] = maxima.get(test.exercise, 0.0) + test.max_score
    means = [sum(row.by_exercise.get(e, 0.0) for row in graded) / len(graded) if graded else 0.0 for e in exercises]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    positions = list(range(len(exercises)))
    ax.bar(positions, [maxima[e] for e in exercises], color="none", edgecolor="grey", label="maximum")
    ax.bar(positions, means, color="tab:blue", label="class mean")
    ax.set_xticks(positions, exercises)
    ax.set_xlabel("exercise")
    ax.set_ylabel("points")
    ax.legend(loc="upper right", fontsize="small")
    ax.set_title(f"Points per exercise: mean of {len(graded)} graded students")
    return _png(fig)


def pass_rates(results: ClassResults) -> bytes:
    """Horizontal bars: the share of graded students passing each test, in notebook order."""
    plt = _pyplot()
    tests = results.tests
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.32 * max(len(tests), 1)))
    positions = range(len(tests))
    ax.barh(list(positions), [100 * t.pass_rate for t in tests], color="tab:blue")
    ax.set_yticks(list(positions), [t.name for t in tests])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("graded students passing (%)")
    ax.set_title("Pass rate per graded test")
    return _png(fig)
