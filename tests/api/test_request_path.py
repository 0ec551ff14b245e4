"""The API never writes on the request path: a key's last use is remembered and written off the
event loop, on its own connection, so a write lock held by another process holds up nothing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
from fastapi import FastAPI

from store import readers
from tests.api.conftest import Keys

HOLD_LOCK = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
             " c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.read()")


async def test_reads_with_a_write_lock_held_elsewhere(app: FastAPI, client: httpx.AsyncClient,
                                                      api_keys: Keys, db: Path) -> None:
    statements: list[str] = []
    app.state.ctx.conn.set_trace_callback(statements.append)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        for path in ("/api/v1/status", "/api/v1/alarms", "/api/v1/devices", "/healthz"):
            r = await client.get(path, headers=api_keys.headers("viewer"))
            assert r.status_code == 200, (path, r.text)
        writes = [s for s in statements if s.split()[0].upper() in ("INSERT", "UPDATE",
                                                                      "DELETE", "BEGIN")]
        assert writes == []  # reads only on the request path
        verifier = app.state.ctx.verifier
        used = verifier.take_last_used()
        assert len(used) == 1  # the viewer's key, remembered
        refused = verifier.write_last_used(used, timeout_s=0.05)  # the lock: kept for later
        assert refused == used
        verifier.keep_last_used(refused)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    assert verifier.write_last_used(verifier.take_last_used()) == {}
    conn = readers.connect(db, readonly=True)
    kid = next(iter(used))
    assert readers.read_key(conn, kid)["last_used_ts"] == used[kid]  # type: ignore[index]
    conn.close()


async def test_a_command_waiting_for_the_lock_holds_up_no_other_request(
        client: httpx.AsyncClient, api_keys: Keys, db: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        post = asyncio.create_task(client.post(
            "/api/v1/commands/generator", json={"action": "start"},
            headers=api_keys.headers("operator")))
        # Let it reach the insert: in a worker thread it then waits out the lock (the busy
        # timeout is 5 s); on the event loop it would block this very sleep until it failed.
        await asyncio.sleep(0.2)
        status = await client.get("/api/v1/status", headers=api_keys.headers("viewer"))
        assert status.status_code == 200
        assert not post.done()  # still waiting for the lock, in its worker thread
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    assert (await post).status_code == 202  # inserted once the lock is gone; nobody acks
