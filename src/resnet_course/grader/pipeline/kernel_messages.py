"""Survive malformed messages from the student's kernel while a notebook executes.

The kernel controls what it sends: an ``error`` message without ``ename``
or a ``display_data`` without ``data`` makes nbclient raise ``KeyError``
deep in its output handling, and nbgrader then fails the whole submission.
:class:`MalformedMessagesTolerated` turns such a message into an error
output of the cell it arrived in: that cell earns nothing, the rest of the
notebook runs and is graded.
"""

from __future__ import annotations

from nbclient.exceptions import CellExecutionComplete
from nbformat.v4 import new_output


class MalformedMessagesTolerated:
    """Mixin for an nbclient-based executor (before it in the class's bases)."""

    def process_message(self, msg, cell, cell_index):
        try:
            return super().process_message(msg, cell, cell_index)
        except CellExecutionComplete:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            kind = msg.get("msg_type", "?") if isinstance(msg, dict) else "?"
            text = f"the kernel sent a malformed {str(kind)[:40]!r} message ({type(error).__name__}); ignored"
            cell.outputs.append(new_output("error", ename="MalformedMessage", evalue=text, traceback=[text]))
            return None
