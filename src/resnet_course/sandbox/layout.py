"""What a sandbox sees: the read-only system and Python, and nothing of the course's secrets.

The sandbox root is an empty tmpfs. Into it bubblewrap binds, read-only:
``/usr`` (and the ``/bin``, ``/lib`` links of a merged-/usr system), a few
files of ``/etc``, the Python installation and virtual environment, the
course helper package and ``data/``. Writable are only ``/tmp`` and the
working folder, both size-capped tmpfs that vanish with the sandbox; the
working folder starts as a copy of the notebook's own folder (the
"working-directory copy"). A kernel's sockets live in ``/run/kernel``, a
small tmpfs of its own (``IPC_BYTES``): the relay outside reaches them
through ``/proc/<pid>/root``, so no host folder is writable from inside.
``solutions/``, the gradebook, ``autograder/`` and the home folder are
simply absent. A kernel's sandbox also hides the course package's
``grader`` and ``instructor`` folders (:data:`KERNEL_HIDDEN`): they hold the
solutions of graded exercises (the BatchNorm recompute) and the grader's
own code, which no student's code needs. The network namespace is new and
empty.
"""

from __future__ import annotations

import dataclasses
import os
import site
import sys
from pathlib import Path

from ..paths import AUTOGRADER_DIR, DATA_DIR, PACKAGE_PARENT, SOLUTIONS_DIR, TESTS_DIR

# Paths inside the sandbox.
WORKDIR_COPY_MOUNT = "/run/workdir-copy"
IPC_MOUNT = "/run/kernel"
CONNECTION_MOUNT = "/run/kernel-connection.json"
# Sockets and the connection file need a few KiB; a kernel must not use the folder as disk.
IPC_BYTES = 1024 * 1024
HOME = "/tmp"

# Subfolders of the course package a kernel never sees (an empty folder covers each):
# the instructor's tools (the solution of the BatchNorm-recompute exercise among them)
# and the grader. The judges' sandbox keeps them: it runs no student code.
KERNEL_HIDDEN = [PACKAGE_PARENT / "resnet_course" / "instructor", PACKAGE_PARENT / "resnet_course" / "grader"]

# Host folders a bind must never expose: neither they, nor anything in them,
# nor a folder above them.
FORBIDDEN_TREES = [SOLUTIONS_DIR, AUTOGRADER_DIR, TESTS_DIR]
# Folders that may not be bound whole (nor a folder above them); a subfolder
# such as a Python installation under ~/.pyenv is fine.
FORBIDDEN_WHOLE = [Path.home()]

ETC_FILES = [
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/fonts",
    "/etc/alternatives",
    "/etc/mime.types",
    "/etc/nsswitch.conf",
]

# Where the course helper looks for data first (resnet_course.data); set in the sandbox so
# that notebooks graded outside the repository (the grader's private folders) find it.
DATA_DIR_VARIABLE = "RESNET_COURSE_DATA_DIR"
# Variables a kernel legitimately reads (and any RESNET_COURSE_*); everything else is cleared.
PASSED_ENVIRONMENT = [
    "TF_CPP_MIN_LOG_LEVEL",
    "TF_ENABLE_ONEDNN_OPTS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "KERAS_BACKEND",
    "MPLBACKEND",
    "OMP_NUM_THREADS",
    "PYTHONHASHSEED",
    "PYTHONWARNINGS",
    "LANG",
    "LC_ALL",
    "TZ",
    "CUDA_VISIBLE_DEVICES",
    "NBGRADER_EXECUTION",
    "NBGRADER_VALIDATING",
]


@dataclasses.dataclass
class SandboxLayout:
    """The mounts of one sandbox.

    Attributes:
        workdir: Path of the working folder inside the sandbox.
        workdir_copy: Host folder copied into ``workdir`` when the sandbox starts (None: empty).
        read_only: Host paths bound read-only at the same path.
        kernel_connection: Host file shown read-only at ``CONNECTION_MOUNT``; with it,
            ``/run/kernel`` is a tmpfs of ``ipc_bytes`` for the kernel's sockets.
        ipc_bytes: Size of that tmpfs.
        etc_dir: Host folder holding ``passwd`` and ``group`` for the sandbox user, or None.
        scratch_bytes: Size of each tmpfs (``/tmp`` and ``workdir``).
        environment: Variables set inside.
        hidden: Folders inside ``read_only`` covered by an empty, read-only folder.
    """

    workdir: str
    workdir_copy: Path | None = None
    read_only: list[Path] = dataclasses.field(default_factory=list)
    kernel_connection: Path | None = None
    ipc_bytes: int = IPC_BYTES
    etc_dir: Path | None = None
    scratch_bytes: int = 512 * 1024 * 1024
    environment: dict[str, str] = dataclasses.field(default_factory=dict)
    hidden: list[Path] = dataclasses.field(default_factory=list)

    def bwrap_arguments(self) -> list[str]:
        """bubblewrap's mount and environment options for this layout (namespaces excluded)."""
        arguments: list[str] = ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib64", "lib32"):
            path = Path("/") / name
            if path.is_symlink():
                arguments += ["--symlink", os.readlink(path), str(path)]
            elif path.exists():
                arguments += ["--ro-bind", str(path), str(path)]
        arguments += ["--perms", "0755", "--dir", "/etc"]
        for path in ETC_FILES:
            arguments += ["--ro-bind-try", path, path]
        if self.etc_dir is not None:
            arguments += ["--ro-bind", str(self.etc_dir / "passwd"), "/etc/passwd"]
            arguments += ["--ro-bind", str(self.etc_dir / "group"), "/etc/group"]
        arguments += ["--proc", "/proc", "--dev", "/dev"]
        for device in _gpu_devices():
            arguments += ["--dev-bind", device, device]
        arguments += ["--perms", "1777", "--size", str(self.scratch_bytes), "--tmpfs", "/tmp"]
        # bwrap would create missing parents 0700 as root: make them traversable first.
        destinations = [str(p) for p in self.read_only] + [self.workdir, IPC_MOUNT, WORKDIR_COPY_MOUNT]
        for folder in sorted(_ancestors(destinations), key=lambda p: (p.count("/"), p)):
            arguments += ["--perms", "0755", "--dir", folder]
        for path in self.read_only:
            arguments += ["--ro-bind", str(path), str(path)]
        for path in self.hidden:
            if Path(path).is_dir():
                arguments += ["--perms", "0555", "--size", "4096", "--tmpfs", str(path), "--remount-ro", str(path)]
        arguments += ["--perms", "0777", "--size", str(self.scratch_bytes), "--tmpfs", self.workdir]
        if self.workdir_copy is not None:
            arguments += ["--ro-bind", str(self.workdir_copy), WORKDIR_COPY_MOUNT]
        if self.kernel_connection is not None:
            arguments += ["--ro-bind", str(self.kernel_connection), CONNECTION_MOUNT]
            arguments += ["--perms", "0777", "--size", str(self.ipc_bytes), "--tmpfs", IPC_MOUNT]
        arguments += ["--chdir", self.workdir, "--clearenv"]
        for key, value in self.environment.items():
            arguments += ["--setenv", key, value]
        return arguments


