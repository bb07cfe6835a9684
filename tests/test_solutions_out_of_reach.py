"""No graded exercise's solution can be imported from the sandboxed kernel that runs a student's notebook.

The test walks every module of the course package that the kernel can import and looks, for each
graded function of the master notebook, for code that is its solution: a function holding most of
the solution's lines, or an attribute under a name the course gives its own implementation.
"""

from __future__ import annotations

import json
import re

import pytest
from fixtures.sandboxed_kernels import running_sandboxed_kernel

from resnet_course.instructor.reference_solution import GRADED_FUNCTIONS
from resnet_course.instructor.sample_class import ANSWERS, solution_code

#: Names under which the course keeps an implementation of a graded exercise.
SOLUTION_NAMES = ("recompute_batchnorm_statistics", "load_reference_solution")
#: A function holding this share of a solution's lines is taken for the solution.
SHARE = 0.8

WALK = r"""
import importlib, inspect, json, pkgutil
import resnet_course
found, refused = {}, {}
for info in pkgutil.walk_packages(resnet_course.__path__, "resnet_course."):
    try:
        module = importlib.import_module(info.name)
    except Exception as error:
        refused[info.name] = type(error).__name__
        continue
    for name, value in vars(module).items():
        if inspect.isfunction(value) or inspect.isclass(value):
            try:
                found[f"{info.name}.{name}"] = inspect.getsource(value)
            except (OSError, TypeError):
                pass
probes = {}
for statement in ("from resnet_course.instructor.batchnorm_statistics import recompute_batchnorm_statistics",
                  "from resnet_course.instructor.reference_solution import load_reference_solution",
                  "import resnet_course.grader.judges.judging"):
    try:
        exec(statement, {})
        probes[statement] = "imported"
    except Exception as error:
        probes[statement] = type(error).__name__
print("@@walk " + json.dumps({"found": found, "refused": refused, "probes": probes}))
"""


def significant_lines(code: str) -> set[str]:
    """The code's lines without indentation, comments, docstring quotes and blank lines."""
    lines = set()
    for line in code.splitlines():
        line = re.sub(r"#.*", "", line).strip()
        if line and not line.startswith(('"""', "'''")) and line not in ("try:", "else:", "finally:", "return"):
            lines.add(line)
    return lines


@pytest.fixture(scope="module")
def kernel_view(tmp_path_factory):
    """What the sandboxed kernel can import: {"found": {qualified name: source}, "refused": ..., "probes": ...}."""
    tmp_path = tmp_path_factory.mktemp("kernel")
    work = tmp_path / "work"
    work.mkdir()
    with running_sandboxed_kernel(tmp_path, work, output_bytes=64 * 1024 * 1024) as (_, client):
        outputs = []
        reply = client.execute_interactive(WALK, timeout=300, output_hook=outputs.append)
    assert reply["content"]["status"] == "ok", reply["content"]
    text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    (line,) = [line for line in text.splitlines() if line.startswith("@@walk ")]
    return json.loads(line[len("@@walk ") :])


def test_the_instructors_tools_and_the_grader_cannot_be_imported(kernel_view):
    for statement, outcome in kernel_view["probes"].items():
        assert outcome in ("ModuleNotFoundError", "ImportError"), f"{statement}: {outcome}"
    assert len(kernel_view["found"]) > 100, "the walk found the package's code"


@pytest.mark.parametrize("exercise", [*GRADED_FUNCTIONS, *[a for a in ANSWERS if a == "recompute_batchnorm"]])
def test_no_importable_code_is_a_graded_exercises_solution(kernel_view, exercise):
    solution = significant_lines(solution_code()[exercise])
    assert len(solution) >= 5, f"the master's solution of {exercise} is too short to compare"
    for qualified, source in kernel_view["found"].items():
        assert qualified.rsplit(".", 1)[-1] not in SOLUTION_NAMES, f"{qualified} is importable in the kernel"
        shared = len(solution & significant_lines(source)) / len(solution)
        assert shared < SHARE, f"{qualified} holds {shared:.0%} of the solution of {exercise}"
