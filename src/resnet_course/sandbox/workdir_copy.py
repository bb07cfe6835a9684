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
import shutil
import stat
import sys
from pathlib import Path


class WorkdirTooLarge(RuntimeError):
    """The folder holds more than the sandbox may receive."""


def stage_workdir_copy(source: Path, target: Path, max_bytes: int) -> list[str]:
    """Copy ``source`` into ``target`` (regular files and folders only).

    Args:
        source: The notebook's folder.
        target: An empty folder to fill.
        max_bytes: Total size allowed.

    Returns:
        The relative paths that were skipped (links, special files, module shadows).

    Raises:
        WorkdirTooLarge: The regular files add up to more than ``max_bytes``.
    """
    skipped: list[str] = []
    total = 0
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
            (target / relative / name).mkdir(mode=0o755, exist_ok=True)
            (target / relative / name).chmod(0o755)
        for name in files:
            path = Path(folder) / name
            status = path.lstat()
            if not stat.S_ISREG(status.st_mode) or (relative == Path(".") and shadows_module(name, modules)):
                skipped.append(str(relative / name))
                continue
            total += status.st_size
            if total > max_bytes:
                raise WorkdirTooLarge(
                    f"{source} holds more than {max_bytes // 2**20} MiB; the sandbox's working folder "
                    "cannot take it (raise RESNET_SANDBOX_SCRATCH_BYTES or remove large files)"
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


def copy_workdir_command(command: list[str], copy_mount: str) -> list[str]:
    """Wrap ``command`` so that it first copies the working-directory copy into the working folder."""
    script = f'cp -R {copy_mount}/. . 2>/dev/null; exec "$@"'
    return ["/bin/sh", "-c", script, "sandbox-workdir-copy", *command]
