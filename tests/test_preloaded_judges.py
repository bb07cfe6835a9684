"""A preloaded judges server judges many submissions, and none of them can reach the next one's verdict.

The judges here stand in for the worst case: evidence that makes a judge run code of the
student's choosing. One submission's judge changes everything it can reach (module state,
the environment, files in every writable folder, the import path, a process left running),
and the next submission's judge, forked from the same server, reports what it finds.
"""

from __future__ import annotations

import textwrap

import pytest

from resnet_course.grader.judges import judge_process, judges_relay, preloaded_judges

pytestmark = pytest.mark.requires_tool("bwrap")

JUDGES = textwrap.dedent(
    """
    import os
    import signal
    import sys
    import time

    from resnet_course.grader.judges import judging
    from resnet_course.grader.judges.judging import Verdict

    STATE = {"poisoned": False}
    PLANTED = ("/tmp/poison.py", "/tmp/work/poison.py", "/dev/shm/poison", "/tmp/.local/poison.pth")


    def challenge(rng):
        return {}


    def poison(payload, asked):
        STATE["poisoned"] = True
        os.environ["POISONED"] = "1"
        for path in PLANTED:
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as handle:
                    handle.write("raise SystemExit('imported the poison')\\n")
            except OSError:
                pass
        sys.path.insert(0, "/tmp")
        judging.POISONED = True
        if os.fork() == 0:  # a process left behind to forge the next verdict
            os.setsid()
            time.sleep(60)
            os._exit(0)
        return Verdict(True, "poison planted")


    def probe(payload, asked):
        found = []
        if STATE["poisoned"]:
            found.append("module state")
        if os.environ.get("POISONED"):
            found.append("environment")
        found += [path for path in PLANTED if os.path.exists(path)]
        if "/tmp" in sys.path or any(entry.startswith("/tmp/") for entry in sys.path):
            found.append("import path")
        if hasattr(judging, "POISONED"):
            found.append("patched module")
        try:
            import poison  # noqa: F401
            found.append("imported a planted module")
        except ImportError:
            pass
        me, server = os.getpid(), os.getppid()
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) not in (1, me, server):
                state = open(f"/proc/{name}/stat").read().rsplit(")", 1)[1].split()[0]
                if state not in ("Z", "X"):
                    found.append(f"process {name} left running")
        return Verdict(not found, "clean" if not found else "poisoned: " + ", ".join(found))


    def kill_server(payload, asked):
        try:
            os.kill(os.getppid(), signal.SIGKILL)
        except OSError:  # a fresh judges' process may not signal its parent, the sandbox's init
            pass
        return Verdict(True, "judged after killing its parent")


    def measure(payload, asked):
        print("x" * 500_000)  # output the verdict line follows
        return Verdict(True, f"{len(payload)} characters")


    def threads(payload, asked):
        names = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
        return Verdict(True, ",".join(os.environ.get(name, "unset") for name in names))


    JUDGES = {
        "threads": ("value", threads),
        "measure": ("value", measure),
        "poison": ("value", poison),
        "probe": ("value", probe),
        "kill_server": ("value", kill_server),
    }
    """
)


@pytest.fixture
def judges_folder(tmp_path):
    folder = tmp_path / "grader_only"
    folder.mkdir()
    (folder / "judges.py").write_text(JUDGES)
    preloaded_judges.close_all()
    yield folder
    preloaded_judges.close_all()


def request(*grade_ids):
    return {"graded": list(grade_ids), "evidence": {g: {"value": 1} for g in grade_ids}, "challenge": {}}


def judge(folder, *grade_ids):
    judged = judge_process.judge_here(folder, request(*grade_ids), judge_process.JudgesLimits(), {})
    return {grade_id: (verdict.passed, verdict.message) for grade_id, verdict in judged.verdicts.items()}


def test_one_submission_cannot_poison_the_next_ones_verdict(judges_folder):
    started = preloaded_judges.started_servers
    assert judge(judges_folder, "probe") == {"probe": (True, "clean")}
    assert judge(judges_folder, "poison") == {"poison": (True, "poison planted")}
    assert judge(judges_folder, "probe") == {"probe": (True, "clean")}
    assert preloaded_judges.started_servers == started + 1, "all three were judged by one preloaded server"


