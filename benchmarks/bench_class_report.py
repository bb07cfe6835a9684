"""Time to write the class report for a large class: N synthetic graded results (default 500).

Usage: ``python benchmarks/bench_class_report.py [--students N] [--repeats R]``.

The class (``tests/fixtures/graded_class.py``) is a toy course's gradebook
filled through nbgrader's Gradebook API, a grading report and one autograded
notebook per student whose failed tests carry the self-checks' diagnoses;
one in 25 could not be graded. Building it is not timed; writing the report
(reading the gradebook, the report and every autograded notebook, three
plots, the HTML) is, as wall and CPU seconds, best of R runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from fixtures import graded_class, toy_course  # noqa: E402

from resnet_course.grader.reports.class_report import write_report  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-class-report-") as scratch:
        started = time.perf_counter()
        course = graded_class.write(
            toy_course.course_copy(Path(scratch) / "course"), graded_class.synthetic_class(args.students)
        )
        print(f"built a class of {args.students} graded results in {time.perf_counter() - started:.1f} s (not timed)")
        timings = []
        for _ in range(args.repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            path, results = write_report(course, toy_course.ASSIGNMENT, Path(scratch) / "report.html")
            timings.append((time.perf_counter() - wall, time.process_time() - cpu))
        print(
            f"report for {len(results.rows)} students ({len(results.graded)} graded, "
            f"{len(results.mistakes)} named mistakes), {path.stat().st_size / 1024:.0f} KiB"
        )
        for run, (wall, cpu) in enumerate(timings, 1):
            print(f"  run {run}: {wall:.2f} s wall, {cpu:.2f} s CPU")
        best = min(timings)
        print(f"best of {len(timings)}: {best[0]:.2f} s wall, {best[1]:.2f} s CPU (first run includes imports)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
