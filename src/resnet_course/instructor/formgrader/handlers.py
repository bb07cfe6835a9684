"""The course's formgrader routes: Autograde that queues and returns, its progress, and the page script.

Each handler is one of nbgrader's (``BaseApiHandler``, with its login, XSRF
and set-up checks), so that the formgrader's pages call them as they call
nbgrader's own routes. The route of nbgrader's Autograde
(``/formgrader/api/submission/<assignment>/<student>/autograde``) is kept, so
that an old copy of the page still reaches the course's handler.
"""

from __future__ import annotations

import json
import re

from nbgrader.server_extensions.formgrader.base import BaseApiHandler, check_notebook_dir, check_xsrf
from tornado import web

from . import page
from .grading_queue import GradingQueue

#: An assignment or student id that can go on the grader's command line (the grader's own rule for ids).
SAFE_ID = re.compile(r"^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]*$")
#: Where the extension keeps the course's queue in the server's settings.
QUEUE_SETTING = "resnet_course_grading_queue"


class CourseApiHandler(BaseApiHandler):
    """A formgrader API handler with the course's grading queue."""

    @property
    def grading(self) -> GradingQueue:
        return self.settings[QUEUE_SETTING]

    def queue_grading(self, assignment: str, students: list[str] | None) -> None:
        """Queue the grading and answer at once, in the JSON shape nbgrader's page expects too."""
        for value in [assignment, *(students or [])]:
            if not SAFE_ID.match(value):
                raise web.HTTPError(400, f"{value!r} is not an assignment or student id")
        run, what = self.grading.request(assignment, students)
        who = ", ".join(students) if students else "every collected submission"
        message = f"{assignment}, {who}: {what}."
        self.write(json.dumps({"success": True, "queued": True, "run": run.id, "message": message, "log": message}))


class AutogradeSubmissionHandler(CourseApiHandler):
    """Autograde one student's submission in the background."""

    @web.authenticated
    @check_xsrf
    @check_notebook_dir
    def post(self, assignment_id, student_id):
        self.queue_grading(assignment_id, [student_id])


class AutogradeAssignmentHandler(CourseApiHandler):
    """Autograde every collected submission of an assignment in the background."""

    @web.authenticated
    @check_xsrf
    @check_notebook_dir
    def post(self, assignment_id):
        self.queue_grading(assignment_id, None)


class GradingStatusHandler(CourseApiHandler):
    """The running, queued and last grading runs (``GradingQueue.status``)."""

    @web.authenticated
    @check_xsrf
    def get(self):
        self.set_header("Cache-Control", "no-store")
        self.write(json.dumps(self.grading.status()))


class AutogradeScriptHandler(CourseApiHandler):
    """The script that makes the Manage Submissions page use the routes above."""

    @web.authenticated
    def get(self):
        self.set_header("Content-Type", "application/javascript; charset=utf-8")
        self.write(page.AUTOGRADE_SCRIPT)


#: Matched before nbgrader's own routes (``extension.CourseFormgrader.init_handlers``).
ROUTES = [
    (r"/formgrader/api/submission/([^/]+)/([^/]+)/autograde", AutogradeSubmissionHandler),
    (r"/formgrader/api/assignment/([^/]+)/autograde", AutogradeAssignmentHandler),
    (r"/formgrader/api/course/grading", GradingStatusHandler),
    (r"/formgrader/course/autograde.js", AutogradeScriptHandler),
]
