"""The course hub's configuration, without starting it: each role's nbgrader and Jupyter settings,
the demo authenticator, the generated passwords, and the JupyterHub settings."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import stat
import subprocess
import time
from pathlib import Path

from traitlets.config import Config

from resnet_course.hub import accounts, config, roles
from resnet_course.hub.authenticator import DemoPasswordAuthenticator
from resnet_course.hub.course_setup import TRAINING_TEST, drop_test_cell
from resnet_course.hub.layout import COURSE_ID, HubLayout
from resnet_course.paths import MASTER_NOTEBOOK


def test_students_get_the_assignment_list_and_no_instructor_tools(tmp_path):
    files = roles.role_files("student", tmp_path / "exchange")
    disabled = files["labconfig/page_config.json"]["disabledExtensions"]
    extensions = files["jupyter_server_config.json"]["ServerApp"]["jpserver_extensions"]
    assert disabled == {
        "@jupyter/nbgrader:formgrader": True,
        "@jupyter/nbgrader:create-assignment": True,
        "@jupyter/nbgrader:course-list": True,
    }
    assert extensions == {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.course_list": False,
        "nbgrader.server_extensions.assignment_list": True,
        "nbgrader.server_extensions.validate_assignment": True,
    }
    nbgrader = files["nbgrader_config.json"]
    assert nbgrader["Exchange"] == {"root": str(tmp_path / "exchange"), "path_includes_course": True}
    assert nbgrader["Authenticator"] == {"plugin_class": "nbgrader.auth.JupyterHubAuthPlugin"}
    assert nbgrader["CourseDirectory"] == {}  # a student's courses come from their hub groups


def test_the_instructor_gets_every_tool_and_works_in_the_course_folder(tmp_path):
    files = roles.role_files("instructor", tmp_path / "exchange", tmp_path / "course")
    assert not any(files["labconfig/page_config.json"]["disabledExtensions"].values())
    assert all(files["jupyter_server_config.json"]["ServerApp"]["jpserver_extensions"].values())
    course = files["nbgrader_config.json"]["CourseDirectory"]
    assert course == {"root": str(tmp_path / "course"), "course_id": COURSE_ID}


def test_role_files_are_readable_by_every_user(tmp_path):
    roles.write_role_files(tmp_path / "student", roles.role_files("student", tmp_path / "exchange"))
    for path in (tmp_path / "student").rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) in (0o644, 0o755), path
    loaded = json.loads((tmp_path / "student" / "nbgrader_config.json").read_text())
    assert loaded["Exchange"]["path_includes_course"] is True


def test_passwords_are_generated_once_and_private(tmp_path):
    path = tmp_path / "state" / "passwords.json"
    first = accounts.ensure_passwords(path)
    assert set(first) == {a.name for a in accounts.ACCOUNTS} and len(set(first.values())) == len(first)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert accounts.ensure_passwords(path) == first


def test_the_demo_authenticator_accepts_only_the_generated_password(tmp_path):
    path = tmp_path / "passwords.json"
    passwords = accounts.ensure_passwords(path)
    authenticator = DemoPasswordAuthenticator(password_file=str(path))
    name = accounts.STUDENTS[0].name

    def login(user, password):
        # In a thread of its own: the browser tests earlier in the session leave an event loop in this one.
        coroutine = authenticator.authenticate(None, {"username": user, "password": password})
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, coroutine).result()

    assert login(name, passwords[name]) == name
    assert login(name, passwords[accounts.INSTRUCTOR.name]) is None
    assert login(name, "") is None
    assert login("root", passwords[name]) is None


def test_the_hub_serves_loopback_and_registers_the_course_groups(tmp_path):
    c = Config()
    layout = HubLayout(tmp_path, port=8123, hub_port=8124, proxy_api_port=8125)
    config.apply(c, layout)
    assert c.JupyterHub.ip == "127.0.0.1" and c.JupyterHub.hub_ip == "127.0.0.1"
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.LocalProcessSpawner"
    assert c.JupyterHub.load_groups == {
        f"nbgrader-{COURSE_ID}": {"users": [a.name for a in accounts.STUDENTS]},
        f"formgrade-{COURSE_ID}": {"users": [accounts.INSTRUCTOR.name]},
    }
    assert {"name": "server", "scopes": ["inherit"]} in c.JupyterHub.load_roles
    assert c.Authenticator.allowed_users == {a.name for a in accounts.ACCOUNTS}


def test_skipping_the_training_test_removes_only_that_cell(tmp_path):
    notebook = tmp_path / "resnets.ipynb"
    notebook.write_text(MASTER_NOTEBOOK.read_text())
    before = json.loads(notebook.read_text())["cells"]
    drop_test_cell(notebook, TRAINING_TEST)
    after = json.loads(notebook.read_text())["cells"]
    ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in after]
    assert len(after) == len(before) - 1 and TRAINING_TEST not in ids


def test_leftover_processes_are_the_running_ones_not_zombies():
    from resnet_course.hub import processes

    running = subprocess.Popen(["sleep", "30"])
    exited = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 10
        # Not waited for: `true` stays a zombie, as an orphan does under a pid 1 that never reaps.
        while Path(f"/proc/{exited.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        found = processes.processes_of({os.getuid()})
        assert running.pid in found and found[running.pid] == "sleep 30"
        assert exited.pid not in found
        assert processes.terminate([running.pid, exited.pid], grace_s=5) == []
        assert running.wait(5) == -15
    finally:
        running.kill()
        running.wait()
        exited.wait()
