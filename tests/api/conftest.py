"""Fixtures for the API: a real SQLite store, keys of each role, and an httpx client on the app.

``filled_db`` writes 30 h of telemetry through the controller's own writer
(``store.writer.Store``): device points, the site figures under ``site``, energy by category and
device health, as a controller run leaves them behind.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api import keys
from api.app import create_app
from api.roles import STAFF, Role
from api.settings import ApiSettings
from sitefile import Site, load_site
from store.contract import SITE_SOURCE, DeviceHealth, EnergyStep, RollupDelta, Sample
from store.writer import Store
from tests.conftest import SHRIMP

DAY_S = 86400.0
CUSTOMER_LOAD = "exchange-pump"  # flexible, on relay channel 6
NEIGHBOUR_LOAD = "farmhouse"  # not flexible, on relay channel 7
T0 = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC: a fixed start keeps the data reproducible


@dataclass(frozen=True)
class Keys:
    viewer: str
    operator: str
    admin: str
    customer: str  # the exchange pump's customer (a flexible load)
    neighbour: str  # another customer: the farmhouse (not flexible)

    def headers(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"X-API-Key": getattr(self, role)}


DEVICES = ("mppt-1", "mppt-2", "relays", "do-probe", "genset", "inverter")
# (load, customers, planned, start and end [s after T0]), all in September 2026, local time
INTERRUPTIONS = [("farmhouse", 1, False, 4000, 4600),  # 10 min
                 ("aerators", 1, True, 10_000, 13_600),  # 60 min, planned
                 ("farmhouse", 1, False, 20_000, 20_120)]  # 2 min: momentary
LOAD_W = 6000.0
INVERTER_DC_W = 6300.0


def fill(store: Store, start_ts: float, hours: float, step_s: float = 60.0) -> float:
    """Telemetry of the shrimp site, one cycle per ``step_s``: a solar day, SOC, DO, relays.

    PV is ``40 kW × sin`` by day; the battery takes 97 % of it and gives the inverter 6.3 kW;
    the loads draw 6 kW. PV energy is booked from the MPPTs' counters, the rest integrated.
    Returns the time of the last cycle.
    """
    ts = start_ts
    end = start_ts + hours * 3600.0
    while ts <= end:
        hour = (ts / 3600.0 + 7) % 24  # local time, UTC+7
        sun = max(0.0, math.sin(math.pi * (hour - 6) / 12))
        pv = 40_000.0 * sun
        soc = 60.0 + 30.0 * sun
        do = 5.0 + 2.0 * sun
        battery_w = pv * 0.97 - INVERTER_DC_W
        samples = [
            Sample("mppt-1", "pv_w", pv / 2, "good", ts),
            Sample("mppt-2", "pv_w", pv / 2, "good", ts),
            Sample("inverter", "ac_w", LOAD_W, "good", ts),
            Sample("inverter", "soc_pct", soc, "good", ts),
            Sample("do-probe", "do_mg_l", do, "good", ts),
            *(Sample("relays", f"relay_{c}", 1.0 if c < 3 or c == 7 else 0.0, "good", ts)
              for c in range(8)),
            *(Sample(SITE_SOURCE, name, value, "good", ts) for name, value in (
                ("soc_pct", soc), ("battery_v", 52.0), ("battery_w", battery_w), ("pv_w", pv),
                ("load_w", LOAD_W), ("do_mg_l", do), ("water_temp_c", 29.0),
                ("generator_running", 0.0), ("fuel_pct", 80.0), ("wind_w", 0.0),
                ("tank_level_pct", 0.0), ("pump_w", 0.0), ("water_m3_h", 0.0),
                ("water_today_m3", 0.0))),
        ]
        h = step_s / 3600.0
        battery = (EnergyStep("battery_charge", battery_w * h, "integrated") if battery_w > 0
                   else EnergyStep("battery_discharge", -battery_w * h, "integrated"))
        rollup = {
            "mppt-1": RollupDelta(energy=(EnergyStep("pv", pv / 2 * h, "counter"),)),
            "mppt-2": RollupDelta(energy=(EnergyStep("pv", pv / 2 * h, "counter"),)),
            SITE_SOURCE: RollupDelta(energy=(EnergyStep("pv", pv * h, "counter"),
                                             EnergyStep("load", LOAD_W * h, "integrated"),
                                             battery),
                                     soc_pct=soc, aerator_h=3 * h, do_mg_l=do),
        }
        health = [DeviceHealth(d, d != "genset", ts, ts if d != "genset" else start_ts,
                               None if d != "genset" else "timeout") for d in DEVICES]
        store.write_cycle(ts, samples, rollup, step_s, health=health)
        ts += step_s
    return ts - step_s


@pytest.fixture(scope="session")
def site() -> Site:
    return load_site(SHRIMP)


@pytest.fixture(scope="session")
def filled_db(tmp_path_factory: pytest.TempPathFactory, site: Site) -> tuple[Path, float]:
    """A store with 30 h of 1-minute telemetry, alarms, an event, the interruptions of
    :data:`INTERRUPTIONS` and a curtailment of the pump."""
    path = tmp_path_factory.mktemp("api") / "site.db"
    store = Store(path, site.site.timezone)
    last = fill(store, T0, 30.0)
    store.raise_alarm(T0 + 3600, "low_do", "do-probe", "DO 2.8 mg/L below 3.0")
    store.raise_alarm(T0 + 7200, "device_offline", "genset", "genset does not answer")
    store.clear_alarm(T0 + 9000, "device_offline", "genset")
    store.event(T0 + 100, "controller_start", "controller", "controller started")
    for load, customers, planned, start, end in INTERRUPTIONS:
        store.start_interruption(T0 + start, load, "planned" if planned else "load_shedding",
                                 customers=customers, planned=planned)
        store.end_interruption(T0 + end, load)
    store.start_curtailment(T0 + 5000, "exchange-pump", "load_shedding")
    store.end_curtailment(T0 + 5000 + 5400, "exchange-pump")  # 1.5 h
    store.close()
    return path, last


@pytest.fixture
def db(tmp_path: Path, filled_db: tuple[Path, float]) -> Path:
    """A private copy of the filled store (tests may write commands and keys into it)."""
    copy = tmp_path / "site.db"
    src = keys.connect(filled_db[0])
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    store = Store(copy, "UTC")  # a controller that has just finished a cycle
    store.set_state(time.time(), "heartbeat", {"ts": time.time(), "cycle_s": 5.0})
    store.close()
    return copy


@pytest.fixture
def api_keys(db: Path) -> Keys:
    conn = keys.connect(db)
    made = {r.value: keys.create_key(conn, r, f"test-{r.value}", by="test")[0]
            for r in STAFF}
    made["customer"] = keys.create_key(conn, Role.customer, "test-customer", by="test",
                                       loads=[CUSTOMER_LOAD])[0]
    made["neighbour"] = keys.create_key(conn, Role.customer, "test-neighbour", by="test",
                                        loads=[NEIGHBOUR_LOAD])[0]
    conn.close()
    return Keys(**made)


@pytest.fixture
def settings(db: Path) -> ApiSettings:
    return ApiSettings(database=db, command_wait_s=0.0, rate_limit_per_min=60_000,
                       rate_burst=10_000)


@pytest.fixture
def app(settings: ApiSettings, site: Site) -> FastAPI:
    return create_app(settings, site)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1") as c:
        yield c
