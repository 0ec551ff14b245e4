"""The auth matrix: every route × {no key, viewer, operator, admin, customer}; plus bearer
keys, revocation, bad keys and rate limiting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api import keys
from api.app import create_app
from api.settings import ApiSettings
from sitefile import Site
from tests.api.conftest import Keys

ROLES = [None, "viewer", "operator", "admin", "customer"]
RANK = {None: -1, "viewer": 0, "operator": 1, "admin": 2}
FROM_TO = {"from": "2026-09-21T14:00:00Z", "to": "2026-09-22T14:00:00Z"}

# (method, route template) → (minimum role, concrete request, success status)
MATRIX: dict[tuple[str, str], tuple[str | None, dict, int]] = {
    ("GET", "/healthz"): (None, {}, 200),
    ("GET", "/metrics"): ("viewer", {}, 200),
    ("GET", "/api/v1/site"): ("viewer", {}, 200),
    ("GET", "/api/v1/status"): ("viewer", {}, 200),
    ("GET", "/api/v1/devices"): ("viewer", {}, 200),
    ("GET", "/api/v1/points"): ("viewer", {}, 200),
    ("GET", "/api/v1/history/{device}/{point}"):
        ("viewer", {"url": "/api/v1/history/mppt-1/pv_w", "params": FROM_TO}, 200),
    ("GET", "/api/v1/energy/daily"): ("viewer", {"params": FROM_TO}, 200),
    ("GET", "/api/v1/loads/energy"): ("viewer", {"params": FROM_TO}, 200),
    ("GET", "/api/v1/reliability"): ("viewer", {}, 200),
    ("GET", "/api/v1/alarms"): ("viewer", {}, 200),
    ("GET", "/api/v1/events"): ("viewer", {}, 200),
    ("GET", "/api/v1/commands"): ("viewer", {}, 200),
    ("GET", "/api/v1/commands/{command_id}"): ("viewer", {"url": "/api/v1/commands/999"}, 404),
    ("GET", "/api/v1/stream"): ("viewer", {"params": {"max_events": 1}}, 200),
    ("POST", "/api/v1/commands/override-load"):
        ("operator", {"json": {"load": "farmhouse", "on": False, "expires_s": 600}}, 202),
    ("POST", "/api/v1/commands/generator"): ("operator", {"json": {"action": "start"}}, 202),
    ("POST", "/api/v1/commands/planned-cut"):
        ("operator", {"json": {"action": "start", "reason": "maintenance"}}, 202),
    ("POST", "/api/v1/alarms/{alarm_id}/ack"): ("operator", {"url": "/api/v1/alarms/1/ack"}, 202),
    ("POST", "/api/v1/commands/threshold"):
        ("admin", {"json": {"key": "shed_soc_pct", "value": 40}}, 202),
    ("GET", "/api/v1/me"): ("viewer", {}, 200),
    ("GET", "/api/v1/me/loads"): ("viewer", {}, 200),
    ("GET", "/api/v1/audit"): ("admin", {}, 200),
    ("GET", "/api/v1/keys"): ("admin", {}, 200),
    ("POST", "/api/v1/keys"): ("admin", {"json": {"role": "viewer", "name": "x"}}, 201),
    ("DELETE", "/api/v1/keys/{key_id}"): ("admin", {"url": "/api/v1/keys/0123456789ab"}, 404),
}


# What a customer key (scoped to the exchange pump) may do: (request, success status); any
# route not here is 403 for it. Where its request differs from the staff's, it is its own.
CUSTOMER: dict[tuple[str, str], tuple[dict[str, Any], int]] = {
    ("GET", "/api/v1/me"): ({}, 200),
    ("GET", "/api/v1/me/loads"): ({}, 200),
    ("GET", "/api/v1/commands"): ({}, 200),
    ("GET", "/api/v1/commands/{command_id}"): ({"url": "/api/v1/commands/999"}, 404),
    ("POST", "/api/v1/commands/override-load"):
        ({"json": {"load": "exchange-pump", "on": True, "expires_s": 600}}, 202),
}


def test_matrix_covers_every_route(app: FastAPI) -> None:
    routes = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops}
    assert routes == set(MATRIX)
    assert set(CUSTOMER) <= routes


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
async def test_auth_matrix(client: httpx.AsyncClient, api_keys: Keys, route: tuple[str, str],
                           role: str | None) -> None:
    method, template = route
    needed, req, ok = MATRIX[route]
    if role == "customer":
        req, ok = CUSTOMER.get(route, (req, ok))
    req = dict(req)
    url = req.pop("url", template)
    r = await client.request(method, url, headers=api_keys.headers(role), **req)
    if role == "customer" and route not in CUSTOMER and needed is not None:
        assert r.status_code == 403, r.text
        assert r.json()["title"] == "Forbidden"
    elif role == "customer" or RANK[role] >= RANK[needed]:
        assert r.status_code == ok, r.text
    elif role is None:
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 401
        assert "WWW-Authenticate" in r.headers
    else:
        assert r.status_code == 403
        assert r.json()["title"] == "Forbidden"


async def test_the_schema_needs_a_key_and_there_is_no_cdn_docs_page(
        client: httpx.AsyncClient, api_keys: Keys) -> None:
    assert (await client.get("/openapi.json")).status_code == 401
    schema = await client.get("/openapi.json", headers=api_keys.headers("viewer"))
    assert schema.json()["info"]["title"] == "offgrid monitoring API"
    assert (await client.get("/docs")).status_code == 404


async def test_bearer_token_is_accepted(client: httpx.AsyncClient, api_keys: Keys) -> None:
    r = await client.get("/metrics", headers={"Authorization": f"Bearer {api_keys.viewer}"})
    assert r.status_code == 200
    assert "offgrid_site_value" in r.text


@pytest.mark.parametrize("bad", ["nonsense", "ogk_0123456789ab_" + "A" * 43, "x" * 5000])
async def test_bad_keys_are_401(client: httpx.AsyncClient, api_keys: Keys, bad: str) -> None:
    r = await client.get("/api/v1/status", headers={"X-API-Key": bad})
    assert r.status_code == 401


async def test_tampered_key_is_401(client: httpx.AsyncClient, api_keys: Keys) -> None:
    key = api_keys.admin
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    r = await client.get("/api/v1/status", headers={"X-API-Key": tampered})
    assert r.status_code == 401


async def test_revoked_key_stops_working(client: httpx.AsyncClient, api_keys: Keys) -> None:
    admin = api_keys.headers("admin")
    made = (await client.post("/api/v1/keys", json={"role": "operator", "name": "temp"},
                              headers=admin)).json()
    assert made["key"].startswith("ogk_")
    assert (await client.get("/api/v1/status", headers={"X-API-Key": made["key"]})).status_code \
        == 200
    revoked = await client.delete(f"/api/v1/keys/{made['id']}", headers=admin)
    assert revoked.json()["revoked"] is not None
    r = await client.get("/api/v1/status", headers={"X-API-Key": made["key"]})
    assert r.status_code == 401
    listed = (await client.get("/api/v1/keys", headers=admin)).json()
    assert all("key" not in k for k in listed)
    assert {k["id"] for k in listed} >= {made["id"]}


def test_keys_are_stored_hashed(db: Path, api_keys: Keys) -> None:
    raw = db.read_bytes() + (db.with_name(db.name + "-wal").read_bytes()
                             if db.with_name(db.name + "-wal").exists() else b"")
    for key in (api_keys.viewer, api_keys.operator, api_keys.admin):
        assert key.encode() not in raw
        secret = key.split("_", 2)[2]  # ogk_<id>_<secret>; the secret may hold "_" itself
        assert secret.encode() not in raw


async def test_rate_limit_per_key(db: Path, site: Site, api_keys: Keys) -> None:
    settings = ApiSettings(database=db, rate_limit_per_min=60, rate_burst=3)
    app = create_app(settings, site)
    now = [1000.0]
    app.state.ctx.clock = lambda: now[0]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1") as c:
        codes = [(await c.get("/api/v1/site", headers=api_keys.headers("viewer"))).status_code
                 for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = await c.get("/api/v1/site", headers=api_keys.headers("viewer"))
        assert limited.headers["Retry-After"] == "1"
        # another key has its own bucket
        assert (await c.get("/api/v1/site", headers=api_keys.headers("admin"))).status_code \
            == 200
        now[0] += 1.0  # one token back at 1 request per second
        assert (await c.get("/api/v1/site", headers=api_keys.headers("viewer"))).status_code \
            == 200


def test_unknown_key_id_cannot_be_revoked(db: Path) -> None:
    conn = keys.connect(db)
    with pytest.raises(keys.UnknownKey):
        keys.revoke_key(conn, "0123456789ab", by="test")
