"""Set-up's shell steps: without root, a missing system package or Python stops set-up with the
exact command to run, and changes nothing."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from conftest import REPO_ROOT

SCRIPTS = REPO_ROOT / "scripts"


def run_unprivileged(script: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a set-up script with PATH limited to ``id`` and ``apt-get`` (no bwrap, no Python), as nobody."""
    # Outside tmp_path, whose parent only root may enter.
    bin_dir = Path(tempfile.mkdtemp(prefix="setup-scripts-bin-"))
    bin_dir.chmod(0o755)
    for tool in ("id", "apt-get"):
        os.symlink(shutil.which(tool) or f"/usr/bin/{tool}", bin_dir / tool)
    shutil.copy(SCRIPTS / script, bin_dir / script)  # the checkout may lie where nobody cannot read
    as_nobody = (lambda: os.setuid(65534)) if os.geteuid() == 0 else None
    try:
        return subprocess.run(
            ["/bin/bash", str(bin_dir / script)],
            env={"PATH": str(bin_dir), **environment},
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=as_nobody,
            cwd="/",
        )
    finally:
        shutil.rmtree(bin_dir, ignore_errors=True)


def test_missing_bubblewrap_without_root_prints_the_apt_command():
    result = run_unprivileged("system_packages.sh", {})
    assert result.returncode == 1
    assert "not installed: bubblewrap" in result.stderr
    assert "sudo apt-get update && sudo apt-get install -y bubblewrap" in result.stderr


def test_no_supported_python_prints_how_to_install_one():
    result = run_unprivileged("find_python.sh", {})
    assert result.returncode == 1 and result.stdout == ""
    assert "Python 3.11, 3.12 or 3.13" in result.stderr
    assert "sudo apt-get install -y python3 python3-venv" in result.stderr


def test_a_named_python_outside_the_supported_range_is_refused(tmp_path):
    fake = tmp_path / "python3.10"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    result = subprocess.run(
        ["/bin/bash", str(SCRIPTS / "find_python.sh")],
        env={**os.environ, "PYTHON": str(fake)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"PYTHON={fake} is not a Python 3.11 to 3.13" in result.stderr


def test_the_running_python_is_found():
    import sys

    result = subprocess.run(
        ["/bin/bash", str(SCRIPTS / "find_python.sh")],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.strip().endswith(os.path.basename(sys.executable))
