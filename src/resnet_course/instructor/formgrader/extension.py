"""nbgrader's formgrader with the course's Autograde: the same extension, its routes and page amended.

nbgrader 0.9.6 offers no setting for the formgrader's API class or
handlers (``BaseHandler.api`` builds an ``NbGraderAPI`` itself, and
``FormgradeExtension.init_handlers`` adds a fixed list). So the course
serves the formgrader itself: :class:`CourseFormgrader` is nbgrader's
``FormgradeExtension`` with two methods extended, and the instructor's
server loads it *instead of* ``nbgrader.server_extensions.formgrader``
(``instructor/lab.py`` and ``hub/roles.py`` turn nbgrader's off):

* ``init_handlers`` puts the course's routes (``handlers.ROUTES``) first in
  the same rule as nbgrader's, so that Tornado, which takes the first route
  that matches, sends Autograde to the course's handler; every other route
  is nbgrader's own;
* ``init_tornado_settings`` gives the page renderer a loader that finds the
  course's Manage Submissions template (``page.py``) under nbgrader's name,
  and nbgrader's original as ``nbgrader:manage_submissions.tpl``; it also
  creates the course's grading queue and copies the roster's names into the
  gradebook.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, DictLoader, Environment, FileSystemLoader, PrefixLoader
from jupyter_server.utils import url_path_join
from nbgrader.server_extensions.formgrader import apihandlers
from nbgrader.server_extensions.formgrader import handlers as nbgrader_handlers
from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension
from tornado import web

from ...grader.jobs.course import Course
from ...grader.reports.roster import DEFAULT_FILE as ROSTER_FILE
from ...grader.reports.roster import RosterError
from ..gradebook_names import import_roster_names
from . import page
from .grading_queue import GradingQueue
from .handlers import QUEUE_SETTING, ROUTES


def template_loader() -> ChoiceLoader:
    """The course's Manage Submissions template first, then nbgrader's templates (also as ``nbgrader:<name>``)."""
    nbgrader_templates = FileSystemLoader([nbgrader_handlers.template_path])
    return ChoiceLoader(
        [
            DictLoader({"manage_submissions.tpl": page.MANAGE_SUBMISSIONS_TEMPLATE}),
            PrefixLoader({page.NBGRADER_PREFIX: nbgrader_templates}, delimiter=":"),
            nbgrader_templates,
        ]
    )


class CourseFormgrader(FormgradeExtension):
    """nbgrader's formgrader whose Autograde button grades in the background with the course's grader."""

    def init_tornado_settings(self, webapp) -> None:
        super().init_tornado_settings(webapp)
        webapp.settings["nbgrader_jinja2_env"] = Environment(loader=template_loader())
        course = Course(Path(self.coursedir.root), self.config, self.coursedir)
        try:
            db_path = course.db_path
        except ValueError:  # not sqlite: the grader refuses it, and each run will say so on the page
            db_path = course.root / "autograder" / "gradebook.db"
        webapp.settings[QUEUE_SETTING] = GradingQueue.for_course(course.root, db_path)
        try:
            named = import_roster_names(self.coursedir.db_url, self.coursedir.course_id, course.root / ROSTER_FILE)
        except (RosterError, OSError, ValueError) as error:
            self.log.warning("resnet_course: the roster's names were not copied into the gradebook: %s", error)
        else:
            if named:
                self.log.info("resnet_course: %d students' names from %s in the gradebook", named, ROSTER_FILE)

    def init_handlers(self, webapp) -> None:
        """nbgrader's routes with the course's before them, all under the server's base URL."""
        base_url = webapp.settings["base_url"]
        routes = [*ROUTES, *nbgrader_routes()]
        webapp.add_handlers(".*$", [(url_path_join(base_url, route[0].lstrip("/")), *route[1:]) for route in routes])


def nbgrader_routes() -> list[tuple]:
    """The routes of nbgrader's own ``FormgradeExtension.init_handlers``, in its order."""
    return [
        *nbgrader_handlers.default_handlers,
        *apihandlers.default_handlers,
        (r"/formgrader/static/(.*)", web.StaticFileHandler, {"path": nbgrader_handlers.static_path}),
        (r"/formgrader/.*", nbgrader_handlers.Template404),
    ]


def load(serverapp) -> None:
    """Load the course's formgrader into ``serverapp``, as nbgrader's ``load_jupyter_server_extension`` does."""
    serverapp.log.info("Loading the course's formgrader (nbgrader's, with background Autograde)")
    formgrader = CourseFormgrader(parent=serverapp)
    formgrader.root_dir = serverapp.root_dir
    formgrader.log = serverapp.log
    formgrader.initialize([])
    formgrader.init_tornado_settings(serverapp.web_app)
    formgrader.init_handlers(serverapp.web_app)
