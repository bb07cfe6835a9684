"""environment.yml (conda) pins the same packages and versions as pyproject.toml."""

import re
import tomllib

import yaml

# The extras a conda user gets; gpu is the alternative documented in the README.
CONDA_EXTRAS = ("cpu", "jax", "torch", "course", "dev")


def _pip_pins(repo_root):
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in CONDA_EXTRAS:
        requirements += project["optional-dependencies"][extra]
    pins = {}
    for requirement in requirements:
        name, version = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([\w.]+)", requirement).groups()
        pins[name.lower()] = version
    return pins


def _conda_pins(repo_root):
    environment = yaml.safe_load((repo_root / "environment.yml").read_text())
    pins = {}
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):  # the pip: section
            for requirement in entry["pip"]:
                if requirement.startswith("-e"):
                    continue
                name, version = requirement.split("==")
                pins[name.lower()] = version
        elif "=" in entry:
            name, version = entry.split("=", 1)
            pins[name.lower()] = version
    return pins


def test_environment_yml_pins_match_pyproject(repo_root):
    pip, conda = _pip_pins(repo_root), _conda_pins(repo_root)
    conda.pop("python")
    assert conda == pip


def test_every_pin_is_exact(repo_root):
    for name, version in _pip_pins(repo_root).items():
        assert re.fullmatch(r"\d+(\.\d+)+", version), f"{name} is not pinned to an exact version"
