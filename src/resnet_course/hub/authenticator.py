"""A JupyterHub authenticator for the demo accounts' generated passwords. For demos only.

It accepts a user whose password matches the one set-up generated
(``accounts.ensure_passwords``), read from a root-only file at each login so
that a regenerated file takes effect at once. There is no rate limit, no
password change and no lock-out: a real server uses the authenticator of its
institution (``docs/deploy.md``).
"""

from __future__ import annotations

import hmac
import json
from pathlib import Path

from jupyterhub.auth import Authenticator
from traitlets import Unicode


class DemoPasswordAuthenticator(Authenticator):
    """Log in the demo accounts with the passwords in :attr:`password_file`."""

    password_file = Unicode(help="JSON file mapping each user name to its password.").tag(config=True)

    async def authenticate(self, handler, data):
        name = (data or {}).get("username", "")
        given = (data or {}).get("password", "")
        try:
            passwords = json.loads(Path(self.password_file).read_text())
        except (OSError, ValueError):
            self.log.error("cannot read the demo passwords in %s", self.password_file)
            return None
        expected = passwords.get(name)
        if isinstance(expected, str) and hmac.compare_digest(expected.encode(), given.encode()):
            return name
        return None
