"""Kernel launcher: what Jupyter starts for the ``resnet-course-sandboxed`` kernel.

Usage (from a kernelspec's argv)::

    python -m resnet_course.sandbox.launcher -f {connection_file} [limits] [-- kernel options]

Jupyter writes a connection file and starts this process as "the kernel".
The launcher, trusted and outside the sandbox, then:

1. copies the kernel's working folder (the notebook's folder) into a
   private staging folder, regular files only;
2. writes a second connection file for an IPC-only kernel, shown
   read-only inside; the kernel's sockets live in ``/run/kernel``, a small
   tmpfs of the sandbox, which the relay reaches from outside through
   ``/proc/<pid>/root`` (no host folder is writable from inside);
3. starts ``python -I -m ipykernel_launcher`` under bubblewrap with the
   limits (``process.py``), the working folder being a tmpfs filled from
   the staging copy;
4. relays the five channels between the client's addresses and the
   kernel's sockets (``bridge.py``), capping output, until the kernel ends;
5. reports why it ended (memory, CPU, wall clock, processes, or a crash)
   on stderr and in ``--status-file``, removes its folders and exits.

Options after the connection file that it does not know (nbgrader adds
``--HistoryManager.hist_file=:memory:``) are passed on to ipykernel.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from resnet_course.grader.reports.text_safety import escaped

from .bridge import CHANNELS, KernelBridge
from .layout import (
    CONNECTION_MOUNT,
    IPC_MOUNT,
    KERNEL_HIDDEN,
    WORKDIR_COPY_MOUNT,
    SandboxLayout,
    default_read_only,
    sandbox_environment,
)
from .limits import SandboxLimits
from .process import SandboxedProcess, SandboxUnavailable, SandboxUser
from .workdir_copy import COPY_FAILED_STATUS, WorkdirTooLarge, copy_workdir_command, stage_workdir_copy

log = logging.getLogger("resnet_course.sandbox")

KERNEL_IPC_NAME = "kernel"
STDERR_FORWARD_BYTES = 64 * 1024
EXIT_LIMIT = 3  # the launcher's status when the sandbox ended because of a limit


def parse_arguments(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="python -m resnet_course.sandbox.launcher", description=__doc__.splitlines()[0]
    )
    parser.add_argument("-f", "--connection-file", required=True, help="the connection file Jupyter wrote")
    parser.add_argument("--status-file", help="write a JSON report of how the kernel ended here")
    parser.add_argument("--workdir", help="working folder of the kernel (default: the current folder)")
    parser.add_argument("--read-only", action="append", default=[], help="an extra host path to show read-only")
    SandboxLimits.add_arguments(parser)
    args, kernel_options = parser.parse_known_args(argv)
    return args, [o for o in kernel_options if o != "--"]


def kernel_connection(client_info: dict) -> dict:
    """The sandboxed kernel's connection file: the same key, IPC sockets in the shared folder."""
    info = {
        "transport": "ipc",
        "ip": f"{IPC_MOUNT}/{KERNEL_IPC_NAME}",
        "key": client_info.get("key", ""),
        "signature_scheme": client_info.get("signature_scheme", "hmac-sha256"),
        "kernel_name": client_info.get("kernel_name", ""),
    }
    for number, channel in enumerate(CHANNELS, start=1):
        info[f"{channel}_port"] = number
    return info


def resolve_ipc_address(client_info: dict) -> dict:
    """Make a relative IPC address absolute, as the client (our parent) sees it.

    jupyter_client's default IPC address is ``kernel-ipc``, relative to the
    client's working folder, while the launcher runs in the notebook's.
    """
    if client_info.get("transport") == "ipc" and not os.path.isabs(client_info.get("ip", "")):
        client_cwd = os.readlink(f"/proc/{os.getppid()}/cwd")
        client_info = dict(client_info, ip=os.path.join(client_cwd, client_info["ip"]))
    return client_info


