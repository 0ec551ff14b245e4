"""The shared test helpers: a missing system tool fails a CI run and skips, loudly, elsewhere."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from tests.support import free_port, require_tool

NO_SUCH_TOOL = "offgrid-test-no-such-tool"


@pytest.fixture
def empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``PATH`` holds one empty folder: no tool can be found on it."""
    monkeypatch.setenv("PATH", str(tmp_path))
    return tmp_path


def test_missing_tool_fails_under_ci(empty_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"MISSING SYSTEM TOOL: {NO_SUCH_TOOL} .*CI"):
        require_tool(NO_SUCH_TOOL)


@pytest.mark.parametrize("ci", [None, "false", ""])
def test_missing_tool_skips_outside_ci(empty_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       ci: str | None) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception,
                       match=f"MISSING SYSTEM TOOL: {NO_SUCH_TOOL} is not on PATH"):
        require_tool(NO_SUCH_TOOL)


@pytest.mark.parametrize("ci", [None, "true"])
def test_present_tool_gives_its_path(empty_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     ci: str | None) -> None:
    tool = empty_path / NO_SUCH_TOOL
    tool.write_text(f"#!{sys.executable}\n")
    tool.chmod(0o755)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    assert require_tool(NO_SUCH_TOOL) == str(tool)


def test_free_port_can_be_listened_on() -> None:
    port = free_port()
    assert 0 < port < 65536
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen()
