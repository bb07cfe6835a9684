"""What the class got right and wrong: the numbers behind the class report.

Joins three sources, all read as data: the grades export (``export.py``:
scores, status and grading time per student), the gradebook's grade row per
test cell (pass rates) and the mistakes the failed tests named
(``diagnoses.py``). Only graded submissions count towards pass rates and
mistakes; the others are listed with their reasons.
"""

from __future__ import annotations

import dataclasses
import sqlite3

from nbgrader.api import Gradebook, MissingEntry

from . import report
from .course import Course
from .diagnoses import class_mistakes, clean_text
from .exercises import answer_cells, exercise_of, graded_cells
from .export import GradeRow, export_rows
from .integrity import GRADE_ROWS
from .prepare import released_notebook


@dataclasses.dataclass
class TestResult:
    """One graded test cell across the class.

    Attributes:
        name: The cell's grade id.
        exercise: The exercise it counts towards.
        max_score: Its points.
        passed: Graded students who earned all its points.
        graded: Graded students with a grade for it.
        mistakes: Mistake name -> students whose failure of this test named it.
    """

    name: str
    exercise: str
    max_score: float
    passed: int = 0
    graded: int = 0
    mistakes: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def commonest_mistake(self) -> str:
        """The mistake most students' failures of this test named, with its count ("" when none)."""
        if not self.mistakes:
            return ""
        name, count = min(self.mistakes.items(), key=lambda item: (-item[1], item[0]))
        return f"{name} ({count})"

    @property
    def pass_rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


@dataclasses.dataclass
class Mistake:
    """A named mistake and who made it.

    Attributes:
        name: The mistake, as ``diagnoses.mistake_name`` names it.
        students: The students whose failed tests named it, sorted.
        tests: The test cells that named it, in notebook order.
    """

    name: str
    students: list[str]
    tests: list[str]


@dataclasses.dataclass
class ClassResults:
    """Everything the class report shows.

    Attributes:
        assignment: The assignment.
        rows: The grades export, one row per student.
        tests: Every graded test cell, in notebook order.
        mistakes: Named mistakes, most students first.
    """

    assignment: str
    rows: list[GradeRow]
    tests: list[TestResult]
    mistakes: list[Mistake]

    @property
    def graded(self) -> list[GradeRow]:
        return [row for row in self.rows if row.status == report.GRADED]

    @property
    def not_graded(self) -> list[GradeRow]:
        return [row for row in self.rows if row.status != report.GRADED]

    @property
    def total_seconds(self) -> float:
        return sum(row.seconds for row in self.rows)

    @property
    def max_score(self) -> float:
        return self.rows[0].max_score if self.rows else 0.0

    @property
    def mean_score(self) -> float:
        """Mean score of the graded submissions (0 when none was graded)."""
        graded = self.graded
        return sum(row.score for row in graded) / len(graded) if graded else 0.0


def collect(course: Course, assignment: str) -> ClassResults:
    """The class's results for ``assignment`` from the gradebook, the grading report and the autograded notebooks."""
    rows = export_rows(course, assignment)
    graded = {row.student_id for row in rows if row.status == report.GRADED}
    with Gradebook(course.coursedir.db_url, course.course_id) as gradebook:
        try:
            definition = gradebook.find_assignment(assignment)
        except MissingEntry:
            raise ValueError(f"the gradebook has no assignment {assignment!r}") from None
        notebooks = [notebook.name for notebook in definition.notebooks]
        cells = [(cell.name, cell.max_score) for notebook in definition.notebooks for cell in notebook.grade_cells]
    released = [released_notebook(course, assignment, f"{name}.ipynb") for name in notebooks]
    answers = [answer for notebook in released for answer in answer_cells(notebook)]
    order = {name: index for index, name in enumerate(n for notebook in released for n in graded_cells(notebook))}
    tests = {
        name: TestResult(name, exercise_of(name, answers), float(points))
        for name, points in sorted(cells, key=lambda cell: (order.get(cell[0], len(order)), cell[0]))
    }
    for student, cell, score in _cell_scores(course, assignment):
        if student in graded and cell in tests:
            tests[cell].graded += 1
            tests[cell].passed += score >= tests[cell].max_score
    by_student = class_mistakes(course, assignment, sorted(graded), notebooks)
    for found in by_student.values():
        for cell, name in found.items():
            if cell in tests:
                tests[cell].mistakes[name] = tests[cell].mistakes.get(name, 0) + 1
    return ClassResults(assignment, rows, list(tests.values()), rank_mistakes(by_student, list(tests)))


def rank_mistakes(by_student: dict[str, dict[str, str]], test_order: list[str]) -> list[Mistake]:
    """Mistakes by how many students made them (most first, then by name)."""
    students: dict[str, set[str]] = {}
    tests: dict[str, set[str]] = {}
    for student, found in by_student.items():
        for test, name in found.items():
            students.setdefault(name, set()).add(student)
            tests.setdefault(name, set()).add(test)
    order = {name: index for index, name in enumerate(test_order)}
    return sorted(
        (
            Mistake(name, sorted(students[name]), sorted(tests[name], key=lambda t: (order.get(t, 1e9), t)))
            for name in students
        ),
        key=lambda m: (-len(m.students), m.name),
    )


def _cell_scores(course: Course, assignment: str) -> list[tuple[str, str, float]]:
    """(student, test cell, score) for each grade row of the assignment, read-only.

    The score is nbgrader's: the manual score where there is one, else the automatic one, plus extra credit.
    """
    connection = sqlite3.connect(f"file:{course.db_path}?mode=ro", uri=True)
    try:
        rows = connection.execute(GRADE_ROWS).fetchall()
    finally:
        connection.close()
    return [
        (student, cell, ((auto or 0.0) if manual is None else manual) + (extra or 0.0))
        for student, name, _notebook, cell, _kind, auto, manual, extra, _needs_manual in rows
        if name == assignment
    ]


def terminal_summary(results: ClassResults, most: int = 5) -> str:
    """A few plain lines for the terminal: counts, the hardest tests and the commonest mistakes."""
    lines = [
        f"{results.assignment}: {len(results.graded)} graded, {len(results.not_graded)} could not be graded; "
        f"mean {results.mean_score:.1f}/{results.max_score:g}; grading took {results.total_seconds:.0f} s in all"
    ]
    hardest = sorted(results.tests, key=lambda t: (t.pass_rate, t.name))[:most]
    lines += ["lowest pass rates:"] + [f"  {t.pass_rate:4.0%}  {clean_text(t.name)}" for t in hardest]
    if results.mistakes:
        lines += ["commonest mistakes:"] + [
            f"  {len(m.students):3d}  {clean_text(m.name, 100)}" for m in results.mistakes[:most]
        ]
    lines += [
        f"not graded: {clean_text(row.student_id, 40)}: {clean_text(row.reason, 100)}" for row in results.not_graded
    ]
    return "\n".join(lines)
