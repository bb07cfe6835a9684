"""The demo accounts: one instructor and two students, each a real Linux user.

nbgrader's exchange records who submitted by the OS user name and keeps one
student's files from another with file permissions, so one shared user could
not show (or test) either. The accounts are made with ``useradd`` when they
are missing and left as they are otherwise, so set-up can run every time.
Their passwords are generated once and kept in a root-only file: they are
for a demonstration on loopback, not for a server anyone else can reach
(``docs/deploy.md`` says what replaces them there).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import secrets
import subprocess
from pathlib import Path

ROLES = ("instructor", "student")


@dataclasses.dataclass(frozen=True)
class Account:
    """A demo user.

    Attributes:
        name: The Linux user name, which is also the JupyterHub and nbgrader name.
        role: ``"instructor"`` or ``"student"``.
        full_name: The name the formgrader shows (the course roster's ``name``).
    """

    name: str
    role: str
    full_name: str = ""


INSTRUCTOR = Account("rc-instructor", "instructor", "Irene Instructor")
STUDENTS = (Account("rc-alice", "student", "Alice Martin"), Account("rc-bob", "student", "Bob Dupont"))
ACCOUNTS = (INSTRUCTOR, *STUDENTS)


def role_of(name: str) -> str | None:
    """The role of the demo user ``name``, or None for anyone else."""
    return next((account.role for account in ACCOUNTS if account.name == name), None)


def home_of(name: str) -> Path:
    """The home folder of an existing user."""
    return Path(pwd.getpwnam(name).pw_dir)


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def ensure_user(account: Account) -> bool:
    """Create the Linux user when missing; make its home private either way.

    Debian's ``useradd`` leaves a new home readable by everyone (no
    ``HOME_MODE`` in ``/etc/login.defs``), and a student's home holds their
    work, so its mode is set to 0700 here.

    Returns:
        True when the user was created now.
    """
    created = False
    if not user_exists(account.name):
        subprocess.run(
            ["useradd", "--create-home", "--user-group", "--shell", "/bin/bash", account.name],
            check=True,
        )
        created = True
    os.chmod(home_of(account.name), 0o700)
    return created


def ensure_passwords(path: Path, accounts=ACCOUNTS) -> dict[str, str]:
    """Each account's demo password: those in ``path`` are kept, missing ones generated.

    The file is readable by root only, like the hub that reads it.
    """
    passwords = json.loads(path.read_text()) if path.exists() else {}
    for account in accounts:
        passwords.setdefault(account.name, secrets.token_urlsafe(9))
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(passwords, file, indent=2)
    os.chmod(path, 0o600)
    return passwords
