"""The processes a hub session leaves running, found from ``/proc`` and stopped.

JupyterHub stops the proxy and the single-user servers when it exits
normally, and the servers stop their kernels and terminals. What is left
after a hard kill (or a grading run still going in an instructor's terminal)
belongs to a demo user, or is the proxy named in its pid file; these
functions find and stop exactly those processes.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

PROC = Path("/proc")


def processes_of(uids: set[int]) -> dict[int, str]:
    """``{pid: command line}`` of every running process whose real user id is in ``uids``.

    Zombies are left out: they have exited, and only their parent's ``wait``
    is missing. In a container whose first process does not reap orphans, a
    kernel's exited helper stays a zombie for good; no signal can end it.
    """
    found = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
            uid = int(status["Uid"].split()[0])
            if uid in uids and status["State"].split()[0] not in ("Z", "X"):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (OSError, KeyError, IndexError, ValueError):
            continue  # gone meanwhile
    return found


def pid_from_file(path: Path, command_part: str) -> int | None:
    """The pid in ``path`` if that process is alive and its command line contains ``command_part``."""
    try:
        pid = int(path.read_text().strip())
        command = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return None
    return pid if command_part in command else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited; only its parent's wait is missing
        return (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def terminate(pids, grace_s: float = 10.0) -> list[int]:
    """SIGTERM ``pids``, then SIGKILL those still alive after ``grace_s``; return the ones that needed it."""
    pids = [pid for pid in pids if alive(pid)]
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.2)
    killed = [pid for pid in pids if alive(pid)]
    for pid in killed:
        _signal(pid, signal.SIGKILL)
    return killed


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
