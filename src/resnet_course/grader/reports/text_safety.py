"""Text the grader writes for an instructor, made safe: terminal lines and CSV cells.

Student ids, file names, notes and kernel messages are the student's text.
Printed raw, a newline forges a line of a table, an ANSI escape rewrites
the instructor's terminal and a bidi override reorders what they read; in a
CSV, a cell starting with ``=``, ``+``, ``-`` or ``@`` is a formula to a
spreadsheet. :func:`escaped` writes every control character (C0, DEL, C1)
and every bidi control as a visible ``\\xNN``/``\\uNNNN`` escape;
:func:`csv_cell` does that and then prefixes a formula-like text with a
single quote (OWASP's advice). Numbers (scores) are never quoted: they are
written by the grader, not the student, and a spreadsheet must still add
them up.
"""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls; bidi embeddings, overrides, isolates and marks;
# line/paragraph separators; the BOM/zero-width no-break space.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escaped(value: object) -> str:
    """``value`` as text on one line, every control and bidi character written as a visible escape."""
    return _UNSAFE.sub(_escape, str(value))


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as written: numbers as they are, text escaped and never a formula."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = escaped(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
