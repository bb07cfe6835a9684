"""The course's own steps of ``nbgrader generate_assignment``: what the master keeps from students.

The course's ``nbgrader_config.py`` puts these preprocessors in
``c.GenerateAssignment.preprocessors``, ahead of nbgrader's own list, so that
every way of generating the student version takes them: ``make assignment``,
the README's ``nbgrader generate_assignment`` in a terminal, and the
formgrader's Generate button (whose Release button then publishes that
version). A release path that bypassed them would hand every student the
maintainer notes, which name the grader-only files and say how the hidden
answers are judged.

They run first, before nbgrader locks, records or checksums any cell, so a
dropped cell never reaches the gradebook. ``python -m
resnet_course.instructor.release --check`` (``make check-generated``) fails
when the committed student version differs from what they produce, and
``tests/test_release.py`` runs plain ``nbgrader generate_assignment`` with
the course's configuration and compares it with that version cell for cell.
"""

from __future__ import annotations

from nbgrader.preprocessors.base import NbGraderPreprocessor

from ..grader.pipeline.demonstrations import TAG as DEMONSTRATION_TAG

#: Cells with this tag are notes for the course's maintainers: the student version leaves them out.
MASTER_ONLY_TAG = "master-only"


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


class DropMasterOnlyCells(NbGraderPreprocessor):
    """Leave out the master's cells tagged ``master-only`` (notes for the course's maintainers).

    A whole cell goes, whatever its type: the student version never shows it,
    and neither does any feedback page made from a submission.
    """

    def preprocess(self, nb, resources):
        nb.cells = [cell for cell in nb.cells if MASTER_ONLY_TAG not in _tags(cell)]
        return nb, resources


class RemoveDemonstrationTags(NbGraderPreprocessor):
    """Take the ``demonstration`` tag off every cell; the cell itself stays.

    The tag is the master's metadata: the release fingerprints the tagged
    cells for the grader (``resnet_course.grader.pipeline.demonstrations``), which
    matches a submission's cells by their source, never by tags a student can
    change. A student's copy has no use for it. A cell left with no tag loses
    its ``tags`` entry, as a cell that never had one.
    """

    def preprocess_cell(self, cell, resources, index):
        if DEMONSTRATION_TAG in _tags(cell):
            tags = [tag for tag in _tags(cell) if tag != DEMONSTRATION_TAG]
            if tags:
                cell.metadata["tags"] = tags
            else:
                del cell.metadata["tags"]
        return cell, resources
