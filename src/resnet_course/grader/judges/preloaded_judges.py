"""The grader's side of the preloaded judges: start a judges server once, lend it to one submission at a time.

A :class:`JudgesServer` is ``judges_server.py`` running in a sandbox of its own,
with the same limits as a fresh judges' process, the judges file loaded and
TensorFlow imported. :func:`borrowed` lends an idle server whose judges file,
forwarded variables and memory limit match, or starts one; a server that
misbehaves in any way is closed, never lent again. Servers are only a faster way
to start the judges: whenever one cannot answer, ``judge_process`` judges the
rest in a fresh process, so a server can cost time but never change a verdict.

Set ``RESNET_JUDGES_PRELOADED=0`` to judge every submission in a fresh process.
Where the sandbox sees a GPU, servers are not used: the judges' children would
share one CUDA set-up made before the fork.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .judging import JUDGES_FOLDER, JudgesError, judges_files

log = logging.getLogger(__name__)

ENABLE_VARIABLE = "RESNET_JUDGES_PRELOADED"
#: Seconds a server may take to import TensorFlow and load the judges file (about 10 on 2 busy cores).
START_SECONDS = 180
#: An idle server is stopped after this long: a long-lived process (a Jupyter server that ran
#: the formgrader's autograde) does not keep the judges' memory for nothing.
IDLE_SECONDS = 300
#: After this many servers in a row failed to start, this process judges in fresh processes only.
FAILED_STARTS_ALLOWED = 2
#: A server's whole life; each submission it judges has its own limits within it.
LIFETIME_SECONDS = 24 * 3600
#: Seconds past an order's own time that the grader waits for the server's answer.
ANSWER_GRACE_SECONDS = 90
#: The longest answer line read from a server (its child's output is cut to 1 MiB inside).
MAX_ANSWER_BYTES = 16 * 1024 * 1024
#: Idle servers kept at most (about one per grading worker).
MAX_IDLE = max(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 2)


class ServerUnavailable(RuntimeError):
    """A judges server could not start or answer; the caller judges in a fresh process instead."""


@dataclasses.dataclass
class Served:
    """What the server's child did with one request.

    Attributes:
        output: The child's standard output and error (the verdict lines among them), up to 1 MiB.
        status: Its exit status, negative for the signal that ended it.
        timed_out: Whether the server stopped it for time.
        cpu_seconds: Its CPU time, and the server's start-up's on the first request it served.
    """

    output: str
    status: int
    timed_out: bool
    cpu_seconds: float


def enabled() -> bool:
    """Whether submissions may be judged by preloaded servers here."""
    from resnet_course.sandbox.layout import _gpu_devices

    if os.environ.get(ENABLE_VARIABLE, "1") == "0" or _failed_starts >= FAILED_STARTS_ALLOWED:
        return False
    return not _gpu_devices()


class JudgesServer:
    """One ``judges_server.py`` in a sandbox of its own, started and ready.

    Args:
        folder: The assignment's ``grader_only`` folder.
        environment: Variables set in the server (the judges' forwarded ones).
        memory_bytes: The sandbox's memory limit (the judges' limit).

    Raises:
        JudgesError: The judges file cannot be loaded (the instructor's fault).
        ServerUnavailable: The server did not start.
    """

    def __init__(self, folder: Path, environment: dict[str, str], memory_bytes: int):
        from resnet_course.sandbox.run import prepared_process

        from .judge_process import sandbox_limits

        self.usable = False
        self.unbilled_cpu_seconds = 0.0
        self.private = Path(tempfile.mkdtemp(prefix="resnet-judges-server-"))
        self._buffer = b""
        self.process = None
        try:
            staged = self.private / "staged"
            shutil.copytree(folder, staged / JUDGES_FOLDER, symlinks=False)
            limits = sandbox_limits(memory_bytes, LIFETIME_SECONDS)
            self._stderr = open(self.private / "stderr", "wb")
            command = [sys.executable, "-m", "resnet_course.grader.judges.judges_server"]
            process = prepared_process(
                command,
                self.private,
                "/tmp/work",
                staged,
                limits,
                environment,
                subprocess.PIPE,
                self._stderr,
                stdin=subprocess.PIPE,
            )
            self.process = _in_keeper_thread(process.start)
            self._read_ready()
        except BaseException:
            self.close()
            raise
        self.usable = True

    def _read_ready(self) -> None:
        from .judge_process import FAULT_PREFIX
        from .judges_server import READY_LINE

        line = self._read_line(time.monotonic() + START_SECONDS)
        if line.startswith(FAULT_PREFIX):
            raise JudgesError(json.loads(line[len(FAULT_PREFIX) :]))
        ready, _, cpu = line.partition(" ")
        try:
            self.unbilled_cpu_seconds = float(cpu)
        except ValueError:
            ready = ""
        if ready != READY_LINE:
            raise ServerUnavailable(f"the judges server did not start ({line[:200]!r}; {self._stderr_tail()})")

    def judge(self, request: dict, cpu_seconds: int, wall_seconds: int) -> Served:
        """Judge ``request`` in a fresh fork of the server.

        Raises:
            ServerUnavailable: The server stopped or did not answer; it is closed.
        """
        from .judges_server import SERVED_PREFIX

        body = json.dumps(request).encode()
        order = {
            "size": len(body),
            "graded": list(request["graded"]),
            "cell_seconds": request.get("cell_seconds", 120),
            "cpu_seconds": int(cpu_seconds),
            "wall_seconds": int(wall_seconds),
        }
        try:
            assert self.process is not None and self.process.popen is not None
            self.process.popen.stdin.write(json.dumps(order).encode() + b"\n" + body)
            self.process.popen.stdin.flush()
            deadline = time.monotonic() + wall_seconds + ANSWER_GRACE_SECONDS
            line = self._read_line(deadline)
            if not line.startswith(SERVED_PREFIX):
                raise ServerUnavailable(f"the judges server answered {line[:200]!r}")
            answer = json.loads(line[len(SERVED_PREFIX) :])
            output = self._read_bytes(int(answer["size"]), deadline)
            cpu_seconds = float(answer["cpu_seconds"]) + self.unbilled_cpu_seconds
            self.unbilled_cpu_seconds = 0.0
            served = Served(
                output.decode(errors="replace"), int(answer["status"]), bool(answer["timed_out"]), cpu_seconds
            )
            if not answer["clean"]:
                raise ServerUnavailable("the judges server could not clean up after a submission")
            return served
        except (OSError, ValueError, KeyError, TypeError) as error:
            self.close()
            raise ServerUnavailable(f"the judges server stopped: {type(error).__name__}: {error}") from None
        except ServerUnavailable:
            self.close()
            raise

    def _read_bytes(self, size: int, deadline: float) -> bytes:
        """The next ``size`` bytes of the server's output."""
        if size > MAX_ANSWER_BYTES:
            raise ServerUnavailable("the judges server's answer was longer than the grader reads")
        while len(self._buffer) < size:
            self._fill(deadline)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _read_line(self, deadline: float) -> str:
        """The server's next output line, waiting until ``deadline`` at most."""
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_ANSWER_BYTES:
                raise ServerUnavailable("the judges server's answer was longer than the grader reads")
            self._fill(deadline)
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode(errors="replace")

    def _fill(self, deadline: float) -> None:
        """Add what the server wrote next to the buffer, waiting until ``deadline`` at most."""
        assert self.process is not None and self.process.popen is not None
        stream = self.process.popen.stdout.fileno()
        while True:
            now = time.monotonic()
            if now >= deadline or self.process.poll() is not None:
                reason = "did not answer in time" if now >= deadline else "stopped"
                raise ServerUnavailable(f"the judges server {reason} ({self._stderr_tail()})")
            ready, _, _ = select.select([stream], [], [], min(1.0, deadline - now))
            if ready:
                chunk = os.read(stream, 1024 * 1024)
                if not chunk:
                    raise ServerUnavailable(f"the judges server stopped ({self._stderr_tail()})")
                self._buffer += chunk
                return

    def _stderr_tail(self) -> str:
        try:
            return (self.private / "stderr").read_bytes()[-300:].decode(errors="replace").strip() or "no message"
        except OSError:
            return "no message"

    def close(self) -> None:
        """Stop the server and remove its files."""
        self.usable = False
        if self.process is not None:
            if self.process.popen is not None and self.process.popen.stdin:
                with contextlib.suppress(OSError):
                    self.process.popen.stdin.close()
            self.process.cleanup()
            if self.process.popen is not None and self.process.popen.stdout:
                self.process.popen.stdout.close()
            self.process = None
        if getattr(self, "_stderr", None) is not None:
            self._stderr.close()
            self._stderr = None
        shutil.rmtree(self.private, ignore_errors=True)


_lock = threading.Lock()
#: (key, server, when it became idle)
_idle: list[tuple[tuple, JudgesServer, float]] = []
_keeper: ThreadPoolExecutor | None = None
_reaper: threading.Thread | None = None
_failed_starts = 0
#: How many servers this process started (tests read it to see that one was reused).
started_servers = 0


@contextlib.contextmanager
def borrowed(folder: Path, environment: dict[str, str], memory_bytes: int):
    """An idle server for these judges, or a new one; given back after use unless it misbehaved.

    Raises:
        JudgesError: The judges file cannot be loaded.
        ServerUnavailable: No server could be started.
    """
    global started_servers, _failed_starts
    key = (_folder_digest(Path(folder)), tuple(sorted(environment.items())), int(memory_bytes))
    server = None
    with _lock:
        for index, (found_key, _, _) in enumerate(_idle):
            if found_key == key:
                server = _idle.pop(index)[1]
                break
    if server is None:
        try:
            server = JudgesServer(Path(folder), environment, memory_bytes)
        except ServerUnavailable:
            with _lock:
                _failed_starts += 1
            raise
        with _lock:
            started_servers += 1
            _failed_starts = 0
    try:
        yield server
    finally:
        if server.usable:
            _give_back(key, server)
        else:
            server.close()


def _give_back(key: tuple, server: JudgesServer) -> None:
    global _reaper
    with _lock:
        _idle.append((key, server, time.monotonic()))
        surplus = _idle[: max(0, len(_idle) - MAX_IDLE)]
        del _idle[: len(surplus)]
        if _reaper is None:
            _reaper = threading.Thread(target=_stop_idle_servers, name="judges-servers-reaper", daemon=True)
            _reaper.start()
    for _, old, _ in surplus:
        old.close()


def _stop_idle_servers() -> None:
    """Stop servers idle for :data:`IDLE_SECONDS` (runs as long as this process)."""
    while True:
        time.sleep(min(30, IDLE_SECONDS))
        stop_idle(IDLE_SECONDS)


def stop_idle(seconds: float) -> int:
    """Stop the servers idle for more than ``seconds``; return how many."""
    now = time.monotonic()
    with _lock:
        old = [entry for entry in _idle if now - entry[2] > seconds]
        _idle[:] = [entry for entry in _idle if entry not in old]
    for _, server, _ in old:
        server.close()
    return len(old)


def _in_keeper_thread(function):
    """Call ``function`` in the one thread that starts every server, and return its result.

    bubblewrap's ``--die-with-parent`` follows the thread that started it, not the
    process: a server started by a relay's request thread would die with that thread.
    The keeper thread lives as long as this process.
    """
    global _keeper
    with _lock:
        if _keeper is None:
            _keeper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="judges-servers")
    return _keeper.submit(function).result()


def close_all() -> None:
    """Stop every idle server (at exit, and in tests)."""
    with _lock:
        servers = [server for _, server, _ in _idle]
        _idle.clear()
    for server in servers:
        server.close()


def _forget_inherited_servers() -> None:
    """In a forked child: the parent's servers stay the parent's (sharing one would mix two processes' orders)."""
    global _lock, _idle, _keeper, _reaper, started_servers
    _lock, _idle, _keeper, _reaper, started_servers = threading.Lock(), [], None, None, 0


atexit.register(close_all)
os.register_at_fork(after_in_child=_forget_inherited_servers)


def _folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in judges_files(folder):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
