"""The instructor's whole grading flow on a sample class (``make demo``).

1. generate the student version of the assignment with nbgrader;
2. write a class of sample submissions made from the master notebook;
3. autograde them with the sandboxed, parallel grader (``resnet_course.grader``);
4. generate feedback (results and messages, no hidden test code);
5. export grades to CSV, print a table, plot the grade distribution, and write
   the class report (``grader/reports/class_report.py``).

Everything lands in ``autograder/demo/`` (git-ignored), a course folder of
its own configured like the repository (``nbgrader_config.py``, sources from
``solutions/``), so the instructor's real gradebook is never touched. What
step 5 prints is also written to ``demo-ending.txt`` there, which
``python -m resnet_course.instructor.readme_sample`` pastes into the README.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from ..grader.jobs.autograde import autograde, settings_for
from ..grader.jobs.course import CONFIG_FILE, Course, read_config
from ..grader.jobs.instructor_faults import GradingStopped, check_before_grading
from ..grader.jobs.parallel import default_workers
from ..grader.pipeline.nbgrader_steps import generate_assignment, generate_feedback
from ..grader.reports.class_report import write_report
from ..grader.reports.class_results import terminal_summary
from ..grader.reports.export import export_rows, to_csv
from ..grader.reports.report import GRADED, StudentReport
from ..grader.reports.tables import format_table, plot_distribution
from ..paths import AUTOGRADER_DIR, REPO_ROOT, SOLUTIONS_DIR
from ..sandbox.limits import SandboxLimits
from .sample_class import ASSIGNMENT, SAMPLE_CLASS, write_sample_class

DEMO_ROOT = AUTOGRADER_DIR / "demo"
MARKER = ".made-by-make-demo"
#: What step 5 printed, as the README shows it (``instructor/readme_sample.py``).
ENDING_FILE = "demo-ending.txt"
STEP_COUNT = 5
EXPORT_STEP = "Exporting grades and writing the class report"
#: nbgrader's folders inside the demo's root; the sources stay the repository's solutions/.
FOLDERS = {"release": "release", "submitted": "submitted", "autograded": "autograded", "feedback": "feedback"}


def fresh_folder(root: Path) -> Path:
    """An empty demo folder; refuses to delete a folder the demo did not make."""
    root = Path(root).resolve()
    if root.exists():
        if not (root / MARKER).exists():
            raise SystemExit(f"{root} exists and was not made by `make demo`; move it away first.")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / MARKER).write_text("Made by `make demo`; deleted and rebuilt by the next run.\n")
    return root


def demo_course(root: Path) -> Course:
    """The repository's nbgrader configuration (header, feedback, timeouts) on the demo's folders."""
    config = read_config(REPO_ROOT / CONFIG_FILE)
    for step, folder in FOLDERS.items():
        config.CourseDirectory[f"{step}_directory"] = folder
    config.CourseDirectory.source_directory = str(SOLUTIONS_DIR)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    return Course.from_config(root, config)


def shown(path: Path) -> str:
    """A path relative to the repository when it lies inside it."""
    path = Path(path)
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def step_line(number: int, text: str) -> str:
    return f"[{number}/{STEP_COUNT}] {text}"


def step(number: int, text: str) -> None:
    print(f"\n{step_line(number, text)}", flush=True)


def grade_with_progress(course: Course, students: list[str]) -> dict[str, StudentReport]:
    """Autograde with the course's timeouts and the default sandbox limits, a bar advancing per result."""
    from tqdm import tqdm

    with tqdm(total=len(students), unit="submission", file=sys.stdout, dynamic_ncols=True) as bar:

        def advance(entry: StudentReport) -> None:
            bar.set_postfix_str(f"{entry.student}: {entry.status}")
            bar.update()

        return autograde(
            course, ASSIGNMENT, settings_for(course, SandboxLimits.from_env()), students, on_report=advance
        )


def run_demo(root: Path = DEMO_ROOT, students=SAMPLE_CLASS) -> int:
    started = time.perf_counter()
    check_before_grading(SandboxLimits.from_env().as_arguments())  # before any work; autograde reuses it
    root = fresh_folder(root)
    course = demo_course(root)
    feedback = root / FOLDERS["feedback"]

    step(1, f"Generating the student version of '{ASSIGNMENT}' from solutions/{ASSIGNMENT}/")
    generate_assignment(course, ASSIGNMENT)

    step(2, f"Writing {len(students)} sample submissions made from the master notebook")
    write_sample_class(root / FOLDERS["submitted"], students)
    for student in students:
        print(f"  {student.student_id:<22} {student.description}")

    step(
        3,
        f"Autograding, {default_workers()} sandboxed submissions at a time "
        "(each runs its notebook and the hidden tests)",
    )
    reports = grade_with_progress(course, [student.student_id for student in students])

    step(4, "Generating feedback (hidden test code stripped)")
    graded = sum(entry.status == GRADED for entry in reports.values())
    if graded:
        generate_feedback(course, ASSIGNMENT)
    print(f"  {graded} feedback reports in {shown(feedback)}/")

    step(STEP_COUNT, EXPORT_STEP)
    rows = export_rows(course, ASSIGNMENT)
    csv_path = root / "grades.csv"
    csv_path.write_text(to_csv(rows))
    plot_path = plot_distribution(rows, root / "grade_distribution.png")
    report_path, results = write_report(course, ASSIGNMENT, root / "class-report.html")
    files = [
        ("grades", shown(csv_path)),
        ("distribution", shown(plot_path)),
        ("feedback", f"{shown(feedback)}/<student>/{ASSIGNMENT}/{ASSIGNMENT}.html"),
        ("class report", shown(report_path)),
    ]
    text = ending(format_table(rows), terminal_summary(results), files, time.perf_counter() - started)
    print(f"\n{text}")
    (root / ENDING_FILE).write_text(f"{step_line(STEP_COUNT, EXPORT_STEP)}\n\n{text}\n")
    return 0


def ending(table: str, summary: str, files: list[tuple[str, str]], seconds: float) -> str:
    """What the demo prints after its last step's title: the grades table, the class summary, the files written."""
    width = max(len(label) for label, _ in files) + 2
    listed = [f"{label + ':':<{width}}{path}" for label, path in files]
    return "\n".join([table, "", summary, "", *listed, f"demo finished in {seconds:.0f} s"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEMO_ROOT, help="course folder for the demo")
    args = parser.parse_args(argv)
    try:
        return run_demo(args.root)
    except GradingStopped as stopped:
        print(f"\nmake demo stopped: {stopped}", file=sys.stderr)
    except RuntimeError as error:  # an nbgrader step failed: its log says why
        print(f"\nmake demo stopped: {error}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
