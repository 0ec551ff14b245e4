"""Customer keys: scoped to named loads; they see those loads only, switch only the flexible ones
among them, and nothing else (no other customer's loads, no generator, no thresholds, no keys,
no site-wide data)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI

from api import keys
from api.roles import STAFF, Role
from api.routes.customer import HOLD_S, meters_of, relay_hours
from sitefile import Site
from store import readers
from store.commands import open_database
from tests.api.conftest import CUSTOMER_LOAD, NEIGHBOUR_LOAD, T0, Keys
from tests.store.test_schema import ALL as ALL_MIGRATIONS

V1_FIXTURE = Path(__file__).parents[1] / "store" / "fixtures" / "v1_site.db"
OVERRIDE = {"on": True, "expires_s": 600}


def test_customer_is_no_staff_role_and_no_staff_role_is_a_customer() -> None:
    c = Role.customer
    assert not c.staff and all(r.staff for r in STAFF)
    assert [c.allows(r) for r in STAFF] == [False, False, False]
    assert [r.allows(c) for r in STAFF] == [False, False, False]
    assert c.allows(c)
    assert Role.admin.allows(Role.viewer) and not Role.viewer.allows(Role.operator)


def test_scope_is_checked() -> None:
    site_loads = ["aerators", "farmhouse", "exchange-pump"]
    assert keys.scope_problem(Role.customer, ["farmhouse"], site_loads) is None
    assert "needs its loads" in str(keys.scope_problem(Role.customer, [], site_loads))
    assert "'aircon'" in str(keys.scope_problem(Role.customer, ["aircon"], site_loads))
    assert "twice" in str(keys.scope_problem(Role.customer, ["farmhouse"] * 2, site_loads))
    assert "every load" in str(keys.scope_problem(Role.viewer, ["farmhouse"], site_loads))


async def test_me_shows_the_customer_its_loads(client: httpx.AsyncClient,
                                               api_keys: Keys) -> None:
    me = (await client.get("/api/v1/me", headers=api_keys.headers("customer"))).json()
    assert me["role"] == "customer" and me["loads"] == [CUSTOMER_LOAD]
    staff = (await client.get("/api/v1/me", headers=api_keys.headers("viewer"))).json()
    assert staff["loads"] == []


async def test_a_customer_sees_only_its_own_loads(app: FastAPI, client: httpx.AsyncClient,
                                                  api_keys: Keys) -> None:
    """At the end of the fixture's 30 h (2026-09-23 03:13 local): the farmhouse's relay was
    closed throughout, the pump's open."""
    app.state.ctx.wall = lambda: T0 + 30 * 3600.0
    mine = (await client.get("/api/v1/me/loads", headers=api_keys.headers("customer"))).json()
    assert [ld["name"] for ld in mine["loads"]] == [CUSTOMER_LOAD]
    assert (mine["today"], mine["month"], mine["last_month"]) == ("2026-09-23", "2026-09",
                                                                  "2026-08")
    pump = mine["loads"][0]
    assert pump["flexible"] and pump["can_switch"] and pump["on"] is False
    assert pump["hours_on"] == {"today": 0.0, "month": 0.0, "last_month": 0.0}
    assert pump["hours_known"]["today"] == pytest.approx(3 + 13 / 60, abs=0.05)
    assert pump["hours_known"]["month"] == pytest.approx(30.0, abs=0.05)
    assert pump["hours_known"]["last_month"] == 0.0
    assert pump["kwh"] is None and pump["meters"] == []  # no meter measures it
    assert mine["shed_first"] == [CUSTOMER_LOAD] and pump["shed_rank"] == 1
    assert mine["sheddable"] == 2
    text = str(mine)
    assert NEIGHBOUR_LOAD not in text and "aerators" not in text and "soc" not in text

    theirs = (await client.get("/api/v1/me/loads",
                               headers=api_keys.headers("neighbour"))).json()
    house = theirs["loads"][0]
    assert [ld["name"] for ld in theirs["loads"]] == [NEIGHBOUR_LOAD]
    assert not house["flexible"] and not house["can_switch"] and house["on"] is True
    assert house["hours_on"]["today"] == pytest.approx(3 + 13 / 60, abs=0.05)
    assert house["hours_on"]["month"] == pytest.approx(30.0, abs=0.05)
    assert house["shed_rank"] == 2 and CUSTOMER_LOAD not in str(theirs)


