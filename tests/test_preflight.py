"""The sandbox pre-flight: a machine whose sandbox does not work stops grading with one clear
message and a non-zero exit, on both grading paths, and nothing is recorded against a student."""

import hashlib
import shutil

import nbformat
import pytest
from fixtures import bad_submissions, toy_course

from resnet_course.grader.jobs import instructor_faults, integrity
from resnet_course.grader.jobs.job import JobResult

pytestmark = pytest.mark.requires_tool("bwrap")

# A bubblewrap that cannot create namespaces, as in a container under Docker's seccomp profile.
FORBIDDEN_NAMESPACES = """#!/bin/sh
echo "bwrap: Creating new namespace failed: Operation not permitted" >&2
exit 1
"""
# A bubblewrap that works for the pre-flight's first two sandboxes (a command, a kernel), then breaks.
BREAKS_AFTER_PREFLIGHT = """#!/bin/sh
count=$(cat "{counter}" 2>/dev/null || echo 0)
echo $((count + 1)) > "{counter}"
if [ "$count" -ge 2 ]; then
    echo "bwrap: Creating new namespace failed: Operation not permitted" >&2
    exit 1
fi
exec "{bwrap}" "$@"
"""


@pytest.fixture
def course(tmp_path):
    course = toy_course.course_copy(tmp_path / "course")
    notebook = bad_submissions.good_notebook(course)
    for student in ("ada", "bo"):
        nbformat.write(notebook, toy_course.submission_folder(course, student) / toy_course.NOTEBOOK)
    return course


@pytest.fixture
def judges_passed(course, tmp_path, monkeypatch):
    """The judges' pre-flight already passed on the toy master, in this test's own cache.

    A fake bwrap that breaks after a number of calls must not break the judges' pre-flight instead of
    the kernel: with the stamp in place, grading runs no pre-flight of the judges.
    """
    from resnet_course.grader.judges.judges_preflight import check_master

    monkeypatch.setenv("RESNET_COURSE_CACHE_DIR", str(tmp_path / "cache"))
    check_master(course / "solutions" / "toy", "toy", toy_course.NOTEBOOK)


def fake_bwrap(tmp_path, text: str) -> str:
    path = tmp_path / "bwrap-fake"
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def state(course):
    """What grading may write: the gradebook's rows and file, the report, the autograded folder."""
    db = course / "autograder" / "gradebook.db"
    report = course / "autograder" / ".runtime" / "reports" / "toy.json"
    autograded = course / "autograder" / "autograded"
    return (
        integrity.snapshot(db)["rows"],
        hashlib.sha256(db.read_bytes()).hexdigest(),
        report.exists(),
        sorted(str(p.relative_to(autograded)) for p in autograded.rglob("*")) if autograded.exists() else [],
    )


def assert_one_clear_error(result, cause: str):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "grading stopped before any submission was graded" in result.stderr, result.stderr
    assert cause in result.stderr and "Fix: " in result.stderr, result.stderr


@pytest.mark.parametrize(
    "bwrap, cause",
    [
        ("no-such-bwrap", "bubblewrap is not installed"),
        (FORBIDDEN_NAMESPACES, "cannot create the sandbox's namespaces: bwrap: Creating new namespace failed"),
    ],
)
def test_grader_stops_before_grading_when_the_sandbox_does_not_work(course, tmp_path, bwrap, cause):
    if bwrap.startswith("#!"):
        bwrap = fake_bwrap(tmp_path, bwrap)
    before = state(course)
    result = toy_course.grader(course, "autograde", "toy", extra_env={"RESNET_SANDBOX_BWRAP": bwrap})
    assert result.returncode == 2, result.stdout + result.stderr
    assert_one_clear_error(result, cause)
    assert "Nothing was written to the gradebook or the grading report" in result.stderr
    assert result.stdout == ""
    assert state(course) == before


def test_plain_nbgrader_autograde_stops_before_grading_when_the_sandbox_does_not_work(course):
    before = state(course)
    result = toy_course.nbgrader(course, "autograde", "toy", extra_env={"RESNET_SANDBOX_BWRAP": "no-such-bwrap"})
    assert_one_clear_error(result, "bubblewrap is not installed")
    assert "apt-get install -y bubblewrap" in result.stderr
    assert state(course)[0] == before[0], "nbgrader wrote gradebook rows"
    assert state(course)[3] == [], "nbgrader wrote autograded files"


def test_a_sandbox_that_breaks_mid_run_stops_grading_and_records_nobody(course, judges_passed, tmp_path):
    bwrap = fake_bwrap(tmp_path, BREAKS_AFTER_PREFLIGHT.format(counter=tmp_path / "calls", bwrap=shutil.which("bwrap")))
    before = state(course)
    result = toy_course.grader(course, "autograde", "toy", "--workers", "1", extra_env={"RESNET_SANDBOX_BWRAP": bwrap})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "whose kernel could not start: the sandbox does not work on this machine" in result.stderr
    assert "The 0 submissions graded before were recorded" in result.stderr
    assert state(course)[0] == before[0] and not state(course)[2], "a student was recorded for the machine's fault"


def test_plain_nbgrader_stops_when_the_sandbox_breaks_mid_run(course, judges_passed, tmp_path):
    bwrap = fake_bwrap(tmp_path, BREAKS_AFTER_PREFLIGHT.format(counter=tmp_path / "calls", bwrap=shutil.which("bwrap")))
    before = state(course)
    result = toy_course.nbgrader(course, "autograde", "toy", extra_env={"RESNET_SANDBOX_BWRAP": bwrap})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr.split("[resnet-course] grading stopped")[-1]
    assert "whose kernel could not start: the sandbox does not work on this machine" in result.stderr, result.stderr
    assert toy_course.scores(course) == {}, "a student was recorded for the machine's fault"
    assert integrity.snapshot(course / "autograder" / "gradebook.db")["rows"].keys() >= before[0].keys()


def test_a_kernel_that_fails_while_the_sandbox_works_is_left_to_the_submission(monkeypatch):
    failed = JobResult("bo", False, "nbgrader could not grade it", kernel_start_failed="the kernel exited (status 2)")
    instructor_faults.check_result(failed, toy_course.TEST_LIMITS, recorded=1, waiting=0)  # the sandbox works: no stop

    monkeypatch.setenv("RESNET_SANDBOX_BWRAP", "no-such-bwrap")
    instructor_faults.check_result(JobResult("ada", True, None), toy_course.TEST_LIMITS, 0, 1)  # graded: no check
    with pytest.raises(instructor_faults.GradingStopped, match="at bo, whose kernel could not start"):
        instructor_faults.check_result(failed, toy_course.TEST_LIMITS, recorded=1, waiting=0)


def test_make_demo_ends_in_one_message_not_a_traceback(tmp_path):
    import subprocess
    import sys

    root = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "resnet_course.instructor.demo", "--root", str(root)],
        capture_output=True,
        text=True,
        env=toy_course.environment({"RESNET_SANDBOX_BWRAP": "no-such-bwrap"}),
        timeout=300,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "make demo stopped: grading stopped before any submission was graded" in result.stderr
    assert "Fix: " in result.stderr
    assert not root.exists(), "the demo started work before its pre-flight"


def test_the_kernel_manager_starts_the_given_limits_not_the_installed_kernelspec(tmp_path):
    from resnet_course.sandbox.kernelspec import kernel_manager

    manager, status_file = kernel_manager(tmp_path, ["--memory-bytes", "123456789"])
    argv = manager.kernel_spec.argv
    assert argv[argv.index("--memory-bytes") + 1] == "123456789"
    assert argv[argv.index("--status-file") + 1] == str(status_file)
