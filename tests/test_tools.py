"""A test that needs a missing tool skips on a developer's machine and fails under CI=true."""

import pytest
from fixtures import tools


@pytest.fixture
def missing_tool(monkeypatch):
    monkeypatch.setitem(tools.TOOLS, "bwrap", (lambda: False, "apt-get install bubblewrap"))


def test_a_missing_tool_skips_outside_ci(monkeypatch, missing_tool):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="bwrap is not installed"):
        tools.require("bwrap")


def test_a_missing_tool_fails_under_ci(monkeypatch, missing_tool):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true, and this test needs a tool that is missing: bwrap"):
        tools.require("bwrap")


def test_a_present_tool_neither_skips_nor_fails(monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setitem(tools.TOOLS, "bwrap", (lambda: True, "apt-get install bubblewrap"))
    tools.require("bwrap")