def default_read_only(extra: list[Path] | None = None) -> list[Path]:
    """Read-only paths a kernel of this environment needs.

    The Python installation and virtual environment, the folder holding the
    course package (``src/`` for an editable install), the course's
    ``data/``, folders that ``.pth`` files add to ``sys.path``, and
    ``extra``. Paths under another are dropped; a path that would expose a
    forbidden folder is refused.
    """
    candidates = [Path(sys.base_prefix), Path(sys.prefix), Path(sys.exec_prefix), PACKAGE_PARENT]
    if (DATA_DIR).is_dir():
        candidates.append(DATA_DIR)
    if os.environ.get(DATA_DIR_VARIABLE):
        candidates.append(Path(os.environ[DATA_DIR_VARIABLE]))
    for entry in _pth_paths():
        candidates.append(entry)
    candidates += [Path(p) for p in os.environ.get("RESNET_SANDBOX_READ_ONLY", "").split(os.pathsep) if p]
    candidates += list(extra or [])
    chosen: list[Path] = []
    for path in sorted({p.resolve() for p in candidates if p.exists()}, key=lambda p: len(p.parts)):
        if any(path == c or c in path.parents for c in chosen):
            continue
        check_not_forbidden(path)
        chosen.append(path)
    return chosen


def check_not_forbidden(path: Path) -> None:
    """Raise when binding ``path`` would show a forbidden folder (it is one, or holds one)."""
    path = path.resolve()
    rules = [(p, True) for p in FORBIDDEN_TREES] + [(p, False) for p in FORBIDDEN_WHOLE]
    for forbidden, whole_tree in rules:
        forbidden = forbidden.resolve()
        inside = whole_tree and forbidden in path.parents
        if path == forbidden or path in forbidden.parents or inside:
            raise PermissionError(
                f"refusing to show {path} inside the sandbox: it exposes {forbidden}. "
                "Bind a narrower folder (e.g. the package's own folder)."
            )


def sandbox_environment(home: str = HOME) -> dict[str, str]:
    """The environment of a sandboxed kernel: a clean one, plus the variables kernels read."""
    bin_dir = str(Path(sys.executable).parent)
    environment = {
        "PATH": os.pathsep.join([bin_dir, "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": home,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "MPLCONFIGDIR": "/tmp/.matplotlib",
        "XDG_CACHE_HOME": "/tmp/.cache",
        "XDG_CONFIG_HOME": "/tmp/.config",
        "IPYTHONDIR": "/tmp/.ipython",
        "JUPYTER_RUNTIME_DIR": "/tmp/.jupyter-runtime",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if (DATA_DIR).is_dir():
        environment[DATA_DIR_VARIABLE] = str(DATA_DIR)
    for key, value in os.environ.items():
        if key in PASSED_ENVIRONMENT or key.startswith("RESNET_COURSE_"):
            environment[key] = value
    return environment


def _ancestors(paths: list[str]) -> set[str]:
    found = set()
    for path in paths:
        for parent in Path(path).parents:
            if str(parent) != "/":
                found.add(str(parent))
    # Parents provided by the system binds are left to them.
    return {p for p in found if p not in ("/tmp", "/usr") and not p.startswith(("/usr/", "/proc", "/dev"))}


def _pth_paths() -> list[Path]:
    """Absolute folders that ``.pth`` files of the site-packages add (editable installs)."""
    found = []
    for directory in site.getsitepackages():
        for pth in Path(directory).glob("*.pth"):
            try:
                lines = pth.read_text().splitlines()
            except OSError:
                continue
            for line in lines:
                line = line.strip()
                if line.startswith("/") and Path(line).is_dir():
                    found.append(Path(line))
    return found


def _gpu_devices() -> list[str]:
    return [str(p) for p in sorted(Path("/dev").glob("nvidia*")) if not p.is_dir()]
