"""What the class got right and wrong: the numbers behind the class report.

Joins three sources, all read as data: the grades export (``export.py``:
scores, status and grading time per student), the gradebook's grade row per
test cell (pass rates) and the diagnoses of the failed tests
(``diagnoses.py``). Mistakes are counted by their id, so one mistake counts
once whatever specifics each student's message names; the tests that were
skipped (training skipped or switched off, code not written yet) are listed
apart from the mistakes. Only graded submissions count towards pass rates and
mistakes; the others are listed with their reasons.
"""

from __future__ import annotations

import dataclasses
import sqlite3

from nbgrader.api import Gradebook, MissingEntry

from ..jobs.course import Course
from ..jobs.integrity import GRADE_ROWS
from ..jobs.prepare import released_notebook
from . import report
from .diagnoses import Diagnosis, class_diagnoses, clean_text
from .exercises import answer_cells, exercise_of, graded_cells
from .export import GradeRow, export_rows


@dataclasses.dataclass
class TestResult:
    """One graded test cell across the class.

    Attributes:
        name: The cell's grade id.
        exercise: The exercise it counts towards.
        max_score: Its points.
        passed: Graded students who earned all its points.
        graded: Graded students with a grade for it.
        mistakes: Mistake id -> students whose failure of this test named it.
        labels: Mistake id -> its label.
        skipped: Graded students for whom this test was skipped (not counted as a mistake).
    """

    name: str
    exercise: str
    max_score: float
    passed: int = 0
    graded: int = 0
    mistakes: dict[str, int] = dataclasses.field(default_factory=dict)
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    skipped: int = 0

    @property
    def commonest_mistake(self) -> str:
        """The mistake most students' failures of this test named, with its count ("" when none)."""
        if not self.mistakes:
            return ""
        found, count = min(self.mistakes.items(), key=lambda item: (-item[1], item[0]))
        return f"{self.labels.get(found, found)} ({count})"

    def count(self, diagnosis: Diagnosis) -> None:
        """Count one student's failure of this test."""
        if diagnosis.skipped:
            self.skipped += 1
            return
        self.mistakes[diagnosis.mistake_id] = self.mistakes.get(diagnosis.mistake_id, 0) + 1
        self.labels.setdefault(diagnosis.mistake_id, diagnosis.label)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


@dataclasses.dataclass
class Mistake:
    """A mistake (or a reason a test was skipped) and who made it.

    Attributes:
        mistake_id: Its stable id (``diagnoses.Diagnosis``).
        name: Its label.
        students: The students whose failed tests named it, sorted.
        tests: The test cells that named it, in notebook order.
        details: The distinct specifics the messages named, sorted.
        skipped: A reason a test was skipped, not a mistake.
    """

    mistake_id: str
    name: str
    students: list[str]
    tests: list[str]
    details: list[str] = dataclasses.field(default_factory=list)
    skipped: bool = False


@dataclasses.dataclass
class ClassResults:
    """Everything the class report shows.

    Attributes:
        assignment: The assignment.
        rows: The grades export, one row per student.
        tests: Every graded test cell, in notebook order.
        mistakes: Named mistakes, most students first.
        skipped: Why tests were skipped rather than failed (training skipped, code not written yet),
            most students first.
    """

    assignment: str
    rows: list[GradeRow]
    tests: list[TestResult]
    mistakes: list[Mistake]
    skipped: list[Mistake] = dataclasses.field(default_factory=list)

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
    by_student = class_diagnoses(course, assignment, sorted(graded), dict(zip(notebooks, released)))
    for found in by_student.values():
        for cell, diagnosis in found.items():
            if cell in tests:
                tests[cell].count(diagnosis)
    ranked = rank_mistakes(by_student, list(tests))
    return ClassResults(
        assignment,
        rows,
        list(tests.values()),
        [m for m in ranked if not m.skipped],
        [m for m in ranked if m.skipped],
    )


def rank_mistakes(by_student: dict[str, dict[str, Diagnosis]], test_order: list[str]) -> list[Mistake]:
    """Mistakes (and reasons for skipping) by id, by how many students made them (most first, then by label).

    A student counts once per id, however many tests named it; an id keeps the label it was first seen with.
    """
    found: dict[str, Mistake] = {}
    order = {name: index for index, name in enumerate(test_order)}
    for student in sorted(by_student):
        for test, diagnosis in by_student[student].items():
            mistake = found.setdefault(
                diagnosis.mistake_id, Mistake(diagnosis.mistake_id, diagnosis.label, [], [], [], diagnosis.skipped)
            )
            for seen, item in ((mistake.students, student), (mistake.tests, test), (mistake.details, diagnosis.detail)):
                if item and item not in seen:
                    seen.append(item)
    for mistake in found.values():
        mistake.tests.sort(key=lambda t: (order.get(t, 1e9), t))
        mistake.details.sort()
    return sorted(found.values(), key=lambda m: (-len(m.students), m.name, m.mistake_id))


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
    if results.skipped:
        lines += ["skipped tests (not mistakes):"] + [
            f"  {len(m.students):3d}  {clean_text(m.name, 100)}" for m in results.skipped[:most]
        ]
    lines += [
        f"not graded: {clean_text(row.student_id, 40)}: {clean_text(row.reason, 100)}" for row in results.not_graded
    ]
    return "\n".join(lines)
