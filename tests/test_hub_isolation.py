"""On the course hub, a student cannot read another student's work or the instructor's course.

The hub is set up as ``make hub`` sets it up (``python -m resnet_course.hub
setup``, real Linux users, the exchange in a fresh ``HUB_DIR``); the
instructor releases ``resnets`` and both students fetch and submit it with
nbgrader's own commands, run as their Linux users. Then ``rc-bob`` tries to
read what is not his: the file system answers, as it would to code in his
notebook or terminal.

nbgrader's exchange keeps submissions apart by permissions and by name:
nobody but the instructor may list ``inbound``, and each submission's folder
ends in a random string, so another student cannot find it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from fixtures import tools

from resnet_course.hub import accounts
from resnet_course.hub.layout import ASSIGNMENT, COURSE_ID, HubLayout
from resnet_course.hub.service import running_pid
from resnet_course.paths import AUTOGRADER_DIR, MASTER_NOTEBOOK, TESTS_DIR

pytestmark = pytest.mark.slow
INSTRUCTOR = accounts.INSTRUCTOR.name
ALICE, BOB = (account.name for account in accounts.STUDENTS)
# Students' nbgrader commands outside a hub: the exchange is the same, only JupyterHub's course check is left out.
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"
WITHOUT_HUB = "--Authenticator.plugin_class=nbgrader.auth.NoAuthPlugin"

PROBE = r"""
import json, os, sys
outcome = {}
for name, path in json.loads(sys.argv[1]).items():
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").close()
        outcome[name] = "read"
    except PermissionError:
        outcome[name] = "denied"
    except FileNotFoundError:
        outcome[name] = "missing"
print(json.dumps(outcome))
"""


@pytest.fixture(scope="module")
def hub_course():
    """A set-up hub layout where the instructor has released and both students have submitted."""
    if os.geteuid() != 0:
        if tools.in_ci():
            pytest.fail("CI=true, and the hub's isolation tests need root (they create Linux users)", pytrace=False)
        pytest.skip("the hub's isolation tests need root (they create Linux users)")
    if running_pid(HubLayout.from_env({})) is not None:
        pytest.fail("`make hub` is running with the same demo accounts: stop it (`make hub-stop`) first")
    folder = Path(tempfile.mkdtemp(prefix="resnet-course-hub-isolation-"))
    folder.chmod(0o755)
    layout = HubLayout(folder)
    for account in accounts.ACCOUNTS:  # the demo accounts' course folders from earlier runs
        if accounts.user_exists(account.name):
            shutil.rmtree(accounts.home_of(account.name) / COURSE_ID, ignore_errors=True)
    try:
        setup = subprocess.run(
            [sys.executable, "-m", "resnet_course.hub", "setup"],
            env={**os.environ, **layout.as_env()},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert setup.returncode == 0, setup.stdout + setup.stderr
        course = f"~/{COURSE_ID}"
        run_as(layout, INSTRUCTOR, f"cd {course} && nbgrader generate_assignment {ASSIGNMENT} --force")
        run_as(layout, INSTRUCTOR, f"cd {course} && nbgrader release_assignment {ASSIGNMENT} --force")
        for student in (ALICE, BOB):
            run_as(layout, student, f"nbgrader fetch_assignment {ASSIGNMENT} --course {COURSE_ID} {WITHOUT_HUB}")
            run_as(layout, student, f"nbgrader submit {ASSIGNMENT} --course {COURSE_ID} {WITHOUT_HUB}")
        yield layout
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_as(layout: HubLayout, user: str, command: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a shell command as ``user`` in their home, with their hub server's environment."""
    role = accounts.role_of(user)
    home = accounts.home_of(user)
    env = {
        "HOME": str(home),
        "USER": user,
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "JUPYTER_CONFIG_PATH": str(layout.role_config(role)),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
    }
    result = subprocess.run(
        [RUNUSER, "-u", user, "--", "/bin/bash", "-c", command],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, f"{user}: {command}\n{result.stdout}\n{result.stderr}"
    return result


def probe(layout: HubLayout, user: str, paths: dict[str, Path]) -> dict[str, str]:
    """What ``user`` gets when reading each path: ``read``, ``denied`` or ``missing``."""
    arguments = json.dumps({name: str(path) for name, path in paths.items()})
    result = subprocess.run(
        [RUNUSER, "-u", user, "--", sys.executable, "-c", PROBE, arguments],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def alice_submission(layout: HubLayout) -> Path:
    (folder,) = (layout.exchange / COURSE_ID / "inbound").glob(f"{ALICE}+{ASSIGNMENT}+*")
    return folder


def test_a_student_cannot_find_another_students_submission_in_the_exchange(hub_course):
    inbound = hub_course.exchange / COURSE_ID / "inbound"
    submission = alice_submission(hub_course)
    random_part = submission.name.rsplit("+", 1)[1]
    outcome = probe(
        hub_course,
        BOB,
        {
            "released assignment": hub_course.exchange / COURSE_ID / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
            "inbound": inbound,
            "alice without the random part": submission.with_name(submission.name.rsplit("+", 1)[0]),
        },
    )
    assert outcome == {"released assignment": "read", "inbound": "denied", "alice without the random part": "missing"}
    assert len(random_part) >= 12  # nbgrader's add_random_string: 9 random bytes, base64


def test_a_student_cannot_read_another_students_home(hub_course):
    alice_home = accounts.home_of(ALICE)
    notebook = alice_home / COURSE_ID / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert notebook.exists()
    outcome = probe(
        hub_course,
        BOB,
        {
            "home": alice_home,
            "notebook": notebook,
            "nbgrader cache": alice_home / ".local" / "share" / "jupyter" / "nbgrader_cache",
        },
    )
    assert outcome == {"home": "denied", "notebook": "denied", "nbgrader cache": "denied"}
    assert probe(hub_course, ALICE, {"own notebook": notebook}) == {"own notebook": "read"}


def test_a_student_cannot_read_the_instructors_course_or_the_checkouts_instructor_files(hub_course):
    course = accounts.home_of(INSTRUCTOR) / COURSE_ID
    assert (course / "autograder" / "gradebook.db").exists()
    paths = {
        "course folder": course,
        "course solutions": course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        "gradebook": course / "autograder" / "gradebook.db",
        "course autograder": course / "autograder",
        "checkout solutions": MASTER_NOTEBOOK,
        "checkout autograder": AUTOGRADER_DIR,
        "checkout tests": TESTS_DIR,
    }
    outcome = probe(hub_course, BOB, paths)
    assert outcome == dict.fromkeys(paths, "denied")
    assert probe(hub_course, INSTRUCTOR, {"gradebook": paths["gradebook"]}) == {"gradebook": "read"}
