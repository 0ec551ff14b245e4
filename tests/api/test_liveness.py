"""The controller's heartbeat as the API shows it, stepping the API's wall clock: running up to
two cycle periods and the margin, then "controller not running" in the status and `/healthz`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.summary import HEARTBEAT_MARGIN_S, controller_liveness
from store.writer import Store
from tests.api.conftest import Keys

BEAT_TS = 1_800_000_000.0
CYCLE_S = 5.0


@pytest.mark.parametrize(("age_s", "running"), [
    (0.0, True), (2 * CYCLE_S + HEARTBEAT_MARGIN_S - 0.01, True),
    (2 * CYCLE_S + HEARTBEAT_MARGIN_S, False), (3600.0, False)])
async def test_status_and_healthz_follow_the_heartbeat(
        app: FastAPI, client: httpx.AsyncClient, api_keys: Keys, db: Path, age_s: float,
        running: bool) -> None:
    store = Store(db)
    store.set_state(BEAT_TS, "heartbeat", {"ts": BEAT_TS, "cycle_s": CYCLE_S, "pid": 1})
    store.close()
    app.state.ctx.wall = lambda: BEAT_TS + age_s
    health = await client.get("/healthz")
    assert health.status_code == (200 if running else 503)
    assert health.json()["status"] == ("ok" if running else "controller not running")
    status = (await client.get("/api/v1/status", headers={"X-API-Key": api_keys.viewer})).json()
    assert status["controller"] == {
        "running": running, "heartbeat_ts": BEAT_TS, "age_s": pytest.approx(age_s),
        "stale_after_s": 2 * CYCLE_S + HEARTBEAT_MARGIN_S}


def test_no_heartbeat_is_not_running() -> None:
    assert controller_liveness(None, CYCLE_S, BEAT_TS)["running"] is False
    # the site file's cycle when the heartbeat does not say
    assert controller_liveness({"ts": BEAT_TS}, 2.0, BEAT_TS)["stale_after_s"] == 5.0
