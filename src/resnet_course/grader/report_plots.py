"""The class report's plots, as PNG bytes to embed: scores, points per exercise, test pass rates.

The score histogram is ``summary.plot_distribution`` (the demo's plot); the
other two follow its style: matplotlib with the Agg backend, labelled axes,
120 dpi.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .class_results import ClassResults
from .summary import plot_distribution

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
    """Histogram of the graded students' scores (``summary.plot_distribution``)."""
    with tempfile.TemporaryDirectory() as folder:
        return plot_distribution(results.rows, Path(folder) / "scores.png").read_bytes()


def exercise_scores(results: ClassResults) -> bytes:
    """Box plot of the points per exercise over the graded students, with each exercise's mean."""
    plt = _pyplot()
    graded = results.graded
    exercises = list(results.rows[0].by_exercise) if results.rows else []
    maxima = {}
    for test in results.tests:
        maxima[test.exercise] = maxima.get(test.exercise, 0.0) + test.max_score
    fig, ax = plt.subplots(figsize=(7, 3.6))
    if graded and exercises:
        ax.boxplot([[row.by_exercise.get(e, 0.0) for row in graded] for e in exercises], showmeans=True)
        ax.set_xticks(range(1, len(exercises) + 1), exercises)
    ax.set_xlabel("exercise")
    ax.set_ylabel("points")
    ax.set_ylim(-0.3, max(maxima.values(), default=1.0) + 0.3)
    ax.set_title(f"Points per exercise over {len(graded)} graded students (triangle: mean)")
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
