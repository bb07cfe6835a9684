"""Each role's Jupyter and nbgrader configuration on the hub.

The single-user servers of a role put ``HUB_DIR/config/<role>/`` first on
``JUPYTER_CONFIG_PATH``, as ``make lab`` does for one machine
(``instructor/lab.py``, whose settings this extends):

* students get the Assignment List and Validate; the formgrader, Create
  Assignment and the course list are off in the page and on the server, so
  that no URL reaches them either (nbgrader's JupyterHub documentation
  enables the course list for instructors only);
* both roles use the shared exchange, one folder per course inside it
  (``path_includes_course``, needed once a student takes two courses, see
  nbgrader #1936), and learn their courses from their JupyterHub groups
  (``JupyterHubAuthPlugin``: ``nbgrader-<course>`` for students,
  ``formgrade-<course>`` for instructors);
* the instructor's nbgrader works in their course folder wherever it runs;
* terminals run a non-login bash, which keeps the server's ``PATH``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from ..instructor import lab
from .layout import COURSE_ID

AUTH_PLUGIN = "nbgrader.auth.JupyterHubAuthPlugin"
#: nbgrader's lab plugins and server extensions that only instructors get on the hub.
INSTRUCTOR_ONLY_LAB_PLUGINS = (*lab.INSTRUCTOR_LAB_PLUGINS, "@jupyter/nbgrader:course-list")
INSTRUCTOR_ONLY_SERVER_EXTENSIONS = (
    *lab.INSTRUCTOR_SERVER_EXTENSIONS,
    "nbgrader.server_extensions.course_list",
)
#: Every role has these.
SHARED_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.validate_assignment",
)


def role_files(role: str, exchange: Path, course_root: Path | None = None) -> dict[str, dict]:
    """The configuration files of ``role`` on the hub, as ``{relative path: JSON content}``.

    Args:
        role: ``"student"`` or ``"instructor"``.
        exchange: nbgrader's exchange folder.
        course_root: The instructor's course folder (instructors only).
    """
    files = copy.deepcopy(lab.role_settings(role))
    instructor = role == "instructor"
    files["labconfig/page_config.json"]["disabledExtensions"] = {
        plugin: not instructor for plugin in INSTRUCTOR_ONLY_LAB_PLUGINS
    }
    extensions = {name: instructor for name in INSTRUCTOR_ONLY_SERVER_EXTENSIONS}
    extensions.update(dict.fromkeys(SHARED_SERVER_EXTENSIONS, True))
    files["jupyter_server_config.json"]["ServerApp"]["jpserver_extensions"] = extensions
    # A login shell would take its PATH from /etc/profile and lose this environment's tools (nbgrader, python).
    files["jupyter_server_config.json"]["ServerApp"]["terminado_settings"] = {"shell_command": ["/bin/bash"]}
    nbgrader = files.setdefault("nbgrader_config.json", {})
    nbgrader["Exchange"] = {"root": str(exchange), "path_includes_course": True}
    nbgrader["CourseDirectory"] = {}
    nbgrader["Authenticator"] = {"plugin_class": AUTH_PLUGIN}
    if instructor:
        if course_root is None:
            raise ValueError("the instructor's configuration needs the course folder")
        nbgrader["CourseDirectory"] = {"root": str(course_root), "course_id": COURSE_ID}
    else:
        nbgrader["Execute"] = {"timeout": lab.VALIDATE_CELL_TIMEOUT_S, "interrupt_on_timeout": True}
    return files


def write_role_files(folder: Path, files: dict[str, dict]) -> None:
    """Write ``files`` into ``folder``, readable by every user (they hold no secret)."""
    for relative_path, content in files.items():
        path = folder / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2) + "\n")
        path.chmod(0o644)
    for directory in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        directory.chmod(0o755)
