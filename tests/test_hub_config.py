"""The course hub's configuration, without starting it: each role's nbgrader and Jupyter settings,
the demo authenticator, the generated passwords, the JupyterHub settings, and the feedback link."""

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
from resnet_course.hub.feedback_link import point_at_page
from resnet_course.hub.layout import COURSE_ID, HubLayout
from resnet_course.paths import MASTER_NOTEBOOK

NEWS = "@jupyterlab/apputils-extension:announcements"


def instructor_files(tmp_path):
    return roles.role_files("instructor", tmp_path / "exchange", tmp_path / "course", tmp_path / "config")


def test_students_get_the_assignment_list_and_no_instructor_tools(tmp_path):
    files = roles.role_files("student", tmp_path / "exchange")
    disabled = files["labconfig/page_config.json"]["disabledExtensions"]
    extensions = files["jupyter_server_config.json"]["ServerApp"]["jpserver_extensions"]
    assert disabled == {
        "@jupyter/nbgrader:formgrader": True,
        "@jupyter/nbgrader:create-assignment": True,
        "@jupyter/nbgrader:course-list": True,
        NEWS: True,
    }
    assert extensions == {
        "nbgrader.server_extensions.formgrader": False,
        "resnet_course.instructor.formgrader": False,
        "nbgrader.server_extensions.course_list": False,
        "nbgrader.server_extensions.assignment_list": True,
        "nbgrader.server_extensions.validate_assignment": True,
    }
    nbgrader = files["nbgrader_config.py"]
    assert nbgrader["Exchange"] == {"root": str(tmp_path / "exchange"), "path_includes_course": True}
    assert nbgrader["Authenticator"] == {"plugin_class": "nbgrader.auth.JupyterHubAuthPlugin"}
    assert nbgrader["CourseDirectory"] == {}  # a student's courses come from their hub groups
    assert nbgrader["ExchangeFactory"] == {"list": "resnet_course.hub.feedback_link.FeedbackPageList"}


def test_the_instructor_gets_the_course_formgrader_in_a_tab_and_works_in_the_course_folder(tmp_path):
    files = instructor_files(tmp_path)
    disabled = files["labconfig/page_config.json"]["disabledExtensions"]
    assert {plugin for plugin, off in disabled.items() if off} == {
        NEWS,
        "@jupyter/nbgrader:formgrader",  # its panel is a frame, which the hub forbids
        "@jupyter/nbgrader:menu",  # replaced by the course's menu, whose Formgrader opens a tab
    }
    extensions = files["jupyter_server_config.json"]["ServerApp"]["jpserver_extensions"]
    assert extensions["nbgrader.server_extensions.formgrader"] is False
    assert extensions["resnet_course.instructor.formgrader"] is True
    assert extensions["nbgrader.server_extensions.course_list"] is True
    course = files["nbgrader_config.py"]["CourseDirectory"]
    assert course == {"root": str(tmp_path / "course"), "course_id": COURSE_ID}
    settings_dir = files["jupyter_server_config.json"]["LabApp"]["app_settings_dir"]
    assert settings_dir == str(tmp_path / "config" / "lab-settings")
    (menu,) = files["lab-settings/overrides.json"]["@jupyterlab/mainmenu-extension:plugin"]["menus"]
    formgrader = next(item for item in menu["items"] if item.get("args", {}).get("text") == "Formgrader")
    assert formgrader == {
        "command": "help:open",
        "args": {"url": "/hub/user-redirect/formgrader", "text": "Formgrader", "newBrowserTab": True},
    }


def test_role_files_are_readable_by_every_user_and_nbgrader_finds_its_config_py(tmp_path, monkeypatch):
    roles.write_role_files(tmp_path / "student", roles.role_files("student", tmp_path / "exchange"))
    for path in (tmp_path / "student").rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) in (0o644, 0o755), path
    # nbgrader warns "No nbgrader_config.py file found" unless a .py is on its path, at every request.
    from nbgrader.apps import NbGrader

    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(tmp_path / "student"))
    monkeypatch.chdir(tmp_path)
    app = NbGrader()
    warnings = []
    monkeypatch.setattr(app.log, "warning", lambda message, *args: warnings.append(message % args))
    app.load_config_file()
    assert warnings == []
    assert app.config.Exchange.path_includes_course is True
    assert app.config.Exchange.root == str(tmp_path / "exchange")


def test_the_demo_roster_names_the_students_and_an_existing_roster_is_kept(tmp_path):
    from resnet_course.grader.reports import roster
    from resnet_course.hub.course_setup import write_demo_roster

    path = tmp_path / "roster.csv"
    assert write_demo_roster(path)
    entries = roster.load(path)
    assert {name: entry.name for name, entry in entries.items()} == {s.name: s.full_name for s in accounts.STUDENTS}
    path.write_text("student_id,name\nrc-alice,Alice Other\n")
    assert not write_demo_roster(path)
    assert roster.load(path)["rc-alice"].name == "Alice Other"


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


def test_view_feedback_points_at_the_page_of_a_one_notebook_submission(tmp_path):
    page = tmp_path / "feedback" / "2027-01-01 10:00:00" / "resnets.html"
    notebook = {"notebook_id": "resnets", "has_local_feedback": True, "local_feedback_path": str(page)}
    submission = {"local_feedback_path": str(page.parent), "notebooks": [notebook]}
    point_at_page(submission)
    assert submission["local_feedback_path"] == str(page)

    # Two notebooks: the folder, which holds both pages; no feedback yet: nothing to point at.
    two = {"local_feedback_path": str(page.parent), "notebooks": [notebook, dict(notebook, notebook_id="extra")]}
    point_at_page(two)
    assert two["local_feedback_path"] == str(page.parent)
    none = {"local_feedback_path": None, "notebooks": [dict(notebook, has_local_feedback=False)]}
    point_at_page(none)
    assert none["local_feedback_path"] is None


def test_a_relative_feedback_path_becomes_absolute_where_nbgrader_lists_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notebook = {"has_local_feedback": True, "local_feedback_path": os.path.join("course", "a", "feedback", "x.html")}
    submission = {"local_feedback_path": "course/a/feedback", "notebooks": [notebook]}
    point_at_page(submission)
    assert Path(submission["local_feedback_path"]) == tmp_path / "course" / "a" / "feedback" / "x.html"
