"""Run one command in a sandbox and collect its output (self-checks and tests)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .layout import WORKDIR_COPY_MOUNT, SandboxLayout, default_read_only, sandbox_environment
from .limits import SandboxLimits
from .process import SandboxedProcess, SandboxUser
from .workdir_copy import copy_workdir_command, stage_workdir_copy


@dataclasses.dataclass
class SandboxResult:
    """How a sandboxed command ended.

    Attributes:
        exit_status: bubblewrap's exit status (the command's, or 128 + signal).
        stdout: Its standard output (decoded, errors replaced).
        stderr: Its standard error.
        reason: Why a limit ended it, or None.
    """

    exit_status: int
    stdout: str
    stderr: str
    reason: str | None


def run_command(
    command: list[str],
    workdir: str = "/tmp/work",
    workdir_copy: Path | None = None,
    limits: SandboxLimits | None = None,
    environment: dict[str, str] | None = None,
) -> SandboxResult:
    """Run ``command`` sandboxed, the working folder filled from ``workdir_copy``, and wait for it.

    Output is collected through files, so that a flood cannot fill the
    grader's memory; each is read back up to 1 MiB.
    """
    limits = limits or SandboxLimits.from_env()
    private = Path(tempfile.mkdtemp(prefix=f"resnet-sandbox-{os.getpid()}-run-"))
    try:
        with open(private / "stdout", "wb") as out, open(private / "stderr", "wb") as err:
            process = prepared_process(command, private, workdir, workdir_copy, limits, environment, out, err)
            process.start()
            try:
                status = process.wait()
            finally:
                process.cleanup()
        return SandboxResult(status, _head(private / "stdout"), _head(private / "stderr"), process.end_reason())
    finally:
        shutil.rmtree(private, ignore_errors=True)


def prepared_process(
    command: list[str],
    private: Path,
    workdir: str,
    workdir_copy: Path | None,
    limits: SandboxLimits,
    environment: dict[str, str] | None,
    stdout,
    stderr,
    stdin=subprocess.DEVNULL,
) -> SandboxedProcess:
    """A sandboxed ``command``, not yet started, whose account files and working-folder copy live in ``private``.

    Args:
        command: The command as seen inside the sandbox.
        private: An empty folder of the grader's that outlives the process.
        workdir: The working folder inside the sandbox.
        workdir_copy: A folder whose copy fills the working folder, or None.
        limits: The sandbox's limits.
        environment: Variables set inside, besides the sandbox's own.
        stdout: Where its standard output goes.
        stderr: Where its standard error goes.
        stdin: Where its standard input comes from.
    """
    user = SandboxUser.choose()
    etc_dir = private / "etc"
    etc_dir.mkdir()
    user.write_account_files(etc_dir)
    staged = None
    if workdir_copy is not None:
        staged = private / "workdir-copy"
        stage_workdir_copy(workdir_copy, staged, limits.scratch_bytes)
        command = copy_workdir_command(command, WORKDIR_COPY_MOUNT)
    layout = SandboxLayout(
        workdir=workdir,
        workdir_copy=staged,
        etc_dir=etc_dir,
        read_only=default_read_only(),
        scratch_bytes=limits.scratch_bytes,
        environment={**sandbox_environment(), **(environment or {})},
    )
    return SandboxedProcess(command, layout, limits, stdout=stdout, stderr=stderr, user=user, stdin=stdin)


def _head(path: Path, limit: int = 1024 * 1024) -> str:
    with open(path, "rb") as handle:
        return handle.read(limit).decode(errors="replace")


def check_tensorflow(limits: SandboxLimits | None = None) -> SandboxResult:
    """Import TensorFlow and run one op in a sandbox (the self-check of ``python -m resnet_course.sandbox check``)."""
    code = (
        "import os; os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')\n"
        "import tensorflow as tf\n"
        "print('tensorflow', tf.__version__, float(tf.reduce_sum(tf.ones((64, 64)))))\n"
    )
    return run_command([sys.executable, "-c", code], limits=limits)
