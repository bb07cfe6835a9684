"""A local socket through which each grading job's own process reaches the main process' preloaded judges.

The course grader runs each submission's nbgrader in a child process of its own
(``jobs/job.py``), which ends with the submission. Judges servers started there
would die with it, so the main process keeps them (``preloaded_judges.py``) and
opens a :class:`JudgesRelay` while it grades: a Unix socket in a private folder
(mode 0700, on the grader's side; no sandbox mounts it). A job's
``run_judges`` sends its judges folder, request, limits and forwarded variables
there and gets back exactly what judging in its own process would have given.
The relay decides nothing: it runs ``judge_process.judge_here`` on the request.
Where the relay cannot answer, the job judges in its own process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import socket
import struct
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

RELAY_VARIABLE = "RESNET_JUDGES_RELAY"
#: The largest message either side reads (a request carries every graded cell's evidence).
MAX_MESSAGE_BYTES = 512 * 1024 * 1024
_LENGTH = struct.Struct("!Q")


class RelayUnavailable(RuntimeError):
    """The relay did not answer; the job judges in its own process."""


class JudgesRelay:
    """Serve ``judge_here`` to the grading jobs' processes while the ``with`` block runs.

    Sets :data:`RELAY_VARIABLE` in this process's environment, which the jobs' processes inherit.
    """

    def __enter__(self) -> "JudgesRelay":
        self.folder = Path(tempfile.mkdtemp(prefix="resnet-judges-relay-"))
        self.address = str(self.folder / "socket")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.address)
        self.listener.listen(16)
        self._previous = os.environ.get(RELAY_VARIABLE)
        os.environ[RELAY_VARIABLE] = self.address
        threading.Thread(target=self._accept, name="judges-relay", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is None:
            os.environ.pop(RELAY_VARIABLE, None)
        else:
            os.environ[RELAY_VARIABLE] = self._previous
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed by __exit__
                return
            threading.Thread(target=self._answer, args=(connection,), name="judges-relay-request", daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        from .judge_process import JudgesLimits, judge_here
        from .judging import JudgesError

        with connection:
            try:
                order = json.loads(_receive(connection))
                limits = JudgesLimits(**order["limits"])
                judged = judge_here(Path(order["folder"]), order["request"], limits, dict(order["environment"]))
                answer = {
                    "verdicts": {key: [v.passed, v.message] for key, v in judged.verdicts.items()},
                    "memos": judged.memos,
                    "seconds": judged.seconds,
                    "process_seconds": judged.process_seconds,
                    "cpu_seconds": judged.cpu_seconds,
                }
            except JudgesError as error:
                answer = {"fault": str(error)}
            except Exception as error:  # noqa: BLE001 - the job then judges in its own process
                log.warning("the judges relay could not judge a request: %s", error, exc_info=True)
                answer = {"unavailable": f"{type(error).__name__}: {error}"}
            with contextlib.suppress(OSError):
                _send(connection, json.dumps(answer).encode())


def ask(address: str, folder: Path, request: dict, limits, environment: dict[str, str]):
    """Have the relay at ``address`` judge ``request``; return its ``Judged``.

    Raises:
        JudgesError: The judges are the instructor's fault (grading stops, as it would here).
        RelayUnavailable: The relay did not answer.
    """
    from .judge_process import Judged
    from .judging import JudgesError, Verdict

    order = {
        "folder": str(Path(folder).resolve()),
        "request": request,
        "limits": dataclasses.asdict(limits),
        "environment": environment,
    }
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(address)
            _send(connection, json.dumps(order).encode())
            answer = json.loads(_receive(connection))
    except (OSError, ValueError) as error:
        raise RelayUnavailable(f"the judges relay did not answer: {type(error).__name__}: {error}") from None
    if "fault" in answer:
        raise JudgesError(answer["fault"])
    if "unavailable" in answer:
        raise RelayUnavailable(f"the judges relay could not judge: {answer['unavailable']}")
    return Judged(
        verdicts={key: Verdict(bool(passed), str(message)) for key, (passed, message) in answer["verdicts"].items()},
        memos=dict(answer["memos"]),
        seconds={key: float(value) for key, value in answer["seconds"].items()},
        process_seconds=float(answer["process_seconds"]),
        cpu_seconds=float(answer["cpu_seconds"]),
        relayed=True,
    )


def _send(connection: socket.socket, data: bytes) -> None:
    connection.sendall(_LENGTH.pack(len(data)) + data)


def _receive(connection: socket.socket) -> bytes:
    (length,) = _LENGTH.unpack(_exactly(connection, _LENGTH.size))
    if length > MAX_MESSAGE_BYTES:
        raise ValueError(f"a relay message of {length} bytes is larger than the grader reads")
    return _exactly(connection, length)


def _exactly(connection: socket.socket, size: int) -> bytes:
    parts, left = [], size
    while left:
        chunk = connection.recv(min(left, 1024 * 1024))
        if not chunk:
            raise ValueError("the relay's connection closed mid-message")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)