async def test_staff_see_every_load_and_only_operators_get_switches(
        client: httpx.AsyncClient, api_keys: Keys) -> None:
    for role, pump_switch in (("viewer", False), ("operator", True), ("admin", True)):
        body = (await client.get("/api/v1/me/loads", headers=api_keys.headers(role))).json()
        assert [ld["name"] for ld in body["loads"]] == ["aerators", NEIGHBOUR_LOAD,
                                                         CUSTOMER_LOAD]
        switch = {ld["name"]: ld["can_switch"] for ld in body["loads"]}
        assert switch == {"aerators": False, NEIGHBOUR_LOAD: False, CUSTOMER_LOAD: pump_switch}
        assert body["shed_first"] == [CUSTOMER_LOAD, NEIGHBOUR_LOAD]
        assert [ld["shed_rank"] for ld in body["loads"]] == [None, 2, 1]


async def test_a_customer_switches_its_flexible_load_through_the_command_path(
        client: httpx.AsyncClient, api_keys: Keys, db: Path) -> None:
    h = api_keys.headers("customer")
    r = await client.post("/api/v1/commands/override-load", headers=h,
                          json={"load": CUSTOMER_LOAD, **OVERRIDE})
    assert r.status_code == 202, r.text
    cmd = r.json()
    assert (cmd["kind"], cmd["target"], cmd["status"]) == ("override_load", CUSTOMER_LOAD,
                                                            "pending")
    assert cmd["requested_by"].endswith("(customer)") and cmd["expires_ts"] is not None
    assert (await client.get(r.headers["Location"], headers=h)).status_code == 200
    # the same command row and audit as an operator's
    conn = readers.connect(db, readonly=True)
    audit = readers.read_api_audit(conn, 10)
    assert [(a["kind"], a["target"], a["actor"]) for a in audit] == [
        ("override_load", CUSTOMER_LOAD, cmd["requested_by"])]
    conn.close()


async def test_a_customer_cannot_see_or_switch_another_customers_loads(
        client: httpx.AsyncClient, api_keys: Keys) -> None:
    mine, theirs = api_keys.headers("customer"), api_keys.headers("neighbour")
    # switch the other's load: 403, whether it is flexible or not
    r = await client.post("/api/v1/commands/override-load", headers=mine,
                          json={"load": NEIGHBOUR_LOAD, **OVERRIDE})
    assert r.status_code == 403
    r = await client.post("/api/v1/commands/override-load", headers=theirs,
                          json={"load": CUSTOMER_LOAD, **OVERRIDE})
    assert r.status_code == 403
    # its own load, but not flexible: only staff switch it
    r = await client.post("/api/v1/commands/override-load", headers=theirs,
                          json={"load": NEIGHBOUR_LOAD, **OVERRIDE})
    assert r.status_code == 403 and "not flexible" in r.json()["detail"]
    # a load name that does not exist says nothing either
    r = await client.post("/api/v1/commands/override-load", headers=mine,
                          json={"load": "aircon", **OVERRIDE})
    assert r.status_code == 403
    # another's commands: neither listed nor readable
    made = (await client.post("/api/v1/commands/override-load", headers=mine,
                              json={"load": CUSTOMER_LOAD, **OVERRIDE})).json()
    staff = (await client.post("/api/v1/commands/override-load",
                               headers=api_keys.headers("operator"),
                               json={"load": NEIGHBOUR_LOAD, **OVERRIDE})).json()
    assert (await client.get(f"/api/v1/commands/{made['id']}", headers=theirs)).status_code \
        == 404
    assert (await client.get(f"/api/v1/commands/{staff['id']}", headers=mine)).status_code \
        == 404
    listed = (await client.get("/api/v1/commands", headers=mine)).json()
    assert [c["id"] for c in listed] == [made["id"]]
    assert (await client.get("/api/v1/commands", headers=theirs)).json() == []
    all_of_them = (await client.get("/api/v1/commands",
                                    headers=api_keys.headers("viewer"))).json()
    assert {c["id"] for c in all_of_them} == {made["id"], staff["id"]}


@pytest.mark.parametrize(("method", "url", "body"), [
    ("POST", "/api/v1/commands/generator", {"action": "start"}),
    ("POST", "/api/v1/commands/threshold", {"key": "shed_soc_pct", "value": 40}),
    ("POST", "/api/v1/commands/planned-cut", {"action": "start", "reason": "x"}),
    ("POST", "/api/v1/alarms/1/ack", None),
    ("POST", "/api/v1/keys", {"role": "customer", "name": "x", "loads": ["farmhouse"]}),
    ("GET", "/api/v1/keys", None),
    ("GET", "/api/v1/status", None),
    ("GET", "/api/v1/history/relays/relay_7", None),
    ("GET", "/api/v1/energy/daily", None),
    ("GET", "/api/v1/stream", None),
    ("GET", "/metrics", None),
    ("GET", "/openapi.json", None),
])
async def test_a_customer_cannot_start_the_generator_change_thresholds_or_see_the_site(
        client: httpx.AsyncClient, api_keys: Keys, method: str, url: str,
        body: dict[str, Any] | None) -> None:
    r = await client.request(method, url, headers=api_keys.headers("customer"), json=body)
    assert r.status_code == 403, r.text


