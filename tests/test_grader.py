"""The grader: submission repair, the single-writer merge, gradebook integrity, the export,
plain ``nbgrader autograde`` through the sandboxed kernel, and parallel/Dask grading equal to serial."""

import contextlib
import copy
import csv
import io
import os
import socket
import sqlite3
import subprocess
import sys
import time

import nbformat
import pytest
from fixtures import bad_submissions, toy_course

from resnet_course.grader.jobs import integrity
from resnet_course.grader.jobs.course import Course
from resnet_course.grader.jobs.merge import install_files
from resnet_course.grader.jobs.reconcile import UnreadableNotebook, read_notebook, reconcile
from resnet_course.grader.jobs.submissions import locate_notebook, read_submission
from resnet_course.grader.jobs.template import has_assignment, imports_of_test_cells, template_gradebook
from resnet_course.grader.reports import report
from resnet_course.grader.reports.exercises import exercise_of, exercises
from resnet_course.grader.reports.export import export_rows, to_csv

needs_bwrap = pytest.mark.requires_tool("bwrap")


@pytest.fixture
def course(tmp_path):
    return toy_course.course_copy(tmp_path / "course")


def grade_ids(notebook):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells]


def test_reconcile_restores_deleted_stripped_and_retyped_cells(course):
    released = toy_course.released_notebook(course)
    submitted = bad_submissions.good_notebook(course)
    answer = submitted.cells[grade_ids(submitted).index("normalize")]
    del answer.metadata["nbgrader"]  # stripped: the code stays as a plain cell
    del submitted.cells[grade_ids(submitted).index("test_add")]
    imports = submitted.cells[grade_ids(submitted).index("imports")]
    imports.cell_type = "markdown"
    del imports["outputs"], imports["execution_count"]
    imports.metadata["nbgrader"]["points"] = 100
    submitted.cells.append(copy.deepcopy(submitted.cells[grade_ids(submitted).index("add")]))  # duplicate id

    repaired, notes = reconcile(submitted, released)

    ids = [i for i in grade_ids(repaired) if i]
    assert ids == ["imports", "normalize", "test_normalize", "add", "test_add"]
    stub_index = grade_ids(repaired).index("normalize")
    assert "NotImplementedError" in repaired.cells[stub_index].source
    answer_index = next(i for i, c in enumerate(repaired.cells) if "np.linalg.norm" in c.source)
    assert stub_index < answer_index < grade_ids(repaired).index("test_normalize"), "the stray answer still counts"
    assert repaired.cells[grade_ids(repaired).index("imports")].cell_type == "code"
    assert "points" not in repaired.cells[grade_ids(repaired).index("imports")].metadata["nbgrader"]
    assert len({c.id for c in repaired.cells}) == len(repaired.cells)
    assert any("test_add was missing" in n for n in notes) and any("duplicate" in n for n in notes)
    assert any("turned into markdown" in n for n in notes)


def test_unreadable_notebooks_are_reported_not_crashed_on():
    with pytest.raises(UnreadableNotebook, match="not a valid notebook"):
        read_notebook(b'{"cells": [', "toy.ipynb")
    with pytest.raises(UnreadableNotebook, match="not UTF-8"):
        read_notebook(b"\xff\xfe", "toy.ipynb")


