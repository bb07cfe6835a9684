"""Feedback that shows students their results but never the hidden tests.

nbgrader's feedback HTML renders the autograded notebook as it is, hidden
test code included (upstream issues #917 and #1363), and an error's
traceback quotes the lines of the cell that failed. This preprocessor,
selected in ``nbgrader_config.py`` for ``generate_feedback``, removes the
hidden-test region from every cell and shortens each error in a graded cell
to its exception type and message: the message says what is wrong, the
traceback would show how the test found out.
"""

from __future__ import annotations

from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.utils import is_grade

HIDDEN_NOTE = "# (hidden tests ran here; their code is not shown)"


class HideTestCode(ClearHiddenTests):
    """Strip hidden tests and traceback source lines from feedback notebooks."""

    def preprocess_cell(self, cell, resources, cell_index):
        removed = self._remove_hidden_test_region(cell)
        if removed and cell.cell_type == "code":
            cell.source = (cell.source.rstrip("\n") + "\n" + HIDDEN_NOTE).lstrip("\n")
        if cell.cell_type == "code" and (removed or is_grade(cell)):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
