"""The JupyterHub configuration of the course (``jupyterhub_config.py`` applies it).

Loopback only, the demo accounts (``accounts``) with their generated
passwords (``authenticator``), one single-user server per Linux user started
by ``LocalProcessSpawner`` from this checkout's environment, and nbgrader's
course groups: ``nbgrader-<course>`` holds the students and
``formgrade-<course>`` the instructor, which is how ``JupyterHubAuthPlugin``
tells each server its courses. The servers' tokens inherit their owner's
permissions so that the plug-in may read the owner's groups from the hub API.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..paths import DATA_DIR
from . import accounts
from .layout import COURSE_ID, HOST, HubLayout

SPAWN_TIMEOUT_S = 120


def server_environment() -> dict[str, str]:
    """Variables every single-user server and its kernels get."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        # Students' notebooks live in their homes, outside the checkout: point them at its data.
        "RESNET_COURSE_DATA_DIR": str(DATA_DIR),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
    }


def pre_spawn_hook(spawner) -> None:
    """Give a server its role's configuration folder, and refuse anyone without a role."""
    role = accounts.role_of(spawner.user.name)
    if role is None:
        raise ValueError(f"{spawner.user.name} is not an account of this course hub")
    layout = HubLayout.from_env()
    spawner.environment["JUPYTER_CONFIG_PATH"] = str(layout.role_config(role))


def apply(c, layout: HubLayout) -> None:
    """Set the hub's configuration on ``c`` (the ``get_config()`` of ``jupyterhub_config.py``)."""
    state = layout.state
    c.JupyterHub.ip = HOST
    c.JupyterHub.port = layout.port
    c.JupyterHub.hub_ip = HOST
    c.JupyterHub.hub_port = layout.hub_port
    c.ConfigurableHTTPProxy.api_url = f"http://{HOST}:{layout.proxy_api_port}"
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    # Stopping the hub stops the proxy and every user's server (the defaults, stated).
    c.JupyterHub.cleanup_servers = True
    c.JupyterHub.cleanup_proxy = True

    c.JupyterHub.authenticator_class = "resnet_course.hub.authenticator.DemoPasswordAuthenticator"
    c.DemoPasswordAuthenticator.password_file = str(layout.passwords)
    c.Authenticator.allowed_users = {account.name for account in accounts.ACCOUNTS}

    c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
    c.Spawner.cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.notebook_dir = "~"
    c.Spawner.environment = server_environment()
    c.Spawner.pre_spawn_hook = pre_spawn_hook
    c.Spawner.start_timeout = SPAWN_TIMEOUT_S
    c.Spawner.http_timeout = SPAWN_TIMEOUT_S

    students = [account.name for account in accounts.STUDENTS]
    c.JupyterHub.load_groups = {
        f"nbgrader-{COURSE_ID}": {"users": students},
        f"formgrade-{COURSE_ID}": {"users": [accounts.INSTRUCTOR.name]},
    }
    c.JupyterHub.load_roles = [{"name": "server", "scopes": ["inherit"]}]
