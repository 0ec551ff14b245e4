"""``offgrid keys …`` and ``offgrid serve``: output, exit codes, and what is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api import keys
from api.roles import Role
from offgrid.cli import app
from tests.conftest import SHRIMP

runner = CliRunner()


def test_create_prints_the_key_once_and_stores_its_hash(tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    made = runner.invoke(app, ["keys", "create", "--db", str(db), "--role", "operator",
                               "--name", "hoa"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    assert key.startswith("ogk_") and "\n" not in key
    assert "shown only once" in made.stderr
    conn = keys.connect(db)
    info = keys.KeyVerifier(conn).verify(key)
    assert info is not None and info.role is Role.operator and info.name == "hoa"
    listed = runner.invoke(app, ["keys", "list", "--db", str(db), "--json"])
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["role"], r["active"]) for r in rows] == [(info.id, "operator", True)]
    assert key not in listed.stdout
    revoked = runner.invoke(app, ["keys", "revoke", info.id, "--db", str(db)])
    assert revoked.exit_code == 0
    assert keys.KeyVerifier(conn).verify(key) is None


def test_create_json(tmp_path: Path) -> None:
    out = runner.invoke(app, ["keys", "create", "--db", str(tmp_path / "x.db"), "--role",
                              "admin", "--json"])
    body = json.loads(out.stdout)
    assert body["role"] == "admin" and body["key"].startswith(f"ogk_{body['id']}_")


@pytest.mark.parametrize("args", [
    ["keys", "create", "--role", "admin"],                            # neither site nor --db
    ["keys", "create", str(SHRIMP), "--db", "x.db", "--role", "admin"],  # both
    ["keys", "create", "--db", "x.db", "--role", "root"],             # no such role
    ["keys", "create", "--db", "x.db", "--role", "viewer", "--name", ""],
    ["keys", "revoke", "0123456789ab", "--db", "x.db"],               # unknown id
    ["keys", "create", str(SHRIMP), "--db", "x.db", "--role", "customer",
     "--loads", "aircon,water-heater"],                               # not loads of the site
    ["keys", "create", str(SHRIMP), "--db", "x.db", "--role", "customer"],  # no loads
    ["keys", "create", "--db", "x.db", "--role", "customer",
     "--loads", "farmhouse"],                                         # nothing to check them
    ["keys", "create", "--db", "x.db", "--role", "viewer", "--loads", "farmhouse"],
    ["serve", "missing.toml"],
    ["serve", str(SHRIMP), "--port", "70000"],
])
def test_bad_input_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output


def test_keys_from_the_site_file(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text(SHRIMP.read_text(encoding="utf-8").replace('database = "bac-lieu.db"',
                                                             'database = "farm.db"'))
    r = runner.invoke(app, ["keys", "create", str(site), "--role", "viewer"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "farm.db").exists()


def test_customer_key_with_its_loads(tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    made = runner.invoke(app, ["keys", "create", str(SHRIMP), "--db", str(db), "--role",
                               "customer", "--loads", "exchange-pump, farmhouse", "--name",
                               "nha-ba-tu"])
    assert made.exit_code == 0, made.output
    assert "for exchange-pump, farmhouse" in made.stderr
    info = keys.KeyVerifier(keys.connect(db)).verify(made.stdout.strip())
    assert info is not None and info.role is Role.customer
    assert info.loads == ("exchange-pump", "farmhouse")
    listed = json.loads(runner.invoke(app, ["keys", "list", "--db", str(db), "--json"]).stdout)
    assert [(r["role"], r["loads"]) for r in listed] == [
        ("customer", ["exchange-pump", "farmhouse"])]
    bad = runner.invoke(app, ["keys", "create", str(SHRIMP), "--db", str(db), "--role",
                              "customer", "--loads", "aircon"])
    assert bad.exit_code == 2
    assert "no load named 'aircon'" in bad.stderr and "exchange-pump" in bad.stderr
