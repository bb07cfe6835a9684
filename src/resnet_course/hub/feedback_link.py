"""The Assignment List's "(view feedback)" leads to the feedback page, not only to its folder.

nbgrader's lab extension runs JupyterLab's ``filebrowser:go-to-path`` on the
``local_feedback_path`` its server lists for a submission: the folder
``<assignment>/feedback/<timestamp>``, so a click only moved the file browser
there. The link's code is nbgrader's (it can only run that command), but the
path comes from the exchange's list step, which nbgrader lets a course
replace (``ExchangeFactory.list``). :class:`FeedbackPageList` names the
feedback's HTML page when the submission has one notebook, as the course's
does: the file browser then opens on that page, selected, one Enter or
double-click from reading it (JupyterLab's go-to-path reveals a file, it
does not open it).
"""

from __future__ import annotations

import os

from nbgrader.exchange.default.list import ExchangeList


class FeedbackPageList(ExchangeList):
    """nbgrader's exchange list, with each submission's feedback path naming its page when there is one."""

    def list_files(self):
        assignments = super().list_files()
        if self.inbound or self.cached:
            for assignment in assignments:
                for submission in assignment["submissions"]:
                    point_at_page(submission)
        return assignments


def point_at_page(submission: dict) -> None:
    """Set ``local_feedback_path`` to the feedback page of a one-notebook submission that has feedback here."""
    pages = [nb["local_feedback_path"] for nb in submission.get("notebooks", []) if nb.get("has_local_feedback")]
    if submission.get("local_feedback_path") and len(pages) == 1 == len(submission["notebooks"]):
        submission["local_feedback_path"] = os.path.abspath(pages[0])  # as nbgrader makes the folder's
