"""``make hub`` and ``make hub-stop`` through the Makefile, as the README tells an instructor to run them.

The hub starts in a temporary ``HUB_DIR`` on free loopback ports, with the
training test left out (``HUB_ARGS=--skip-training-test``); a demo student
logs in over HTTP (the login form, then JupyterHub's OAuth to their own
server) and gets JupyterLab; ``make hub-stop`` from another process then
stops everything, and no process of the hub, its proxy or a demo user is left.
It needs root, as ``make hub`` does; CI runs as root.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from fixtures import tools

from resnet_course.hub import accounts
from resnet_course.hub.layout import HubLayout
from resnet_course.hub.processes import alive, processes_of
from resnet_course.hub.service import running_pid
from resnet_course.paths import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.requires_tool("configurable-http-proxy")]

STUDENT = accounts.STUDENTS[0].name
READY_LINE = "The course hub is running at"
START_TIMEOUT_S = 180  # set-up (users, course folder) and JupyterHub's start
SPAWN_TIMEOUT_S = 180  # the student's server, on a busy 2-core machine
STOP_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make(target: str, env: dict[str, str], **kwargs) -> subprocess.Popen:
    """``make TARGET`` in the checkout, in a session of its own (so that it can be ended as a group)."""
    return subprocess.Popen(
        ["make", "--no-print-directory", target], cwd=REPO_ROOT, env=env, start_new_session=True, **kwargs
    )


def log_in(url: str, name: str, password: str, deadline: float) -> tuple[int, str, str]:
    """Log in on the hub's form and open the user's JupyterLab, following JupyterHub's redirects.

    Returns:
        The status, the address and the page of the user's lab once their server answers.
    """
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{url}/hub/login", timeout=30) as response:
        form = response.read().decode()
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"username": name, "password": password, "_xsrf": xsrf}).encode()
    with opener.open(f"{url}/hub/login?next=", data=data, timeout=60) as response:
        assert "/hub/login" not in response.url, "the login was refused"
    lab = f"{url}/user/{name}/lab"
    while True:
        try:
            with opener.open(lab, timeout=60) as response:
                page = response.read().decode(errors="replace")
                if response.url.startswith(lab) and "jupyter-config-data" in page:
                    return response.status, response.url, page
        except OSError:
            pass  # the server is starting: the hub answers 424/503 meanwhile
        assert time.monotonic() < deadline, f"{name}'s JupyterLab did not open within the time"
        time.sleep(2)


def test_make_hub_serves_a_student_and_make_hub_stop_leaves_nothing_behind():
    if os.geteuid() != 0:
        message = "make hub needs root (it creates Linux users and spawns servers as them)"
        if tools.in_ci():
            pytest.fail(f"CI=true, and {message}", pytrace=False)
        pytest.skip(message)
    if running_pid(HubLayout.from_env({})) is not None:
        pytest.skip("a `make hub` of this checkout is running with the same demo accounts")
    hub_dir = Path(tempfile.mkdtemp(prefix="resnet-course-make-hub-"))
    hub_dir.chmod(0o755)
    layout = HubLayout(hub_dir, port=free_port(), hub_port=free_port(), proxy_api_port=free_port())
    env = {**os.environ, **layout.as_env(), "HUB_ARGS": "--skip-training-test"}
    output = hub_dir / "make-hub.log"
    started = time.monotonic()
    with open(output, "wb") as log:
        hub = make("hub", env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        while READY_LINE not in output.read_text(errors="replace"):
            assert hub.poll() is None, output.read_text(errors="replace")
            assert time.monotonic() - started < START_TIMEOUT_S, output.read_text(errors="replace")
            time.sleep(0.5)
        assert f"{READY_LINE} {layout.url}/" in output.read_text()

        password = json.loads(layout.passwords.read_text())[STUDENT]
        status, address, page = log_in(layout.url, STUDENT, password, time.monotonic() + SPAWN_TIMEOUT_S)
        assert status == 200 and address.startswith(f"{layout.url}/user/{STUDENT}/lab"), address
        user_pids = processes_of({pwd.getpwnam(STUDENT).pw_uid})
        assert any("jupyterhub-singleuser" in command for command in user_pids.values()), user_pids

        stopper = make("hub-stop", env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        stop_output = stopper.communicate(timeout=STOP_TIMEOUT_S)[0].decode()
        assert stopper.returncode == 0, stop_output
        assert hub.wait(STOP_TIMEOUT_S) == 0, output.read_text(errors="replace")
    finally:
        if hub.poll() is None:
            os.killpg(hub.pid, signal.SIGINT)  # as Ctrl-C: the hub stops what it started
            try:
                hub.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(hub.pid, signal.SIGKILL)
                hub.wait()
    text = output.read_text(errors="replace")
    assert "Stopped; no hub, proxy or user processes are left." in text, text
    uids = {pwd.getpwnam(account.name).pw_uid for account in accounts.ACCOUNTS}
    assert processes_of(uids) == {}
    for pid_file in ("hub.pid", "jupyterhub.pid", "proxy.pid"):
        path = layout.state / pid_file
        pid = path.read_text().strip() if path.exists() else ""
        assert not (pid.isdigit() and alive(int(pid))), f"{pid_file}: process {pid} still runs"
    shutil.rmtree(hub_dir, ignore_errors=True)
    print(f"make hub, a student's login and make hub-stop took {time.monotonic() - started:.0f} s")
