"""Export grades as CSV with a status column.

``nbgrader export`` writes 0.0 both for a notebook that earned nothing and
for one that could not be graded at all. This export joins the gradebook's
scores with the recorded grading outcomes (see :mod:`resnet_course.outcomes`),
so each row says ``graded`` or ``could not be graded`` and why, and splits
the score by exercise.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .outcomes import GRADED, NOT_GRADED, read_outcomes

#: Exercises in notebook order; a test cell belongs to the one its grade_id names.
EXERCISES = ("identity_block", "convolutional_block", "ResNet50", "training")


def exercise_of(grade_id: str) -> str:
    """The exercise a test cell's grade_id belongs to (``other`` if none)."""
    for exercise in EXERCISES:
        if exercise in grade_id:
            return exercise
    return "other"


@dataclass
class GradeRow:
    """One student's line of the export."""

    student_id: str
    assignment: str
    status: str
    reason: str
    score: float
    max_score: float
    by_exercise: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def as_csv_dict(self) -> dict[str, object]:
        row = {
            "student_id": self.student_id,
            "assignment": self.assignment,
            "status": self.status,
            "reason": self.reason,
            "score": round(self.score, 2),
            "max_score": round(self.max_score, 2),
        }
        row.update({exercise: round(self.by_exercise.get(exercise, 0.0), 2) for exercise in EXERCISES})
        row["grading_seconds"] = self.seconds
        return row


def collect_rows(db_url: str, assignment: str, status_dir: Path) -> list[GradeRow]:
    """Rows for every student with a submission or a recorded outcome."""
    from nbgrader.api import Gradebook, MissingEntry

    outcomes = read_outcomes(status_dir, assignment)
    rows = []
    with Gradebook(db_url) as gradebook:
        max_score = gradebook.find_assignment(assignment).max_score
        students = sorted({s.id for s in gradebook.students} | set(outcomes))
        for student in students:
            outcome = outcomes.get(student)
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                submission = None
            graded = submission is not None and (outcome is None or outcome.status == GRADED)
            by_exercise: dict[str, float] = {}
            if graded:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        by_exercise[exercise_of(grade.name)] = by_exercise.get(exercise_of(grade.name), 0.0) + grade.score
            if outcome is None and submission is None:
                continue
            rows.append(GradeRow(
                student_id=student,
                assignment=assignment,
                status=GRADED if graded else NOT_GRADED,
                reason="" if graded else (outcome.reason if outcome else "no submission"),
                score=submission.score if graded else 0.0,
                max_score=max_score,
                by_exercise=by_exercise,
                seconds=outcome.seconds if outcome else 0.0,
            ))
    return rows


def write_csv(rows: list[GradeRow], path: Path) -> Path:
    """Write the rows as CSV (one header line, one line per student)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0].as_csv_dict()) if rows else ["student_id"])
        writer.writeheader()
        for row in rows:
            writer.writerow(row.as_csv_dict())
    return path


def format_table(rows: list[GradeRow]) -> str:
    """A plain-text table of the rows for the terminal."""
    header = ["student", "status", "score", *EXERCISES, "seconds", "reason"]
    lines = [[row.student_id, row.status, f"{row.score:g}/{row.max_score:g}",
              *(f"{row.by_exercise.get(e, 0.0):g}" for e in EXERCISES), f"{row.seconds:.0f}", row.reason[:60]]
             for row in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines)]
    render = lambda cells: "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([render(header), render(["-" * w for w in widths]), *map(render, lines)])


def plot_distribution(rows: list[GradeRow], path: Path) -> Path:
    """A histogram of the scores of graded submissions, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graded = [row.score for row in rows if row.status == GRADED]
    not_graded = sum(row.status == NOT_GRADED for row in rows)
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


def main(argv: list[str] | None = None) -> int:
    """Export the course's grades (``python -m resnet_course.export ASSIGNMENT``)."""
    import argparse

    from .autograde import course_in_repository

    parser = argparse.ArgumentParser(description="Export grades as CSV with a status column.")
    parser.add_argument("assignment")
    parser.add_argument("--csv", type=Path, default=None, help="default: autograder/grades-<assignment>.csv")
    args = parser.parse_args(argv)
    course = course_in_repository()
    rows = collect_rows(course.db_url, args.assignment, course.status)
    path = write_csv(rows, args.csv or course.root / f"grades-{args.assignment}.csv")
    print(format_table(rows))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
