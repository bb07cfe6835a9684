"""Plain ``nbgrader autograde``: refuse a submission that holds a symbolic link or an oversized notebook.

nbgrader copies a submission's files (following links) in
``init_assignment``, right after ``Autograde.pre_convert_hook``; no
configuration point runs earlier for each submission, and an exception
from the hook is only logged. So :func:`refuse_linked_or_oversized`, called
from the hook, empties the list of notebooks nbgrader is about to grade
(the very list it passes to the hook). nbgrader then fails that submission
("No notebooks found") and deletes its autograded folder, with whatever it
copied through a link, before any kernel starts: nothing read through a
link is run, shown or graded. A notebook over the grader's size limit a
file (``jobs/submissions.MAX_FILE_BYTES``, as on the course's grader) is
refused the same way, so nbgrader's one long-lived process never parses it.
The refusal and its reason go into the
grader's report (``reports/report.py``), so ``python -m resnet_course.grader
export`` lists the submission as "could not be graded"; the gradebook entry
nbgrader creates on the way is removed once nbgrader is past it (at the next
submission or when the run ends), unless it holds scores of an earlier run.

:func:`forget_attempt` removes the same unscored entry at once for a
submission the run stops at (the sandbox or the judges failed), for both
``plain_nbgrader`` and ``trusted_verdicts``.
"""

from __future__ import annotations

import atexit
import sys
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from ..jobs.course import REPORTS_FOLDER
from ..jobs.submissions import MAX_FILE_BYTES, find_links, link_refusal, oversize_reason
from ..reports import report
from ..reports.text_safety import escaped

_pending_removals: list[tuple[str, str, str]] = []  # (db_url, assignment, student)


def refuse_linked_or_oversized(assignment: str, student: str, notebooks: list[str]) -> bool:
    """Refuse the submission when it holds a link or a notebook over the size limit; return whether it was refused.

    Args:
        assignment: The assignment id nbgrader was given (may be a pattern such as ``*``).
        student: The student id nbgrader was given (may be ``*``).
        notebooks: nbgrader's list of the submission's notebook paths
            (``<submitted>/<student>/<assignment>/<name>.ipynb``); emptied on refusal.
    """
    forget_refused_entries()
    if not notebooks:
        return False
    # nbgrader passes its command-line ids ("*" when grading every student): the path names this one.
    folder = Path(notebooks[0]).parent
    submitted_root, student, assignment = folder.parents[1], folder.parent.name, folder.name
    try:
        links = find_links(submitted_root, student, assignment)
    except OSError as error:  # fail closed: what cannot be checked is not graded
        links = [f"the folder could not be checked: {error}"]
    if links:
        reason = link_refusal(links)
    else:
        sizes = {Path(notebook).name: Path(notebook).lstat().st_size for notebook in notebooks}
        oversized = {name: size for name, size in sizes.items() if size > MAX_FILE_BYTES}
        if not oversized:
            return False
        reason = "; ".join(f"refused {name}: {oversize_reason(size)}" for name, size in oversized.items())
    notebooks.clear()
    print(f"[resnet-course] {escaped(student)}: could not be graded: {escaped(reason)}", file=sys.stderr)
    db_url = _db_url()
    if db_url is not None:
        record_not_graded(db_url, assignment, student, reason)
    return True


def record_not_graded(db_url: str, assignment: str, student: str, reason: str) -> None:
    """Report the submission as "could not be graded" and drop its unscored gradebook entry later."""
    if not db_url.startswith("sqlite:///"):
        return
    reports = Path(db_url[len("sqlite:///") :]).parent / REPORTS_FOLDER / f"{assignment}.json"
    report.save(reports, {student: report.StudentReport(student, report.NOT_GRADED, reason, [])})
    _pending_removals.append((db_url, assignment, student))


def forget_refused_entries() -> None:
    """Remove the gradebook entries nbgrader made for refused submissions, unless they hold scores."""
    while _pending_removals:
        _remove_unscored(*_pending_removals.pop())


def forget_attempt(resources) -> str:
    """Remove this run's gradebook entry for the submission unless it holds earlier scores; return the student.

    For a submission the run stops at (the sandbox or the judges failed: the instructor's fault).
    """
    info = resources["nbgrader"]
    _remove_unscored(info["db_url"], info["assignment"], info["student"])
    return info["student"]


def _remove_unscored(db_url: str, assignment: str, student: str) -> None:
    """Remove a submission's gradebook entry unless it holds scores (of this or an earlier run)."""
    with Gradebook(db_url) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return
        if all(grade.auto_score is None for notebook in submission.notebooks for grade in notebook.grades):
            gradebook.remove_submission(assignment, student)


def _db_url() -> str | None:
    """The gradebook of the running ``nbgrader autograde`` (sqlite only), from its application."""
    from nbgrader.apps import AutogradeApp

    if not AutogradeApp.initialized():
        return None
    url = AutogradeApp.instance().coursedir.db_url
    return url if url.startswith("sqlite:///") else None


atexit.register(forget_refused_entries)
