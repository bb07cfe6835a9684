"""Grading throughput: submissions per hour serially and with 2 workers, and the
per-submission overhead of sandboxed grading beyond the notebook's own compute.

Usage: ``python benchmarks/bench_grading.py [--students N]`` (needs bubblewrap).

The class is N copies of a correct toy-assignment submission (tests/fixtures), so
the notebook's own compute is tiny and almost all of the time is overhead: the
sandbox, the kernel's start and stop, nbgrader's conversion and the gradebook merge.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from fixtures import bad_submissions, toy_course  # noqa: E402

from resnet_course.grader.jobs.autograde import autograde, settings_for  # noqa: E402
from resnet_course.grader.jobs.course import Course  # noqa: E402
from resnet_course.sandbox.limits import SandboxLimits  # noqa: E402


def notebook_compute_seconds(course: Path, repeats: int = 5) -> float:
    """Time to run the correct notebook's code cells in this process (no kernel, no sandbox)."""
    notebook = bad_submissions.good_notebook(course)
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    sys.path.insert(0, str(course / "solutions" / toy_course.ASSIGNMENT))
    started = time.perf_counter()
    for _ in range(repeats):
        namespace: dict = {}
        for source in sources:
            exec(compile(source, "<cell>", "exec"), namespace)
    return (time.perf_counter() - started) / repeats


def _cpu_seconds() -> float:
    """Busy CPU time of the whole machine (``/proc/stat``): the jobs, kernels and judges run in
    grandchildren (forkserver, sandbox) that ``getrusage`` does not see. Other load counts too."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def grade_class(scratch: Path, label: str, students: int, workers: int) -> tuple[float, float]:
    """Grade a fresh class of ``students`` correct submissions; return the wall and CPU seconds."""
    course_root = toy_course.course_copy(scratch / label)
    cases = [bad_submissions.Case(f"student{n:03d}", bad_submissions.CASES[0].build, 3) for n in range(students)]
    bad_submissions.write_class(course_root, cases)
    course = Course.load(course_root)
    limits = SandboxLimits(memory_bytes=768 * 2**20, max_processes=96, wall_seconds=300)
    settings = settings_for(course, limits, timeout=60)
    started, cpu = time.perf_counter(), _cpu_seconds()
    reports = autograde(course, toy_course.ASSIGNMENT, settings, workers=workers)
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    scores = toy_course.scores(course_root)
    assert all(r.status == "graded" for r in reports.values()) and set(scores.values()) == {3.0}, reports
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8, help="class size (default 8)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
        scratch = Path(folder)
        compute = notebook_compute_seconds(toy_course.course_copy(scratch / "compute"))
        grade_class(scratch, "warm-up", 1, 1)  # starts the forkserver, as any first run does
        serial, serial_cpu = grade_class(scratch, "serial", args.students, 1)
        parallel, _ = grade_class(scratch, "parallel", args.students, 2)
    per_submission = serial / args.students
    print(f"class of {args.students} toy submissions on {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f})")
    print(f"notebook's own compute:        {compute * 1000:.1f} ms per submission")
    print(f"serial (1 worker):             {serial:.1f} s, {3600 * args.students / serial:.0f} submissions/hour")
    print(
        f"parallel (2 workers):          {parallel:.1f} s, {3600 * args.students / parallel:.0f} submissions/hour "
        f"(x{serial / parallel:.2f})"
    )
    print(f"overhead per submission:       {per_submission - compute:.2f} s serially (target <= 5 s)")
    print(f"machine CPU per submission:    {serial_cpu / args.students:.2f} CPU-s serially (kernel, nbgrader, judges)")


if __name__ == "__main__":
    main()
