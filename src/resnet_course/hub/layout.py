"""Where the hub keeps its files, and the names it uses.

Everything lives under one folder, ``HUB_DIR`` (default ``.hub/`` in the
checkout, git-ignored), so that ``make hub`` on a fresh clone needs no other
place and a test can run a hub of its own in a temporary folder:

* ``state/`` (root only): the hub's database, cookie secret, passwords, pid files and log;
* ``config/<role>/`` (readable by all): each role's Jupyter configuration folder;
* ``exchange/`` (writable by all, as nbgrader documents): nbgrader's exchange.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from ..paths import REPO_ROOT

#: The nbgrader course id, as in the repository's ``nbgrader_config.py``.
COURSE_ID = "resnets-course"
#: The assignment the course releases.
ASSIGNMENT = "resnets"
DEFAULT_PORT = 8000
HOST = "127.0.0.1"


@dataclasses.dataclass(frozen=True)
class HubLayout:
    """The hub's folders and ports.

    Attributes:
        root: The hub's folder (``HUB_DIR``).
        port: The public port of the proxy, on loopback.
        hub_port: The hub's own API port.
        proxy_api_port: The proxy's REST API port.
    """

    root: Path
    port: int = DEFAULT_PORT
    hub_port: int = DEFAULT_PORT + 81
    proxy_api_port: int = DEFAULT_PORT + 1

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "HubLayout":
        """The layout ``HUB_DIR``, ``HUB_PORT``, ``HUB_API_PORT`` and ``HUB_PROXY_API_PORT`` describe."""
        env = os.environ if env is None else env
        port = int(env.get("HUB_PORT", DEFAULT_PORT))
        return cls(
            root=Path(env.get("HUB_DIR", REPO_ROOT / ".hub")).resolve(),
            port=port,
            hub_port=int(env.get("HUB_API_PORT", port + 81)),
            proxy_api_port=int(env.get("HUB_PROXY_API_PORT", port + 1)),
        )

    def as_env(self) -> dict[str, str]:
        """The environment variables that give :meth:`from_env` this layout back."""
        return {
            "HUB_DIR": str(self.root),
            "HUB_PORT": str(self.port),
            "HUB_API_PORT": str(self.hub_port),
            "HUB_PROXY_API_PORT": str(self.proxy_api_port),
        }

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    @property
    def passwords(self) -> Path:
        return self.state / "passwords.json"

    @property
    def pid_file(self) -> Path:
        """The pid of ``python -m resnet_course.hub start``, which owns the hub."""
        return self.state / "hub.pid"

    @property
    def log_file(self) -> Path:
        return self.state / "jupyterhub.log"

    def role_config(self, role: str) -> Path:
        """The Jupyter configuration folder of ``role`` (first on its servers' ``JUPYTER_CONFIG_PATH``)."""
        return self.root / "config" / role

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"