def test_submission_reader_skips_links_and_module_shadows_and_finds_renamed_notebook(course, tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    nbformat.write(bad_submissions.good_notebook(course), folder / "Copy of toy.ipynb")
    (folder / "numpy.py").write_text("allclose = None")
    (folder / "helper.py").write_text("HELP = 1")
    os.symlink(course / "autograder" / "gradebook.db", folder / "grades.db")
    submission = read_submission(folder, "someone")
    assert set(submission.files) == {"Copy of toy.ipynb", "helper.py"}
    assert locate_notebook(submission, "toy.ipynb", {"normalize"}) == "toy.ipynb"
    assert any("grades.db" in n for n in submission.notes) and any("numpy" in n for n in submission.notes)


def test_files_from_a_job_cannot_land_outside_their_folder(tmp_path):
    target = tmp_path / "autograded" / "alice"
    install_files(target, {"resnets/resnets.ipynb": b"{}"})
    assert (target / "resnets" / "resnets.ipynb").read_bytes() == b"{}"
    with pytest.raises(ValueError, match="refusing to write"):
        install_files(target, {"../bob/resnets/resnets.ipynb": b"{}"})
    assert not (tmp_path / "autograded" / "bob").exists()
    assert (target / "resnets" / "resnets.ipynb").exists()  # the earlier result is kept
    assert sorted(p.name for p in target.parent.iterdir()) == ["alice"]  # no staging folder left


def test_template_has_the_assignment_without_students(course):
    template = template_gradebook(course / "autograder" / "gradebook.db")
    assert has_assignment(template, "toy") == ["toy"]
    assert has_assignment(template, "nope") == []
    assert imports_of_test_cells(template, "toy") == ["numpy", "resnet_course.evidence", "toy_checks"]


def add_bystander(course, student="bystander", manual=1.5):
    """A student graded earlier, with a manual score, whom grading others must not touch."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'autograder' / 'gradebook.db'}") as gradebook:
        gradebook.add_student(student)
        gradebook.add_submission("toy", student)
        grade = gradebook.find_grade("test_normalize", "toy", "toy", student)
        grade.manual_score = manual
        gradebook.db.commit()


def test_integrity_check_spots_changed_grades_of_others(course):
    add_bystander(course)
    db = course / "autograder" / "gradebook.db"
    before = integrity.snapshot(db)
    assert integrity.check(db, before, set()) == []
    connection = sqlite3.connect(db)
    connection.execute("UPDATE grade SET manual_score = 2.0")
    connection.commit()
    connection.close()
    problems = integrity.check(db, before, set())
    assert problems and "bystander" in problems[0]
    assert integrity.check(db, before, {("bystander", "toy")}) == []


def test_exercises_follow_the_test_cell_names(course, repo_root):
    assert exercises(toy_course.released_notebook(course)) == ["normalize", "add"]
    resnets = nbformat.read(repo_root / "assignments" / "resnets" / "resnets.ipynb", as_version=4)
    assert exercises(resnets) == [
        "why_degradation",
        "identity_block",
        "why_bottleneck",
        "convolutional_block",
        "why_stride",
        "ResNet50",
        "why_bn_mode",
        "why_momentum",
        "recompute_batchnorm",
        "training",
    ]
    answers = ["identity_block", "convolutional_block", "ResNet50"]
    assert exercise_of("test_identity_block_hidden_shapes", answers) == "identity_block"
    assert exercise_of("test_training_accuracy", answers) == "training"


def test_export_joins_report_and_gradebook_per_exercise(course):
    add_bystander(course, "ann", manual=1.5)
    add_bystander(course, "bob", manual=0.0)
    toy = Course.load(course)
    report.save(
        toy.report_path("toy"),
        {
            "ann": report.StudentReport("ann", report.GRADED, "graded normally", ["kernel: a note"], 2.5),
            "bob": report.StudentReport("bob", report.NOT_GRADED, "toy.ipynb is not a valid notebook", [], 0.1),
        },
    )
    rows = {row["student_id"]: row for row in csv.DictReader(io.StringIO(to_csv(export_rows(toy, "toy"))))}
    assert rows["ann"] == {
        "student_id": "ann",
        "assignment": "toy",
        "status": "graded",
        "reason": "graded normally",
        "score": "1.5",
        "max_score": "3.0",
        "normalize": "1.5",
        "add": "0.0",
        "grading_seconds": "2.5",
        "notes": "kernel: a note",
    }
    assert rows["bob"]["status"] == "could not be graded" and rows["bob"]["reason"].startswith("toy.ipynb")
    assert "bystander" not in rows, "only students the grader reported on"


@needs_bwrap
def test_plain_nbgrader_autograde_runs_student_code_sandboxed(course):
    probe = (
        "import os, socket\nprint('UID', os.getuid())\nprint('SEES', sorted(os.listdir('../..')))\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\n    print('NETWORK reachable')\n"
        "except OSError:\n    print('NETWORK unreachable')\n"
    )
    cases = [
        bad_submissions.Case(
            "prober", bad_submissions._variant(lambda nb, c: bad_submissions._insert_after(nb, "normalize", probe)), 3
        )
    ]
    bad_submissions.write_class(course, cases)
    (course / "autograder" / "submitted" / "other").mkdir()
    result = toy_course.nbgrader(course, "autograde", "toy", "--student", "prober")
    assert result.returncode == 0, result.stdout + result.stderr
    text = (course / "autograder" / "autograded" / "prober" / "toy" / "toy.ipynb").read_text()
    assert "NETWORK unreachable" in text and "other" not in text.split("SEES")[1].split("\\n")[0]
    if os.geteuid() == 0:
        assert "UID 0" not in text
    assert toy_course.scores(course) == {"prober": 3.0}


def autograded_outputs(course, student):
    """Stream and error outputs of each cell of a student's autograded notebook."""
    notebook = nbformat.read(course / "autograder" / "autograded" / student / "toy" / "toy.ipynb", as_version=4)
    found = []
    for cell in notebook.cells:
        outputs = [
            (o.get("output_type"), o.get("name"), o.get("text"), o.get("ename")) for o in cell.get("outputs", [])
        ]
        found.append((cell.metadata.get("nbgrader", {}).get("grade_id"), cell.source, outputs))
    return found


def grades(course):
    db = course / "autograder" / "gradebook.db"
    return {k: v for k, v in integrity.snapshot(db)["rows"].items() if k[4] == "grade"}


@pytest.fixture
def dask_cluster():
    """A Dask scheduler and two workers, as separate processes on loopback."""
    with running_dask_cluster() as address:
        yield address


@contextlib.contextmanager
def running_dask_cluster(worker_env: dict[str, str] | None = None):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = toy_course.environment()
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    address = f"tcp://127.0.0.1:{port}"
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                address,
                "--nthreads",
                "1",
                "--nworkers",
                "1",
                "--no-dashboard",
                "--name",
                f"grader-{n}",
            ],
            env=toy_course.environment(worker_env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(2)
    ]
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in workers + [scheduler]:
            process.terminate()
        for process in workers + [scheduler]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


