"""Generate the student notebooks in ``assignments/`` from ``solutions/``.

Usage: ``python -m resnet_course.instructor.release [--check] [ASSIGNMENT ...]``
(``make assignment`` and ``make check-generated``).

nbgrader's ``generate_assignment``, with the course's ``nbgrader_config.py``,
drops the master's maintainer notes (the cells tagged ``master-only``) and
its ``demonstration`` tags (``release_steps``, the same steps the README's
commands and the formgrader's Generate button take), strips the solutions
and hidden tests and prepends ``solutions/header.ipynb`` (a note for
students). The release then records in each notebook's metadata which
source generated it. It also writes ``grader_only/demonstrations.json``
beside the master: the fingerprints of the cells tagged ``demonstration``,
which grading skips (``resnet_course.grader.pipeline.demonstrations``); the student
version keeps those cells but not the tag. With ``--check`` the notebooks
are generated into a temporary folder and compared with the committed ones,
and the fingerprints with the committed file; any difference fails, so
neither can drift from its source.
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..paths import ASSIGNMENTS_DIR as RELEASE_DIR
from ..paths import REPO_ROOT
from ..paths import SOLUTIONS_DIR as SOURCE_DIR


def assignments(source_dir: Path = SOURCE_DIR) -> list[str]:
    """Names of the assignments: the folders of ``solutions/`` holding a notebook."""
    return sorted(p.name for p in source_dir.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def nbgrader_command() -> list[str]:
    """The nbgrader of this interpreter's environment."""
    return [sys.executable, "-m", "nbgrader"]


def demonstration_fingerprints(assignment: str, folder: Path) -> dict[str, Path]:
    """Write the fingerprints of each master notebook's demonstrations into ``folder``; name -> file."""
    from ..grader.pipeline.demonstrations import write_fingerprints

    written = {}
    for master in sorted((SOURCE_DIR / assignment).glob("*.ipynb")):
        folder.mkdir(parents=True, exist_ok=True)
        written[master.name] = write_fingerprints(master, folder)
    return written


def finish_student_notebooks(folder: Path, assignment: str) -> None:
    """Name the source in the metadata of each generated notebook.

    The cells are nbgrader's, as every release path makes them: the course's
    ``nbgrader_config.py`` already left out what the master keeps from students.
    """
    import nbformat

    for path in sorted(folder.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        notebook.metadata["resnet_course"] = {
            "generated_from": f"solutions/{assignment}/{path.name}",
            "generated_by": "make assignment (python -m resnet_course.instructor.release)",
        }
        nbformat.write(notebook, path)


def generate(assignment: str, release_dir: Path = RELEASE_DIR) -> Path:
    """Run ``nbgrader generate_assignment`` for one assignment into ``release_dir``."""
    # nbgrader runs `alembic` from PATH: put this environment's bin/ first.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PATH=path)
    command = [
        *nbgrader_command(),
        "generate_assignment",
        assignment,
        "--force",
        "--log-level=WARN",
        f"--CourseDirectory.release_directory={release_dir}",
    ]
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"nbgrader generate_assignment {assignment} failed (exit {result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    finish_student_notebooks(release_dir / assignment, assignment)
    return release_dir / assignment


def differences(expected: Path, actual: Path) -> list[str]:
    """Human-readable differences between two folders, file by file."""
    report = []
    comparison = filecmp.dircmp(expected, actual, ignore=[".ipynb_checkpoints", "__pycache__"])
    for name in comparison.left_only:
        report.append(f"{actual / name} is missing (generation makes it)")
    for name in comparison.right_only:
        report.append(f"{actual / name} is not made by generation (remove it or add it to the source)")
    for name in comparison.diff_files:
        generated = (expected / name).read_text().splitlines()
        committed = (actual / name).read_text().splitlines()
        diff = difflib.unified_diff(committed, generated, f"committed {name}", f"generated {name}", lineterm="", n=1)
        report.append("\n".join(list(diff)[:40]))
    for name, sub in comparison.subdirs.items():
        report += differences(expected / name, actual / name)
    return report


def check(names: list[str]) -> int:
    """Regenerate into a temporary folder and compare with ``assignments/``."""
    with tempfile.TemporaryDirectory() as scratch:
        failures = []
        for name in names:
            fresh = generate(name, Path(scratch))
            committed = RELEASE_DIR / name
            if not committed.is_dir():
                failures.append(f"{committed} does not exist")
                continue
            failures += differences(fresh, committed)
            judges_folder = SOURCE_DIR / name / "grader_only"
            for file in demonstration_fingerprints(name, Path(scratch) / "fingerprints" / name).values():
                kept = judges_folder / file.name
                if not kept.exists() or kept.read_text() != file.read_text():
                    failures.append(f"{kept} differs from the demonstrations tagged in solutions/{name}")
    if failures:
        print("assignments/ differs from what solutions/ generates; run `make assignment` and commit:")
        print("\n".join(failures))
        return 1
    print(f"assignments/ matches its source ({', '.join(names)}).")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="assignments (default: all in solutions/)")
    parser.add_argument("--check", action="store_true", help="fail if assignments/ differs from a fresh generation")
    args = parser.parse_args(argv)
    names = args.names or assignments()
    if args.check:
        return check(names)
    for name in names:
        target = RELEASE_DIR / name
        with tempfile.TemporaryDirectory() as scratch:
            fresh = generate(name, Path(scratch))
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(fresh, target)
        print(f"generated {target.relative_to(REPO_ROOT)} from solutions/{name}")
        if (SOURCE_DIR / name / "grader_only").is_dir():
            for file in demonstration_fingerprints(name, SOURCE_DIR / name / "grader_only").values():
                print(f"wrote {file.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
