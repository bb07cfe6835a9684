"""Shared fixtures, and how `make test` shares the suite between pytest-xdist workers.
TensorFlow is kept quiet before any test imports it."""

import os
import shutil
import sys
from pathlib import Path

import pytest
from fixtures import tools

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# nbgrader runs `alembic` and `jupyter` from PATH: use this environment's.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A private copy of data/ (HDF5 files and SHA256SUMS) that a test may damage."""
    target = tmp_path / "data"
    target.mkdir()
    for name in ("train_signs.h5", "test_signs.h5", "SHA256SUMS"):
        shutil.copyfile(DATA_DIR / name, target / name)
    return target


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory) -> Path:
    """A course folder where `make demo`'s flow ran once (minutes): shared by
    tests/test_demo.py and the class report's browser test."""
    from resnet_course.instructor.demo import run_demo

    root = tmp_path_factory.mktemp("demo") / "course"
    assert run_demo(root) == 0
    return root


#: Tests that must run in one pytest-xdist worker, one module after another (`make test` runs
#: ``--dist loadgroup``): those of the demo's course folder, a session fixture that costs minutes
#: and would otherwise be built once per worker, and the modules that start servers as the
#: machine's demo Linux accounts, which two at once would share.
DEMO_GROUP = "demo course"
HUB_ACCOUNTS_GROUP = "hub accounts"
HUB_ACCOUNT_MODULES = ("test_make_hub.py", "test_hub_isolation.py", "test_hub_course_loop.py")

#: The work units that take longest on 2 cores (docs/measurements.md), started first so that no
#: worker is left alone with one of them at the end; other units with a slow test come next.
LONGEST_FIRST = (DEMO_GROUP, "tests/test_notebook.py", HUB_ACCOUNTS_GROUP, "tests/test_kill_matrix.py")


def xdist_group(item) -> str:
    """The work unit ``item`` belongs to: a shared group above, else its own module, whose
    module-scoped fixtures (a graded class, a built reference) are then built once."""
    if "demo_root" in item.fixturenames:
        return DEMO_GROUP
    module = Path(str(item.path))
    if module.name in HUB_ACCOUNT_MODULES:
        return HUB_ACCOUNTS_GROUP
    return module.relative_to(REPO_ROOT).as_posix()


def pytest_collection_modifyitems(config, items):
    groups = {item: xdist_group(item) for item in items}
    slow_groups = {groups[item] for item in items if item.get_closest_marker("slow") is not None}

    def rank(group: str) -> int:
        if group in LONGEST_FIRST:
            return LONGEST_FIRST.index(group)
        return len(LONGEST_FIRST) + (0 if group in slow_groups else 1)

    # A stable sort by unit keeps each module's tests together and in their written order.
    first_seen = {}
    for item in items:
        first_seen.setdefault(groups[item], len(first_seen))
    items.sort(key=lambda item: (rank(groups[item]), first_seen[groups[item]]))
    for item in items:
        item.add_marker(pytest.mark.xdist_group(groups[item]))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "requires_tool(name): skip without the tool, fail under CI=true (fixtures/tools.py)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    for marker in item.iter_markers("requires_tool"):
        tools.require(marker.args[0])
