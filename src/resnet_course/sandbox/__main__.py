"""Command line: ``python -m resnet_course.sandbox {install-kernel,check,run}``.

* ``install-kernel [--user | --prefix P] [limit options]``: install the
  ``resnet-course-sandboxed`` kernelspec (default: into this environment).
* ``check [--tensorflow]``: report bubblewrap, cgroups and the sandbox
  user, run a probe inside (no network, no course secrets), and with
  ``--tensorflow`` import TensorFlow in the sandbox.
* ``run -- COMMAND ...``: run a command in a sandbox with the default limits.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import cgroups, kernelspec
from .limits import SandboxLimits
from .process import SandboxUnavailable, SandboxUser, bwrap_path
from .run import check_tensorflow, run_command

PROBE = """
import os, socket
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    print("network: REACHABLE")
except OSError as error:
    print("network: unreachable", error.errno)
print("uid:", os.getuid(), "pid:", os.getpid())
print("visible under /:", sorted(os.listdir("/")))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m resnet_course.sandbox", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    install = commands.add_parser("install-kernel", help="install the resnet-course-sandboxed kernelspec")
    where = install.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="into the user's Jupyter folder")
    where.add_argument("--prefix", help="under PREFIX/share/jupyter/kernels (default: this environment)")
    SandboxLimits.add_arguments(install)
    check = commands.add_parser("check", help="verify that sandboxing works here")
    check.add_argument("--tensorflow", action="store_true", help="also import TensorFlow inside the sandbox")
    run = commands.add_parser("run", help="run a command in a sandbox")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    if args.command == "install-kernel":
        given = [a for a in SandboxLimits.from_arguments(args).as_arguments()]
        defaults = SandboxLimits.from_env().as_arguments()
        extra = given if given != defaults else []
        folder = kernelspec.install(prefix=args.prefix, user=args.user, extra_arguments=extra)
        print(f"installed kernel {kernelspec.KERNEL_NAME} in {folder}")
        return 0
    try:
        bwrap = bwrap_path()
    except SandboxUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    if args.command == "run":
        command = [a for a in args.argv if a != "--"] or ["/bin/sh", "-c", "id; ls /"]
        result = run_command(command)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        if result.reason:
            print(f"[sandbox] {result.reason}", file=sys.stderr)
        return result.exit_status
    limits = SandboxLimits.from_env()
    group = cgroups.create(f"{os.getpid()}-check", limits.memory_bytes, limits.max_processes)
    user = SandboxUser.choose()
    print(f"bubblewrap: {bwrap}")
    print(f"cgroup: {'v%d' % group.version if group else 'none writable (rlimits and watchdog instead)'}")
    if group:
        group.remove()
    print(f"sandbox user: uid {user.uid} ({'own uid via setpriv' if user.switch else 'user namespace'})")
    result = run_command([sys.executable, "-c", PROBE])
    print(result.stdout.strip() or result.stderr.strip())
    if result.exit_status != 0:
        return 1
    if args.tensorflow:
        result = check_tensorflow()
        print(result.stdout.strip() or f"TensorFlow failed in the sandbox:\n{result.stderr[-3000:]}")
        return 0 if result.exit_status == 0 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
