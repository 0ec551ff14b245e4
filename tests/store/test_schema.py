"""Schema versions: a new database gets every migration once; a database made by the release
before versions existed (``fixtures/v1_site.db``, made by ``fixtures/make_v1_db.py`` with the
code of commit 3b9ccbd) opens, is migrated, and keeps every row."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from store import readers, schema
from store.commands import open_database, read_command, read_commands
from store.contract import ENERGY_CATEGORIES, SITE_SOURCE, EnergyStep, RollupDelta
from store.errors import StoreError
from store.writer import Store

FIXTURE = Path(__file__).with_name("fixtures") / "v1_site.db"
T0 = 1_780_000_000.0  # as in make_v1_db.py
KEY = "ogk_0123456789ab_" + "s" * 43
ALL = ["m001_initial", "m002_devices_energy", "m003_reliability", "m004_customer_keys",
       "m005_wind_energy", "m006_uplink_outbox"]


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    path = tmp_path / "v1.db"
    shutil.copyfile(FIXTURE, path)
    return path


def test_new_database_gets_each_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    assert schema.migrate(path) == ALL
    assert schema.migrate(path) == []
    conn = readers.connect(path, readonly=True)
    assert readers.applied_migrations(conn) == ALL


def test_fixture_is_a_v1_database(v1: Path) -> None:
    conn = sqlite3.connect(v1)  # a copy: opening a WAL database writes beside it
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "_sqlite_migrations" not in tables and "energy" not in tables
    assert {"samples", "rollups", "api_keys", "api_audit"} <= tables
    conn.close()


def test_v1_database_migrates_and_keeps_its_rows(v1: Path) -> None:
    st = Store(v1, "Asia/Ho_Chi_Minh")
    conn = readers.connect(v1, readonly=True)
    assert readers.applied_migrations(conn) == ALL
    # points and samples: three cycles of 60 s
    pv = readers.read_samples(conn, "mppt-1", "pv_w", 0)
    assert [(r["ts"] - T0, r["value"]) for r in pv] == [(0, 1000.0), (60, 1100.0),
                                                        (120, 1200.0)]
    assert readers.read_samples(conn, "relays", "relay_0", 0)[0]["quality"] == "invalid"
    latest = {(r["device"], r["point"]): r["value"] for r in readers.read_latest(conn)}
    assert latest == {("mppt-1", "pv_w"): 1200.0, ("inverter", "soc_pct"): 52.0,
                      ("relays", "relay_0"): None, (SITE_SOURCE, "soc_pct"): 52.0}
    # rollups, with the legacy energy columns: 3 cycles × 20 Wh into mppt-1, 3 × 5 Wh out
    day = {r["source"]: r for r in readers.read_rollups(conn, "1d", 0)}
    assert day["mppt-1"]["energy_in_wh"] == 60.0 and day["inverter"]["energy_out_wh"] == 15.0
    assert day["site"]["soc_min_pct"] == 50.0 and day["site"]["soc_max_pct"] == 52.0
    assert day["site"]["aerator_h"] == 1.5 and day["site"]["seconds"] == 180.0
    assert len(readers.read_rollups(conn, "1m", 0)) == 9
    # alarms, events, interruptions, audit, state
    alarms = readers.read_alarms(conn)
    assert [(a["kind"], a["active"], a["severity"], a["acked_by"]) for a in alarms] == [
        ("device_offline", False, "warning", None), ("low_do", True, "critical", "ops")]
    kinds = [e["kind"] for e in readers.read_events(conn)]
    assert kinds == ["controller_start", "alarm_cleared", "alarm_raised", "alarm_raised"]
    assert readers.read_events(conn)[0]["data"] == {"pid": 1}
    # the old interruptions: one customer each, unplanned, as the release that wrote them
    # counted them; the pump's is still open (10 min at T0 + 1300)
    assert st.open_interruptions() == {"pump": False}
    rows = conn.execute("SELECT load, customers, planned FROM interruptions ORDER BY id")
    assert [tuple(r) for r in rows] == [("farmhouse", 1, 0), ("pump", 1, 0)]
    rel = readers.read_reliability(conn, customers_served=2, timezone="Asia/Ho_Chi_Minh",
                                   now_ts=T0 + 1300)
    may = rel["months"][-1]
    assert may["period"] == "2026-05" and may["interruptions"] == 2
    assert may["saidi_minutes"] == pytest.approx((10 + 10) / 2)
    assert may["saifi_count"] == pytest.approx(1.0) and may["curtailments"] == 0
    assert {a["action"] for a in readers.read_audit(conn)} == {"start", "command.generator"}
    assert readers.read_state(conn, "thresholds") == {"shed_soc_pct": 25.0}
    # commands, the API's audit and its key
    done, pending = read_commands(conn, status="done")[0], read_commands(conn, status="pending")
    assert (done.kind, done.result) == ("generator", {"running": True})
    assert [(c.kind, c.value) for c in pending] == [
        ("set_threshold", {"key": "shed_soc_pct", "value": 30.0})]
    api_audit = readers.read_api_audit(conn, 10)
    assert [(a["command_id"], a["before"], a["status"]) for a in api_audit] == [
        (done.id, {"mode": "auto"}, "done")]
    key = readers.read_key(conn, "0123456789ab")
    assert key is not None and key["role"] == "admin" and key["revoked_ts"] is None
    assert key["hash"] == hashlib.sha256(KEY.encode()).hexdigest()
    # and the migrated database takes the new tables
    st.write_cycle(T0 + 300, [], {SITE_SOURCE: RollupDelta(
        energy=(EnergyStep("pv", 5.0, "counter"),))}, 60.0)
    assert readers.read_energy(conn, "1d", 0)[0]["wh"] == 5.0
    st.start_curtailment(T0 + 400, "pump-2", "load_shedding")
    assert st.open_curtailments() == {"pump-2"}
    st.close()


def test_api_opening_migrates_too(v1: Path) -> None:
    conn = open_database(v1)
    assert readers.applied_migrations(conn) == ALL
    cmd = read_command(conn, 1)
    assert cmd is not None and cmd.status == "done"


def test_an_unreadable_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match=r"junk\.db: cannot"):
        schema.migrate(path)


def test_two_processes_opening_a_new_database_together_migrate_it_once(tmp_path: Path) -> None:
    """A controller and an API starting at once: each migration is applied by one of them."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    path = tmp_path / "race.db"
    with ThreadPoolExecutor(4) as pool:
        applied = list(pool.map(lambda _: schema.migrate(path), range(4)))
    assert sorted(name for names in applied for name in names) == ALL
    conn = readers.connect(path, readonly=True)
    assert readers.applied_migrations(conn) == ALL


def test_the_latest_schema_takes_every_energy_category_and_no_other(tmp_path: Path) -> None:
    """The migrations' frozen category lists end where ``ENERGY_CATEGORIES`` is today."""
    open_database(tmp_path / "s.db").close()
    with sqlite3.connect(tmp_path / "s.db") as conn:
        for n, category in enumerate(ENERGY_CATEGORIES):
            conn.execute("INSERT INTO energy VALUES ('1d', ?, 'site', ?, 'counter', 1.0, 1.0)",
                         (float(n), category))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute("INSERT INTO energy VALUES ('1d', 99.0, 'site', 'tidal', 'counter', "
                         "1.0, 1.0)")
