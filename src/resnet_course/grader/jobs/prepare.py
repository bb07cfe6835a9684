"""Turn a student's submitted folder into a grading job, or into a reason it cannot be graded."""

from __future__ import annotations

import dataclasses
import re

import nbformat

from .course import Course
from .job_types import GradingJob, GradingSettings
from .reconcile import UnreadableNotebook, read_notebook, reconcile
from .submissions import SKIPPED_FOLDERS, find_links, link_refusal, locate_notebook, read_submission

STUDENT_ID = re.compile(r"^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]*$")


@dataclasses.dataclass
class PreparedSubmission:
    """A student's submission, ready to grade or known to be ungradable.

    Attributes:
        student: Student id.
        job: The grading job, or None when nothing can be graded.
        reason: Why it cannot be graded (when ``job`` is None).
        notes: What preparation changed or dropped.
    """

    student: str
    job: GradingJob | None
    reason: str | None
    notes: list[str]


def check_student_id(student: str) -> str:
    """Return ``student`` when it is a safe folder name, else raise ValueError."""
    if not STUDENT_ID.match(student):
        raise ValueError(f"student id {student!r} is not a plain folder name (letters, digits, _ . @ + -)")
    return student


def source_files(course: Course, assignment: str) -> dict[str, bytes]:
    """The assignment's non-notebook source files, which nbgrader copies over each submission."""
    folder = course.folder("source", ".", assignment)
    files = {}
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        relative = path.relative_to(folder)
        if any(part in SKIPPED_FOLDERS for part in relative.parts) or path.suffix == ".ipynb":
            continue
        if path.is_file() and not path.is_symlink():
            files[str(relative)] = path.read_bytes()
    return files


def prepare_submission(
    course: Course,
    assignment: str,
    student: str,
    notebook_names: list[str],
    template: bytes,
    sources: dict[str, bytes],
    settings: GradingSettings,
) -> PreparedSubmission:
    """Read, check and repair one submission (see ``submissions.py`` and ``reconcile.py``)."""
    folder = course.folder("submitted", student, assignment)
    links = find_links(course.folder("submitted", ".", "."), student, assignment)
    if links:
        return PreparedSubmission(student, None, link_refusal(links), [])
    if not folder.is_dir():
        return PreparedSubmission(student, None, f"no submission folder {folder}", [])
    submission = read_submission(folder, student)
    notes = submission.notes
    readable = 0
    for name in notebook_names:
        filename = f"{name}.ipynb"
        released = released_notebook(course, assignment, filename)
        grade_ids = {c.metadata["nbgrader"]["grade_id"] for c in released.cells if "nbgrader" in c.metadata}
        if locate_notebook(submission, filename, grade_ids) is None:
            found = sorted(p for p in submission.files if p.endswith(".ipynb")) or ["no notebook"]
            notes.append(f"{filename} is missing (found: {', '.join(found)}); its cells score 0")
            continue
        try:
            notebook = read_notebook(submission.files[filename], filename)
            repaired, changes = reconcile(notebook, released)
        except UnreadableNotebook as error:
            notes.append(f"{error}; its cells score 0")
            del submission.files[filename]
            continue
        notes += [f"{filename}: {change}" for change in changes]
        submission.files[filename] = nbformat.writes(repaired).encode()
        readable += 1
    if readable == 0:
        return PreparedSubmission(student, None, "; ".join(notes) or "no notebook to grade", notes)
    job = GradingJob(
        assignment=assignment,
        student=student,
        course_id=course.course_id,
        template=template,
        source_files=sources,
        files=submission.files,
        settings=settings,
    )
    return PreparedSubmission(student, job, None, notes)


def released_notebook(course: Course, assignment: str, filename: str) -> nbformat.NotebookNode:
    """The notebook ``filename`` of ``assignment`` as released to students."""
    path = course.folder("release", ".", assignment) / filename
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: the grader repairs submissions against the released notebook; "
            f"run `nbgrader generate_assignment {assignment}` first"
        )
    return nbformat.read(path, as_version=4)
