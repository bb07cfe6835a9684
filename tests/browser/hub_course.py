"""What the hub loop test types and expects, read from the master notebook (the test runs as root).

The correct student types the reference solution; the wrong one the same,
but with identity_block missing its final ReLU. The points each exercise
can earn are the master notebook's, the training test left out (the hub
test's course skips it).
"""

from __future__ import annotations

import json

from resnet_course.hub.course_setup import TRAINING_TEST
from resnet_course.instructor.reference_solution import cell_sources
from resnet_course.paths import MASTER_NOTEBOOK

EXERCISES = ("identity_block", "convolutional_block", "ResNet50")
#: The short answers and the recompute exercise, answered by both students with the master's answers.
ANSWERS = ("why_degradation", "why_bottleneck", "why_stride", "why_bn_mode", "why_momentum", "recompute_batchnorm")
#: What the identity block's self-check says about the missing ReLU (checks.py), in the page and the feedback.
MISSING_FINAL_RELU = "the final ReLU is missing"
FINAL_RELU = '    X = layers.Activation("relu")(X)\n'
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def reference_source(exercise: str) -> str:
    """The master notebook's answer cell for ``exercise``, as a student would type it (no markers)."""
    lines = cell_sources(MASTER_NOTEBOOK)[exercise].splitlines(keepends=True)
    return "".join(line for line in lines if line.strip() not in SOLUTION_MARKERS)


def without_final_relu(source: str) -> str:
    """identity_block ending with the addition: a classic mistake."""
    head, found, tail = source.rpartition(FINAL_RELU)
    assert found, "the reference identity_block has no final ReLU line to drop"
    return head + tail


def points_by_exercise() -> dict[str, float]:
    """Points of each exercise's test cells in the master notebook, the training test left out."""
    cells = json.loads(MASTER_NOTEBOOK.read_text())["cells"]
    points = dict.fromkeys(EXERCISES + ANSWERS, 0.0)
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("grade_id") != TRAINING_TEST:
            exercise = max((e for e in points if meta["grade_id"].startswith(f"test_{e}")), key=len)
            points[exercise] += float(meta["points"])
    return points


def hidden_test_lines() -> list[str]:
    """Distinctive lines of the hidden tests: the assignment's judges, which decide outside the kernel."""
    folder = MASTER_NOTEBOOK.parent / "grader_only"
    lines = []
    for path in sorted(folder.glob("*.py")):
        for line in path.read_text().splitlines():
            line = line.strip()
            if len(line) > 25 and not line.startswith(("#", '"""', "from ", "import ")):
                lines.append(line)
    return lines
