"""``GET /api/v1/loads/energy``: each metered load's energy per local day, from the energy its
meter booked (the controller writes it under the meter's name, category ``load``)."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import keys
from api.app import create_app
from api.roles import Role
from api.settings import ApiSettings
from sitefile import Site, parse_site
from store.contract import EnergyStep, RollupDelta
from store.writer import Store
from tests.conftest import SHRIMP

TZ = "Asia/Ho_Chi_Minh"  # UTC+7
# 2026-09-21 20:00 local = 13:00 UTC; the pump runs 20:00–24:00 and 00:00–02:00 local.
START = datetime(2026, 9, 21, 13, 0, tzinfo=UTC).timestamp()
PUMP_W = 3000.0
FARM_W = 400.0
STEP_S = 60.0


def metered_site() -> Site:
    data: dict[str, Any] = tomllib.loads(SHRIMP.read_text(encoding="utf-8"))
    data["site"]["timezone"] = TZ
    data["devices"] += [
        {"name": "pump-meter", "driver": "sdm630", "transport": "tcp", "host": "127.0.0.1",
         "port": 5020, "unit_id": 2, "measures": "exchange-pump"},
        {"name": "farm-meter", "driver": "sdm120", "transport": "tcp", "host": "127.0.0.1",
         "port": 5020, "unit_id": 3, "measures": "farmhouse"},
        {"name": "bus-meter", "driver": "sdm120", "transport": "tcp", "host": "127.0.0.1",
         "port": 5020, "unit_id": 4},  # meters the whole AC output: no load of its own
    ]
    return parse_site(data, SHRIMP.parent, SHRIMP)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "site.db"
    store = Store(path, TZ)
    steps = int(6 * 3600 / STEP_S)
    for i in range(1, steps + 1):
        ts = START + i * STEP_S - 1.0  # the cycle ending 1 s before each minute
        # the counter's step each minute: P × 60 s [Wh]; the farmhouse only the first 3 h
        rollup = {"pump-meter": RollupDelta(energy=(EnergyStep("load", PUMP_W / 60, "counter"),)),
                  "bus-meter": RollupDelta(energy=(EnergyStep("load", 9999.0, "counter"),))}
        if i <= 3 * 60:
            rollup["farm-meter"] = RollupDelta(
                energy=(EnergyStep("load", FARM_W / 60, "integrated"),))
        store.write_cycle(ts, [], rollup, STEP_S)
    store.close()
    return path


@pytest.fixture
async def client(db: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    conn = keys.connect(db)
    key = keys.create_key(conn, Role.viewer, "test-viewer", by="test")[0]
    conn.close()
    settings = ApiSettings(database=db, command_wait_s=0.0, rate_limit_per_min=60_000,
                           rate_burst=10_000)
    app = create_app(settings, metered_site())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1") as c:
        yield c, {"X-API-Key": key}


async def test_kwh_per_metered_load_per_local_day(
        client: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    c, headers = client
    r = await c.get("/api/v1/loads/energy", headers=headers,
                    params={"from": "2026-09-21T00:00:00Z", "to": "2026-09-23T00:00:00Z"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["meters"] == {"exchange-pump": "pump-meter", "farmhouse": "farm-meter"}
    days = {d["date"]: d for d in body["days"]}
    assert list(days) == ["2026-09-21", "2026-09-22"]
    # 20:00–24:00 local: 4 h × 3 kW = 12 kWh; 00:00–02:00: 2 h × 3 kW = 6 kWh.
    assert days["2026-09-21"]["loads"]["exchange-pump"] == pytest.approx(12.0)
    assert days["2026-09-22"]["loads"]["exchange-pump"] == pytest.approx(6.0)
    # The farmhouse: 20:00–23:00 at 0.4 kW = 1.2 kWh, nothing the next day.
    assert days["2026-09-21"]["loads"]["farmhouse"] == pytest.approx(1.2)
    assert "farmhouse" not in days["2026-09-22"]["loads"]
    assert days["2026-09-21"]["methods"] == {"exchange-pump": ["counter"],
                                             "farmhouse": ["integrated"]}


async def test_needs_a_key(client: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    c, _ = client
    assert (await c.get("/api/v1/loads/energy")).status_code == 401
