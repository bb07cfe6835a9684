"""Inside the judges' sandbox: one preloaded interpreter that judges each submission in a fork of itself.

``python -m resnet_course.grader.judges.judges_server`` loads the judges file and
imports what judging needs (TensorFlow and Keras above all, seconds per process),
then runs nothing else: no model is built and no operation runs in it. Each order
on its standard input is a one-line header and the request's bytes; the server
reads those bytes into a mapping of their own, forks a child that parses and
judges them exactly as a fresh ``judge_process`` would, printing into a pipe of
its own, and unmaps them afterwards. So the server never parses a submission's
evidence, and its memory is the same before every fork.

What one child could leave for the next is removed before the next order is read:

* memory: each child is a fork of the untouched server and ends with ``os._exit``;
* processes: every process of the sandbox but the server and its init is killed
  (``kill(-1)``, atomic against forks), and the server checks that none is left;
* files: everything in the writable folders (``/tmp``, the working folder, ``/dev/shm``) is deleted,
  and no writable folder is on the server's import path, so nothing a child wrote is ever imported;
* the server itself: it is not dumpable, so no child can trace it or read its memory, and a child
  holds none of the server's descriptors, so it cannot read the next order or write an answer.
  A child can still kill it; the grader then starts a new server and judges the rest in a fresh process.

The server answers each order with one :data:`SERVED_PREFIX` line (the child's exit status, whether it
was stopped for time, its CPU time, whether the clean-up was complete, and the output's length), then
the child's output, at most :data:`OUTPUT_BYTES`. A server that could not clean up says so and exits,
so it never judges again.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import mmap
import os
import resource
import select
import shutil
import signal
import sys
import time
from pathlib import Path

from .judge_process import FAULT_PREFIX, JUDGES_FOLDER, VERDICT_PREFIX, cell_allowances, judge_request
from .judging import JudgesError, load_judges

READY_LINE = "@@judges-server-ready"
SERVED_PREFIX = "@@served "
#: Imported before the first fork; importing is all the server does with them.
PRELOADED_MODULES = (
    "numpy",
    "tensorflow",
    "keras",
    "resnet_course.deferred_weights",
    "resnet_course.checks",
    "resnet_course.grader.judges.safe_models",
    "resnet_course.grader.judges.behaviour",
    "resnet_course.grader.judges.training_cache",
)
#: A child's output kept for the grader; the rest is read and dropped.
OUTPUT_BYTES = 1024 * 1024
#: How long past its cell's own time limit a child may stay silent before the server stops it
#: (the cell's limit is the child's own alarm; this catches a child that no longer runs Python).
SILENCE_GRACE_SECONDS = 30
WRITABLE_FOLDERS = ("/tmp", "/dev/shm")
#: The longest order header (the request itself follows it, length-prefixed).
MAX_HEADER_BYTES = 1024 * 1024
VERDICT_LINE = b"\n" + VERDICT_PREFIX.encode()
VERDICT_START = VERDICT_PREFIX.encode()
PR_SET_DUMPABLE = 4


def main() -> int:
    """Load and import, then judge each order in a fork until the grader closes standard input."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    workdir = os.getcwd()
    sys.path[:] = [entry for entry in sys.path if entry and not _is_writable_place(entry, workdir)]
    try:
        judges = load_judges(Path(JUDGES_FOLDER))
    except JudgesError as error:
        print(FAULT_PREFIX + json.dumps(str(error)), flush=True)
        return 3
    for name in PRELOADED_MODULES:
        importlib.import_module(name)
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 or not _clean_up(workdir):
        return 4  # a server its children could trace, or could not clean after, judges nobody
    output = bytearray(OUTPUT_BYTES)  # allocated once: no child's output changes the server's memory
    own = resource.getrusage(resource.RUSAGE_SELF)
    print(f"{READY_LINE} {own.ru_utime + own.ru_stime:.3f}", flush=True)  # the start-up's CPU seconds
    while header := sys.stdin.buffer.readline(MAX_HEADER_BYTES):
        order = json.loads(header)
        request = _read_request(int(order["size"]))
        try:
            answer, length = serve(judges, order, request, output, workdir)
        finally:
            request.close()
        sys.stdout.buffer.write(SERVED_PREFIX.encode() + json.dumps({**answer, "size": length}).encode() + b"\n")
        sys.stdout.buffer.write(memoryview(output)[:length])
        sys.stdout.buffer.flush()
        if not answer["clean"]:
            return 4
    return 0


def _read_request(size: int) -> mmap.mmap:
    """The request's bytes, read into a mapping of their own that is unmapped afterwards.

    The server never parses a request (its child does) and keeps nothing of it, so one
    submission's evidence, however large, leaves the server's memory as it was.
    """
    request = mmap.mmap(-1, max(1, size))
    view, done = memoryview(request), 0
    while done < size:
        count = sys.stdin.buffer.readinto(view[done:size])
        if not count:
            raise EOFError("the grader's request was cut short")
        done += count
    view.release()
    return request


