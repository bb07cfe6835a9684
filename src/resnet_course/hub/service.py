"""Set up, start and stop the course hub (``make hub``, ``make hub-stop``).

``start`` runs in the foreground: it writes its pid to ``HUB_DIR/state/hub.pid``,
starts JupyterHub in a session of its own (so that Ctrl-C reaches this
process, which then stops the hub in order), prints the address and the
demo accounts, and waits. On Ctrl-C or SIGTERM (``stop``, from another
shell) it stops JupyterHub, which stops the proxy and every user's server,
then ends whatever a demo user still runs (a grading run in a terminal, say)
and removes the pid file.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from . import accounts, course_setup, processes, roles
from .layout import HubLayout

CONFIG_FILE = Path(__file__).with_name("jupyterhub_config.py")
PROXY_COMMAND = "configurable-http-proxy"
#: Debian's node-configurable-http-proxy keeps its modules here; a Node.js from elsewhere does not look there.
DEBIAN_NODE_MODULES = "/usr/share/nodejs"
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30


class HubError(RuntimeError):
    """The hub cannot be set up or started here; the message says why and what to do."""


def require_root() -> None:
    if os.geteuid() != 0:
        raise HubError(
            "the course hub needs root: set-up creates the demo Linux users and JupyterHub starts each "
            "user's server as that user. Run it as root, e.g.:\n    sudo make hub"
        )


def proxy_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment under which ``configurable-http-proxy`` finds Debian's Node.js modules too."""
    env = dict(os.environ if base is None else base)
    env["NODE_PATH"] = os.pathsep.join(p for p in (env.get("NODE_PATH"), DEBIAN_NODE_MODULES) if p)
    return env


def check_proxy() -> None:
    """Fail with the set-up command when ``configurable-http-proxy`` is missing or cannot run."""
    how = "run `make system-packages` (as root), which installs Debian's node-configurable-http-proxy"
    if shutil.which(PROXY_COMMAND) is None:
        raise HubError(f"{PROXY_COMMAND} is not installed: {how}")
    probe = subprocess.run([PROXY_COMMAND, "--version"], env=proxy_environment(), capture_output=True, text=True)
    if probe.returncode != 0:
        raise HubError(f"{PROXY_COMMAND} does not run ({probe.stderr.strip()[-300:]}): {how}")


def setup(layout: HubLayout, skip_training_test: bool = False) -> dict[str, str]:
    """Make everything the hub needs, keeping what exists; return the demo passwords."""
    require_root()
    check_proxy()
    for folder in course_setup.open_for_traversal(course_setup.environment_paths()):
        print(f"set-up: other users may now pass through {folder} (o+x) to reach this checkout's Python")
    closed = [p for p in layout.root.parents if p.exists() and not p.stat().st_mode & 0o001]
    if closed:
        raise HubError(f"HUB_DIR={layout.root} is inside {closed[0]}, which other users cannot enter; choose another")
    course_setup.open_kernelspecs()
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.root.chmod(0o755)
    layout.state.mkdir(exist_ok=True)
    layout.state.chmod(0o700)
    for account in accounts.ACCOUNTS:
        accounts.ensure_user(account)
    passwords = accounts.ensure_passwords(layout.passwords)
    course_setup.prepare_exchange(layout.exchange)
    instructor = accounts.INSTRUCTOR.name
    course = course_setup.prepare_course_folder(accounts.home_of(instructor), instructor, skip_training_test)
    for role in accounts.ROLES:
        course_root = course if role == "instructor" else None
        files = roles.role_files(role, layout.exchange, course_root, layout.role_config(role))
        roles.write_role_files(layout.role_config(role), files)
    (layout.root / "config").chmod(0o755)
    course_setup.close_instructor_folders()
    return passwords


def banner(layout: HubLayout, passwords: dict[str, str]) -> str:
    """What ``make hub`` prints once the hub answers: the address and the demo accounts."""
    lines = [
        f"The course hub is running at {layout.url}/ (loopback only).",
        "Demo accounts (passwords for demos only):",
    ]
    for account in accounts.ACCOUNTS:
        lines.append(f"  {account.role:<10} {account.name:<14} {passwords[account.name]}")
    lines += [
        f"The instructor's formgrader opens in its own tab: {layout.url}/user/{accounts.INSTRUCTOR.name}/formgrader",
        f"Hub log: {layout.log_file}",
        "Stop with Ctrl-C here or `make hub-stop` in another shell.",
    ]
    return "\n".join(lines)


def wait_until_ready(layout: HubLayout, hub: subprocess.Popen, timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            raise HubError(f"JupyterHub exited with {hub.returncode}; see {layout.log_file}")
        try:
            with urllib.request.urlopen(f"{layout.url}/hub/api", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise HubError(f"JupyterHub did not answer within {timeout_s} s; see {layout.log_file}")


def running_pid(layout: HubLayout) -> int | None:
    """The pid of a running ``python -m resnet_course.hub start`` of this layout, if any."""
    return processes.pid_from_file(layout.pid_file, "resnet_course.hub")


def start(layout: HubLayout, skip_training_test: bool = False) -> int:
    """Set up, serve until Ctrl-C or SIGTERM, then stop everything; return JupyterHub's exit code."""
    other = running_pid(layout)
    if other is not None:
        raise HubError(f"a course hub is already running (pid {other}); stop it with `make hub-stop`")
    passwords = setup(layout, skip_training_test)
    layout.pid_file.write_text(f"{os.getpid()}\n")
    hub = None
    try:
        with open(layout.log_file, "ab") as log:
            hub = subprocess.Popen(
                [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(CONFIG_FILE)],
                cwd=layout.state,
                env=proxy_environment({**os.environ, **layout.as_env()}),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        stop_requested = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda number, frame: stop_requested.append(number))
        wait_until_ready(layout, hub)
        print(banner(layout, passwords), flush=True)
        while hub.poll() is None and not stop_requested:
            time.sleep(0.3)
        return 0 if stop_requested else hub.returncode
    finally:
        print("Stopping the course hub ...", flush=True)
        shut_down(layout, hub)
        layout.pid_file.unlink(missing_ok=True)
        print("Stopped; no hub, proxy or user processes are left.", flush=True)


def shut_down(layout: HubLayout, hub: subprocess.Popen | None) -> None:
    """Stop JupyterHub (it stops the proxy and the servers), then whatever is still left."""
    if hub is not None and hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, signal.SIGKILL)
            hub.wait()
    stop_leftovers(layout)


def stop_leftovers(layout: HubLayout) -> None:
    """End the hub, the proxy and every process of a demo user that is still running."""
    leftovers = [
        pid
        for pid in (
            processes.pid_from_file(layout.state / "jupyterhub.pid", "jupyterhub"),
            processes.pid_from_file(layout.state / "proxy.pid", "configurable-http-proxy"),
        )
        if pid is not None
    ]
    uids = {pwd.getpwnam(a.name).pw_uid for a in accounts.ACCOUNTS if accounts.user_exists(a.name)}
    leftovers += list(processes.processes_of(uids))
    processes.terminate(leftovers)


def stop(layout: HubLayout) -> int:
    """Stop a hub started by :func:`start` from another shell (``make hub-stop``)."""
    pid = running_pid(layout)
    if pid is not None:
        require_root()  # the hub runs as root
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S * 2
        while processes.alive(pid) and time.monotonic() < deadline:
            time.sleep(0.3)
    else:
        print("No course hub is running.")
    if os.geteuid() == 0:
        stop_leftovers(layout)
    layout.pid_file.unlink(missing_ok=True)
    return 0
