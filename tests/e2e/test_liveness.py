"""Liveness you can see (issue 12 §4): a real `offgrid run` process, stopped with SIGSTOP, is
reported as not running by the API's status and `/healthz`; a second `offgrid run` on the same
database refuses to start."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from api import keys
from api.app import create_app
from api.roles import Role
from api.settings import ApiSettings
from sitefile import load_site
from tests.controller.test_durability import quiet_site
from tests.e2e.conftest import POLL_TIMEOUT_S

T = TypeVar("T")

pytestmark = pytest.mark.slow
CYCLE_S = 0.5


async def until(what: str, get: Callable[[], Awaitable[T]], ok: Callable[[T], bool]) -> T:
    """Poll ``get`` until ``ok`` holds (a bound on a hang, not a timing assertion)."""
    deadline = time.monotonic() + POLL_TIMEOUT_S
    while not ok(value := await get()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
    return value


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[tuple[Path, Path, subprocess.Popen[str]]]:
    """`offgrid run` on a fast cycle (its devices silent: it still cycles and beats), after
    its first healthy cycle."""
    site = quiet_site(tmp_path, cycle_s=CYCLE_S)
    db = tmp_path / "site.db"
    sock_path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sock_path))
        sock.settimeout(120)  # a bound on a hang, not a timing assertion
        proc = subprocess.Popen(
            [sys.executable, "-m", "offgrid", "run", str(site), "--db", str(db), "--pty-dir",
             str(tmp_path)], env={**os.environ, "NOTIFY_SOCKET": str(sock_path)},
            stderr=subprocess.PIPE, text=True)
        try:
            assert [sock.recv(64).decode() for _ in range(2)] == ["READY=1", "WATCHDOG=1"]
            yield site, db, proc
        finally:
            proc.send_signal(signal.SIGCONT)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)


async def test_sigstopped_controller_is_reported_not_running(
        controller: tuple[Path, Path, subprocess.Popen[str]]) -> None:
    site_file, db, proc = controller
    site = load_site(site_file)
    conn = keys.connect(db)
    key = keys.create_key(conn, Role.viewer, "ops", by="test")[0]
    conn.close()
    app = create_app(ApiSettings(database=db), site)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1",
                                 headers={"X-API-Key": key}) as c:

        async def health() -> tuple[int, dict[str, Any]]:
            r = await c.get("/healthz")
            return r.status_code, r.json()

        code, body = await health()
        assert (code, body["status"], body["controller"]["running"]) == (200, "ok", True)
        proc.send_signal(signal.SIGSTOP)
        code, body = await until("/healthz to say so", health, lambda h: h[0] != 200)
        assert (code, body["status"]) == (503, "controller not running")
        beat = body["controller"]
        assert beat["stale_after_s"] == 2 * CYCLE_S + 1.0
        assert beat["age_s"] >= beat["stale_after_s"]
        status = (await c.get("/api/v1/status")).json()
        assert status["controller"]["running"] is False
        assert status["controller"]["heartbeat_ts"] == beat["heartbeat_ts"]
        proc.send_signal(signal.SIGCONT)
        await until("the controller to beat again", health, lambda h: h[0] == 200)


def test_second_controller_refuses_to_start(
        controller: tuple[Path, Path, subprocess.Popen[str]]) -> None:
    site_file, db, first = controller
    second = subprocess.run([sys.executable, "-m", "offgrid", "run", str(site_file), "--db",
                             str(db), "--cycles", "1"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 1
    assert "another controller is already running on this database" in second.stderr
    assert f"pid {first.pid}" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.poll() is None  # the first one runs on
