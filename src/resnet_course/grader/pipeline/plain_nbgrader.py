"""What plain ``nbgrader autograde`` runs, through ``nbgrader_config.py``: the sandbox pre-flight and its re-check.

* :func:`pre_convert_hook` (``Autograde.pre_convert_hook``) runs the pre-flights
  once, before nbgrader writes the first submission's gradebook entry (the
  sandbox's, then the judges' on the master's own answers,
  ``judges/judges_preflight.py``), and refuses each submission that holds a symbolic
  link or a notebook over the grader's size limit (``plain_refusals.py``).
  Unlike the course's grader, which caps each job's fresh process, it bounds
  what enters nbgrader's one long-lived process instead of capping it: the
  notebook's size here, the kernel's output in the sandbox's relay, and the
  judges' verdicts. RLIMIT_DATA counts every thread's malloc arena, and a
  2 GiB cap failed a flooding submission that the grader's path grades.
* :class:`SandboxCheckedExecute` replaces nbgrader's ``Execute`` (and takes
  its ``c.Execute`` settings): when a kernel fails to start it runs the
  pre-flight again, and if the sandbox is at fault, it removes the entry
  nbgrader made for this submission (unless an earlier run graded it) and
  stops the run. A kernel that fails while the sandbox works is the
  submission's problem and is graded as nbgrader grades it.

Stopping is ``SystemExit``: nbgrader logs and ignores an ``Exception`` from a
hook and records one from a preprocessor against the student.
"""

from __future__ import annotations

from pathlib import Path

from nbclient.util import run_sync
from nbgrader.preprocessors import Execute

from resnet_course.sandbox import preflight

from .kernel_messages import MalformedMessagesTolerated
from .late_output import LateOutputTolerated
from .plain_refusals import forget_attempt, record_not_graded, refuse_linked_or_oversized


def pre_convert_hook(assignment: str = "", student: str = "", notebooks: list | None = None, **_rest) -> None:
    """Stop the run, before anything is written, unless the sandbox works (checked once per process).

    Then refuse this submission if it holds a symbolic link or an oversized notebook (``plain_refusals.py``).
    """
    try:
        preflight.check_once(installed_kernel=True)
    except preflight.SandboxCheckFailed as failure:
        message = failure.stop_message("before any submission was graded", "Nothing was written to the gradebook.")
        raise SystemExit(f"[resnet-course] {message}") from None
    if assignment not in _JUDGES_CHECKED:
        _check_judges(assignment)
        _JUDGES_CHECKED.add(assignment)
    refuse_linked_or_oversized(assignment, student, notebooks if notebooks is not None else [])


#: Assignments whose judges passed on the master in this process.
_JUDGES_CHECKED: set[str] = set()


def _check_judges(assignment: str) -> None:
    """The judges' pre-flight on the master, with the course's configuration from the running nbgrader."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Application

    from ..judges.judges_preflight import check_master
    from ..judges.judging import JudgesError
    from .trusted_verdicts import TrustedVerdicts

    config = Application.instance().config if Application.initialized() else None
    coursedir = CourseDirectory(config=config)
    source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    limits = TrustedVerdicts(config=config).judges_limits()
    for notebook in sorted(source.glob("*.ipynb")):
        try:
            check_master(source, assignment, notebook.name, limits)
        except JudgesError as error:
            raise SystemExit(
                f"[resnet-course] grading stopped before any submission was graded: {error}. "
                "Nothing was written to the gradebook. Fix the judges or the master, then run the same command again."
            ) from None


class SandboxCheckedExecute(LateOutputTolerated, MalformedMessagesTolerated, Execute):
    """nbgrader's Execute, stopping the run when a kernel cannot start because the sandbox broke."""

    async def async_start_new_kernel_client(self):
        try:
            return await super().async_start_new_kernel_client()
        except Exception:
            try:
                preflight.check(installed_kernel=True)
            except preflight.SandboxCheckFailed as failure:
                student = forget_attempt(self.resources)
                message = failure.stop_message(
                    f"at {student}, whose kernel could not start",
                    f"{student} was not recorded. Run the same command again once it is fixed.",
                )
                raise SystemExit(f"[resnet-course] {message}") from None
            self._record_kernel_refusal()
            raise

    def _record_kernel_refusal(self) -> None:
        """The sandbox works, so the submission kept its kernel from starting (e.g. too many files): report it."""
        info = self.resources["nbgrader"]
        reason = (
            "its sandboxed kernel did not start: the submission holds more than the grader takes (too many "
            "files and folders, or too much data). Submit only the notebook and the files it reads"
        )
        record_not_graded(info["db_url"], info["assignment"], info["student"], reason)

    start_new_kernel_client = run_sync(async_start_new_kernel_client)  # the sync name binds the function
