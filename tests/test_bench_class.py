"""The class-grading benchmark grades the class it says it grades: every submission's code is valid Python.

A correct spelling or a mistake that did not even compile would be graded as a missing answer, which
is cheaper to judge than the submission the benchmark claims to measure.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_benchmark():
    spec = importlib.util.spec_from_file_location("bench_class_grading", REPO / "benchmarks" / "bench_class_grading.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_class_grading", module)
    spec.loader.exec_module(module)
    return module


def test_every_synthetic_submission_compiles_and_defines_its_exercise(tmp_path):
    bench = load_benchmark()
    students = bench.synthetic_class(30, seed=0)
    bench.write_class(tmp_path, students)
    kinds = {description.split(":")[0] for _, description, _ in students}
    assert kinds == {"correct", "mistake"}
    assert len({description for _, description, entry in students if description.startswith("correct")}) >= 5
    for student_id, description, entry in students:
        notebook = json.loads((tmp_path / student_id / "resnets" / "resnets.ipynb").read_text())
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
            tree = ast.parse("\n".join(lines), filename=f"{student_id}: {description}")
            if entry is not None and cell["metadata"].get("nbgrader", {}).get("grade_id") == entry.exercise:
                defined = {node.targets[0].id for node in tree.body if isinstance(node, ast.Assign)}
                assert entry.exercise in defined, f"{student_id} ({description}) does not define {entry.exercise}"
