"""The README's sample of how ``make demo`` ends, pasted from a real run.

Usage: ``python -m resnet_course.instructor.readme_sample [--ending FILE] [--readme FILE]``,
after ``make demo``.

``make demo`` writes what its last step printed (the grades table, the class
summary, the files it wrote) to ``autograder/demo/demo-ending.txt``; this
puts that text, as it is, into ``README.md`` between the markers
:data:`START` and :data:`END`. The sample then always comes from a run,
never from an edit by hand.

Scores change with grading; the table's shape follows the master notebook.
``tests/test_readme_sample.py`` reads the sample with the functions here and
fails when its columns or its maximum differ from the master's exercises and
points (:func:`expected_columns`, :func:`master_maximum`), the same sources
the demo's gradebook and table are built from.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ..paths import REPO_ROOT, SOLUTIONS_DIR
from .demo import DEMO_ROOT, ENDING_FILE
from .sample_class import ASSIGNMENT

README = REPO_ROOT / "README.md"
START = "<!-- make-demo-ending: pasted by python -m resnet_course.instructor.readme_sample -->"
END = "<!-- make-demo-ending: end -->"
_SCORE = re.compile(r"^\s*(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)\s*$")
_MEAN = re.compile(r"; mean \d+(?:\.\d+)?/(\d+(?:\.\d+)?);")


def master_notebook(assignment: str = ASSIGNMENT) -> Path:
    return SOLUTIONS_DIR / assignment / f"{assignment}.ipynb"


def expected_columns(master: Path) -> list[str]:
    """The columns of the demo's grades table for ``master``: one per exercise, in notebook order."""
    import nbformat

    from ..grader.reports.exercises import exercises
    from ..grader.reports.tables import table_columns

    return table_columns(exercises(nbformat.read(master, as_version=4)))


def master_maximum(master: Path) -> float:
    """The points of ``master``'s graded cells: every score in the demo's table is out of this."""
    import nbformat

    notebook = nbformat.read(master, as_version=4)
    cells = [cell.metadata.get("nbgrader", {}) for cell in notebook.cells]
    return float(sum(meta.get("points", 0) for meta in cells if meta.get("grade")))


def sample(readme_text: str) -> str:
    """The sample between the markers, without its code fence.

    Raises:
        ValueError: The README has no sample between the markers.
    """
    try:
        inside = readme_text.split(START, 1)[1].split(END, 1)[0]
    except IndexError:
        raise ValueError(f"the README has no sample between {START!r} and {END!r}") from None
    return inside.strip().removeprefix("```").removesuffix("```").strip("\n")


def table_lines(sample_text: str) -> tuple[str, list[str]]:
    """The grades table's header line and its rows (the lines between the dashes and the first blank line)."""
    lines = sample_text.splitlines()
    dashes = next(index for index, line in enumerate(lines) if line.startswith("---") and set(line) <= {"-", " "})
    rows = []
    for line in lines[dashes + 1 :]:
        if not line.strip():
            break
        rows.append(line)
    return lines[dashes - 1], rows


def columns(header: str) -> list[str]:
    """The column names of a table header (columns are two spaces or more apart)."""
    return re.split(r"\s{2,}", header.strip())


def maximums(sample_text: str) -> list[float]:
    """Every "out of" the sample shows: each row's score column and the summary's mean."""
    header, rows = table_lines(sample_text)
    start = header.index("score")
    following = re.search(r"\S", header[start + len("score") :])  # the next column's name
    end = start + len("score") + following.start() if following else None
    found = []
    for row in rows:
        match = _SCORE.match(row[start:end])
        if not match:
            raise ValueError(f"no score in the score column of {row!r}")
        found.append(float(match.group(2)))
    found += [float(mean) for mean in _MEAN.findall(sample_text)]
    return found


def paste(readme_text: str, ending: str) -> str:
    """``readme_text`` with ``ending`` as its sample, in a code fence between the markers."""
    sample(readme_text)  # the markers must be there
    before, rest = readme_text.split(START, 1)
    after = rest.split(END, 1)[1]
    return f"{before}{START}\n```\n{ending.strip()}\n```\n{END}{after}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ending", type=Path, default=DEMO_ROOT / ENDING_FILE, help="what make demo printed last")
    parser.add_argument("--readme", type=Path, default=README, help="the README to update")
    args = parser.parse_args(argv)
    if not args.ending.is_file():
        print(f"{args.ending} does not exist: run `make demo` first", file=sys.stderr)
        return 2
    args.readme.write_text(paste(args.readme.read_text(), args.ending.read_text()))
    print(f"pasted {args.ending} into {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
