"""Start a command under bubblewrap with the course's limits, watch it, and say why it ended.

Isolation comes from bubblewrap's namespaces (mount, pid, network, ipc,
uts): see ``layout.py`` for what the sandbox sees. Limits come from, in
order of preference:

* a cgroup (memory and task count of the whole tree, see ``cgroups.py``);
* rlimits inherited by every process: RLIMIT_DATA (memory per process),
  RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_CORE, and RLIMIT_NPROC;
* a watchdog that counts the sandbox's processes and kills it when over.

RLIMIT_NPROC counts all tasks of a real uid and does not apply to root, so
when the grader runs as root each sandbox runs as its own unprivileged uid
(bubblewrap as root keeps CAP_SETUID just long enough for ``setpriv`` to
switch and drop every capability). Run as a normal user, bubblewrap uses
an unprivileged user namespace and the sandbox keeps that user's uid.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

from . import cgroups
from .layout import SandboxLayout
from .limits import SandboxLimits
from .proc_tasks import descendants, task_count, tasks_of_uid

log = logging.getLogger(__name__)

# Sandboxes started by root run as uid/gid UID_BASE + n: ids no account uses.
UID_BASE = 3_800_000
UID_SPAN = 100_000
# The cgroup's memory limit allows this much over RLIMIT_DATA, so that one
# big allocation raises MemoryError in Python before the OOM killer strikes.
CGROUP_MEMORY_MARGIN = 1.25
WATCHDOG_PERIOD_S = 0.2


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


def bwrap_path() -> str:
    """The bubblewrap executable, or an error that says how to install it.

    ``RESNET_SANDBOX_BWRAP`` names another executable (a test uses it to make
    the sandbox unavailable); by default ``bwrap`` is looked up on PATH.
    """
    name = os.environ.get("RESNET_SANDBOX_BWRAP", "bwrap")
    path = shutil.which(name)
    if path is None:
        raise SandboxUnavailable(
            f"bubblewrap ({name}) is not installed; the grader runs student code only inside it. "
            "Install it with `apt-get install bubblewrap` (Debian/Ubuntu; `make setup` does this as root) "
            "or `dnf install bubblewrap`."
        )
    return path


class SandboxUser:
    """The identity the sandboxed processes run as.

    Attributes:
        uid: Real uid of the sandboxed processes (on the host).
        gid: Their gid.
        switch: Whether bubblewrap runs as root and ``setpriv`` switches to ``uid``.
    """

    def __init__(self, uid: int, gid: int, switch: bool):
        self.uid, self.gid, self.switch = uid, gid, switch

    @classmethod
    def choose(cls) -> "SandboxUser":
        """A fresh unprivileged uid when running as root, else the current user."""
        if os.geteuid() == 0:
            number = UID_BASE + (os.getpid() * 7919 + time.monotonic_ns()) % UID_SPAN
            return cls(number, number, switch=True)
        return cls(os.getuid(), os.getgid(), switch=False)

    def process_limit(self, max_processes: int) -> int:
        """The RLIMIT_NPROC that lets the sandbox start ``max_processes`` more tasks."""
        if self.switch:
            return max_processes
        return tasks_of_uid(self.uid) + max_processes

    def write_account_files(self, folder: Path) -> None:
        """Write ``passwd`` and ``group`` naming the sandbox user ``student`` into ``folder``."""
        (folder / "passwd").write_text(
            f"root:x:0:0:root:/nonexistent:/usr/sbin/nologin\nstudent:x:{self.uid}:{self.gid}:student:/tmp:/bin/sh\n"
        )
        (folder / "group").write_text(f"root:x:0:\nstudent:x:{self.gid}:\n")
        for name in ("passwd", "group"):
            (folder / name).chmod(0o644)


class SandboxedProcess:
    """One command running in a fresh sandbox.

    Args:
        command: The command and its arguments, as seen inside the sandbox.
        layout: The mounts (see ``layout.py``).
        limits: The resource limits.
        stdout: Where the sandbox's standard output goes (a file object, a
            descriptor or ``subprocess.PIPE``).
        stderr: Likewise for standard error.
        user: The identity to run as (default: :meth:`SandboxUser.choose`).
        stdin: Where its standard input comes from (default: nothing; ``subprocess.PIPE`` for a server).
    """

    def __init__(
        self,
        command: list[str],
        layout: SandboxLayout,
        limits: SandboxLimits,
        stdout=None,
        stderr=None,
        user: SandboxUser | None = None,
        stdin=subprocess.DEVNULL,
    ):
        self.command = command
        self.layout = layout
        self.limits = limits
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.user = user or SandboxUser.choose()
        self.cgroup: cgroups.Cgroup | None = None
        self.popen: subprocess.Popen | None = None
        self.kill_reason: str | None = None
        self.started_at = 0.0
        self._next_watch = 0.0
        self._info_read: int | None = None
        self._info_write: int | None = None
        self._child_pid: int | None = None

    def argv(self) -> list[str]:
        """The full bubblewrap command line."""
        namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        if not self.user.switch:
            namespaces = ["--unshare-user", "--disable-userns", *namespaces]
        argv = [bwrap_path(), *namespaces, "--die-with-parent", "--new-session", "--hostname", "sandbox"]
        if self._info_write is not None:
            argv += ["--info-fd", str(self._info_write)]
        argv += self.layout.bwrap_arguments()
        if self.user.switch:
            argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--"]
            argv += [
                shutil.which("setpriv") or "/usr/bin/setpriv",
                f"--reuid={self.user.uid}",
                f"--regid={self.user.gid}",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
            ]
        else:
            argv += ["--"]
        return argv + list(self.command)

    def start(self) -> "SandboxedProcess":
        """Create the cgroup (where possible) and start bubblewrap in it."""
        name = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        memory = int(self.limits.memory_bytes * CGROUP_MEMORY_MARGIN)
        self.cgroup = cgroups.create(name, memory, self.limits.max_processes)
        if self.cgroup is None:
            log.info("no writable cgroup: memory and processes are limited by rlimits and a watchdog")
        process_limit = self.user.process_limit(self.limits.max_processes)
        cgroup, limits = self.cgroup, self.limits

        def prepare_child() -> None:  # runs between fork and exec: keep it simple
            if cgroup is not None:
                cgroup.join()
            limits.apply_rlimits(process_limit)

        self.started_at = time.monotonic()
        self._info_read, self._info_write = os.pipe()
        try:
            self.popen = subprocess.Popen(
                self.argv(),
                stdin=self.stdin,
                stdout=self.stdout,
                stderr=self.stderr,
                preexec_fn=prepare_child,
                start_new_session=True,
                close_fds=True,
                pass_fds=(self._info_write,),
            )
        finally:
            os.close(self._info_write)
            self._info_write = None
        return self

    def root_path(self, path: str) -> str:
        """Where ``path`` of the sandbox is seen from the host: ``/proc/<pid>/root/<path>``.

        The pid is bubblewrap's child, the first process inside the sandbox's
        namespaces (bubblewrap's ``--info-fd`` names it). Only root or the
        sandbox's owner may go through that link; it lives as long as the
        sandbox does.
        """
        if self._child_pid is None:
            assert self._info_read is not None, "start() first"
            data = b""
            while chunk := os.read(self._info_read, 4096):
                data += chunk
            os.close(self._info_read)
            self._info_read = None
            try:
                self._child_pid = int(json.loads(data)["child-pid"])
            except (ValueError, KeyError, TypeError):
                raise SandboxUnavailable(f"bubblewrap did not report its sandbox's process ({data[:200]!r})") from None
        return f"/proc/{self._child_pid}/root{path}"

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def poll(self) -> int | None:
        """Enforce the wall-clock and process limits; return the exit status once ended."""
        assert self.popen is not None
        status = self.popen.poll()
        if status is not None:
            return status
        now = time.monotonic()
        if now - self.started_at > self.limits.wall_seconds:
            self.kill(f"wall-clock limit of {self.limits.wall_seconds} s reached")
        elif now >= self._next_watch:
            self._next_watch = now + WATCHDOG_PERIOD_S
            count = self.task_count()
            if count > self.limits.max_processes:
                self.kill(f"process limit of {self.limits.max_processes} tasks exceeded ({count})")
        return self.popen.poll()

    def task_count(self) -> int:
        """Tasks (threads included) in the sandbox."""
        if self.cgroup is not None:
            return 0  # the cgroup refuses the fork itself
        return sum(task_count(pid) for pid in descendants(self.pid))

    def kill(self, reason: str) -> None:
        """Kill the whole sandbox, remembering why."""
        if self.kill_reason is None:
            self.kill_reason = reason
        if self.popen is not None and self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except OSError:
                pass
        if self.cgroup is not None:
            self.cgroup.kill_all()

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the end (enforcing the limits meanwhile) and return the exit status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.poll()
            if status is not None:
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.command, timeout)
            time.sleep(0.05)

    def end_reason(self) -> str | None:
        """Why the sandbox ended, in words, when a limit or a signal ended it (None: it exited by itself)."""
        assert self.popen is not None
        status = self.popen.returncode
        if self.kill_reason:
            return self.kill_reason
        if self.cgroup is not None and self.cgroup.oom_killed():
            return f"memory limit of {self.limits.memory_bytes // 2**20} MiB exceeded (killed by the OOM killer)"
        signals = {
            128 + signal.SIGXCPU: f"CPU-time limit of {self.limits.cpu_seconds} s exceeded",
            128 + signal.SIGXFSZ: f"file-size limit of {self.limits.file_bytes // 2**20} MiB exceeded",
            128 + signal.SIGKILL: "killed (SIGKILL; most often the memory limit)",
            128 + signal.SIGSEGV: "crashed (segmentation fault)",
            128 + signal.SIGABRT: "aborted (SIGABRT)",
        }
        if status in signals:
            return signals[status]
        if status is not None and status < 0:
            return f"killed by signal {-status}"
        return None

    def cleanup(self) -> None:
        """Kill anything left, close the info pipe and delete the cgroup."""
        if self._info_read is not None:
            os.close(self._info_read)
            self._info_read = None
        if self.popen is not None and self.popen.poll() is None:
            self.kill("stopped by the grader")
            self.popen.wait()
        if self.cgroup is not None:
            self.cgroup.remove()
