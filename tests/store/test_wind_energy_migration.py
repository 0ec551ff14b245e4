"""Migration 5: the energy category ``wind``. A database made by the previous release (every
migration up to ``m004_customer_keys``, whose ``energy`` CHECK knows no wind) opens, is
migrated, keeps its energy rows, and then takes wind energy; an unknown category is still
refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from store import readers, schema
from store.contract import ENERGY_CATEGORIES, SITE_SOURCE, EnergyStep, RollupDelta
from store.writer import Store

T0 = 1_780_000_000.0
OLD_ROWS = [("1d", T0, SITE_SOURCE, "pv", "counter", 1234.5, 600.0),
            ("1d", T0, "genset-1", "generator", "integrated", 99.0, 600.0)]


def previous_release_db(path: Path) -> None:
    """A database exactly as the release before wind made it: migrations 1–4, energy rows."""
    conn = sqlite3.connect(path, isolation_level=None)
    schema.MIGRATIONS.apply(sqlite_utils.Database(conn), stop_before="m005_wind_energy")
    conn.executemany("INSERT INTO energy VALUES (?, ?, ?, ?, ?, ?, ?)", OLD_ROWS)
    conn.close()


def test_previous_release_refuses_wind(tmp_path: Path) -> None:
    """The fixture is honest: the old CHECK constraint has no ``wind``."""
    path = tmp_path / "old.db"
    previous_release_db(path)
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("INSERT INTO energy VALUES ('1d', 1, 'site', 'wind', 'counter', 1, 1)")
    conn.close()


def test_previous_release_migrates_keeps_rows_and_takes_wind(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    previous_release_db(path)
    assert schema.migrate(path)[0] == "m005_wind_energy"
    conn = readers.connect(path, readonly=True)
    rows = readers.read_energy(conn, "1d", 0)
    assert [(r["source"], r["category"], r["method"], r["wh"], r["seconds"]) for r in rows] == [
        ("genset-1", "generator", "integrated", 99.0, 600.0),
        (SITE_SOURCE, "pv", "counter", 1234.5, 600.0)]
    conn.close()
    st = Store(path, "Asia/Ho_Chi_Minh")
    st.write_cycle(T0 + 30, [], {SITE_SOURCE: RollupDelta(
        energy=(EnergyStep("wind", 250.0, "counter"),))}, 30.0)
    st.close()
    conn = readers.connect(path, readonly=True)
    wind = [r for r in readers.read_energy(conn, "1d", 0, source=SITE_SOURCE)
            if r["category"] == "wind"]
    assert [r["wh"] for r in wind] == [250.0]
    conn.close()
    raw = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        raw.execute("INSERT INTO energy VALUES ('1d', 1, 'site', 'tidal', 'counter', 1, 1)")
    raw.close()


def test_new_database_takes_every_category(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    schema.migrate(path)
    conn = sqlite3.connect(path, isolation_level=None)
    for k, category in enumerate(ENERGY_CATEGORIES):
        conn.execute("INSERT INTO energy VALUES ('1d', ?, 'site', ?, 'counter', 1, 1)",
                     (float(k), category))
    assert conn.execute("SELECT COUNT(*) FROM energy").fetchone()[0] == len(ENERGY_CATEGORIES)
    conn.close()
