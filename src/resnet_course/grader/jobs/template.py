"""A gradebook holding the assignments but no students: what each worker grades into.

Workers never open the course gradebook. Each gets a copy of this template
(assignment definitions, graded and source cells with hidden tests, due
dates) and autogrades one student into it; the coordinator then merges the
result (``merge.py``). No sqlite file is ever shared between processes.
"""

from __future__ import annotations

import ast
import sqlite3
import tempfile
from pathlib import Path

# nbgrader 0.9's per-student tables, children before parents.
STUDENT_TABLES = ("grade", "comment", "submitted_notebook", "submitted_assignment", "student")


def template_gradebook(db_path: Path) -> bytes:
    """The course gradebook's contents without any student data, as sqlite file bytes.

    Raises:
        FileNotFoundError: There is no gradebook yet.
    """
    if not db_path.exists():
        raise FileNotFoundError(
            f"no gradebook at {db_path}: run `nbgrader generate_assignment ASSIGNMENT` first (it creates it)"
        )
    with tempfile.TemporaryDirectory() as scratch:
        copy_path = Path(scratch) / "template.db"
        source = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        target = sqlite3.connect(copy_path)
        try:
            source.backup(target)  # a consistent snapshot even while nbgrader writes
            for table in STUDENT_TABLES:
                target.execute(f"DELETE FROM {table}")
            target.commit()
            target.execute("VACUUM")
        finally:
            source.close()
            target.close()
        return copy_path.read_bytes()


TEST_CELL_SOURCES = """
SELECT sc.source FROM source_cell sc
JOIN notebook n ON sc.notebook_id = n.id JOIN assignment a ON n.assignment_id = a.id
WHERE a.name = ? AND sc.cell_type = 'code'
  AND sc.name IN (SELECT name FROM base_cell WHERE notebook_id = n.id AND type = 'GradeCell')
  AND sc.name NOT IN (SELECT name FROM base_cell WHERE notebook_id = n.id AND type = 'SolutionCell')
"""


def _query(template: bytes, sql: str, parameters: tuple) -> list[tuple]:
    with tempfile.NamedTemporaryFile(suffix=".db") as handle:
        handle.write(template)
        handle.flush()
        connection = sqlite3.connect(handle.name)
        try:
            return connection.execute(sql, parameters).fetchall()
        finally:
            connection.close()


def has_assignment(template: bytes, assignment: str) -> list[str]:
    """The notebook names of ``assignment`` in a template (empty when it is not there)."""
    rows = _query(
        template,
        "SELECT notebook.name FROM notebook JOIN assignment ON notebook.assignment_id = "
        "assignment.id WHERE assignment.name = ? ORDER BY notebook.name",
        (assignment,),
    )
    return [name for (name,) in rows]


def imports_of_test_cells(template: bytes, assignment: str) -> list[str]:
    """Modules the assignment's test cells (hidden parts included) import: what the tamper guard protects."""
    modules: set[str] = set()
    for (source,) in _query(template, TEST_CELL_SOURCES, (assignment,)):
        code = "\n".join(line for line in (source or "").splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module)
    return sorted(modules)