async def test_admins_create_customer_keys_with_their_loads(client: httpx.AsyncClient,
                                                            api_keys: Keys) -> None:
    admin = api_keys.headers("admin")
    made = await client.post("/api/v1/keys", headers=admin, json={
        "role": "customer", "name": "nha-ba-tu", "loads": [NEIGHBOUR_LOAD, CUSTOMER_LOAD]})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["loads"] == [NEIGHBOUR_LOAD, CUSTOMER_LOAD]
    me = (await client.get("/api/v1/me/loads", headers={"X-API-Key": body["key"]})).json()
    assert [ld["name"] for ld in me["loads"]] == [NEIGHBOUR_LOAD, CUSTOMER_LOAD]
    assert me["shed_first"] == [CUSTOMER_LOAD, NEIGHBOUR_LOAD]
    listed = {k["id"]: k["loads"] for k in
              (await client.get("/api/v1/keys", headers=admin)).json()}
    assert listed[body["id"]] == [NEIGHBOUR_LOAD, CUSTOMER_LOAD]
    for bad in ({"role": "customer", "loads": ["aircon"]}, {"role": "customer"},
                {"role": "viewer", "loads": [CUSTOMER_LOAD]}):
        r = await client.post("/api/v1/keys", headers=admin, json=bad)
        assert r.status_code == 422, bad


def test_relay_hours_integrate_the_samples_and_leave_gaps_unknown() -> None:
    def rows(*pairs: tuple[float, float | None]) -> list[dict[str, Any]]:
        return [{"ts": ts, "value": v} for ts, v in pairs]

    # on from 0 to 1800, off to 3600; a second channel on 1200–2400
    a = rows((-100.0, 1.0), *((t, 1.0) for t in (300.0, 600.0, 900.0, 1200.0, 1500.0)),
             *((t, 0.0) for t in (1800.0, 2100.0, 2400.0, 2700.0, 3000.0, 3300.0)))
    b = rows((1200.0, 1.0), (1500.0, 1.0), (1800.0, 1.0), (2100.0, 1.0), (2400.0, 0.0))
    on, known = relay_hours([a, b], 0.0, 3600.0)
    assert on == pytest.approx(2400 / 3600) and known == pytest.approx(1.0)
    # a gap longer than HOLD_S is unknown, neither on nor off
    gap = rows((0.0, 1.0), (HOLD_S + 1000.0, 1.0))
    on, known = relay_hours([gap], 0.0, HOLD_S + 1000.0)
    assert on == known == pytest.approx(HOLD_S / 3600)
    assert relay_hours([rows((0.0, None))], 0.0, 100.0) == (0.0, 0.0)


def test_shedding_order_is_by_priority_largest_number_first(site: Site) -> None:
    # the pump (priority 11, after the farmhouse's 10 in file order) goes first; the
    # aerators, critical, never
    assert [ld.name for ld in site.shedding_order] == [CUSTOMER_LOAD, NEIGHBOUR_LOAD]


def test_meters_are_the_devices_that_measure_a_load() -> None:
    fake = cast(Site, SimpleNamespace(devices=[
        SimpleNamespace(name="relays"), SimpleNamespace(name="m1", measures="farmhouse"),
        SimpleNamespace(name="m2", measures="exchange-pump")]))
    assert meters_of(fake, "farmhouse") == ["m1"] and meters_of(fake, "aerators") == []


def test_a_database_of_the_first_release_takes_customer_keys(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    shutil.copyfile(V1_FIXTURE, path)
    conn = open_database(path)
    assert readers.applied_migrations(conn) == ALL_MIGRATIONS
    old = readers.read_key(conn, "0123456789ab")
    assert old is not None and old["role"] == "admin"
    key, _ = keys.create_key(conn, Role.customer, "c", by="test", loads=[CUSTOMER_LOAD])
    info = keys.KeyVerifier(conn).verify(key)
    assert info is not None and info.role is Role.customer and info.loads == (CUSTOMER_LOAD,)
    with pytest.raises(keys.BadScope):
        keys.create_key(conn, Role.customer, "c", by="test")
    conn.close()


async def test_the_customer_page_is_public_and_fits_the_content_security_policy(
        client: httpx.AsyncClient) -> None:
    """Served as static files, with no inline style or script (the CSP, default-src 'self',
    would block them)."""
    page = await client.get("/static/customer.html")
    assert page.status_code == 200
    assert "<style" not in page.text and "<script>" not in page.text and " style=" not in page.text
    for asset in ("customer.js", "customer.css", "http.js", "i18n.js", "style.css"):
        assert f"/static/{asset}" in page.text
        assert (await client.get(f"/static/{asset}")).status_code == 200
