"""Launch JupyterLab as a student or as an instructor sees it.

Usage::

    python -m resnet_course.instructor.lab student [--port PORT] [--root DIR] [JUPYTER_OPTIONS ...]
    python -m resnet_course.instructor.lab instructor [--port PORT] [--root DIR] [JUPYTER_OPTIONS ...]

(``make lab`` and ``make formgrader``). Options this module does not know,
such as ``--no-browser``, are passed on to ``jupyter lab``.

The nbgrader lab extension registers the instructor's tools (the formgrader
and the "Create Assignment" cell toolbar) next to the student's (assignment
list, course list, the notebook's "Validate" button). A student must not see
the instructor's tools, so each launch gets its own configuration folder,
put first on ``JUPYTER_CONFIG_PATH`` so that it wins over the environment's
and the user's settings while keeping them otherwise:

* ``labconfig/page_config.json`` disables (student) or re-enables
  (instructor) the formgrader and create-assignment lab plugins, and for
  both disables the "Jupyter news" question every new user gets;
* ``jupyter_server_config.json`` turns nbgrader's formgrader server extension
  off, and the course's (``instructor/formgrader``: nbgrader's, whose Autograde
  button grades in the background) on for instructors only, so that a
  student cannot reach ``/formgrader`` by URL either;
* ``nbgrader_config.py`` (student) gives Validate the course's cell
  timeout: the notebook's TensorFlow cells take longer than nbgrader's 30 s.

The folder is temporary and removed when the server stops.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROLES = ("student", "instructor")

#: Lab plugins of the nbgrader extension that only instructors may use.
INSTRUCTOR_LAB_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
)

#: nbgrader's formgrader: off for everyone, the course's own replaces it for instructors.
NBGRADER_FORMGRADER = "nbgrader.server_extensions.formgrader"

#: Server extensions that only instructors may use: nbgrader's formgrader as the course serves it, whose
#: Autograde button grades in the background with the course's sandboxed grader (``instructor/formgrader``).
INSTRUCTOR_SERVER_EXTENSIONS = ("resnet_course.instructor.formgrader",)

#: JupyterLab's plugin that asks every new user whether to fetch Jupyter news, and then fetches it.
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"

#: Where each role's lab starts, relative to the repository root (the Makefile's folder).
DEFAULT_ROOTS = {"student": Path("assignments"), "instructor": Path(".")}

#: The cell timeout of the course's nbgrader_config.py, for Validate in the student lab.
VALIDATE_CELL_TIMEOUT_S = 600
#: How long Validate waits for a cell's output after its reply (nbclient waits 4 s): on a busy machine the
#: output comes later, and Validate would fail the student's notebook. The grader waits as long.
VALIDATE_OUTPUT_WAIT_S = 30

DEFAULT_IP = "127.0.0.1"


def role_settings(role: str) -> dict[str, dict]:
    """The configuration files of one role, as ``{relative path: JSON content}``.

    Args:
        role: ``"student"`` or ``"instructor"``.

    Returns:
        The files to write into the launch's configuration folder (``.py`` ones as :func:`config_text` writes them).
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    instructor = role == "instructor"
    # Explicit values in both roles: an instructor's lab stays complete even if
    # a user-level setting disabled a plugin, and a student's cannot be re-enabled.
    files = {
        "labconfig/page_config.json": {
            "disabledExtensions": {
                **{plugin: not instructor for plugin in INSTRUCTOR_LAB_PLUGINS},
                NEWS_PLUGIN: True,
            },
        },
        "jupyter_server_config.json": {
            "ServerApp": {
                "jpserver_extensions": {
                    NBGRADER_FORMGRADER: False,
                    **{name: instructor for name in INSTRUCTOR_SERVER_EXTENSIONS},
                },
            },
        },
    }
    if not instructor:
        # The instructor's lab runs where nbgrader_config.py is; the student's does not. A .py file,
        # the name nbgrader looks for: without one it warns at every request of the Assignment List.
        files["nbgrader_config.py"] = {
            "Execute": {
                "timeout": VALIDATE_CELL_TIMEOUT_S,
                "interrupt_on_timeout": True,
                "iopub_timeout": VALIDATE_OUTPUT_WAIT_S,
            },
        }
    return files


