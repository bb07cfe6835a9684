"""Start and stop JupyterLab for the browser tests.

The server is launched exactly as ``make lab`` / ``make formgrader`` launch it,
through ``python -m resnet_course.instructor.lab ROLE``, on loopback, on a free port,
with a random token, and with JupyterLab's user state (settings, workspaces,
runtime files) in a temporary folder so that the developer's own lab set-up
cannot change what the tests see.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"
HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 90
SHUTDOWN_TIMEOUT_S = 30

# Lab settings that keep pop-ups out of the tests and the screenshots; the
# machine may be offline, so JupyterLab must not go looking for news.
QUIET_LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


@dataclass
class RunningLab:
    """A JupyterLab server started by :func:`start_lab`."""

    role: str
    root: Path
    port: int
    token: str
    process: subprocess.Popen
    log_path: Path

    @property
    def base_url(self) -> str:
        """The server's address, without the token."""
        return f"http://{HOST}:{self.port}"

    def url(self, path: str) -> str:
        """The address of ``path`` on this server, logged in with the token."""
        separator = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{separator}token={self.token}"

    def http_status(self, path: str) -> int:
        """The HTTP status of a GET of ``path`` (after redirects), authenticated."""
        request = urllib.request.Request(
            f"{self.base_url}/{path.lstrip('/')}", headers={"Authorization": f"token {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def log_text(self) -> str:
        """What the server has written so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def write_quiet_settings(settings_dir: Path) -> None:
    """Write :data:`QUIET_LAB_SETTINGS` as JupyterLab user settings."""
    for relative_path, values in QUIET_LAB_SETTINGS.items():
        path = settings_dir / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def server_environment(state_dir: Path, token: str) -> dict[str, str]:
    """The environment of the server and its kernels.

    Args:
        state_dir: A private folder for JupyterLab's user state.
        token: The server's login token.
    """
    settings_dir = state_dir / "lab-settings"
    write_quiet_settings(settings_dir)
    return dict(
        os.environ,
        JUPYTER_TOKEN=token,
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(state_dir / "lab-workspaces"),
        JUPYTER_RUNTIME_DIR=str(state_dir / "runtime"),
        # The notebook's copy lives outside the repository: point it at the data.
        RESNET_COURSE_DATA_DIR=str(DATA_DIR),
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONWARNINGS="ignore",
    )


def lab_command(role: str, root: Path, port: int) -> list[str]:
    """The ``python -m resnet_course.instructor.lab`` command line of the Makefile, made headless."""
    command = [
        sys.executable,
        "-m",
        "resnet_course.instructor.lab",
        role,
        "--port",
        str(port),
        "--root",
        str(root),
        "--no-browser",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    return command


def wait_until_ready(lab: RunningLab, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    """Block until the server answers its status API; fail with its log otherwise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"{lab.role} lab exited with {lab.process.returncode}:\n{lab.log_text()}")
        try:
            if lab.http_status("api/status") == 200:
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.5)
    raise TimeoutError(f"{lab.role} lab not ready after {timeout_s} s:\n{lab.log_text()}")


def start_lab(role: str, root: Path, state_dir: Path, log_path: Path) -> RunningLab:
    """Start ``python -m resnet_course.instructor.lab ROLE`` in ``root`` and wait for it.

    Args:
        role: ``"student"`` or ``"instructor"``.
        root: The folder the lab serves.
        state_dir: A private folder for JupyterLab's user state.
        log_path: Where the server's output goes.
    """
    token = secrets.token_hex(24)
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            lab_command(role, root, port),
            env=server_environment(state_dir, token),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so that a stuck server can be killed with it
        )
    lab = RunningLab(role, root, port, token, process, log_path)
    try:
        wait_until_ready(lab)
    except BaseException:
        stop_lab(lab)
        raise
    return lab


def stop_lab(lab: RunningLab) -> None:
    """Stop the server (resnet_course.instructor.lab passes SIGTERM on); kill its group if it hangs."""
    if lab.process.poll() is not None:
        return
    lab.process.send_signal(signal.SIGTERM)
    try:
        lab.process.wait(SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(lab.process.pid, signal.SIGKILL)
        lab.process.wait(SHUTDOWN_TIMEOUT_S)
