"""The course's formgrader without a browser: the background grading queue and the roster's names in the
gradebook.

The queue is driven with a stand-in for the grading process (a script that
answers like ``formgrader/background.py`` once the test lets it), so these
tests take seconds; ``tests/browser/test_formgrader_autograde.py`` clicks
the real button on a real grader.
"""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

from resnet_course.instructor.formgrader import grading_run
from resnet_course.instructor.formgrader.grading_queue import GradingQueue
from resnet_course.instructor.gradebook_names import import_roster_names, split_name

# Answers as background.py does: "graded" for every student, after the test creates the file "go".
STAND_IN = """\
#!{python}
import json, os, sys, time
args = dict(a[2:].split("=", 1) for a in sys.argv[3:])
if os.environ.get("STAND_IN_FAILS"):
    print("the grader broke: boom")
    sys.exit(3)
deadline = time.monotonic() + 120  # a test that never says "go" leaves no process behind
while not os.path.exists("go"):
    if time.monotonic() > deadline:
        sys.exit(4)
    time.sleep(0.05)
run = json.load(open(args["status"]))
students = args["students"].split(",") if "students" in args else ["everyone"]
run["results"] = [{{"student": s, "status": "graded", "reason": "graded normally", "score": 3.0, "max_score": 3.0}}
                  for s in students]
run["state"], run["ended"], run["message"] = "finished", time.time(), "graded all"
json.dump(run, open(args["status"], "w"))
"""


@pytest.fixture
def queue(tmp_path):
    script = tmp_path / "stand-in-python"
    script.write_text(STAND_IN.format(python=sys.executable))
    script.chmod(0o755)
    queue = GradingQueue(tmp_path, tmp_path / "runs", python=str(script))
    yield queue
    if queue._process is not None and queue._process.poll() is None:  # the run the test left waiting
        queue._process.kill()
        queue._process.wait()


async def wait_until(condition, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_a_click_returns_at_once_and_one_run_grades_at_a_time(queue, tmp_path):
    async def scenario():
        started = time.monotonic()
        first, said = queue.request("toy", ["ann"])
        assert time.monotonic() - started < 0.5, "the click must not wait for the grading"
        assert said == "grading started" and first.state == "running"
        second, said = queue.request("toy", ["bob"])
        assert said.startswith("queued") and second.students == ["bob"]
        assert queue.request("toy", ["ann"])[1] == "already being graded"
        assert queue.request("toy", ["cem"])[0] is second and second.students == ["bob", "cem"]
        status = queue.status()
        assert status["running"]["students"] == ["ann"] and status["running"]["results"] == []
        assert [run["students"] for run in status["queued"]] == [["bob", "cem"]]

        (tmp_path / "go").touch()
        await wait_until(lambda: queue.running is None and not queue.queued)
        last = queue.status()["last"]
        assert last["id"] == second.id and last["state"] == "finished"
        assert [r["student"] for r in last["results"]] == ["bob", "cem"]
        assert grading_run.read(queue.folder / f"run-{first.id}.json").results[0]["student"] == "ann"

    asyncio.run(scenario())


def test_autograde_all_covers_the_students_queued_before_it(queue):
    async def scenario():
        queue.request("toy", ["ann"])
        queued, _ = queue.request("toy", ["bob"])
        assert queue.request("toy", None)[0] is queued and queued.students is None
        assert queue.request("other", ["bob"])[0] is not queued  # another assignment, another run

    asyncio.run(scenario())


def test_a_run_that_dies_is_reported_as_failed_with_the_end_of_its_log(queue, monkeypatch):
    monkeypatch.setenv("STAND_IN_FAILS", "1")

    async def scenario():
        run, _ = queue.request("toy", None)
        await wait_until(lambda: queue.running is None)
        last = queue.status()["last"]
        assert last["id"] == run.id and last["state"] == "failed"
        assert "status 3" in last["message"] and "boom" in last["message"]

    asyncio.run(scenario())


def test_roster_names_go_into_the_gradebook_and_ungraded_students_keep_theirs(tmp_path):
    from nbgrader.api import Gradebook

    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db_url, "course") as gradebook:
        gradebook.add_student("kept", first_name="Kim", last_name="Kept")
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email\nada,Ada King Lovelace,ada@example.edu\nnameless,,\n")
    assert import_roster_names(db_url, "course", roster) == 1
    assert import_roster_names(db_url, "course", tmp_path / "missing.csv") == 0
    with Gradebook(db_url, "course") as gradebook:
        students = {s.id: (s.first_name, s.last_name, s.email) for s in gradebook.students}
    assert students == {"ada": ("Ada King", "Lovelace", "ada@example.edu"), "kept": ("Kim", "Kept", None)}
    assert split_name("Plato") == ("", "Plato")
