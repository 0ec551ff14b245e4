"""Fleet keys in the real PostgreSQL: made once and stored hashed, scoped, revocable, checked in
constant time with the site API's token functions; and ``offgrid hub keys``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from api import tokens
from api.roles import Role
from hub import keys
from hub.schema import Conn
from offgrid.cli import app


def test_tokens_are_made_parsed_and_checked() -> None:
    key_id, key = tokens.make_key()
    assert tokens.key_id_of(key) == key_id and len(key) == 4 + 12 + 1 + 43
    assert tokens.matches(key, tokens.hash_key(key))
    assert not tokens.matches(key[:-1] + ("A" if key[-1] != "A" else "B"), tokens.hash_key(key))
    assert tokens.key_id_of("ogk_short_x") is None
    assert tokens.key_id_of(key + "x" * 200) is None


def test_scopes_are_provinces_or_groups_not_both() -> None:
    assert keys.scope_of() == keys.KeyScope("all", ())
    assert keys.scope_of(provinces=["Cà Mau", "Cà Mau", " An Giang "]) == keys.KeyScope(
        "province", ("Cà Mau", "An Giang"))
    with pytest.raises(keys.KeyProblem, match="not both"):
        keys.scope_of(["a"], ["b"])
    with pytest.raises(keys.KeyProblem, match="1 to"):
        keys.scope_of(groups=[" "])


def test_a_key_is_stored_hashed_verified_and_revoked(hub_db: Conn) -> None:
    t0 = datetime(2026, 12, 2, 8, tzinfo=UTC)
    key, info = keys.create_key(hub_db, Role.operator, "ops", keys.scope_of(groups=["shrimp"]),
                                now=t0)
    stored = hub_db.execute("SELECT hash FROM hub_keys WHERE id = %s", (info.id,)).fetchone()
    assert stored == (tokens.hash_key(key),)
    assert key not in json.dumps(
        hub_db.execute("SELECT row_to_json(k) FROM hub_keys k").fetchall(), default=str)
    seen = keys.verify(hub_db, key, now=t0 + timedelta(seconds=5))
    assert seen is not None and seen.role is Role.operator
    assert seen.scope == keys.KeyScope("group", ("shrimp",))
    # last use is written at most once a minute
    keys.verify(hub_db, key, now=t0 + timedelta(seconds=30))
    assert keys.list_keys(hub_db)[0].last_used == t0 + timedelta(seconds=5)
    keys.verify(hub_db, key, now=t0 + timedelta(seconds=70))
    assert keys.list_keys(hub_db)[0].last_used == t0 + timedelta(seconds=70)
    assert keys.verify(hub_db, key[:-2] + "zz") is None
    assert keys.verify(hub_db, "not a key") is None
    revoked = keys.revoke_key(hub_db, info.id, now=t0 + timedelta(hours=1))
    assert revoked.revoked == t0 + timedelta(hours=1) and not revoked.active
    assert keys.revoke_key(hub_db, info.id).revoked == revoked.revoked  # idempotent
    assert keys.verify(hub_db, key) is None
    with pytest.raises(keys.UnknownKey):
        keys.revoke_key(hub_db, "0" * 12)
    with pytest.raises(keys.KeyProblem, match="staff role"):
        keys.create_key(hub_db, Role.customer, "c")


def test_the_command_line_creates_lists_and_revokes(hub_dsn: str) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["hub", "keys", "create", "--dsn", hub_dsn, "--role", "viewer",
                               "--name", "province office", "--province", "Cà Mau",
                               "--province", "Bạc Liêu"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    assert tokens.key_id_of(key) is not None
    assert "shown only once" in made.stderr and "province Cà Mau, Bạc Liêu" in made.stderr
    listed = runner.invoke(app, ["hub", "keys", "list", "--dsn", hub_dsn, "--json"])
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.stdout)
    assert (row["id"], row["role"], row["scope"]["names"], row["revoked"]) == (
        tokens.key_id_of(key), "viewer", ["Cà Mau", "Bạc Liêu"], None)
    gone = runner.invoke(app, ["hub", "keys", "revoke", "--dsn", hub_dsn, row["id"]])
    assert gone.exit_code == 0 and "revoked" in gone.stderr
    both = runner.invoke(app, ["hub", "keys", "create", "--dsn", hub_dsn, "--role", "viewer",
                               "--province", "a", "--group", "b"])
    assert both.exit_code == 2 and "not both" in both.output
    unknown = runner.invoke(app, ["hub", "keys", "revoke", "--dsn", hub_dsn, "0" * 12])
    assert unknown.exit_code == 2 and "no key" in unknown.output
