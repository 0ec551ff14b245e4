"""The fleet API through a real HTTP server (uvicorn on a free port) on the real PostgreSQL and
the real broker: keys and their roles and scopes, the readers' figures, commands and the
keep-alive down to a site, and errors as problem details.

:func:`seed` fills a hub database through the hub's own writers (States, Events and batches, as
the ingest stores them) with four sites in two provinces and known interruptions; the fleet
dashboard's browser test seeds with it too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import paho.mqtt.client as mqtt
import psycopg
import pytest
import uvicorn
from typer.testing import CliRunner

from api.roles import Role
from fleetwire.batch import Batch, Record, decode_columns, encode_batch
from fleetwire.messages import Alarm, Events, Interruption, State, decode_command, decode_live
from hub import keys
from hub.api import HubApiSettings, create_app
from hub.events import store_events
from hub.schema import Conn, create_schema, ensure_partitions
from hub.writer import ChannelSets, prepare, store_batches
from offgrid.cli import app
from tests.hub.conftest import WAIT_S, TestSite, hub_client
from tests.hub.servers import Broker
from tests.support import free_port, wait_for

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AN_GIANG, CA_MAU = "An Giang", "Cà Mau"


@dataclass(frozen=True)
class SeedSite:
    site: str
    name: str
    province: str
    customers: int
    do_mg_l: float | None
    # interruptions: (minutes after the seed month's start + 1 h, minutes, customers, planned)
    cuts: tuple[tuple[int, int, int, bool], ...]


SEED = (
    SeedSite("site-a", "Ấp Phú Hữu", AN_GIANG, 40, 5.2, ((0, 90, 40, False),)),
    SeedSite("site-b", "Vĩnh Tế", AN_GIANG, 60, None, ((120, 30, 60, True), (200, 3, 60, False))),
    SeedSite("site-c", "Đất Mũi", CA_MAU, 25, 4.1, ((60, 20, 25, False),)),
    SeedSite("site-d", "Hòn Khoai", CA_MAU, 10, None, ((300, 6, 10, False),)),
)
"""Four sites in two provinces. By hand, in the seed month (a 3-minute cut is momentary: MAIFI,
not SAIDI or SAIFI):
An Giang serves 100 customers: 40 × 90 + 60 × 30 = 5400 customer-minutes → SAIDI 54.0 min,
(40 + 60) / 100 → SAIFI 1.00; Cà Mau serves 35: 25 × 20 + 10 × 6 = 560 → SAIDI 16.0 min,
(25 + 10) / 35 → SAIFI 1.00. Both are over a month's share of the targets (150 / 12 = 12.5 min,
3 / 12 = 0.25)."""
EXPECTED = {AN_GIANG: (54.0, 1.0), CA_MAU: (16.0, 1.0)}
SILENT = "site-d"


@dataclass(frozen=True)
class Seeded:
    year: int
    month: int


def seed_month(now: datetime) -> datetime:
    """The start of the local month the seeded interruptions fall in: this month, or the last
    one while this month is less than 12 h old (every interruption must have ended by now)."""
    local = now.astimezone(TZ)
    start = datetime(local.year, local.month, 1, tzinfo=TZ)
    if now - start >= timedelta(hours=12):
        return start
    return datetime(local.year - (local.month == 1), (local.month - 2) % 12 + 1, 1, tzinfo=TZ)


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def seed(conn: Conn, now: datetime | None = None) -> Seeded:
    """Fill the hub's database as the ingest would, through its writers: each site's State
    (meta, figures), its interruptions and an alarm in Events, two hours of records in batches;
    then :data:`SILENT` has not been heard of for 3 h. Every site with records draws 800 W
    for the two whole hours before this one: 1.6 kWh each."""
    now = now or datetime.now(UTC)
    month = seed_month(now)
    ensure_partitions(conn, month)
    states = [State(site=s.site, boot=7, wall_ms=_ms(now), clock_trusted=True,
                    values={"soc_pct": 60.0 + i * 5, "do_mg_l": s.do_mg_l,
                            "pv_w": 2000.0 + 100 * i, "load_w": 900.0},
                    name=s.name, province=s.province, groups=("shrimp",) if s.do_mg_l else (),
                    customers=s.customers, outbox_rows=i, outbox_oldest_ms=None,
                    free_disk_bytes=10**9)
              for i, s in enumerate(SEED)]
    events = []
    for s in SEED:
        cuts = tuple(Interruption(boot=7, seq=k, load="homes", cause="load_shedding",
                                  start_ms=_ms(month + timedelta(minutes=60 + at)),
                                  end_ms=_ms(month + timedelta(minutes=60 + at + minutes)),
                                  customers=customers, planned=planned)
                     for k, (at, minutes, customers, planned) in enumerate(s.cuts))
        events.append(Events(s.site, 1, interruptions=cuts))
    low_do = Alarm("site-c", 7, 1, 1000, _ms(now - timedelta(minutes=20)), True, "low_do",
                   True, "critical", "DO 2.9 mg/L")
    events.append(Events("site-c", 2, alarms=(low_do,)))
    store_events(conn, events, states)
    prepare(conn)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)  # 2 whole hours
    batches = [Batch(s.site, 3, tuple(
        Record(7, k, k * 60_000, _ms(start) + k * 60_000, True,
               {"site/pv_w": 1000.0 + 10 * k, "site/load_w": 800.0, "site/soc_pct": 50 + k / 4})
        for k in range(120))) for s in SEED[:3]]
    store_batches(conn, [decode_columns(encode_batch(b)) for b in batches], ChannelSets({}))
    # the hub's clock cannot be wound back: the silent site's last message was 3 h ago
    conn.execute("UPDATE sites SET last_contact = now() - interval '3 hours' WHERE site = %s",
                 (SILENT,))
    conn.commit()
    return Seeded(month.year, month.month)


# --------------------------------------------------------------------------- a real server

@dataclass
class Server:
    url: str
    dsn: str
    keys: dict[str, str]

    def get(self, path: str, role: str | None = "admin", **kw: Any) -> httpx.Response:
        return httpx.get(self.url + path, headers=self._auth(role), timeout=30, **kw)

    def post(self, path: str, role: str | None = "admin", **kw: Any) -> httpx.Response:
        return httpx.post(self.url + path, headers=self._auth(role), timeout=30, **kw)

    def request_delete(self, key_id: str) -> httpx.Response:
        return httpx.delete(f"{self.url}/api/v1/keys/{key_id}", headers=self._auth("admin"),
                            timeout=30)

    def _auth(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.keys[role]}"}


def make_keys(conn: Conn) -> dict[str, str]:
    """A key of each role for every site, and viewer and operator keys for one province."""
    out = {}
    for role in (Role.viewer, Role.operator, Role.admin):
        out[role.value] = keys.create_key(conn, role, f"t-{role.value}")[0]
    out["an_giang"] = keys.create_key(conn, Role.operator, "ag-ops",
                                      keys.scope_of(provinces=[AN_GIANG]))[0]
    out["shrimp"] = keys.create_key(conn, Role.viewer, "shrimp",
                                    keys.scope_of(groups=["shrimp"]))[0]
    return out


@contextmanager
def serve(dsn: str, sender: mqtt.Client | None, silent_after_s: float = 1800.0
          ) -> Iterator[str]:
    """The fleet API (:func:`hub.api.create_app`) under uvicorn on a free port, in a thread."""
    port = free_port()
    fleet_app = create_app(HubApiSettings(dsn=dsn, silent_after_s=silent_after_s), sender)
    server = uvicorn.Server(uvicorn.Config(fleet_app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    def started() -> bool:
        assert thread.is_alive(), "the API stopped while starting"
        return bool(server.started)

    wait_for("the API to start", started, WAIT_S, step_s=0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(WAIT_S)


@pytest.fixture
def api_server(hub_db: Conn, hub_dsn: str, broker: Broker) -> Iterator[tuple[Server, Seeded]]:
    seeded = seed(hub_db)
    made = make_keys(hub_db)
    sender = hub_client(broker)
    try:
        with serve(hub_dsn, sender) as url:
            yield Server(url, hub_dsn, made), seeded
    finally:
        sender.disconnect()
        sender.loop_stop()


def problem_of(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["detail"]
    return body


# --------------------------------------------------------------------------- the tests

@pytest.mark.slow
def test_keys_roles_and_scopes(api_server: tuple[Server, Seeded]) -> None:
    srv, _ = api_server
    assert "Bearer" in problem_of(srv.get("/api/v1/sites", role=None), 401)["detail"]
    bad = httpx.get(srv.url + "/api/v1/sites", timeout=30,
                    headers={"Authorization": "Bearer ogk_000000000000_" + "A" * 43})
    assert problem_of(bad, 401)["detail"] == "unknown or revoked API key"
    # the same key in X-API-Key works as a bearer token does
    me = httpx.get(srv.url + "/api/v1/me", headers={"X-API-Key": srv.keys["an_giang"]},
                   timeout=30).json()
    assert (me["role"], me["scope"]) == ("operator", {"kind": "province", "names": [AN_GIANG]})

    every = srv.get("/api/v1/sites", role="viewer").json()
    assert [s["site"] for s in every] == ["site-a", "site-b", "site-c", "site-d"]
    assert [s["site"] for s in every if s["silent"]] == [SILENT]
    assert {s["site"]: s["do_mg_l"] for s in every} == {
        "site-a": 5.2, "site-b": None, "site-c": 4.1, "site-d": None}
    assert {s["site"]: s["active_alarms"] for s in every}["site-c"] == 1
    mine = srv.get("/api/v1/sites", role="an_giang").json()
    assert [(s["site"], s["province"]) for s in mine] == [("site-a", AN_GIANG),
                                                           ("site-b", AN_GIANG)]
    shrimp = srv.get("/api/v1/sites", role="shrimp").json()
    assert [s["site"] for s in shrimp] == ["site-a", "site-c"]
    # another province's site does not exist for a province key: 404, for reads and commands
    assert srv.get("/api/v1/sites/site-c", role="viewer").json()["name"] == "Đất Mũi"
    problem_of(srv.get("/api/v1/sites/site-c", role="an_giang"), 404)
    problem_of(srv.get("/api/v1/sites/site-c/series", role="an_giang"), 404)
    problem_of(srv.post("/api/v1/sites/site-c/commands", role="an_giang",
                        json={"name": "generator", "args": {"action": "start"}}), 404)
    problem_of(srv.post("/api/v1/sites/site-c/live", role="an_giang"), 404)
    assert srv.get("/api/v1/alarms", role="an_giang").json() == []
    # the site's own alarm, and the hub's for the silent site (Cà Mau's: not An Giang's)
    assert [(a["site"], a["kind"]) for a in srv.get("/api/v1/alarms", role="viewer").json()] \
        == [("site-c", "low_do"), (SILENT, "no_data")]  # both critical: newest first
    # a viewer sends no command, manages no key
    problem_of(srv.post("/api/v1/sites/site-a/commands", role="viewer",
                        json={"name": "generator", "args": {"action": "start"}}), 403)
    problem_of(srv.get("/api/v1/keys", role="operator"), 403)
    problem_of(srv.get("/api/v1/sites/Not A Site", role="viewer"), 422)
    problem_of(httpx.get(srv.url + "/openapi.json", timeout=30), 401)
    assert "/api/v1/sites" in srv.get("/openapi.json", role="viewer").json()["paths"]


@pytest.mark.slow
def test_reliability_energy_and_series(api_server: tuple[Server, Seeded]) -> None:
    srv, seeded = api_server
    body = srv.get(f"/api/v1/reliability?year={seeded.year}", role="viewer").json()
    rows = {(r["level"], r["key"], r["month"]): r for r in body["rows"]}
    for province, (saidi, saifi) in EXPECTED.items():
        row = rows["province", province, seeded.month]
        assert row["saidi_minutes"] == pytest.approx(saidi)
        assert row["saifi_count"] == pytest.approx(saifi)
        assert row["saidi_target_minutes"] == pytest.approx(12.5)
        assert row["within_target"] is False
    assert rows["site", "site-b", seeded.month]["maifi_count"] == pytest.approx(1.0)
    scoped = srv.get(f"/api/v1/reliability?year={seeded.year}", role="an_giang").json()
    assert {r["province"] for r in scoped["rows"] if r["level"] != "fleet"} == {AN_GIANG}
    problem_of(srv.get("/api/v1/reliability?year=1999", role="viewer"), 422)

    now = datetime.now(UTC)
    energy = srv.get(f"/api/v1/energy?year={now.astimezone(TZ).year}", role="viewer").json()
    fleet_year = next(r for r in energy["rows"] if r["level"] == "fleet" and r["month"] == 0)
    assert fleet_year["load_kwh"] == pytest.approx(3 * 1.6)  # 800 W for 2 h at 3 sites

    series = srv.get("/api/v1/sites/site-a/series?hours=3&step_s=600", role="viewer").json()
    soc = series["series"]["soc_pct"]
    known = [v for v in soc["v"] if v is not None]
    assert len(soc["t"]) == len(soc["v"]) >= 18 and len(known) >= 11
    assert all(50 <= v <= 80 for v in known)
    assert all(v is None for v in series["series"]["do_mg_l"]["v"])
    problem_of(srv.get("/api/v1/sites/site-a/series?step_s=1", role="viewer"), 422)


@pytest.mark.slow
def test_an_operator_sends_a_command_and_a_viewer_keeps_a_site_live(
        api_server: tuple[Server, Seeded], broker: Broker) -> None:
    srv, _ = api_server
    with TestSite(broker, "site-a") as site:
        sent = srv.post("/api/v1/sites/site-a/commands", role="an_giang",
                        json={"name": "generator", "args": {"action": "start"},
                              "expiry_s": 120})
        assert sent.status_code == 202, sent.text
        row = sent.json()
        assert (row["site"], row["status"], row["outcome"]) == ("site-a", "sent", "sent")
        assert "{at}" in row["outcome_text"]["vi"]
        command = decode_command(site.next("cmd").payload)
        assert (command.id, command.name, dict(command.args)) == (
            row["id"], "generator", {"action": "start"})
        assert command.expires_ms - command.issued_ms == 120_000
        assert command.by.startswith("ag-ops#")
        live = srv.post("/api/v1/sites/site-a/live", role="viewer")
        assert live.status_code == 200, live.text
        assert decode_live(site.next("live").payload).site == "site-a"
    shown = srv.get(f"/api/v1/commands/{row['id']}", role="viewer").json()
    assert shown["id"] == row["id"] and shown["outcome"] == "sent"
    listed = srv.get("/api/v1/sites/site-a/commands", role="viewer").json()
    assert [c["id"] for c in listed] == [row["id"]]
    # the command of another province's site is not there for a province key
    other = srv.post("/api/v1/sites/site-c/commands", role="operator",
                     json={"name": "generator", "args": {"action": "stop"}}).json()
    problem_of(srv.get(f"/api/v1/commands/{other['id']}", role="an_giang"), 404)
    assert "unknown command" in problem_of(srv.post(
        "/api/v1/sites/site-a/commands", role="operator",
        json={"name": "reboot", "args": {}}), 422)["detail"]
    problem_of(srv.post("/api/v1/sites/site-a/commands", role="operator",
                        json={"name": "generator", "expiry_s": 10**9}), 422)


@pytest.mark.slow
def test_admin_manages_keys_and_a_revoked_key_is_refused(
        api_server: tuple[Server, Seeded]) -> None:
    srv, _ = api_server
    made = srv.post("/api/v1/keys", json={"name": "field team", "role": "viewer",
                                          "provinces": [CA_MAU]})
    assert made.status_code == 201, made.text
    new = made.json()
    assert new["scope"] == {"kind": "province", "names": [CA_MAU]}
    srv.keys["new"] = new["key"]
    assert [s["site"] for s in srv.get("/api/v1/sites", role="new").json()] == ["site-c",
                                                                                "site-d"]
    listed = srv.get("/api/v1/keys").json()
    assert new["id"] in [k["id"] for k in listed] and all("key" not in k for k in listed)
    assert srv.request_delete(new["id"]).status_code == 200
    problem_of(srv.get("/api/v1/sites", role="new"), 401)
    problem_of(srv.post("/api/v1/keys", json={"name": "x", "role": "customer"}), 422)
    problem_of(srv.post("/api/v1/keys", json={"name": "x", "role": "viewer",
                                              "provinces": ["a"], "groups": ["b"]}), 422)


def test_a_read_only_hub_answers_503_to_commands(hub_db: Conn, hub_dsn: str) -> None:
    seed(hub_db)
    made = make_keys(hub_db)
    with serve(hub_dsn, None) as url:
        srv = Server(url, hub_dsn, made)
        assert srv.get("/api/v1/me", role="operator").json()["can_send"] is False
        problem_of(srv.post("/api/v1/sites/site-a/commands", role="operator",
                            json={"name": "generator", "args": {"action": "start"}}), 503)
        page = httpx.get(url + "/", timeout=30)
        assert page.status_code == 200 and "fleet.js" in page.text
        assert httpx.get(url + "/site-static/charts.js", timeout=30).status_code == 200
        problem_of(httpx.get(url + "/site-static/app.js", timeout=30), 404)


def test_the_schema_upgrade_makes_the_keys_table(hub_dsn: str) -> None:
    with psycopg.connect(hub_dsn) as conn:
        create_schema(conn)
        create_schema(conn)  # idempotent
        assert keys.list_keys(conn) == []


def test_serve_refuses_bad_options_and_an_unreachable_database(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["hub", "serve", "--dsn", "x", "--bind", "8090"])
    assert bad.exit_code == 2 and "HOST:PORT" in bad.output
    zone = runner.invoke(app, ["hub", "serve", "--dsn", "x", "--tz", "Mars/Olympus"])
    assert zone.exit_code == 2 and "time zone" in zone.output
    password = tmp_path / "pw"
    password.write_text("secret\n")
    no_ca = runner.invoke(app, ["hub", "serve", "--dsn", "x", "--password-file", str(password),
                                "--ca", str(tmp_path / "nope.pem")])
    assert no_ca.exit_code == 2 and "no such file" in no_ca.output
    dsn = f"host=127.0.0.1 port={free_port()} user=postgres connect_timeout=5"
    down = runner.invoke(app, ["hub", "serve", "--dsn", dsn])
    assert down.exit_code == 1 and "the hub's database" in down.output
