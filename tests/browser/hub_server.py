"""Start and stop the course hub for the browser tests, and act as its instructor from a terminal.

The hub is launched as ``make hub`` launches it (``python -m resnet_course.hub
start``), with its folders in a temporary ``HUB_DIR`` and on free ports, and
with ``--skip-training-test``: the minutes-long training test is left out of
the course, so its 5 points are graded for nobody and every score the tests
assert excludes them. The demo accounts are real Linux users, shared with a
developer's ``make hub``: their course folders are reset before each run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lab_server import free_port

from resnet_course.hub import accounts
from resnet_course.hub.layout import COURSE_ID, HubLayout
from resnet_course.hub.processes import processes_of
from resnet_course.hub.service import running_pid

STARTUP_TIMEOUT_S = 120
SHUTDOWN_TIMEOUT_S = 60
READY_LINE = "The course hub is running at"


@dataclass
class RunningHub:
    """A hub started by :func:`start_hub`."""

    layout: HubLayout
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return self.layout.url

    def password(self, name: str) -> str:
        return json.loads(self.layout.passwords.read_text())[name]

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def demo_uids() -> set[int]:
    import pwd

    return {pwd.getpwnam(a.name).pw_uid for a in accounts.ACCOUNTS if accounts.user_exists(a.name)}


def reset_demo_homes(keep_instructor_course: bool) -> None:
    """Remove the course folders, nbgrader caches and JupyterLab settings of the demo users.

    The JupyterLab settings go too: the hub's own configuration must keep
    their first page free of pop-ups (the "Jupyter news" question), not a
    setting a user once chose.

    Args:
        keep_instructor_course: Keep the instructor's course folder (set-up has just made it).
    """
    for account in accounts.ACCOUNTS:
        if not accounts.user_exists(account.name):
            continue
        home = accounts.home_of(account.name)
        paths = [
            home / ".local/share/jupyter/nbgrader_cache",
            home / ".hub-steps",
            home / ".jupyter/lab/workspaces",
            home / ".jupyter/lab/user-settings",
        ]
        if account.role == "student" or not keep_instructor_course:
            paths.append(home / COURSE_ID)
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)


def start_hub(hub_dir: Path, log_path: Path) -> RunningHub:
    """``python -m resnet_course.hub start --skip-training-test`` in ``hub_dir``; wait until it serves."""
    default = HubLayout.from_env({})
    if running_pid(default) is not None:
        raise RuntimeError("`make hub` is running with the same demo accounts: stop it (`make hub-stop`) first")
    reset_demo_homes(keep_instructor_course=False)
    port = free_port()
    layout = HubLayout(hub_dir, port=port, hub_port=free_port(), proxy_api_port=free_port())
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "resnet_course.hub", "start", "--skip-training-test"],
            env={**os.environ, **layout.as_env()},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    hub = RunningHub(layout, process, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while READY_LINE not in hub.output():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_hub(hub)
            raise RuntimeError(f"the hub did not start:\n{hub.output()}")
        time.sleep(0.5)
    reset_demo_homes(keep_instructor_course=True)  # the accounts exist now, on a first run too
    return hub


def stop_hub(hub: RunningHub) -> None:
    """Stop the hub as Ctrl-C does (SIGINT to ``python -m resnet_course.hub start``)."""
    if hub.process.poll() is None:
        hub.process.send_signal(signal.SIGINT)
        try:
            hub.process.wait(SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            hub.process.kill()
            hub.process.wait()


def leftover_processes(hub: RunningHub) -> dict[int, str]:
    """Processes of the demo users, JupyterHub or the proxy that are still running."""
    left = processes_of(demo_uids())
    for pid_file in ("jupyterhub.pid", "proxy.pid"):
        path = hub.layout.state / pid_file
        if path.exists() and Path(f"/proc/{path.read_text().strip()}").exists():
            left[int(path.read_text())] = pid_file
    return left
