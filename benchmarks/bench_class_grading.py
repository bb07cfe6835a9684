"""Grade a synthetic class with the course's grader and print what it costs, stage by stage.

Usage::

    python benchmarks/bench_class_grading.py [--students 30] [--workers 2] [--seed 0]
        [--no-training-cache] [--skip-training-test] [--json FILE]

The class is made from the master notebook, the same for a given seed and
size: about 60% correct submissions, spelled in five correct ways (mostly
the reference, and four alternatives of ``tests/mistakes.py``), and the
rest spread over that file's mistakes. It is graded in a course folder of its
own (``artifacts/bench/class-grading/``) with the sandboxed, parallel
grader, the training test included unless ``--skip-training-test``.

Printed, and written as JSON: wall time, core-seconds (CPU time of every
grading process, the kernels and the judges included), median and p95
seconds and core-seconds per submission, the mean seconds of each stage
(sandbox start, notebook execution, evidence reading, the judges' process,
each judge, the training test), the training cache's hit rate, and the
projection to 300 students at the measured rate.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from common import OUTPUT_DIR, add_json_option, median, print_table, write_json  # noqa: E402

TRAINING_CELL = "test_training_accuracy"
CORRECT_SHARE = 0.6
#: The correct spellings and their shares among the correct submissions: most students write the
#: reference; the others are alternatives of tests/mistakes.py (None is the reference).
CORRECT_SPELLINGS = {
    None: 0.6,
    "identity_with_add_function_and_relu_layer": 0.1,
    "conv_shortcut_computed_first": 0.1,
    "resnet_written_out_with_softmax_layer": 0.1,
    "resnet_global_average_pooling_head": 0.1,
}


def _helper_source(module) -> str:
    """The shared steps and constants of ``tests/mistakes.py`` that its entries call."""
    import ast

    text = inspect.getsource(module)
    tree = ast.parse(text)
    pieces = []
    for node in tree.body:
        is_helper = isinstance(node, ast.FunctionDef) and node.name.startswith("_")
        is_constant = isinstance(node, ast.Assign) and all(
            isinstance(target, ast.Name) and target.id.isupper() and target.id.startswith("CORRECT")
            for target in node.targets
        )
        if is_helper or is_constant:
            pieces.append(ast.get_source_segment(text, node))
    return "\n\n\n".join(pieces) + "\n"


def entry_code(entry, helpers: str) -> str:
    """A solution cell's code that defines the exercise's function as the catalogue entry writes it."""
    source = inspect.getsource(entry.function)
    source = "\n".join(line for line in source.splitlines() if not line.startswith("@"))
    return f"{helpers}\n\n{source}\n\n{entry.exercise} = {entry.function.__name__}\n"


def synthetic_class(size: int, seed: int) -> list[tuple[str, str, object]]:
    """``(student id, description, entry or None)`` for ``size`` students; None is the reference."""
    import mistakes

    rng = random.Random(seed)
    alternatives = {entry.name: entry for entry in mistakes.ALTERNATIVES}
    spellings = [alternatives[name] if name else None for name in CORRECT_SPELLINGS]
    wrong = list(mistakes.MISTAKES)
    rng.shuffle(wrong)
    students = []
    correct = round(size * CORRECT_SHARE)
    for index in range(size):
        if index < correct:
            # Every spelling at least once, then drawn by its share.
            entry = (
                spellings[index] if index < len(spellings) else rng.choices(spellings, CORRECT_SPELLINGS.values())[0]
            )
            kind = "correct"
        else:
            entry = wrong[(index - correct) % len(wrong)]
            kind = "mistake"
        name = "reference" if entry is None else entry.name
        students.append((f"s{index:03d}", f"{kind}: {name}", entry))
    rng.shuffle(students)
    return students


def write_class(dest: Path, students) -> None:
    """Each student's notebook: the master's solutions, and their entry's code as its exercise's whole cell.

    The entry replaces the cell, not the code between the solution markers: it defines the
    exercise's function itself, as a student who rewrote the cell would.
    """
    import mistakes

    from resnet_course.instructor import sample_class

    released = json.loads(sample_class.STUDENT_NOTEBOOK.read_text())
    solutions = sample_class.solution_code()
    helpers = _helper_source(mistakes)
    for student_id, _, entry in students:
        notebook = sample_class.submission(sample_class.SampleStudent(student_id, ""), released, solutions)
        if entry is not None:
            cells = [
                c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == entry.exercise
            ]
            assert len(cells) == 1, f"the released notebook has no single cell for {entry.exercise}"
            cells[0]["source"] = entry_code(entry, helpers).splitlines(keepends=True)
        folder = dest / student_id / sample_class.ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{sample_class.ASSIGNMENT}.ipynb").write_text(json.dumps(notebook, indent=1) + "\n")


def percentile(values, share: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--workers", type=int, default=None, help="submissions at once (default: one per core)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-training-cache", action="store_true")
    parser.add_argument("--skip-training-test", action="store_true")
    parser.add_argument("--root", type=Path, default=OUTPUT_DIR / "class-grading")
    add_json_option(parser)
    args = parser.parse_args(argv)
    if args.skip_training_test:
        os.environ["RESNET_COURSE_TRAINING_TEST"] = "skip"

    from tqdm import tqdm

    from resnet_course.grader.jobs.autograde import autograde, settings_for
    from resnet_course.grader.jobs.parallel import default_workers
    from resnet_course.instructor import demo
    from resnet_course.sandbox.limits import SandboxLimits

    students = synthetic_class(args.students, args.seed)
    root = args.root.resolve()
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / demo.MARKER).write_text("Made by benchmarks/bench_class_grading.py.\n")
    course = demo.demo_course(root)
    demo.generate_assignment(course, "resnets")
    write_class(root / demo.FOLDERS["submitted"], students)
    workers = args.workers or default_workers()
    settings = settings_for(course, SandboxLimits.from_env(), training_cache=not args.no_training_cache)
    print(f"grading {len(students)} synthetic submissions, {workers} at a time", flush=True)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with tqdm(total=len(students), unit="submission", file=sys.stdout, dynamic_ncols=True) as bar:

        def advance(entry):
            bar.set_postfix_str(f"{entry.student}: {entry.status}")
            bar.update()

        reports = autograde(
            course, "resnets", settings, [s for s, _, _ in students], workers=workers, on_report=advance
        )
    wall = time.monotonic() - started
    del before

    kinds = {student_id: description for student_id, description, _ in students}
    rows, stages, cache, keys = [], {}, {"hit": 0, "miss": 0}, []
    for student_id, entry in sorted(reports.items()):
        trained = entry.stages.get(f"judge {TRAINING_CELL}", 0.0)
        rows.append(
            {
                "student": student_id,
                "submission": kinds[student_id],
                "status": entry.status,
                "seconds": entry.seconds,
                "core_s": entry.cpu_seconds,
                "training_s": trained,
                "cache": entry.training_cache.get(TRAINING_CELL, "-").split()[0],
            }
        )
        for stage, seconds in entry.stages.items():
            stages.setdefault(stage, []).append(seconds)
        outcome, _, key = entry.training_cache.get(TRAINING_CELL, "").partition(" ")
        if outcome in cache:
            cache[outcome] += 1
        if key:
            keys.append(key)
    print_table(rows, ["student", "submission", "status", "seconds", "core_s", "training_s", "cache"])

    untrained = [r for r in rows if r["training_s"] < 1.0]
    core_seconds = sum(r["core_s"] for r in rows)
    summary = {
        "students": len(rows),
        "workers": workers,
        "wall_s": round(wall, 1),
        "core_s": round(core_seconds, 1),
        "median_s": round(median([r["seconds"] for r in rows]), 1),
        "p95_s": round(percentile([r["seconds"] for r in rows], 0.95), 1),
        "median_core_s": round(median([r["core_s"] for r in rows]), 1),
        "p95_core_s": round(percentile([r["core_s"] for r in rows], 0.95), 1),
        "untrained_median_core_s": round(median([r["core_s"] for r in untrained]), 1) if untrained else None,
        "untrained_p95_core_s": round(percentile([r["core_s"] for r in untrained], 0.95), 1) if untrained else None,
        "trainings": sum(1 for r in rows if r["training_s"] >= 1.0),
        "training_cache": cache,
        "cache_hit_rate": round(cache["hit"] / max(1, cache["hit"] + cache["miss"]), 2),
        # Submissions handing over a model, and how many distinct models (training-cache keys) among them:
        # with the training test on, every key beyond the first of its kind is a hit.
        "models_handed_over": len(keys),
        "distinct_models": len(set(keys)),
        "hit_rate_by_keys": round(1 - len(set(keys)) / len(keys), 2) if keys else None,
        "projection_300_wall_s": round(wall / len(rows) * 300),
        "training_cache_on": not args.no_training_cache,
        "training_test": not args.skip_training_test,
    }
    stage_means = {stage: round(sum(values) / len(values), 2) for stage, values in sorted(stages.items())}
    print("\nmean seconds per submission, by stage:")
    for stage, seconds in stage_means.items():
        print(f"  {stage:<50} {seconds:8.2f}")
    print()
    for key, value in summary.items():
        print(f"{key:<26} {value}")
    print(
        f"\n{len(rows)} students in {wall:.0f} s wall ({core_seconds:.0f} core-s) with {workers} workers; "
        f"300 students at this rate: {summary['projection_300_wall_s'] / 60:.0f} min"
    )
    write_json("class_grading", {"summary": summary, "stages": stage_means, "submissions": rows}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