def serve(judges, order: dict, request: mmap.mmap, output: bytearray, workdir: str) -> tuple[dict, int]:
    """Judge the request in a fork of this process; return what the grader needs of it.

    Args:
        judges: The loaded judges module.
        order: ``{"size": N, "graded": [...], "cell_seconds": N, "cpu_seconds": N, "wall_seconds": N}``.
        request: The request's JSON (``judge_process.judge_request``), parsed by the child only.
        output: Where the child's output is kept (the first ``length`` bytes are it).
        workdir: The sandbox's working folder (emptied afterwards).

    Returns:
        (the answer's fields, the length of the child's output in ``output``)
    """
    allowed = cell_allowances(judges, {"graded": order["graded"], "cell_seconds": order["cell_seconds"]})
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: judge, then leave without running anything of the server's
        status = 1
        try:
            os.close(read_end)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(write_end, 1)
            os.dup2(write_end, 2)
            os.close(null)
            os.close(write_end)
            cpu = max(1, int(order["cpu_seconds"]))
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
            status = judge_request(judges, json.loads(request[: int(order["size"])]))
        except BaseException:  # noqa: BLE001 - whatever stopped the child is reported by its status
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    os.close(write_end)
    length, wait_status, usage, timed_out = _collect(
        pid, read_end, order["graded"], allowed, int(order["wall_seconds"]), output
    )
    clean = _clean_up(workdir)
    answer = {
        "status": os.waitstatus_to_exitcode(wait_status),
        "timed_out": timed_out,
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "clean": clean,
    }
    return answer, length


def _collect(pid: int, read_end: int, graded: list[str], allowed: dict[str, int], wall_seconds: int, output: bytearray):
    """Read the child's output into ``output`` until it ends, stopping it when it overruns its time.

    The child has ``wall_seconds`` in all, and each cell its own limit (the child's alarm) plus
    :data:`SILENCE_GRACE_SECONDS` from the verdict before it. Reading stops when the child has
    ended, even if a process it left behind still holds the pipe (the clean-up kills that one).
    Output past ``output``'s size is read and dropped.

    Returns:
        (the output's length, wait status, the child's resource usage, whether it was stopped for time)
    """
    length, counted, first_seen = 0, 0, False
    deadline = time.monotonic() + wall_seconds
    verdicts, last_verdict = 0, time.monotonic()
    timed_out, status, usage, ended_output = False, None, None, False
    chunk = bytearray(65536)
    try:
        while True:
            current = graded[min(verdicts, len(graded) - 1)] if graded else None
            stop_at = min(deadline, last_verdict + allowed.get(current, 0) + SILENCE_GRACE_SECONDS)
            now = time.monotonic()
            if status is None and not timed_out and now >= stop_at:
                os.kill(pid, signal.SIGKILL)
                timed_out = True
            if status is None:
                ended, wait_status, usage = os.wait4(pid, os.WNOHANG)
                status = wait_status if ended else None
            if ended_output:
                if status is not None:
                    break
                time.sleep(0.05)
                continue
            ready, _, _ = select.select(
                [read_end], [], [], 0 if status is not None else min(0.2, max(0, stop_at - now))
            )
            if not ready:
                if status is not None:  # the child has ended and nothing more is waiting
                    break
                continue
            count = os.readv(read_end, [chunk])
            if not count:
                ended_output = True
                continue
            kept = min(count, len(output) - length)
            output[length : length + kept] = memoryview(chunk)[:kept]
            length += kept
            # Verdict lines seen so far restart the silence clock (only kept output is counted).
            found = output.count(VERDICT_LINE, counted, length)
            if not first_seen and length >= len(VERDICT_START):
                first_seen, found = True, found + output.startswith(VERDICT_START)
            if found:
                verdicts, last_verdict = verdicts + found, time.monotonic()
            counted = max(counted, length - len(VERDICT_LINE) + 1)
    finally:
        os.close(read_end)
    return length, status, usage, timed_out


def _clean_up(workdir: str) -> bool:
    """Kill every other process of the sandbox and empty the writable folders; True when nothing is left."""
    for _ in range(200):
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _reap()
        if not _other_processes():
            break
        time.sleep(0.01)
    else:
        return False
    for folder in (*WRITABLE_FOLDERS, workdir):
        for entry in _entries(folder):
            if os.path.realpath(entry) == os.path.realpath(workdir):
                continue
            if os.path.isdir(entry) and not os.path.islink(entry):
                shutil.rmtree(entry, ignore_errors=True)
            else:
                try:
                    os.unlink(entry)
                except OSError:
                    pass
    return not any(
        entry
        for folder in (*WRITABLE_FOLDERS, workdir)
        for entry in _entries(folder)
        if os.path.realpath(entry) != os.path.realpath(workdir)
    )


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _other_processes() -> list[int]:
    """Live processes of the sandbox other than this one and its init (pid 1); zombies do not count."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (1, os.getpid()):
            continue
        try:
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            found.append(int(name))
    return found


def _entries(folder: str) -> list[str]:
    try:
        return [os.path.join(folder, name) for name in os.listdir(folder)]
    except OSError:
        return []


def _is_writable_place(entry: str, workdir: str) -> bool:
    path = os.path.realpath(entry)
    places = [os.path.realpath(place) for place in (*WRITABLE_FOLDERS, workdir)]
    return any(path == place or path.startswith(place + os.sep) for place in places)


if __name__ == "__main__":
    sys.exit(main())
