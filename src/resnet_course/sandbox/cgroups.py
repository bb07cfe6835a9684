"""A cgroup per sandbox: caps memory and task count of the whole process tree.

cgroup v2 (unified) is used where this process may create a child group
beside its own (systemd delegation, or root in a container); otherwise the
v1 ``memory`` and ``pids`` hierarchies, which root can usually write. Where
neither is writable, :func:`create` returns None and the sandbox falls back
on rlimits plus a process-count watchdog (see ``process.py``).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP_PREFIX = "resnet-sandbox-"

log = logging.getLogger(__name__)


class Cgroup:
    """One sandbox's cgroup (v1: a memory and a pids group; v2: one group).

    Attributes:
        directories: The group folders, one per hierarchy.
        version: 1 or 2.
    """

    def __init__(self, directories: list[Path], version: int):
        self.directories = directories
        self.version = version

    @property
    def procs_files(self) -> list[Path]:
        """The ``cgroup.procs`` files a new process writes its pid to, one per hierarchy."""
        return [d / "cgroup.procs" for d in self.directories]

    def join(self, pid: int | None = None) -> None:
        """Move a process (default: this one) into the group; safe between fork and exec."""
        text = str(pid or os.getpid())
        for path in self.procs_files:
            with open(path, "w") as handle:
                handle.write(text)

    def pids(self) -> set[int]:
        """The processes now in the group."""
        found: set[int] = set()
        for path in self.procs_files:
            try:
                found.update(int(line) for line in path.read_text().split())
            except OSError:
                pass
        return found

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer struck inside the group (or allocations hit the limit)."""
        if self.version == 2:
            return _counter(self.directories[0] / "memory.events", "oom_kill") > 0
        memory = self.directories[0]
        return _counter(memory / "memory.oom_control", "oom_kill") > 0

    def hit_process_limit(self) -> bool:
        """Whether a fork was refused because the group was full."""
        if self.version == 2:
            return _counter(self.directories[0] / "pids.events", "max") > 0
        return _counter(self.directories[1] / "pids.events", "max") > 0

    def kill_all(self) -> None:
        """SIGKILL every process in the group."""
        if self.version == 2 and (self.directories[0] / "cgroup.kill").exists():
            try:
                (self.directories[0] / "cgroup.kill").write_text("1")
                return
            except OSError:
                pass
        for pid in self.pids():
            try:
                os.kill(pid, 9)
            except OSError:
                pass

    def remove(self, timeout: float = 2.0) -> None:
        """Kill what is left and delete the group folders (they must be empty first)."""
        deadline = time.monotonic() + timeout
        self.kill_all()
        for directory in self.directories:
            while True:
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        log.warning("could not remove cgroup %s (processes still exiting)", directory)
                        break
                    time.sleep(0.05)


def create(name: str, memory_bytes: int, max_processes: int) -> Cgroup | None:
    """Create a cgroup with the given limits, or return None where none can be made.

    Args:
        name: Unique suffix of the group's folder name.
        memory_bytes: Memory limit of the whole tree (swap included where possible).
        max_processes: Task limit of the whole tree.
    """
    for maker in (_create_v2, _create_v1):
        try:
            group = maker(GROUP_PREFIX + name, memory_bytes, max_processes)
        except OSError as error:
            log.debug("cgroup via %s not possible: %s", maker.__name__, error)
            continue
        if group is not None:
            return group
    return None


def _own_group(controller: str) -> str:
    """This process's group path in a v1 hierarchy (``controller``) or v2 (``""``)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller == "" and controllers == "" and line.startswith("0::"):
            return path
        if controller and controller in controllers.split(","):
            return path
    raise OSError(f"this process is in no {controller or 'v2'} cgroup")


def _create_v2(name: str, memory_bytes: int, max_processes: int) -> Cgroup | None:
    if not (CGROUP_ROOT / "cgroup.controllers").exists():
        return None  # v1 or hybrid layout; v2 there has no memory controller
    # A process may not sit in a group whose children have controllers, so the
    # sandbox groups are siblings of ours, under our parent.
    parent = CGROUP_ROOT / _own_group("").lstrip("/")
    parent = parent.parent
    enabled = (parent / "cgroup.subtree_control").read_text().split()
    for controller in ("memory", "pids"):
        if controller not in enabled:
            (parent / "cgroup.subtree_control").write_text("+" + controller)
    remove_stale_groups([parent])
    directory = parent / name
    directory.mkdir()
    group = Cgroup([directory], 2)
    try:
        (directory / "memory.max").write_text(str(memory_bytes))
        if (directory / "memory.swap.max").exists():
            (directory / "memory.swap.max").write_text("0")
        (directory / "pids.max").write_text(str(max_processes))
    except OSError:
        group.remove()
        raise
    return group


def _create_v1(name: str, memory_bytes: int, max_processes: int) -> Cgroup | None:
    memory_root = CGROUP_ROOT / "memory"
    pids_root = CGROUP_ROOT / "pids"
    if not (memory_root / "memory.limit_in_bytes").exists() or not (pids_root / "cgroup.procs").exists():
        return None
    memory_parent = memory_root / _own_group("memory").lstrip("/")
    pids_parent = pids_root / _own_group("pids").lstrip("/")
    remove_stale_groups([memory_parent, pids_parent])
    memory_dir = memory_parent / name
    pids_dir = pids_parent / name
    memory_dir.mkdir()
    try:
        pids_dir.mkdir()
    except OSError:
        memory_dir.rmdir()
        raise
    group = Cgroup([memory_dir, pids_dir], 1)
    try:
        (memory_dir / "memory.limit_in_bytes").write_text(str(memory_bytes))
        swap = memory_dir / "memory.memsw.limit_in_bytes"
        if swap.exists():
            try:
                swap.write_text(str(memory_bytes))
            except OSError:
                pass  # swap accounting off: the memory limit alone applies
        (pids_dir / "pids.max").write_text(str(max_processes))
    except OSError:
        group.remove()
        raise
    return group


def remove_stale_groups(parents: list[Path]) -> None:
    """Delete empty groups left by launchers that were SIGKILLed (their pid is in the name)."""
    candidates = []
    for parent in parents:
        try:
            candidates += list(parent.glob(GROUP_PREFIX + "*"))
        except OSError:
            continue
    for directory in candidates:
        owner = directory.name[len(GROUP_PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            try:
                directory.rmdir()
            except OSError:
                pass


def _counter(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == key:
                return int(parts[1])
    except (OSError, ValueError):
        pass
    return 0
