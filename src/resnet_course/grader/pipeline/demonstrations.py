"""The notebook's demonstrations are not run while grading: no judge reads what they compute.

The master notebook tags such cells ``demonstration`` (the training demo, its
evaluation, the BatchNorm repair, the confusion matrix, the figures). The
release writes a fingerprint of each one's source to
``grader_only/demonstrations.json`` (:func:`write_fingerprints`), beside the
judges, where no student sees it. While grading:

* :class:`SkipDemonstrations`, before the Execute step, empties every code
  cell whose source is exactly a demonstration's, so the kernel skips it. A
  cell is matched by its source, never by its tags (which a student can
  change): a demonstration a student edited is their code and runs.
* :class:`RestoreDemonstrations`, after it, puts the source back, with a
  one-line note as the cell's output.

A skipped cell only ever holds the instructor's own code, and no graded cell
depends on it: the graded cells hand over evidence built from the student's
functions alone.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors.base import NbGraderPreprocessor as Preprocessor

from ..judges.judging import judges_dir

TAG = "demonstration"
FINGERPRINTS_FILE = "demonstrations.json"
SKIPPED_NOTE = "[not run while grading: a demonstration that no test reads]\n"
GENERATED_BY = "python -m resnet_course.instructor.release (make assignment), from the cells tagged 'demonstration'"


def fingerprint(source: str) -> str:
    return hashlib.sha256(source.strip().encode()).hexdigest()


def demonstration_cells(notebook) -> list:
    """The master's code cells tagged ``demonstration`` (never a graded or solution cell)."""
    return [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code"
        and TAG in cell.metadata.get("tags", [])
        and not utils.is_grade(cell)
        and not utils.is_solution(cell)
    ]


def write_fingerprints(master: Path, judges_folder: Path) -> Path:
    """Write the fingerprints of ``master``'s demonstrations into ``judges_folder``; return the file."""
    notebook = nbformat.read(master, as_version=4)
    fingerprints = sorted({fingerprint(cell.source) for cell in demonstration_cells(notebook)})
    path = Path(judges_folder) / FINGERPRINTS_FILE
    content = {"generated_by": GENERATED_BY, "source": Path(master).name, "fingerprints": fingerprints}
    path.write_text(json.dumps(content, indent=1) + "\n")
    return path


def read_fingerprints(judges_folder: Path) -> set[str]:
    """The fingerprints beside the judges; none when the file is missing or unreadable (everything runs)."""
    try:
        content = json.loads((Path(judges_folder) / FINGERPRINTS_FILE).read_text())
        return {str(item) for item in content.get("fingerprints", [])}
    except (OSError, ValueError, AttributeError):
        return set()


class SkipDemonstrations(Preprocessor):
    """Before Execute: empty the code cells that are exactly one of the master's demonstrations."""

    def preprocess(self, nb, resources):
        coursedir = CourseDirectory(config=self.config)
        source = Path(coursedir.format_path(coursedir.source_directory, ".", resources["nbgrader"]["assignment"]))
        fingerprints = read_fingerprints(judges_dir(source))
        skipped = {}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or utils.is_grade(cell) or utils.is_solution(cell):
                continue
            if cell.source.strip() and fingerprint(cell.source) in fingerprints:
                skipped[index] = cell.source
                cell.source = ""
        resources["demonstrations_skipped"] = skipped
        return nb, resources


class RestoreDemonstrations(Preprocessor):
    """After Execute: give the skipped cells their source back, with a note in place of outputs."""

    def preprocess(self, nb, resources):
        for index, source in resources.get("demonstrations_skipped", {}).items():
            cell = nb.cells[index]
            cell.source = source
            cell.outputs = [new_output("stream", name="stdout", text=SKIPPED_NOTE)]
        return nb, resources
