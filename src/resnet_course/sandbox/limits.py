"""Resource limits of one sandboxed process tree, and the rlimits that enforce them.

The limits travel as environment variables (``RESNET_SANDBOX_MEMORY`` ...) so
that a Jupyter kernelspec, whose argv is fixed, can still be tuned per course,
and as command-line options of the kernel launcher so that the grader can set
them per run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource

MIB = 1024 * 1024
GIB = 1024 * MIB

ENV_PREFIX = "RESNET_SANDBOX_"


@dataclasses.dataclass(frozen=True)
class SandboxLimits:
    """What one submission may use.

    Attributes:
        memory_bytes: Resident memory of the whole tree (cgroup), and the data
            segment of each process (RLIMIT_DATA, so that a single allocation
            over it raises MemoryError instead of killing the kernel).
        cpu_seconds: CPU time of each process (RLIMIT_CPU).
        max_processes: Tasks (processes and threads) of the whole tree.
        wall_seconds: Lifetime of the sandbox; it is killed after that.
        output_bytes: Notebook output the kernel may send (stream, display,
            results); later output is dropped and a notice shown instead.
        file_bytes: Largest file the sandbox may write (RLIMIT_FSIZE).
        scratch_bytes: Size of the private writable folders (tmpfs).
    """

    memory_bytes: int = 6 * GIB
    cpu_seconds: int = 4 * 3600
    max_processes: int = 512
    wall_seconds: int = 2 * 3600
    output_bytes: int = 8 * MIB
    file_bytes: int = 1 * GIB
    scratch_bytes: int = 2 * GIB

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "SandboxLimits":
        """Defaults, overridden by ``RESNET_SANDBOX_<FIELD>`` variables (e.g. ``RESNET_SANDBOX_MEMORY_BYTES``)."""
        environ = os.environ if environ is None else environ
        values = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if raw:
                try:
                    values[field.name] = int(raw)
                except ValueError:
                    raise ValueError(
                        f"{ENV_PREFIX}{field.name.upper()}={raw!r} is not a whole number; unset it or give an integer"
                    ) from None
        return cls(**values)

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """Add one ``--<field>`` option per limit to a parser (default: from the environment)."""
        for field in dataclasses.fields(SandboxLimits):
            parser.add_argument("--" + field.name.replace("_", "-"), type=int, default=None, metavar="N")

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> "SandboxLimits":
        """Limits from parsed options, falling back to the environment and the defaults."""
        base = cls.from_env()
        given = {
            f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name, None) is not None
        }
        return dataclasses.replace(base, **given)

    def as_arguments(self) -> list[str]:
        """The command-line options that reproduce these limits."""
        arguments = []
        for field in dataclasses.fields(self):
            arguments += ["--" + field.name.replace("_", "-"), str(getattr(self, field.name))]
        return arguments

    def apply_rlimits(self, process_limit: int | None = None) -> None:
        """Set this process's rlimits; its children (the sandbox) inherit them.

        Called between fork and exec. RLIMIT_AS is deliberately not set:
        TensorFlow reserves tens of GiB of address space it never touches.

        Args:
            process_limit: RLIMIT_NPROC to set, which counts every task of the
                real uid; None leaves it alone (see ``process.SandboxUser``).
        """
        _set_limit(resource.RLIMIT_DATA, self.memory_bytes)
        _set_limit(resource.RLIMIT_CPU, self.cpu_seconds)
        _set_limit(resource.RLIMIT_FSIZE, self.file_bytes)
        _set_limit(resource.RLIMIT_CORE, 0)
        if process_limit is not None:
            _set_limit(resource.RLIMIT_NPROC, process_limit)


def _set_limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))
