"""The copy of a notebook's folder that a sandbox starts from.

Only regular files and folders are copied: a symbolic link in a submission
could otherwise point the grader at the gradebook. Top-level files and
folders named like an installed module (``numpy.py``, ``ipykernel_launcher.py``)
are left out too: the kernel's folder is on ``sys.path``, so they would
replace the real module in the kernel or in the tests. The copy is readable
by the sandbox's unprivileged uid, whatever the instructor's umask.
"""

from __future__ import annotations

import importlib.metadata
import os
import shlex
import shutil
import stat
import sys
from pathlib import Path

PAGE_BYTES = 4096
INODE_BYTES = 1024
# Files and folders a working folder may hold; far more than a notebook's assignment needs.
MAX_ENTRIES = 5000
# Exit status of the sandbox when its working folder could not be filled.
COPY_FAILED_STATUS = 97


class WorkdirTooLarge(RuntimeError):
    """The folder holds more than the sandbox may receive."""


def disk_bytes(size: int) -> int:
    """What a file of ``size`` bytes takes in a tmpfs: whole pages, at least one, plus its inode."""
    return max(1, -(-size // PAGE_BYTES)) * PAGE_BYTES + INODE_BYTES


def stage_workdir_copy(source: Path, target: Path, max_bytes: int, max_entries: int = MAX_ENTRIES) -> list[str]:
    """Copy ``source`` into ``target`` (regular files and folders only).

    The size counted is what the copy will take in the sandbox's tmpfs
    (:func:`disk_bytes`: 20,000 files of a few bytes take 80 MiB, not
    80 KB), and the number of files and folders is capped too, so that the
    copy inside cannot run out of space or inodes half way.

    Args:
        source: The notebook's folder.
        target: An empty folder to fill.
        max_bytes: Space allowed (the working folder's tmpfs size, less a margin for the notebook's own files).
        max_entries: Files and folders allowed.

    Returns:
        The relative paths that were skipped (links, special files, module shadows).

    Raises:
        WorkdirTooLarge: The copy would take more than ``max_bytes`` or ``max_entries``.
    """
    skipped: list[str] = []
    total = 0
    entries = 0
    modules = installed_module_names()
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(0o755)
    for folder, subfolders, files in os.walk(source, followlinks=False):
        relative = Path(folder).relative_to(source)
        for name in list(subfolders):
            if (Path(folder) / name).is_symlink() or (relative == Path(".") and name in modules):
                skipped.append(str(relative / name))
                subfolders.remove(name)
                continue
            entries += 1
            total += disk_bytes(0)
            (target / relative / name).mkdir(mode=0o755, exist_ok=True)
            (target / relative / name).chmod(0o755)
        for name in files:
            path = Path(folder) / name
            status = path.lstat()
            if not stat.S_ISREG(status.st_mode) or (relative == Path(".") and shadows_module(name, modules)):
                skipped.append(str(relative / name))
                continue
            total += disk_bytes(status.st_size)
            entries += 1
            if total > max_bytes // 2 or entries > max_entries:
                raise WorkdirTooLarge(
                    f"the submission holds more than the grader takes: at most {max_entries} files and folders "
                    f"and {max_bytes // 2 // 2**20} MiB on disk (counted in pages). Submit only the notebook and "
                    "the files it reads, without data sets or generated files "
                    "(an instructor can raise RESNET_SANDBOX_SCRATCH_BYTES)"
                )
            destination = target / relative / name
            shutil.copyfile(path, destination, follow_symlinks=False)
            destination.chmod(0o644)
    return skipped


def installed_module_names() -> set[str]:
    """Top-level import names of the standard library and of every installed distribution."""
    names = set(sys.stdlib_module_names) | set(sys.builtin_module_names)
    names |= set(importlib.metadata.packages_distributions())
    return names | {"ipykernel_launcher", "sitecustomize", "usercustomize", "resnet_course"}


def shadows_module(filename: str, modules: set[str]) -> bool:
    """Whether a top-level file would be imported instead of an installed module."""
    stem, _, suffix = filename.partition(".")
    return stem in modules and (suffix in ("py", "pyc", "pth") or suffix.endswith("so"))


def copy_workdir_command(command: list[str], copy_mount: str, files: dict[str, str] | None = None) -> list[str]:
    """Wrap ``command`` so that it first copies the working-directory copy into the working folder.

    Args:
        command: What to run afterwards.
        copy_mount: Where the working-directory copy is mounted.
        files: Further files to copy first, source -> destination (inside the sandbox).

    The command runs only when the copy succeeded: a working folder short of
    space or inodes would otherwise start the kernel with files missing.
    """
    copies = "".join(f"cp {shlex.quote(a)} {shlex.quote(b)} && " for a, b in (files or {}).items())
    script = (
        f"{copies}cp -R {copy_mount}/. . || "
        "{ echo '[resnet-course sandbox] the working folder could not be filled (out of space or inodes)' >&2; "
        f"exit {COPY_FAILED_STATUS}; }}; "
        'exec "$@"'
    )
    return ["/bin/sh", "-c", script, "sandbox-workdir-copy", *command]
