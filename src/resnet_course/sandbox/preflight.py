"""The pre-flight: does the sandbox work on this machine? Asked once, before anyone is graded.

A sandbox that cannot start is the machine's fault, never a student's, so
both grading paths ask first and stop with one message naming the cause
and the fix:

1. bubblewrap is installed;
2. it may create the namespaces the sandbox uses (a trivial command runs
   under the sandbox's own bubblewrap command line);
3. a tiny kernel starts inside the sandbox, as grading starts it, and
   answers ``kernel_info``.

``python -m resnet_course.grader autograde`` calls :func:`check_once` (and
:func:`problem` again when a kernel fails to start mid-run;
``grader/jobs/instructor_faults.py``); plain ``nbgrader autograde`` does the same
through ``grader/pipeline/plain_nbgrader.py``, which ``nbgrader_config.py`` selects.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .kernelspec import KERNEL_NAME, kernel_manager
from .limits import SandboxLimits
from .process import SandboxUnavailable, bwrap_path
from .run import run_command

KERNEL_READY_TIMEOUT_S = 90
_passed: set[tuple] = set()


class SandboxCheckFailed(SandboxUnavailable):
    """The sandbox does not work here.

    Attributes:
        cause: What is wrong, in words.
        fix: What the instructor should do.
    """

    def __init__(self, cause: str, fix: str):
        super().__init__(f"{cause}\nFix: {fix}")
        self.cause, self.fix = cause, fix

    def stop_message(self, when: str, recorded: str) -> str:
        """The one message an instructor sees when grading stops for this failure.

        Args:
            when: Where grading stopped, e.g. "before any submission was graded".
            recorded: What was and was not recorded.
        """
        return (
            f"grading stopped {when}: the sandbox does not work on this machine.\n"
            f"Cause: {self.cause}\nFix: {self.fix}\n{recorded}"
        )


def check(launcher_arguments: list[str] | None = None, installed_kernel: bool = False) -> None:
    """Run the three checks; raise :class:`SandboxCheckFailed` at the first that fails.

    Args:
        launcher_arguments: Launcher options (limits) the kernel is started with.
        installed_kernel: Start the installed ``resnet-course-sandboxed`` kernelspec
            (what plain ``nbgrader autograde`` starts) instead of one built here.
    """
    try:
        bwrap = bwrap_path()
    except SandboxUnavailable as error:
        raise SandboxCheckFailed(
            "bubblewrap is not installed.", "run `make setup` as root, or `sudo apt-get install -y bubblewrap`."
        ) from error
    try:
        result = run_command([sys.executable, "-c", "print('sandbox ok')"], limits=SandboxLimits.from_env())
    except OSError as error:
        raise SandboxCheckFailed(
            f"bubblewrap ({bwrap}) could not be started: {error}",
            "re-install it: `sudo apt-get install --reinstall -y bubblewrap`.",
        ) from error
    if result.exit_status != 0 or "sandbox ok" not in result.stdout:
        said = _last_line(result.stderr) or result.reason or f"exit status {result.exit_status}"
        raise SandboxCheckFailed(
            f"bubblewrap ({bwrap}) cannot create the sandbox's namespaces: {said}", namespace_fix()
        )
    said = _start_kernel(list(launcher_arguments or []), installed_kernel)
    if said is not None:
        raise SandboxCheckFailed(
            f"a kernel started in the sandbox did not answer: {said}",
            "run `python -m resnet_course.sandbox check --tensorflow` to see where it fails; "
            "`make setup` re-installs the kernelspec.",
        )


def check_once(launcher_arguments: list[str] | None = None, installed_kernel: bool = False) -> None:
    """:func:`check`, skipped when it already passed in this process with the same arguments."""
    key = (tuple(launcher_arguments or []), installed_kernel, os.environ.get("RESNET_SANDBOX_BWRAP"))
    if key not in _passed:
        check(launcher_arguments, installed_kernel)
        _passed.add(key)


def problem(launcher_arguments: list[str] | None = None) -> SandboxCheckFailed | None:
    """A fresh check's failure, or None when the sandbox works (for a kernel that failed mid-run)."""
    try:
        check(launcher_arguments)
    except SandboxCheckFailed as failure:
        return failure
    return None


def namespace_fix() -> str:
    """What lets bubblewrap create namespaces here, from the kernel's settings."""
    if os.geteuid() == 0:
        return (
            "bubblewrap runs as root but may not create namespaces, which happens in a container: start it with "
            "`--security-opt seccomp=unconfined --cap-add SYS_ADMIN` (Docker, Podman), or grade on a VM or host."
        )
    settings = {
        name: _read(f"/proc/sys/{name}")
        for name in (
            "kernel/unprivileged_userns_clone",
            "user/max_user_namespaces",
            "kernel/apparmor_restrict_unprivileged_userns",
        )
    }
    if settings["kernel/unprivileged_userns_clone"] == "0":
        return "allow user namespaces: `sudo sysctl -w kernel.unprivileged_userns_clone=1`, or grade as root."
    if settings["user/max_user_namespaces"] == "0":
        return "allow user namespaces: `sudo sysctl -w user.max_user_namespaces=15000`, or grade as root."
    if settings["kernel/apparmor_restrict_unprivileged_userns"] == "1":
        return (
            "AppArmor forbids user namespaces (Ubuntu 23.10+): add an AppArmor profile that lets /usr/bin/bwrap "
            "use them, or `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, or grade as root."
        )
    return (
        "allow unprivileged user namespaces for bubblewrap (see `python -m resnet_course.sandbox --help`'s "
        "package README), or grade as root."
    )


def _start_kernel(launcher_arguments: list[str], installed_kernel: bool) -> str | None:
    """Start a sandboxed kernel in an empty folder and wait for its answer; return what went wrong, or None."""
    from jupyter_client.kernelspec import NoSuchKernel
    from jupyter_client.manager import KernelManager

    runtime = Path(tempfile.mkdtemp(prefix="resnet-preflight-"))
    workdir = runtime / "work"
    workdir.mkdir()
    status_file = None
    try:
        if installed_kernel:
            manager = KernelManager(kernel_name=KERNEL_NAME, transport="ipc")
            manager.connection_file = str(runtime / "kernel.json")
        else:
            manager, status_file = kernel_manager(runtime, launcher_arguments)
        manager.ip = str(runtime / "ipc")
        with open(runtime / "stderr", "wb") as stderr:
            try:
                manager.start_kernel(cwd=str(workdir), stdout=subprocess.DEVNULL, stderr=stderr)
            except NoSuchKernel:
                return (
                    f"the kernelspec {KERNEL_NAME} is not installed (`python -m resnet_course.sandbox install-kernel`)"
                )
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=KERNEL_READY_TIMEOUT_S)
            return None
        except RuntimeError as error:
            manager.shutdown_kernel(now=True)
            return _launcher_said(status_file, runtime / "stderr") or str(error)
        finally:
            client.stop_channels()
            if manager.has_kernel:
                manager.shutdown_kernel(now=True)
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def _launcher_said(status_file: Path | None, stderr_file: Path) -> str:
    if status_file is not None and status_file.exists():
        try:
            status = json.loads(status_file.read_text())
        except ValueError:
            status = {}
        said = status.get("reason") or _last_line(status.get("stderr_tail", ""))
        if said:
            return said
    return _last_line(stderr_file.read_text(errors="replace")) if stderr_file.exists() else ""


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None
