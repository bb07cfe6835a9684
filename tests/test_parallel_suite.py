"""``make test`` shares the suite between two pytest-xdist workers (tests/fixtures/parallel_groups.py). The tests of
the demo's course folder, a session fixture that takes minutes, and the modules that start servers
as the hub's demo Linux accounts each run on one worker, one after another; every other module's
tests stay together, so a module-scoped fixture (a graded class, the kill matrix) is built once.
Checked on the real suite with a plugin that runs no test (tests/fixtures/xdist_dry_run.py)."""

import os
import subprocess
import sys
from collections import defaultdict

from fixtures.parallel_groups import DEMO_GROUP, HUB_ACCOUNT_MODULES, HUB_ACCOUNTS_GROUP, REPO_ROOT

#: What the Makefile's `test` target passes to pytest with its default two workers.
MAKEFILE_PARALLEL = ["-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder"]


def test_the_makefile_shares_the_suite_as_this_test_does():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "TEST_WORKERS ?= 2" in makefile
    assert "-n $(TEST_WORKERS) " + " ".join(MAKEFILE_PARALLEL[2:]) in makefile


def test_each_group_of_tests_runs_on_one_worker(tmp_path):
    env = {**os.environ, "XDIST_DRY_RUN_DIR": str(tmp_path), "PYTHONPATH": str(REPO_ROOT / "tests" / "fixtures")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "xdist_dry_run", "-p", "no:cacheprovider", *MAKEFILE_PARALLEL],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    workers, modules_of = defaultdict(set), defaultdict(set)
    for record in tmp_path.glob("gw*.txt"):
        for line in record.read_text().splitlines():
            group, node_id = line.split("\t")
            workers[group].add(record.stem)
            modules_of[group].add(node_id.split("::")[0])
    assert len({worker for found in workers.values() for worker in found}) == 2, "both workers get work"

    split = {group: sorted(found) for group, found in workers.items() if len(found) != 1}
    assert not split, f"groups split between workers: {split}"
    assert modules_of[DEMO_GROUP] >= {"tests/test_demo.py", "tests/browser/test_class_report_page.py"}
    assert {module.rsplit("/", 1)[-1] for module in modules_of[HUB_ACCOUNTS_GROUP]} == set(HUB_ACCOUNT_MODULES)
    for group, modules in modules_of.items():
        if group not in (DEMO_GROUP, HUB_ACCOUNTS_GROUP):
            assert modules == {group}, f"the group {group} holds {sorted(modules)}"
