"""Copy the SIGNS files into the repository's ``data/`` and verify them.

Usage: ``python -m resnet_course.instructor.setup_data [--source DIR] [--dest DIR] [--force]``
(``make data`` runs it). The expected checksums are the project's own
``data/SHA256SUMS``, so a changed source folder is caught, not copied.
A file already in ``data/`` that differs is never overwritten silently:
without ``--force`` set-up stops; with it the old file is kept as a backup.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from ..data import CHECKSUM_FILE, SIGNS_FILES, DataError, read_checksums, sha256_of
from ..paths import DATA_DIR, REPO_ROOT

SOURCE_ENV = "SIGNS_SOURCE_DIR"


def default_source() -> Path:
    """The source folder: ``$SIGNS_SOURCE_DIR``, else ``../shared/data/signs``."""
    if os.environ.get(SOURCE_ENV):
        return Path(os.environ[SOURCE_ENV])
    return REPO_ROOT.parent / "shared" / "data" / "signs"


def prepare_data(source: Path, dest: Path, force: bool = False, log=print) -> list[Path]:
    """Copy and verify every SIGNS file from ``source`` into ``dest``.

    Args:
        source: Folder holding the original HDF5 files.
        dest: The course's data folder; must hold the expected ``SHA256SUMS``.
        force: Replace a differing file in ``dest``, keeping it as a backup.
        log: Where progress lines go.

    Returns:
        The verified files in ``dest``.

    Raises:
        DataError: a source file is missing or fails its checksum, or a
            differing file is already in ``dest`` and ``force`` is off.
    """
    source, dest = Path(source), Path(dest)
    expected = read_checksums(dest / CHECKSUM_FILE)
    done = []
    for name in SIGNS_FILES:
        target = dest / name
        if target.is_file() and sha256_of(target) == expected[name]:
            log(f"ok       {target} (already present, checksum verified)")
            done.append(target)
            continue
        origin = source / name
        if not origin.is_file():
            raise DataError(
                f"source file {origin} is missing. Point {SOURCE_ENV} at the folder that holds "
                f"{' and '.join(SIGNS_FILES)} (see data/README.md)."
            )
        actual = sha256_of(origin)
        if actual != expected[name]:
            raise DataError(
                f"source file {origin} fails its checksum (expected {expected[name]}, got {actual}); "
                "nothing was copied. Get an intact copy of the SIGNS data (see data/README.md)."
            )
        if target.exists():
            if not force:
                raise DataError(
                    f"{target} exists and differs from the verified SIGNS file; not overwriting it. "
                    "Move it away, or run `make data FORCE=1` to replace it (the old file is kept "
                    "as a backup)."
                )
            backup = target.with_name(f"{name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
            target.rename(backup)
            log(f"backup   {target} -> {backup}")
        partial = target.with_name(name + ".partial")
        shutil.copyfile(origin, partial)  # copy, then rename: no half-written file is left
        if sha256_of(partial) != expected[name]:
            partial.unlink()
            raise DataError(f"copying {origin} to {target} produced a different file; try again.")
        partial.replace(target)
        log(f"copied   {origin} -> {target} (checksum verified)")
        done.append(target)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help=f"default: ${SOURCE_ENV} or ../shared/data/signs")
    parser.add_argument("--dest", type=Path, default=DATA_DIR)
    parser.add_argument("--force", action="store_true", help="replace differing files, keeping backups")
    args = parser.parse_args(argv)
    try:
        prepare_data(args.source or default_source(), args.dest, force=args.force)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
