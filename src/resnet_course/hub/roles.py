"""Each role's Jupyter and nbgrader configuration on the hub.

The single-user servers of a role put ``HUB_DIR/config/<role>/`` first on
``JUPYTER_CONFIG_PATH``, as ``make lab`` does for one machine
(``instructor/lab.py``, whose settings this extends):

* students get the Assignment List and Validate; the formgrader, Create
  Assignment and the course list are off in the page and on the server, so
  that no URL reaches them either (nbgrader's JupyterHub documentation
  enables the course list for instructors only);
* the instructor's formgrader is the course's (``instructor/formgrader``),
  whose Autograde button grades in the background. The hub forbids framing
  a user's server, so nbgrader's Formgrader panel would stay blank: the
  instructor's Nbgrader menu is the course's own (JupyterLab's settings
  overrides, in ``lab-settings/``), its Formgrader item opening a tab;
* both roles use the shared exchange, one folder per course inside it
  (``path_includes_course``, needed once a student takes two courses, see
  nbgrader #1936), and learn their courses from their JupyterHub groups
  (``JupyterHubAuthPlugin``: ``nbgrader-<course>`` for students,
  ``formgrade-<course>`` for instructors); the Assignment List's "view
  feedback" leads to the feedback page itself (``feedback_link``);
* nbgrader's settings are an ``nbgrader_config.py``, the file nbgrader looks
  for: without one it warns at every request of the Assignment List;
* the instructor's nbgrader works in their course folder wherever it runs;
* terminals run a non-login bash, which keeps the server's ``PATH``.
"""

from __future__ import annotations

import copy
from pathlib import Path

from ..instructor import lab
from .layout import COURSE_ID

AUTH_PLUGIN = "nbgrader.auth.JupyterHubAuthPlugin"
FEEDBACK_LISTER = "resnet_course.hub.feedback_link.FeedbackPageList"
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
#: nbgrader's formgrader panel (a frame the hub forbids) and menu, replaced for the instructor (:func:`nbgrader_menu`).
INSTRUCTOR_REPLACED_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:menu")
#: The instructor's JupyterLab settings overrides, in their configuration folder.
LAB_SETTINGS = "lab-settings"
#: JupyterHub's address of "this user's server, at this path", whoever the user is.
FORMGRADER_TAB_URL = "/hub/user-redirect/formgrader"


def role_files(
    role: str, exchange: Path, course_root: Path | None = None, folder: Path | None = None
) -> dict[str, dict]:
    """The configuration files of ``role`` on the hub, as ``{relative path: content}``.

    ``.json`` files hold their content as JSON, ``.py`` files as the configuration
    that content sets (``lab.config_text``).

    Args:
        role: ``"student"`` or ``"instructor"``.
        exchange: nbgrader's exchange folder.
        course_root: The instructor's course folder (instructors only).
        folder: Where the files will be written (instructors only: JupyterLab reads its settings overrides there).
    """
    files = copy.deepcopy(lab.role_settings(role))
    instructor = role == "instructor"
    disabled = files["labconfig/page_config.json"]["disabledExtensions"]
    disabled.update({plugin: not instructor for plugin in INSTRUCTOR_ONLY_LAB_PLUGINS})
    extensions = files["jupyter_server_config.json"]["ServerApp"]["jpserver_extensions"]
    extensions.update({name: instructor for name in INSTRUCTOR_ONLY_SERVER_EXTENSIONS})
    extensions.update(dict.fromkeys(SHARED_SERVER_EXTENSIONS, True))
    # A login shell would take its PATH from /etc/profile and lose this environment's tools (nbgrader, python).
    files["jupyter_server_config.json"]["ServerApp"]["terminado_settings"] = {"shell_command": ["/bin/bash"]}
    nbgrader = files.pop("nbgrader_config.py", {})
    nbgrader["Exchange"] = {"root": str(exchange), "path_includes_course": True}
    nbgrader["ExchangeFactory"] = {"list": FEEDBACK_LISTER}
    nbgrader["CourseDirectory"] = {}
    nbgrader["Authenticator"] = {"plugin_class": AUTH_PLUGIN}
    if instructor:
        if course_root is None or folder is None:
            raise ValueError("the instructor's configuration needs the course folder and its own folder")
        nbgrader["CourseDirectory"] = {"root": str(course_root), "course_id": COURSE_ID}
        disabled.update(dict.fromkeys(INSTRUCTOR_REPLACED_LAB_PLUGINS, True))
        files["jupyter_server_config.json"]["LabApp"] = {"app_settings_dir": str(Path(folder) / LAB_SETTINGS)}
        files[f"{LAB_SETTINGS}/overrides.json"] = {
            "@jupyterlab/mainmenu-extension:plugin": {"menus": [nbgrader_menu()]}
        }
    else:
        nbgrader["Execute"] = {
            "timeout": lab.VALIDATE_CELL_TIMEOUT_S,
            "interrupt_on_timeout": True,
            "iopub_timeout": lab.VALIDATE_OUTPUT_WAIT_S,
        }
    files["nbgrader_config.py"] = nbgrader
    return files


def nbgrader_menu() -> dict:
    """The instructor's Nbgrader menu: nbgrader's items, with Formgrader opening a browser tab of its own.

    Since JupyterHub 4.1 a user's server may not be framed (``frame-ancestors 'none'``, which
    protects every user's server), so nbgrader's Formgrader panel showed "refused to connect"
    (nbgrader #1870). JupyterLab's ``help:open`` command opens a URL in a new tab.
    """
    return {
        "id": "jp-mainmenu-nbgrader",
        "label": "Nbgrader",
        "rank": 1000,
        "items": [
            {"command": "nbgrader:open-assignment-list"},
            {"command": "nbgrader:open-course-list"},
            {"command": "help:open", "args": {"url": FORMGRADER_TAB_URL, "text": "Formgrader", "newBrowserTab": True}},
            {"command": "nbgrader:open-create-assignment"},
        ],
    }


def write_role_files(folder: Path, files: dict[str, dict]) -> None:
    """Write ``files`` into ``folder``, readable by every user (they hold no secret)."""
    for relative_path, content in files.items():
        path = folder / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(lab.config_text(relative_path, content))
        path.chmod(0o644)
    for directory in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        directory.chmod(0o755)
