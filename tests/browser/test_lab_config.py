"""The role configuration of ``resnet_course.instructor.lab``, as Jupyter itself reads it (no browser).

These fast checks say which layer is wrong when a browser test of the roles
fails: the files written, or how JupyterLab, jupyter_server and nbgrader pick
them up from ``JUPYTER_CONFIG_PATH``.
"""

from __future__ import annotations

import pytest

from resnet_course.instructor import lab

FORMGRADER_PLUGIN = "@jupyter/nbgrader:formgrader"
CREATE_ASSIGNMENT_PLUGIN = "@jupyter/nbgrader:create-assignment"
NBGRADER_FORMGRADER = "nbgrader.server_extensions.formgrader"
# nbgrader's formgrader, whose Autograde grades in the background (resnet_course/instructor/formgrader).
FORMGRADER_SERVER_EXTENSION = "resnet_course.instructor.formgrader"
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"


@pytest.fixture
def role_config_path(tmp_path, monkeypatch):
    """``use(role)`` writes the role's config and puts it first on JUPYTER_CONFIG_PATH."""

    def use(role: str):
        config_dir = lab.write_role_config(role, tmp_path / role)
        environment = lab.lab_environment(config_dir, base={})
        monkeypatch.setenv("JUPYTER_CONFIG_PATH", environment["JUPYTER_CONFIG_PATH"])
        return config_dir

    return use


def disabled_lab_plugins() -> set[str]:
    from jupyterlab_server.config import get_static_page_config

    disabled = get_static_page_config(level="all").get("disabledExtensions", {})
    return {plugin for plugin, is_disabled in disabled.items() if is_disabled}


def enabled_server_extensions() -> dict[str, bool]:
    from jupyter_core.paths import jupyter_config_path
    from jupyter_server.extension.config import ExtensionConfigManager

    return ExtensionConfigManager(read_config_path=jupyter_config_path()).get_jpserver_extensions()


def test_student_lab_disables_the_instructor_tools(role_config_path):
    role_config_path("student")

    assert {FORMGRADER_PLUGIN, CREATE_ASSIGNMENT_PLUGIN, NEWS_PLUGIN} <= disabled_lab_plugins()
    assert enabled_server_extensions()[FORMGRADER_SERVER_EXTENSION] is False
    assert enabled_server_extensions()[NBGRADER_FORMGRADER] is False
    # The student's own nbgrader tools stay.
    assert enabled_server_extensions()["nbgrader.server_extensions.validate_assignment"] is True


def test_instructor_lab_enables_the_instructor_tools(role_config_path):
    role_config_path("instructor")

    assert not {FORMGRADER_PLUGIN, CREATE_ASSIGNMENT_PLUGIN} & disabled_lab_plugins()
    assert NEWS_PLUGIN in disabled_lab_plugins()
    assert enabled_server_extensions()[FORMGRADER_SERVER_EXTENSION] is True
    # The course's formgrader replaces nbgrader's; both at once would serve the same routes.
    assert enabled_server_extensions()[NBGRADER_FORMGRADER] is False


def test_student_validate_gets_the_course_cell_timeout(role_config_path, tmp_path, monkeypatch):
    # nbgrader's Validate handler reads its config from the server's folder and the Jupyter config path.
    role_config_path("student")
    monkeypatch.chdir(tmp_path)
    from jupyter_core.paths import jupyter_config_path
    from nbgrader.apps import NbGrader

    app = NbGrader()
    app.config_file_paths.append([str(tmp_path), *jupyter_config_path()])
    app.load_config_file()

    assert app.config.Execute.timeout == lab.VALIDATE_CELL_TIMEOUT_S
    assert app.config.Execute.iopub_timeout == lab.VALIDATE_OUTPUT_WAIT_S


def test_unknown_role_is_refused():
    with pytest.raises(ValueError, match="unknown role"):
        lab.role_settings("teacher")


def test_command_line_passes_other_options_to_jupyter():
    args, jupyter_args = lab.parse_args(["student", "--port", "9999", "--no-browser"])

    assert (args.role, args.port, args.root) == ("student", 9999, None)
    assert jupyter_args == ["--no-browser"]
    command = lab.lab_command(args.port, args.ip, jupyter_args)
    assert "--ServerApp.port=9999" in command and "--ServerApp.ip=127.0.0.1" in command
    assert command[-1] == "--no-browser"


def test_without_port_jupyter_chooses_a_free_one():
    args, jupyter_args = lab.parse_args(["instructor"])

    command = lab.lab_command(args.port, args.ip, jupyter_args)
    assert not any(arg.startswith("--ServerApp.port") for arg in command)
