"""Shared fixtures; how `make test` shares the suite between pytest-xdist workers is in
fixtures/parallel_groups.py. TensorFlow is kept quiet before any test imports it."""

import os
import shutil
import sys
from pathlib import Path

import pytest
from fixtures import parallel_groups, tools

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


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    parallel_groups.group_and_order(items)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "requires_tool(name): skip without the tool, fail under CI=true (fixtures/tools.py)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    for marker in item.iter_markers("requires_tool"):
        tools.require(marker.args[0])
