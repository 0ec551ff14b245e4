"""The data routes against a real store written through the controller's own writer API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from sitefile import SETTABLE_CONTROL_KEYS, Site
from store import readers
from store.commands import read_command
from store.contract import SITE_FIGURES, DeviceHealth, Sample
from store.writer import Store
from tests.api.conftest import INVERTER_DC_W, T0, Keys
from tests.store.test_schema import ALL as ALL_MIGRATIONS

DAY = {"from": "2026-09-22T00:00:00Z", "to": "2026-09-23T00:00:00Z"}


def at(ts: float) -> str:
    from datetime import UTC, datetime  # noqa: PLC0415

    return datetime.fromtimestamp(ts, UTC).isoformat()


async def get(client: httpx.AsyncClient, keys: Keys, url: str, **params: object) -> httpx.Response:
    return await client.get(url, params=params, headers=keys.headers("viewer"))


async def test_status_shows_the_controllers_site_figures(client: httpx.AsyncClient,
                                                        api_keys: Keys) -> None:
    body = (await get(client, api_keys, "/api/v1/status")).json()
    points = {(p["device"], p["point"]): p for p in body["points"]}
    assert set(body["figures"]) == set(SITE_FIGURES)
    for name, fig in body["figures"].items():
        assert fig["value"] == points["site", name]["value"]
        assert fig["sources"] == [f"site/{name}"] and fig["quality"] == "good"
    pv = points["mppt-1", "pv_w"]["value"] + points["mppt-2", "pv_w"]["value"]
    assert body["figures"]["pv_w"]["value"] == pytest.approx(pv)
    assert body["figures"]["load_w"]["value"] == pytest.approx(6000.0)
    # battery: 97 % of PV in, the inverter's 6.3 kW out (negative: discharging)
    assert body["figures"]["battery_w"]["value"] == pytest.approx(pv * 0.97 - INVERTER_DC_W)
    assert body["soc_pct"] == body["figures"]["soc_pct"] and body["soc_pct"]["age_s"] > 0
    loads = {ld["name"]: ld for ld in body["loads"]}
    assert loads["aerators"]["units"] == 6 and loads["aerators"]["units_on"] == 3
    assert loads["farmhouse"]["on"] is True and loads["exchange-pump"]["on"] is False
    assert [a["kind"] for a in body["active_alarms"]] == ["low_do"]


async def test_figures_are_as_published_and_never_recomputed(
        db: Path, site: Site, client: httpx.AsyncClient, api_keys: Keys) -> None:
    """A figure's quality is the controller's; a device point does not stand in for it."""
    store = Store(db, site.site.timezone)
    ts = T0 + 40 * 3600
    store.write_cycle(ts, [Sample("site", "pv_w", None, "missing", ts),
                           Sample("mppt-1", "pv_w", 900.0, "good", ts),
                           Sample("relays", "relay_0", None, "invalid", ts)], {}, 0.0)
    store.conn.execute("DELETE FROM latest WHERE device = 'site' AND point = 'fuel_pct'")
    store.close()
    body = (await get(client, api_keys, "/api/v1/status")).json()
    assert body["figures"]["pv_w"] == {"value": None, "quality": "missing",
                                       "ts": ts, "age_s": pytest.approx(body["now"] - ts),
                                       "sources": ["site/pv_w"]}
    assert body["figures"]["fuel_pct"] == {"value": None, "quality": "missing", "ts": None,
                                           "age_s": None, "sources": []}
    loads = {ld["name"]: ld for ld in body["loads"]}
    assert loads["aerators"]["quality"] == "invalid" and loads["aerators"]["units_on"] is None


@pytest.mark.parametrize(("resolution", "buckets"), [("1m", 1440), ("15m", 96), ("1d", 1)])
async def test_history_buckets(client: httpx.AsyncClient, api_keys: Keys, resolution: str,
                               buckets: int) -> None:
    params = {"from": "2026-09-21T17:00:00Z", "to": "2026-09-22T17:00:00Z"}  # a local day
    r = await get(client, api_keys, "/api/v1/history/do-probe/do_mg_l", resolution=resolution,
                  **params)
    body = r.json()
    assert r.status_code == 200
    assert len(body["t"]) == buckets
    assert all(lo <= avg <= hi for lo, avg, hi in zip(body["min"], body["avg"], body["max"],
                                                      strict=True))
    assert min(body["min"]) == pytest.approx(5.0)
    assert max(body["max"]) == pytest.approx(7.0, abs=0.01)
    if resolution == "1d":
        assert body["t"] == [pytest.approx(body["from_ts"])]  # local midnight, UTC+7


async def test_history_raw(client: httpx.AsyncClient, api_keys: Keys) -> None:
    body = (await get(client, api_keys, "/api/v1/history/inverter/soc_pct", resolution="raw",
                      **{"from": at(T0), "to": at(T0 + 600)})).json()
    assert body["t"] == [T0 + 60 * i for i in range(10)]
    assert body["avg"] == body["min"] == body["max"]


@pytest.mark.parametrize(("params", "status"), [
    ({"resolution": "raw", "from": "2026-09-21T00:00:00Z", "to": "2026-09-25T00:00:00Z"}, 422),
    ({"resolution": "1m", "from": "2026-09-21T00:00:00Z", "to": "2026-09-29T00:00:00Z"}, 422),
    ({"from": "2026-09-22T00:00:00Z", "to": "2026-09-21T00:00:00Z"}, 422),
    ({"from": "0001-01-01T00:00:00"}, 422),
    ({"resolution": "5m"}, 422),
    ({"from": "yesterday"}, 422),
])
async def test_history_bounds(client: httpx.AsyncClient, api_keys: Keys, params: dict,
                              status: int) -> None:
    r = await get(client, api_keys, "/api/v1/history/inverter/soc_pct", **params)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"]


@pytest.mark.parametrize("url", ["/api/v1/history/inverter/nope_w",
                                 "/api/v1/history/ghost/soc_pct"])
async def test_unknown_point_is_404(client: httpx.AsyncClient, api_keys: Keys, url: str) -> None:
    assert (await get(client, api_keys, url, **DAY)).status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/history/INVERTER/soc_pct",
                                 "/api/v1/history/inverter/" + "a" * 65,
                                 "/api/v1/history/inverter/soc%20pct"])
async def test_bad_point_names_are_422(client: httpx.AsyncClient, api_keys: Keys,
                                       url: str) -> None:
    assert (await get(client, api_keys, url)).status_code == 422


async def test_daily_energy(client: httpx.AsyncClient, api_keys: Keys, filled_db: tuple) -> None:
    rows = (await get(client, api_keys, "/api/v1/energy/daily",
                      **{"from": at(T0), "to": at(T0 + 2 * 86400)})).json()
    # T0 is 21:13 local; 30 h of data end at 03:13 local two days later
    assert [r["date"] for r in rows] == ["2026-09-21", "2026-09-22", "2026-09-23"]
    full = rows[1]  # 2026-09-22 local: 24 h of data
    assert full["hours"] == pytest.approx(24.0)
    assert full["load_kwh"] == pytest.approx(6.0 * 24)
    src = full["sources"]
    assert set(src) == {"mppt-1", "mppt-2"}
    assert full["pv_kwh"] == pytest.approx(src["mppt-1"]["pv"] + src["mppt-2"]["pv"])
    # a sine day of 40 kW peak over 12 h: 40 × 24/π ≈ 305.6 kWh
    assert full["pv_kwh"] == pytest.approx(40 * 24 / 3.14159, rel=0.01)
    # battery: in 0.97 × PV − 6.3 kW while positive, out the rest; net = 0.97 PV − 6.3 × 24
    net = full["battery_charge_kwh"] - full["battery_discharge_kwh"]
    assert net == pytest.approx(0.97 * full["pv_kwh"] - 6.3 * 24, rel=1e-6)
    assert full["battery_discharge_kwh"] > 6.3 * 12  # at least every night hour
    assert full["generator_kwh"] is None
    assert full["methods"] == {"pv": ["counter"], "load": ["integrated"],
                               "battery_charge": ["integrated"],
                               "battery_discharge": ["integrated"]}
    assert full["soc_min_pct"] == pytest.approx(60.0) and full["do_min_mg_l"] == pytest.approx(5)
    assert full["aerator_h"] == pytest.approx(3 * 24)


async def test_reliability_per_month_and_year_to_date(client: httpx.AsyncClient,
                                                     api_keys: Keys) -> None:
    body = (await get(client, api_keys, "/api/v1/reliability", year=2026)).json()
    # The shrimp site serves 2 customers: aerators and farmhouse (the pump is flexible).
    assert body["customers_served"] == 2 and body["year"] == 2026
    assert (body["saidi_target_minutes"], body["saifi_target_count"]) == (150.0, 3.0)
    sep = next(m for m in body["months"] if m["period"] == "2026-09")
    # 1 customer × 10 min + 1 × 60 min planned = 70 customer-minutes over 2 customers;
    # 2 customers interrupted; the 2-minute one is momentary; the pump's 1.5 h is curtailment
    want = {"saidi_minutes": 35.0, "saidi_planned_minutes": 30.0,
            "saidi_unplanned_minutes": 5.0, "saifi_count": 1.0, "saifi_planned_count": 0.5,
            "saifi_unplanned_count": 0.5, "maifi_count": 0.5, "interruptions": 2,
            "momentary_interruptions": 1, "curtailment_hours": 1.5, "curtailments": 1}
    assert {k: sep[k] for k in want} == pytest.approx(want)
    assert {k: body["year_to_date"][k] for k in want} == pytest.approx(want)
    assert all(m["saidi_minutes"] == 0.0 for m in body["months"] if m is not sep)
    assert body["planned_cut"] is None


async def test_reliability_shows_the_planned_cut_in_progress(
        db: Path, site: Site, client: httpx.AsyncClient, api_keys: Keys) -> None:
    store = Store(db, site.site.timezone)
    store.set_state(T0, "planned_cut", {"start_ts": T0, "reason": "new battery", "by": "ops"})
    store.close()
    body = (await get(client, api_keys, "/api/v1/reliability")).json()
    assert body["planned_cut"] == {"start_ts": T0, "reason": "new battery", "by": "ops",
                                   "ends_by_ts": T0 + 72 * 3600}
    r = await client.post("/api/v1/commands/planned-cut",
                          json={"action": "start", "reason": "again"},
                          headers=api_keys.headers("operator"))
    assert r.status_code == 409, r.text
    r = await client.post("/api/v1/commands/planned-cut", json={"action": "end"},
                          headers=api_keys.headers("operator"))
    assert r.status_code == 202, r.text
    cmd = read_command(readers.connect(db, readonly=True), r.json()["id"])
    assert cmd is not None and (cmd.kind, cmd.value) == ("planned_cut", {"action": "end"})
    audit = readers.read_api_audit(readers.connect(db, readonly=True), 1)
    assert audit[0]["before"] == {"planned_cut": body["planned_cut"]}


async def test_a_planned_cut_is_sent_with_its_reason(client: httpx.AsyncClient, db: Path,
                                                     api_keys: Keys) -> None:
    r = await client.post("/api/v1/commands/planned-cut",
                          json={"action": "start", "reason": "replace the inverter"},
                          headers=api_keys.headers("operator"))
    assert r.status_code == 202, r.text
    assert r.json()["value"] == {"action": "start", "reason": "replace the inverter"}


async def test_alarms_and_events(client: httpx.AsyncClient, api_keys: Keys) -> None:
    active = (await get(client, api_keys, "/api/v1/alarms", active=True)).json()
    past = (await get(client, api_keys, "/api/v1/alarms", active=False)).json()
    every = (await get(client, api_keys, "/api/v1/alarms")).json()
    assert [a["kind"] for a in active] == ["low_do"]
    assert [a["kind"] for a in past] == ["device_offline"]
    assert past[0]["cleared_ts"] == T0 + 9000
    assert len(every) == 2
    events = (await get(client, api_keys, "/api/v1/events", limit=2)).json()
    assert len(events) == 2
    kinds = {e["kind"] for e in (await get(client, api_keys, "/api/v1/events")).json()}
    assert {"controller_start", "alarm_raised", "alarm_cleared"} <= kinds


async def test_devices_health_from_the_controllers_polls(
        db: Path, site: Site, client: httpx.AsyncClient, api_keys: Keys) -> None:
    devices = {d["name"]: d for d in (await get(client, api_keys, "/api/v1/devices")).json()}
    assert set(devices) == {"mppt-1", "mppt-2", "relays", "do-probe", "genset", "inverter"}
    assert devices["relays"]["points"] == 8
    # the controller last reported in September: nothing is known about now
    assert {d["health"] for d in devices.values()} == {"stale"}
    assert devices["genset"]["online"] is False and devices["genset"]["error"] == "timeout"
    # Now: the relays answer although no value changed (latest.ts stays old), the genset not.
    import time  # noqa: PLC0415

    now = time.time()
    store = Store(db, site.site.timezone)
    store.write_cycle(now, [], {}, 0.0, health=[
        DeviceHealth("relays", True, now, now), DeviceHealth("genset", False, now, T0, "timeout")])
    store.close()
    devices = {d["name"]: d for d in (await get(client, api_keys, "/api/v1/devices")).json()}
    assert devices["relays"]["health"] == "online" and devices["relays"]["age_s"] < 60
    assert devices["genset"]["health"] == "offline" and devices["genset"]["last_ok_ts"] == T0
    assert devices["inverter"]["health"] == "stale"
    metrics = (await get(client, api_keys, "/metrics")).text
    assert 'offgrid_device_online{device="relays"} 1' in metrics
    assert 'offgrid_device_online{device="genset"} 0' in metrics


async def test_site_summary(client: httpx.AsyncClient, api_keys: Keys) -> None:
    body = (await get(client, api_keys, "/api/v1/site")).json()
    assert body["name"] == "Bac Lieu shrimp pond 1 ha"
    assert body["figures"] == {name: [f"site/{name}"] for name in SITE_FIGURES}
    assert body["control"]["shed_soc_pct"] == 35


async def controller_acks(db: Path, site: Site, status: str) -> None:
    """What the controller does at its next cycle: acknowledge pending commands."""
    store = Store(db, site.site.timezone)
    try:
        for _ in range(200):
            pending = store.pending_commands(T0)
            if pending:
                for cmd in pending:
                    store.ack_command(T0, cmd.id, status, {"before": 35, "after": 40})
                return
            await asyncio.sleep(0.01)
    finally:
        store.close()


@pytest.mark.parametrize("status", ["done", "rejected"])
async def test_command_returns_the_controllers_ack(db: Path, site: Site, app,
                                                   api_keys: Keys, status: str) -> None:
    app.state.ctx.settings = app.state.ctx.settings.model_copy(update={"command_wait_s": 10.0,
                                                                       "command_poll_s": 0.01})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1") as c:
        post = c.post("/api/v1/commands/threshold", json={"key": "shed_soc_pct", "value": 40},
                      headers=api_keys.headers("admin"))
        r, _ = await asyncio.gather(post, controller_acks(db, site, status))
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == status and body["result"] == {"before": 35, "after": 40}
    assert body["requested_by"].startswith("test-admin#")
    audit = readers.read_audit(readers.connect(db, readonly=True))
    assert [(a["actor"], a["action"]) for a in audit] == [(body["requested_by"],
                                                          "command.set_threshold")]
    assert audit[0]["detail"]["result"] == {"before": 35, "after": 40}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1") as c:
        log = (await c.get("/api/v1/audit", headers=api_keys.headers("admin"))).json()
    assert log == [{"command_id": body["id"], "ts": pytest.approx(body["created_ts"], abs=5),
                    "actor": body["requested_by"], "kind": "set_threshold", "target": None,
                    "before": {"value": 35.0}, "after": {"key": "shed_soc_pct", "value": 40.0},
                    "status": status, "result": {"before": 35, "after": 40},
                    "acked_ts": T0}]


async def test_unanswered_command_is_202_and_expires(client: httpx.AsyncClient, db: Path,
                                                     api_keys: Keys) -> None:
    r = await client.post("/api/v1/commands/override-load",
                          json={"load": "farmhouse", "on": False, "expires_s": 3600},
                          headers=api_keys.headers("operator"))
    assert r.status_code == 202
    assert r.headers["location"] == f"/api/v1/commands/{r.json()['id']}"
    cmd = read_command(readers.connect(db, readonly=True), r.json()["id"])
    assert cmd is not None and cmd.status == "pending"
    assert cmd.value == {"load": "farmhouse", "on": False, "expires_s": 3600.0}
    assert cmd.expires_ts is not None and cmd.expires_ts > cmd.created_ts
    again = await client.get(r.headers["location"], headers=api_keys.headers("viewer"))
    assert again.json()["id"] == cmd.id


@pytest.mark.parametrize(("url", "body", "status"), [
    ("/api/v1/commands/override-load", {"load": "nobody", "on": True, "expires_s": 600}, 404),
    ("/api/v1/commands/override-load", {"load": "farmhouse", "on": True, "expires_s": 1}, 422),
    ("/api/v1/commands/override-load", {"load": "farmhouse", "on": "yes", "expires_s": 60,
                                        "extra": 1}, 422),
    ("/api/v1/commands/threshold", {"key": "do_on_mg_l", "value": 25}, 422),
    ("/api/v1/commands/threshold", {"key": "cycle_s", "value": 1}, 422),
    ("/api/v1/commands/generator", {"action": "explode"}, 422),
    ("/api/v1/commands/planned-cut", {"action": "start"}, 422),  # no reason
    ("/api/v1/commands/planned-cut", {"action": "start", "reason": " "}, 422),
    ("/api/v1/commands/planned-cut", {"action": "end"}, 409),  # none in progress
    ("/api/v1/alarms/999/ack", None, 404),
])
async def test_bad_commands(client: httpx.AsyncClient, api_keys: Keys, url: str,
                            body: dict | None, status: int) -> None:
    r = await client.post(url, json=body, headers=api_keys.headers("admin"))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"


async def test_body_size_is_bounded(client: httpx.AsyncClient, api_keys: Keys) -> None:
    big = json.dumps({"key": "shed_soc_pct", "value": 40, "pad": "x" * 20_000})
    r = await client.post("/api/v1/commands/threshold", content=big,
                          headers={**api_keys.headers("admin"),
                                   "content-type": "application/json"})
    assert r.status_code == 413

    async def chunks():  # no Content-Length: the limit applies while reading
        for _ in range(40):
            yield b"x" * 1000

    r = await client.post("/api/v1/commands/threshold", content=chunks(),
                          headers={**api_keys.headers("admin"),
                                   "content-type": "application/json"})
    assert r.status_code == 413


async def test_stream_sends_status_events(client: httpx.AsyncClient, api_keys: Keys) -> None:
    r = await get(client, api_keys, "/api/v1/stream", max_events=1)
    assert r.headers["content-type"].startswith("text/event-stream")
    events = [blk for blk in r.text.split("\n\n") if blk.startswith("id:")]
    assert len(events) == 1
    lines = dict(line.split(": ", 1) for line in events[0].split("\n"))
    assert lines["event"] == "status"
    assert json.loads(lines["data"])["site"] == "Bac Lieu shrimp pond 1 ha"


async def test_metrics_text(client: httpx.AsyncClient, api_keys: Keys) -> None:
    await get(client, api_keys, "/api/v1/status")
    text = (await get(client, api_keys, "/metrics")).text
    assert '# TYPE offgrid_point_value gauge' in text
    assert 'offgrid_point_value{device="inverter",point="ac_w",quality="good"} 6000' in text
    assert 'offgrid_api_requests_total{method="GET",route="/api/v1/status",status="200"} 1' \
        in text
    assert 'offgrid_alarms_active 1' in text


async def test_healthz_needs_no_key(client: httpx.AsyncClient) -> None:
    body = (await client.get("/healthz")).json()
    assert body["status"] == "ok" and body["last_sample_age_s"] > 0
    assert body["schema_version"] == ALL_MIGRATIONS[-1]


async def test_dashboard_is_public(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    for asset in ("app.js", "charts.js", "http.js", "i18n.js", "style.css"):
        assert (await client.get(f"/static/{asset}")).status_code == 200


async def test_open_streams_per_key_are_bounded(app, client: httpx.AsyncClient,
                                                api_keys: Keys) -> None:
    me = (await get(client, api_keys, "/api/v1/me")).json()
    app.state.ctx.streams[me["id"]] = 4  # as if four were open
    r = await get(client, api_keys, "/api/v1/stream", max_events=1)
    assert r.status_code == 429
    app.state.ctx.streams[me["id"]] = 3
    assert (await get(client, api_keys, "/api/v1/stream", max_events=1)).status_code == 200
    assert app.state.ctx.streams[me["id"]] == 3  # the finished stream gave its place back


async def test_security_headers(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


async def test_past_alarms_are_limited_after_filtering(client: httpx.AsyncClient,
                                                       api_keys: Keys) -> None:
    past = (await get(client, api_keys, "/api/v1/alarms", active=False, limit=1)).json()
    assert [a["kind"] for a in past] == ["device_offline"]  # the newest alarm is active


async def test_an_infinite_value_in_the_store_is_null(db: Path, site: Site,
                                                      client: httpx.AsyncClient,
                                                      api_keys: Keys) -> None:
    store = Store(db, site.site.timezone)
    ts = T0 + 31 * 3600
    store.write_cycle(ts, [Sample("inverter", "ac_w", float("inf"), "good", ts)], {}, 0.0)
    store.close()
    r = await get(client, api_keys, "/api/v1/status")
    assert r.status_code == 200
    assert next(p for p in r.json()["points"] if p["point"] == "ac_w")["value"] is None
    h = await get(client, api_keys, "/api/v1/history/inverter/ac_w", resolution="raw",
                  **{"from": at(ts - 60), "to": at(ts + 1)})
    assert h.status_code == 200 and h.json()["avg"] == [None]


async def test_light_status_for_slow_links(client: httpx.AsyncClient, api_keys: Keys) -> None:
    full = await get(client, api_keys, "/api/v1/status")
    light = await get(client, api_keys, "/api/v1/status", points="false")
    assert light.json()["points"] == []
    assert {k: f["value"] for k, f in light.json()["figures"].items()} == \
        {k: f["value"] for k, f in full.json()["figures"].items()}
    assert len(light.content) < len(full.content) - 18 * 80  # 18 points of ~100 bytes gone
    r = await get(client, api_keys, "/api/v1/stream", max_events=1, points="false")
    data = next(line for line in r.text.split("\n") if line.startswith("data: "))
    event = json.loads(data[6:])
    assert "points" not in event and event["soc_pct"]["value"] is not None


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("do_on_mg_l", 25, "control.do_on_mg_l: Input should be less than or equal to 20"),
    ("shed_soc_pct", -1, "control.shed_soc_pct: Input should be greater than or equal to 0"),
    ("reconnect_soc_pct", 20, "control.reconnect_soc_pct: must be above control.shed_soc_pct"),
])
async def test_a_threshold_is_checked_against_the_whole_site(
        client: httpx.AsyncClient, api_keys: Keys, key: str, value: float, reason: str) -> None:
    r = await client.post("/api/v1/commands/threshold", json={"key": key, "value": value},
                          headers=api_keys.headers("admin"))
    assert r.status_code == 422
    assert r.json()["detail"].startswith(f"{key} = {value:g}: ")
    assert reason in r.json()["detail"]
    listed = (await client.get("/openapi.json", headers=api_keys.headers("viewer"))).json()
    enum = listed["components"]["schemas"]["ThresholdCreate"]["properties"]["key"]["enum"]
    assert tuple(enum) == SETTABLE_CONTROL_KEYS
