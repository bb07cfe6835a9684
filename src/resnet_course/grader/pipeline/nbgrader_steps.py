"""nbgrader's generate_assignment and generate_feedback, run in this process on a :class:`Course`.

They see exactly the configuration the grader grades with (the course's
folders, header, feedback preprocessors), which matters when that
configuration is built in code rather than read from the course root, as
``make demo`` does.
"""

from __future__ import annotations

from nbgrader.converters import BaseConverter, GenerateAssignment, GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import capture_log

from ..jobs.course import Course


def generate_assignment(course: Course, assignment: str) -> None:
    """Write the student version of ``assignment`` and record it in the gradebook (replacing both)."""
    _run(GenerateAssignment, course, assignment)


def generate_feedback(course: Course, assignment: str) -> None:
    """Write feedback for every autograded submission of ``assignment`` (replacing earlier feedback)."""
    _run(GenerateFeedback, course, assignment)


def _run(converter_class: type[BaseConverter], course: Course, assignment: str) -> None:
    """Run one nbgrader converter with ``--force``.

    Raises:
        RuntimeError: nbgrader failed; the message holds its log and error.
    """
    coursedir = CourseDirectory(config=course.config)  # its own: the assignment id is set on it
    coursedir.assignment_id = assignment
    converter = converter_class(coursedir=coursedir, config=course.config)
    converter.force = True
    outcome = capture_log(converter)
    if not outcome["success"]:
        raise RuntimeError(
            f"nbgrader {converter_class.__name__} of {assignment} failed:\n"
            f"{outcome.get('log', '')}{outcome.get('error', '')}"
        )