def test_a_submission_that_kills_the_server_is_judged_afresh_and_the_next_gets_a_new_server(judges_folder, monkeypatch):
    monkeypatch.setenv(preloaded_judges.ENABLE_VARIABLE, "0")
    fresh = judge(judges_folder, "kill_server")
    monkeypatch.delenv(preloaded_judges.ENABLE_VARIABLE)
    started = preloaded_judges.started_servers
    assert judge(judges_folder, "kill_server") == fresh == {"kill_server": (True, "judged after killing its parent")}
    assert judge(judges_folder, "probe") == {"probe": (True, "clean")}
    assert preloaded_judges.started_servers == started + 2


def test_the_relay_gives_a_jobs_process_what_judging_there_gives_from_one_lasting_server(judges_folder):
    started = preloaded_judges.started_servers
    with judges_relay.JudgesRelay() as relay:
        relayed = [
            judges_relay.ask(relay.address, judges_folder, request("probe"), judge_process.JudgesLimits(), {})
            for _ in range(2)
        ]
    direct = judge(judges_folder, "probe")
    assert direct == {"probe": (True, "clean")}
    assert [{key: (v.passed, v.message) for key, v in judged.verdicts.items()} for judged in relayed] == [direct] * 2
    # The server started for the relay's first request (on the relay's thread) outlived that thread.
    assert preloaded_judges.started_servers == started + 1


def test_large_evidence_and_output_pass_through_the_server(judges_folder):
    evidence = {"graded": ["measure"], "evidence": {"measure": {"value": "e" * 40_000_000}}, "challenge": {}}
    judged = judge_process.judge_here(judges_folder, evidence, judge_process.JudgesLimits(), {})
    assert (judged.verdicts["measure"].passed, judged.verdicts["measure"].message) == (True, "40000000 characters")
    assert preloaded_judges.started_servers >= 1 and judged.cpu_seconds > 0


def test_an_idle_server_is_stopped_and_the_next_submission_starts_another(judges_folder):
    started = preloaded_judges.started_servers
    assert judge(judges_folder, "probe") == {"probe": (True, "clean")}
    assert preloaded_judges.stop_idle(0) == 1
    assert judge(judges_folder, "probe") == {"probe": (True, "clean")}
    assert preloaded_judges.started_servers == started + 2


def test_a_forked_process_starts_its_own_server_and_leaves_the_parents_alone(judges_folder):
    import multiprocessing

    assert judge(judges_folder, "probe") == {"probe": (True, "clean")}
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        in_child = pool.apply(_judge_and_count, (judges_folder,))
    assert in_child == ({"probe": (True, "clean")}, 1), "the child started a server of its own"
    started = preloaded_judges.started_servers
    assert judge(judges_folder, "probe") == {"probe": (True, "clean")}
    assert preloaded_judges.started_servers == started, "the parent's server still serves the parent"


def _judge_and_count(folder):
    return judge(folder, "probe"), preloaded_judges.started_servers


def test_the_cpu_time_of_a_fresh_judges_process_is_reported(judges_folder, monkeypatch):
    monkeypatch.setenv(preloaded_judges.ENABLE_VARIABLE, "0")
    measured = {"graded": ["measure"], "evidence": {"measure": {"value": "abc"}}, "challenge": {}}
    judged = judge_process.judge_here(judges_folder, measured, judge_process.JudgesLimits(), {})
    assert (judged.verdicts["measure"].passed, judged.verdicts["measure"].message) == (True, "3 characters")
    assert 0 < judged.cpu_seconds < judged.process_seconds * 4


@pytest.mark.parametrize("preloaded", ["1", "0"], ids=["server", "fresh process"])
def test_the_graders_share_of_the_cores_reaches_the_judges(judges_folder, monkeypatch, preloaded):
    monkeypatch.setenv(preloaded_judges.ENABLE_VARIABLE, preloaded)
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    monkeypatch.delenv("TF_NUM_INTEROP_THREADS", raising=False)
    for threads, expected in ((1, "1,1"), (0, "unset,unset")):
        environment = judge_process.judges_environment(threads)
        judged = judge_process.judge_here(judges_folder, request("threads"), judge_process.JudgesLimits(), environment)
        assert judged.verdicts["threads"].message == expected, threads