def remove_stale_folders() -> None:
    """Delete private folders of launchers that were SIGKILLed (their pid is in the name)."""
    for folder in Path(tempfile.gettempdir()).glob("resnet-sandbox-*"):
        owner = folder.name.split("-")[2]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def run(argv: list[str]) -> int:
    """Launch, relay, report; return the process exit status."""
    args, kernel_options = parse_arguments(argv)
    limits = SandboxLimits.from_arguments(args)
    client_info = resolve_ipc_address(json.loads(Path(args.connection_file).read_text()))
    remove_stale_folders()
    workdir = Path(args.workdir or os.getcwd()).resolve()
    private = Path(tempfile.mkdtemp(prefix=f"resnet-sandbox-{os.getpid()}-"))
    sandbox: SandboxedProcess | None = None
    bridge: KernelBridge | None = None
    status: dict = {"reason": None}
    try:
        user = SandboxUser.choose()
        workdir_copy = private / "workdir-copy"
        skipped = stage_workdir_copy(workdir, workdir_copy, limits.scratch_bytes)
        if skipped:
            log.warning("sandbox: not copied into the kernel's folder (links or special files): %s", ", ".join(skipped))
        etc_dir = private / "etc"
        etc_dir.mkdir()
        user.write_account_files(etc_dir)
        connection = kernel_connection(client_info)
        connection_file = private / "connection.json"
        connection_file.write_text(json.dumps(connection))
        if user.switch:
            os.chown(connection_file, user.uid, user.gid)
        layout = SandboxLayout(
            workdir=str(workdir),
            workdir_copy=workdir_copy,
            kernel_connection=connection_file,
            etc_dir=etc_dir,
            read_only=default_read_only([Path(p) for p in args.read_only]),
            scratch_bytes=limits.scratch_bytes,
            environment=sandbox_environment(),
            hidden=KERNEL_HIDDEN,
        )
        # -I: nothing of the working folder is imported while the kernel starts;
        # once it runs, the folder goes on sys.path as in any notebook.
        kernel_command = [
            sys.executable,
            "-I",
            "-m",
            "ipykernel_launcher",
            "-f",
            f"{IPC_MOUNT}/connection.json",
            "--IPKernelApp.exec_lines=import sys; sys.path.insert(0, '')",
            *kernel_options,
        ]
        stderr_read, stderr_write = os.pipe()
        sandbox = SandboxedProcess(
            copy_workdir_command(
                kernel_command, WORKDIR_COPY_MOUNT, {CONNECTION_MOUNT: f"{IPC_MOUNT}/connection.json"}
            ),
            layout,
            limits,
            stdout=subprocess.DEVNULL,
            stderr=stderr_write,
            user=user,
        )
        sandbox.start()
        os.close(stderr_write)
        ipc_from_host = sandbox.root_path(IPC_MOUNT)
        bridge = KernelBridge(
            client_info, lambda channel: _kernel_address(ipc_from_host, connection, channel), limits.output_bytes
        )
        _install_signal_handlers(bridge, sandbox)
        stderr_tail = _relay_until_exit(bridge, sandbox, stderr_read)
        exit_status = sandbox.popen.returncode
        # A client that stops the kernel with SIGTERM (jupyter_client does, after a shutdown request) is no limit.
        reason = None if _stop_requested else sandbox.end_reason()
        if exit_status == COPY_FAILED_STATUS and reason is None:
            reason = "the kernel's working folder could not be filled (out of space or inodes); nothing was run"
        status = {
            "reason": reason,
            "exit_status": exit_status,
            "stderr_tail": stderr_tail.decode(errors="replace"),
            "dropped_output_messages": bridge.dropped_messages,
            "seconds": round(time.monotonic() - sandbox.started_at, 3),
        }
        if status["reason"]:
            print(f"[resnet-course sandbox] kernel stopped: {status['reason']}", file=sys.stderr, flush=True)
        return EXIT_LIMIT if status["reason"] else (exit_status or 0)
    except (WorkdirTooLarge, SandboxUnavailable) as error:
        status = {"reason": str(error)}
        print(f"[resnet-course sandbox] {error}", file=sys.stderr)
        return 2
    finally:
        if sandbox is not None:
            sandbox.cleanup()
        if bridge is not None:
            bridge.close()
        if args.status_file:
            Path(args.status_file).write_text(json.dumps(status))
        shutil.rmtree(private, ignore_errors=True)


def _kernel_address(ipc_dir: str, connection: dict, channel: str) -> str:
    return f"ipc://{ipc_dir}/{KERNEL_IPC_NAME}-{connection[f'{channel}_port']}"


def _relay_until_exit(bridge: KernelBridge, sandbox: SandboxedProcess, stderr_fd: int) -> bytes:
    """Forward messages and the kernel's stderr (capped) until the sandbox ends; return stderr's last bytes."""
    forwarded = 0
    relayed = StderrRelay()
    tail = b""
    stderr_open = True
    parent = os.getppid()
    while sandbox.poll() is None:
        if os.getppid() != parent:  # the client died without shutting us down
            sandbox.kill("the kernel's client went away")
        readable = bridge.pump(100, [stderr_fd] if stderr_open else None)
        if readable:
            chunk = os.read(stderr_fd, 65536)
            if not chunk:
                stderr_open = False
            else:
                tail = (tail + chunk)[-2000:]
                if forwarded < STDERR_FORWARD_BYTES:
                    os.write(2, relayed.feed(chunk[: STDERR_FORWARD_BYTES - forwarded]))
                    forwarded += len(chunk)
    bridge.pump(0)  # last messages (e.g. the shutdown reply)
    os.close(stderr_fd)
    return tail


class StderrRelay:
    """The kernel's stderr as the instructor's terminal may show it.

    Each line gets a ``[kernel stderr]`` prefix, so the kernel cannot forge a
    line of the grader's own; control characters (ANSI escapes, ``\\r``, bidi
    overrides) are written as visible escapes (``grader.reports.text_safety``).
    """

    PREFIX = "[kernel stderr] "

    def __init__(self):
        self.at_line_start = True

    def feed(self, chunk: bytes) -> bytes:
        """The terminal-safe text of ``chunk`` (the next bytes of the stream)."""
        out = []
        for line in chunk.decode(errors="backslashreplace").splitlines(keepends=True):
            body, newline = (line[:-1], "\n") if line.endswith("\n") else (line, "")
            out.append((self.PREFIX if self.at_line_start else "") + escaped(body) + newline)
            self.at_line_start = bool(newline)
        return "".join(out).encode()


_stop_requested = False


def _install_signal_handlers(bridge: KernelBridge, sandbox: SandboxedProcess) -> None:
    def interrupt(signum, frame):
        bridge.interrupt_requested = True

    def terminate(signum, frame):
        global _stop_requested
        _stop_requested = True
        sandbox.kill("stopped by the kernel's client")

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, terminate)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