SMALL_CLASS = ["good", "syntax_error", "patched_numpy", "kernel_exit", "deleted_test"]


@needs_bwrap
@pytest.mark.slow
def test_grading_on_a_dask_cluster_equals_serial_grading(tmp_path, dask_cluster):
    cases = [c for c in bad_submissions.CASES if c.name in SMALL_CLASS]
    serial = toy_course.course_copy(tmp_path / "serial")
    distributed = toy_course.course_copy(tmp_path / "distributed")
    for course in (serial, distributed):
        bad_submissions.write_class(course, cases)

    started = time.monotonic()
    result = toy_course.grader(serial, "autograde", "toy", "--workers", "1")
    serial_seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    started = time.monotonic()
    result = toy_course.grader(distributed, "autograde", "toy", "--scheduler", dask_cluster)
    dask_seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"serial {serial_seconds:.1f} s, Dask with 2 workers {dask_seconds:.1f} s")

    assert grades(serial) == grades(distributed)
    assert toy_course.scores(serial) == {c.name: c.score for c in cases}
    reports = toy_course.report(serial), toy_course.report(distributed)
    for student in SMALL_CLASS:
        assert reports[0][student]["status"] == reports[1][student]["status"]
        assert reports[0][student]["reason"] == reports[1][student]["reason"]
        assert autograded_outputs(serial, student) == autograded_outputs(distributed, student)


@needs_bwrap
def test_dask_workers_whose_sandbox_fails_stop_grading_before_anything_is_written(course):
    bad_submissions.write_class(course, [c for c in bad_submissions.CASES if c.name == "good"])
    db = course / "autograder" / "gradebook.db"
    before = integrity.snapshot(db)["rows"]
    with running_dask_cluster({"RESNET_SANDBOX_BWRAP": "no-such-bwrap"}) as address:
        result = toy_course.grader(course, "autograde", "toy", "--scheduler", address)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the sandbox does not work on 2 of 2 Dask workers" in result.stderr
    assert "bubblewrap is not installed" in result.stderr and "Traceback" not in result.stderr
    assert integrity.snapshot(db)["rows"] == before
    assert not (course / "autograder" / ".runtime" / "reports" / "toy.json").exists()


@pytest.mark.parametrize(("cores", "workers", "threads"), [(2, 2, 1), (2, 1, 2), (2, None, 1), (16, 2, 8), (2, 5, 1)])
def test_submissions_graded_at_once_split_the_cores_for_their_judges(monkeypatch, cores, workers, threads):
    from resnet_course.grader.jobs import autograde

    monkeypatch.setattr(autograde, "default_workers", lambda: cores)
    assert autograde.judges_threads(workers) == threads


def test_a_jobs_share_of_the_cores_reaches_its_trusted_verdicts_and_the_judges(tmp_path):
    from resnet_course.grader.jobs.job_runner import autograde_config
    from resnet_course.grader.pipeline.trusted_verdicts import TrustedVerdicts

    job = {"course_id": "c", "assignment": "a", "student": "s", "timeout": 60, "launcher_arguments": []}
    job |= {"protected_modules": [], "judges_threads": 1}
    verdicts = TrustedVerdicts(config=autograde_config(tmp_path, job))
    assert verdicts.judges_threads == 1
    assert verdicts.judges_environment()["TF_NUM_INTRAOP_THREADS"] == "1"
    job["judges_threads"] = 0
    assert "TF_NUM_INTRAOP_THREADS" not in TrustedVerdicts(config=autograde_config(tmp_path, job)).judges_environment()
