"""`offgrid demo`, the README's main command, as a real process: it prints the dashboard URL
and an admin key that work, serves live values, and Ctrl-C stops all three children."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support import require_tool, wait_for

pytestmark = pytest.mark.slow


def _get(url: str, key: str | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(url, headers={"X-API-Key": key} if key else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, None


def _reachable(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def test_demo_prints_working_url_and_key_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    require_tool("socat")  # the simulator's RTU pty
    errlog = (tmp_path / "demo.err").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "offgrid", "demo", "--port", "0",
                             "--speed", "120"], stdout=subprocess.PIPE, stderr=errlog,
                            text=True)
    try:
        assert proc.stdout is not None
        url = key = ""
        for line in proc.stdout:
            if m := re.fullmatch(r"Dashboard: (http://127\.0\.0\.1:\d+/)", line.strip()):
                url = m.group(1)
            if m := re.fullmatch(r"API key: (\S+)", line.strip()):
                key = m.group(1)
                break
        assert url and key, (tmp_path / "demo.err").read_text()
        # stderr names the simulator's control port just after the key is printed on stdout
        control = wait_for("the simulator's control address", lambda: re.search(
            r"Simulator control: (\S+)", (tmp_path / "demo.err").read_text()))

        assert _get(url + "api/v1/status")[0] == 401
        status = wait_for("a state of charge",
                          lambda: (s := _get(url + "api/v1/status", key))[0] == 200
                          and s[1].get("soc_pct") is not None and s[1])
        soc = status["soc_pct"]
        assert 0 <= (soc["value"] if isinstance(soc, dict) else soc) <= 100
        assert _reachable(control.group(1) + "state")

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        assert not _reachable(url + "healthz")
        assert not _reachable(control.group(1) + "state")
    finally:
        if proc.poll() is None:  # a failed assertion: let the demo stop its children first
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        errlog.close()
