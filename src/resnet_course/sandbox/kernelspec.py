"""The ``resnet-course-sandboxed`` Jupyter kernelspec.

Its argv starts the launcher (``launcher.py``) instead of ipykernel, so
whatever starts a kernel by name — ``nbgrader autograde`` with the block at
the end of ``nbgrader_config.py``, ``nbgrader validate``, JupyterLab — gets
a sandboxed one. Interrupts go as messages over the control channel (the
launcher is not the kernel process, so a SIGINT to it would miss).
"""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
from jupyter_client.manager import KernelManager

KERNEL_NAME = "resnet-course-sandboxed"
DISPLAY_NAME = "Python 3 (resnet-course, sandboxed)"


def kernel_spec(python: str | None = None, extra_arguments: list[str] | None = None) -> dict:
    """The kernel.json contents.

    Args:
        python: Interpreter that runs the launcher and the kernel (default: this one).
        extra_arguments: Launcher options, e.g. limits (``--memory-bytes N``).
    """
    argv = [
        python or sys.executable,
        "-m",
        "resnet_course.sandbox.launcher",
        *(extra_arguments or []),
        "-f",
        "{connection_file}",
    ]
    return {
        "argv": argv,
        "display_name": DISPLAY_NAME,
        "language": "python",
        "interrupt_mode": "message",
        "env": {},
        "metadata": {"debugger": False, "resnet_course": {"sandboxed": True}},
    }


def install(prefix: str | None = None, user: bool = False, extra_arguments: list[str] | None = None) -> str:
    """Install (or refresh) the kernelspec; return the folder it went to.

    Args:
        prefix: Install under ``PREFIX/share/jupyter/kernels`` (default: this environment's ``sys.prefix``).
        user: Install in the user's Jupyter data folder instead.
        extra_arguments: Launcher options baked into argv.
    """
    with tempfile.TemporaryDirectory() as folder:
        # A temporary folder is 0700, and the spec would keep that mode: every user's nbgrader
        # (students' Validate on a JupyterHub) must be able to read it.
        Path(folder).chmod(0o755)
        (Path(folder) / "kernel.json").write_text(json.dumps(kernel_spec(extra_arguments=extra_arguments), indent=1))
        (Path(folder) / "kernel.json").chmod(0o644)
        manager = KernelSpecManager()
        if user:
            return manager.install_kernel_spec(folder, KERNEL_NAME, user=True, replace=True)
        return manager.install_kernel_spec(folder, KERNEL_NAME, prefix=prefix or sys.prefix, replace=True)


def ensure_installed() -> None:
    """Install the kernelspec into this environment unless Jupyter already finds one.

    nbgrader_config.py calls this, so that selecting the sandboxed kernel
    never fails with "No such kernel" on a fresh checkout.
    """
    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        install()


def kernel_manager(
    runtime: Path, launcher_arguments: list[str], manager_class: type = KernelManager, **options
) -> tuple[KernelManager, Path]:
    """A manager that starts the sandboxed kernel with these launcher options, over IPC sockets in ``runtime``.

    Args:
        runtime: A private folder for the connection file, the sockets and the launcher's report.
        launcher_arguments: Launcher options, e.g. limits.
        manager_class: ``KernelManager`` or ``AsyncKernelManager``.
        **options: Passed to the manager (e.g. ``config``).

    Returns:
        The manager and the file where the launcher reports how the kernel ended.
    """
    name = secrets.token_hex(6)
    status_file = runtime / f"kernel-{name}-status.json"
    spec = kernel_spec(extra_arguments=[*launcher_arguments, "--status-file", str(status_file)])
    manager = manager_class(transport="ipc", **options)
    manager.connection_file = str(runtime / f"kernel-{name}.json")
    # Not manager.kernel_name: setting it drops this spec for the installed one (and its limits).
    manager._kernel_spec = KernelSpec(**{k: v for k, v in spec.items() if k != "metadata"}, resource_dir=str(runtime))
    return manager, status_file
