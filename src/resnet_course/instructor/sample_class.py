"""Make a class of realistic sample submissions from the master notebook.

Every sample student starts from the generated student notebook; the
solution cells are filled with the master's solution code, with one
deliberate change per common mistake. Nothing is a hand-edited copy, so the
sample class follows the master whenever it changes.

Usage: ``python -m resnet_course.instructor.sample_class [--dest DIR]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import ASSIGNMENTS_DIR, AUTOGRADER_DIR, MASTER_NOTEBOOK, REPO_ROOT
from .reference_solution import GRADED_FUNCTIONS

ASSIGNMENT = "resnets"
STUDENT_NOTEBOOK = ASSIGNMENTS_DIR / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
SOLUTION_BLOCK = re.compile(r"[ \t]*### BEGIN SOLUTION\n(.*?)[ \t]*### END SOLUTION(?:\n|$)", re.S)


@dataclass(frozen=True)
class SampleStudent:
    """One sample submission.

    Attributes:
        student_id: nbgrader student id (also the folder name).
        description: What this student did, for the demo's table.
        edits: For each graded function, (old, new) text replacements applied
            to the master's solution code; a function missing from ``solved``
            is left as released (``raise NotImplementedError()``).
        solved: Functions whose solution the student filled in.
        answered: The short answers and the recompute exercise the student filled in
            (the master's answers), :data:`ANSWERS` unless they left the notebook untouched.
        broken: Write the notebook as invalid JSON.
    """

    student_id: str
    description: str
    edits: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    solved: tuple[str, ...] = GRADED_FUNCTIONS
    answered: tuple[str, ...] | None = None
    broken: bool = False


#: Answer cells besides the three graded functions: the "why" questions and the recompute exercise.
ANSWERS = ("why_degradation", "why_bottleneck", "why_stride", "why_bn_mode", "why_momentum", "recompute_batchnorm")

FINAL_RELU = '    X = layers.Add()([X, X_shortcut])\n    X = layers.Activation("relu")(X)\n'

SAMPLE_CLASS = (
    SampleStudent("reference", "the reference solution"),
    SampleStudent(
        "partly_correct",
        "both blocks right, ResNet50 not attempted",
        solved=("identity_block", "convolutional_block"),
    ),
    SampleStudent(
        "no_final_relu",
        "identity block: no ReLU after the addition",
        edits={"identity_block": ((FINAL_RELU, "    X = layers.Add()([X, X_shortcut])\n"),)},
    ),
    SampleStudent(
        "bn_always_training",
        "both blocks: BatchNorm hard-coded to training=True",
        edits={name: (("training=training", "training=True"),) for name in ("identity_block", "convolutional_block")},
    ),
    SampleStudent(
        "stride_on_second_conv",
        "convolutional block: stride on the f x f convolution",
        edits={
            "convolutional_block": (
                ("X = layers.Conv2D(F1, kernel_size=1, strides=s,", "X = layers.Conv2D(F1, kernel_size=1, strides=1,"),
                ("X = layers.Conv2D(F2, kernel_size=f, strides=1,", "X = layers.Conv2D(F2, kernel_size=f, strides=s,"),
            )
        },
    ),
    SampleStudent(
        "keras_applications",
        "ResNet50 taken from keras.applications",
        edits={
            "ResNet50": (
                (
                    "    # Stage 1: the stem.\n",
                    "    return keras.applications.ResNet50(weights=None, input_shape=input_shape, classes=classes)\n"
                    "    # Stage 1: the stem.\n",
                ),
            )
        },
    ),
    SampleStudent(
        "short_stage_4",
        "ResNet50: four identity blocks in stage 4 instead of five",
        edits={"ResNet50": (("([256, 256, 1024], 2, 5)", "([256, 256, 1024], 2, 4)"),)},
    ),
    SampleStudent("untouched", "submitted the released notebook unchanged", solved=(), answered=()),
    SampleStudent("broken_notebook", "the notebook file is not valid JSON", broken=True),
)


def solution_code(master: Path = MASTER_NOTEBOOK) -> dict[str, str]:
    """Each graded function's solution, as the code between the solution markers."""
    sources = {}
    for cell in json.loads(Path(master).read_text())["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in GRADED_FUNCTIONS + ANSWERS:
            match = SOLUTION_BLOCK.search("".join(cell["source"]))
            sources[grade_id] = match.group(1)
    return sources


def apply_edits(code: str, edits: tuple[tuple[str, str], ...], what: str) -> str:
    """Apply text replacements, failing loudly when the master no longer matches."""
    for old, new in edits:
        if old not in code:
            raise ValueError(f"sample edit for {what} no longer matches the master's solution: {old!r}")
        code = code.replace(old, new)
    return code


def fill_in(student_cell_source: str, code: str) -> str:
    """Replace the released placeholder with the student's code."""
    placeholder = re.compile(r"[ \t]*# YOUR CODE HERE\n[ \t]*raise NotImplementedError\(\)\n?")
    if not placeholder.search(student_cell_source):
        raise ValueError("the student cell has no '# YOUR CODE HERE' placeholder")
    return placeholder.sub(lambda _: code, student_cell_source, count=1)


def submission(student: SampleStudent, released: dict, solutions: dict[str, str]) -> dict:
    """The notebook a sample student hands in."""
    notebook = copy.deepcopy(released)
    for cell in notebook["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        answered = ANSWERS if student.answered is None else student.answered
        if grade_id in student.solved or grade_id in answered:
            code = apply_edits(solutions[grade_id], student.edits.get(grade_id, ()), f"{student.student_id}/{grade_id}")
            cell["source"] = fill_in("".join(cell["source"]), code).splitlines(keepends=True)
    return notebook


def write_sample_class(dest: Path, students=SAMPLE_CLASS) -> list[Path]:
    """Write each sample student's notebook to ``dest/<student>/resnets/resnets.ipynb``."""
    released = json.loads(STUDENT_NOTEBOOK.read_text())
    solutions = solution_code()
    written = []
    for student in students:
        folder = Path(dest) / student.student_id / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{ASSIGNMENT}.ipynb"
        text = json.dumps(submission(student, released, solutions), indent=1, ensure_ascii=False) + "\n"
        if student.broken:
            text = text[: len(text) // 2]  # cut mid-file, as a crashed upload would
        path.write_text(text)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=AUTOGRADER_DIR / "submitted")
    args = parser.parse_args(argv)
    for path in write_sample_class(args.dest):
        print(f"wrote {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