def config_text(relative_path: str, content: dict) -> str:
    """The text of a configuration file: JSON, or for a ``.py`` file the traitlets assignments it stands for."""
    if not relative_path.endswith(".py"):
        return json.dumps(content, indent=2) + "\n"
    lines = [
        f'"""{Path(relative_path).name}, written by resnet_course (instructor/lab.py or hub/roles.py)."""',
        "",
        "c = get_config()  # noqa: F821 -- provided by the application that loads this file",
    ]
    for section, values in content.items():
        lines += [f"c.{section}.{name} = {value!r}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


def write_role_config(role: str, config_dir: Path) -> Path:
    """Write one role's configuration files into ``config_dir``.

    Args:
        role: ``"student"`` or ``"instructor"``.
        config_dir: An existing folder, to be put first on ``JUPYTER_CONFIG_PATH``.

    Returns:
        ``config_dir``.
    """
    for relative_path, content in role_settings(role).items():
        path = config_dir / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(config_text(relative_path, content))
    return config_dir


def lab_environment(config_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for ``jupyter lab``: ``config_dir`` first on the config path.

    Args:
        config_dir: The folder written by :func:`write_role_config`.
        base: The environment to extend; by default this process's.

    Returns:
        A new environment mapping.
    """
    env = dict(os.environ if base is None else base)
    config_path = [str(config_dir)]
    if env.get("JUPYTER_CONFIG_PATH"):
        config_path.append(env["JUPYTER_CONFIG_PATH"])
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(config_path)
    # Kernels and nbgrader (which runs `alembic`) find this environment's tools first.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def lab_command(port: int | None, ip: str = DEFAULT_IP, extra_args: list[str] | None = None) -> list[str]:
    """The ``jupyter lab`` command line of this interpreter's environment.

    Args:
        port: The port to serve on; the launch then fails rather than drift to
            another. None: Jupyter's default (8888, or the next free one).
        ip: The address to listen on (loopback by default).
        extra_args: Further options for ``jupyter lab``.

    Returns:
        The command as a list of arguments.
    """
    port_args = [] if port is None else [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    return [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.ip={ip}", *port_args, *(extra_args or [])]


def run_lab(role: str, root: Path, port: int | None, ip: str = DEFAULT_IP, extra_args: list[str] | None = None) -> int:
    """Serve JupyterLab for ``role`` in ``root`` until it stops; return its exit code.

    Ctrl-C reaches the server directly (it asks for confirmation); SIGTERM is
    passed on to it, so that stopping this process stops the server too.
    """
    if not root.is_dir():
        raise SystemExit(f"{root} is not a folder: run `make assignment` first or pass --root.")
    with tempfile.TemporaryDirectory(prefix=f"resnet-course-{role}-lab-") as config_dir:
        env = lab_environment(write_role_config(role, Path(config_dir)))
        server = subprocess.Popen(lab_command(port, ip, extra_args), cwd=root, env=env)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server handles Ctrl-C itself
        signal.signal(signal.SIGTERM, lambda signum, frame: server.send_signal(signal.SIGTERM))
        return server.wait()


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """Split the command line into this module's options and jupyter's."""
    parser = argparse.ArgumentParser(
        prog="python -m resnet_course.instructor.lab",
        description="Start JupyterLab with the nbgrader tools of a student or of an instructor.",
        epilog="Other options are passed on to `jupyter lab`, e.g. --no-browser.",
    )
    parser.add_argument(
        "role", choices=ROLES, help="student: no formgrader, no Create Assignment; instructor: all tools"
    )
    parser.add_argument("--port", type=int, default=None, help="port to serve on (default: 8888 or the next free one)")
    parser.add_argument("--ip", default=DEFAULT_IP, help=f"address to listen on (default {DEFAULT_IP})")
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="folder the lab opens in (default: assignments/ for a student, . for an instructor)",
    )
    return parser.parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args, jupyter_args = parse_args(argv)
    root = args.root if args.root is not None else DEFAULT_ROOTS[args.role]
    return run_lab(args.role, root.resolve(), args.port, args.ip, jupyter_args)


if __name__ == "__main__":
    sys.exit(main())
