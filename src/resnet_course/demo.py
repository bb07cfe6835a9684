"""The instructor's whole grading flow on a sample class (``make demo``).

1. generate the student version of the assignment with nbgrader;
2. write a class of sample submissions made from the master notebook;
3. autograde each submission, recording whether it could be graded;
4. generate feedback (results and messages, no hidden test code);
5. export grades to CSV, print a table, and plot the grade distribution.

Everything lands in ``autograder/demo/`` (git-ignored), a course folder of
its own, so the instructor's real gradebook is never touched.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from .autograde import Course, grade_submission, run_nbgrader
from .export import collect_rows, format_table, plot_distribution, write_csv
from .notebook_code import REPO_ROOT
from .sample_class import ASSIGNMENT, SAMPLE_CLASS, write_sample_class

DEMO_ROOT = REPO_ROOT / "autograder" / "demo"
MARKER = ".made-by-make-demo"


def fresh_course(root: Path) -> Course:
    """An empty course folder; refuses to delete a folder the demo did not make."""
    if root.exists():
        if not (root / MARKER).exists():
            raise SystemExit(f"{root} exists and was not made by `make demo`; move it away first.")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / MARKER).write_text("Made by `make demo`; deleted and rebuilt by the next run.\n")
    return Course(root)


def shown(path: Path) -> str:
    """A path relative to the repository when it lies inside it."""
    path = Path(path)
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def step(number: int, text: str) -> None:
    print(f"\n[{number}/5] {text}", flush=True)


def check(result, what: str) -> None:
    if result.returncode != 0:
        raise SystemExit(f"{what} failed:\n{result.stdout}\n{result.stderr}")


def run_demo(root: Path = DEMO_ROOT, students=SAMPLE_CLASS) -> int:
    from tqdm import tqdm

    started = time.perf_counter()
    course = fresh_course(root)

    step(1, f"Generating the student version of '{ASSIGNMENT}' from solutions/{ASSIGNMENT}/")
    check(run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force"), "nbgrader generate_assignment")

    step(2, f"Writing {len(students)} sample submissions made from the master notebook")
    write_sample_class(course.submitted, students)
    for student in students:
        print(f"  {student.student_id:<22} {student.description}")

    step(3, "Autograding (each submission runs its notebook and the hidden tests)")
    outcomes = []
    bar = tqdm(students, unit="submission", file=sys.stdout, dynamic_ncols=True)
    for student in bar:
        bar.set_description(f"grading {student.student_id}")
        outcomes.append(grade_submission(course, ASSIGNMENT, student.student_id))
    graded = [o.student_id for o in outcomes if o.status == "graded"]

    step(4, "Generating feedback (hidden test code stripped)")
    check(run_nbgrader(course, "generate_feedback", ASSIGNMENT, "--force"), "nbgrader generate_feedback")
    print(f"  {len(graded)} feedback reports in {shown(course.feedback)}/")

    step(5, "Exporting grades")
    rows = collect_rows(course.db_url, ASSIGNMENT, course.status)
    csv_path = write_csv(rows, root / "grades.csv")
    plot_path = plot_distribution(rows, root / "grade_distribution.png")
    print()
    print(format_table(rows))
    print()
    print(f"grades:       {shown(csv_path)}")
    print(f"distribution: {shown(plot_path)}")
    print(f"feedback:     {shown(course.feedback)}/<student>/{ASSIGNMENT}/{ASSIGNMENT}.html")
    print(f"demo finished in {time.perf_counter() - started:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEMO_ROOT, help="course folder for the demo")
    args = parser.parse_args(argv)
    return run_demo(args.root)


if __name__ == "__main__":
    sys.exit(main())
