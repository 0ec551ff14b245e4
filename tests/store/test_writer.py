"""The controller's writer: telemetry, rollups by energy category, device health, alarms from
the alarm table, interruptions and curtailments, audit, state and command acknowledgements."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from store import readers
from store.commands import insert_command, read_command
from store.contract import SITE_SOURCE, DeviceHealth, EnergyStep, RollupDelta, Sample
from store.errors import StoreError
from store.writer import Store
from tests.store.conftest import T0


def test_wal_and_tables(st: Store) -> None:
    assert st.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = {r[0] for r in st.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"samples", "latest", "rollups", "alarms", "events", "interruptions", "commands",
            "audit", "state", "points", "api_keys", "api_audit", "devices", "energy",
            "curtailments"} <= names


def test_write_cycle_samples_latest(st: Store) -> None:
    st.write_cycle(T0, [Sample("mppt-1", "pv_w", 1200.0, "good", T0),
                        Sample("mppt-1", "soc_pct", None, "invalid", T0)], {}, 0)
    st.write_cycle(T0 + 5, [Sample("mppt-1", "pv_w", 1300.0, "good", T0 + 5)], {}, 0,
                   latest=[Sample(SITE_SOURCE, "pv_w", 1300.0, "good", T0 + 5)])
    ro = readers.connect(st.path, readonly=True)
    latest = {r["point"]: r for r in readers.read_latest(ro, "mppt-1")}
    assert latest["pv_w"]["value"] == 1300.0
    assert latest["soc_pct"]["quality"] == "invalid"
    assert readers.read_latest(ro, SITE_SOURCE)[0]["value"] == 1300.0
    assert not readers.point_exists(ro, SITE_SOURCE, "pv_w")  # latest only: no samples
    rows = readers.read_samples(ro, "mppt-1", "pv_w", T0)
    assert [r["value"] for r in rows] == [1200.0, 1300.0]
    assert readers.read_samples(ro, "mppt-1", "pv_w", T0, until_ts=T0 + 1)[0]["value"] == 1200.0
    assert readers.read_last_sample_ts(ro) == T0 + 5
    with pytest.raises(sqlite3.OperationalError):
        ro.execute("DELETE FROM samples")


def test_rollups_accumulate_and_split_by_period(st: Store) -> None:
    # 10:00:30 and 10:00:50 fall in one minute; 10:01:10 in the next; all in one 15 min and day.
    st.write_cycle(T0, [], {"site": RollupDelta(soc_pct=50, do_mg_l=None)}, 5)
    st.write_cycle(T0 + 20, [], {"site": RollupDelta(soc_pct=40, do_mg_l=5.5, aerator_h=0.1)},
                   5)
    st.write_cycle(T0 + 40, [], {"site": RollupDelta(soc_pct=60)}, 5)
    one = readers.read_rollups(st.conn, "1m", 0)
    assert [r["seconds"] for r in one] == [10, 5]
    assert one[0]["soc_min_pct"] == 40 and one[0]["soc_max_pct"] == 50
    assert one[0]["do_min_mg_l"] == 5.5 and one[1]["do_min_mg_l"] is None
    assert one[0]["energy_in_wh"] is None  # legacy column, no longer written
    q = readers.read_rollups(st.conn, "15m", 0)
    assert len(q) == 1 and q[0]["aerator_h"] == pytest.approx(0.1)
    assert q[0]["soc_min_pct"] == 40 and q[0]["soc_max_pct"] == 60 and q[0]["seconds"] == 15
    day = readers.read_rollups(st.conn, "1d", 0)
    # The day starts at local midnight (UTC+7): 2026-03-01 00:00 +07 = 2026-02-28 17:00 UTC.
    assert day[0]["start_ts"] == datetime(2026, 2, 28, 17, tzinfo=ZoneInfo("UTC")).timestamp()
    with pytest.raises(StoreError):
        readers.read_rollups(st.conn, "2h", 0)


def test_energy_by_category_and_method(st: Store) -> None:
    """Steps add up per (period, source, category, method); counter and integrated energy of
    one category stay apart; a cycle with dt_s = 0 adds nothing."""
    def cycle(ts: float, pv_wh: float, dis_wh: float) -> None:
        st.write_cycle(ts, [], {
            SITE_SOURCE: RollupDelta(energy=(EnergyStep("pv", pv_wh, "counter"),
                                             EnergyStep("battery_discharge", dis_wh,
                                                        "integrated"))),
            "mppt-1": RollupDelta(energy=(EnergyStep("pv", pv_wh, "counter"),)),
        }, 60.0)

    cycle(T0, 10.0, 0.0)
    cycle(T0 + 60, 12.5, 3.0)
    cycle(T0 + 900, 1.0, 0.0)  # next 15-minute period, same day
    st.write_cycle(T0 + 960, [], {SITE_SOURCE: RollupDelta(
        energy=(EnergyStep("pv", 99.0, "counter"),))}, 0)
    st.write_cycle(T0 + 961, [], {SITE_SOURCE: RollupDelta(
        energy=(EnergyStep("pv", 0.5, "integrated"),))}, 1.0)
    day = readers.read_energy(st.conn, "1d", 0, source=SITE_SOURCE)
    got = {(r["category"], r["method"]): (r["wh"], r["seconds"]) for r in day}
    assert got == {("pv", "counter"): (23.5, 180.0), ("pv", "integrated"): (0.5, 1.0),
                   ("battery_discharge", "integrated"): (3.0, 180.0)}
    q = readers.read_energy(st.conn, "15m", 0, source="mppt-1")
    assert [(r["start_ts"] - T0 + 30, r["wh"]) for r in q] == [(0.0, 22.5), (900.0, 1.0)]
    assert {r["source"] for r in readers.read_energy(st.conn, "1m", 0)} == {"site", "mppt-1"}
    assert readers.read_rollups(st.conn, "1d", 0) == []  # energy only: no empty rollup rows
    with pytest.raises(StoreError, match="cannot write telemetry"):
        st.write_cycle(T0, [], {SITE_SOURCE: RollupDelta(
            energy=(EnergyStep("tidal", 1.0, "counter"),))}, 1.0)  # type: ignore[arg-type]


def test_device_health_upserts_one_row_per_device(st: Store) -> None:
    st.write_cycle(T0, [], {}, 0, health=[DeviceHealth("mppt-1", True, T0, T0),
                                          DeviceHealth("genset", False, T0, None, "timeout")])
    st.write_cycle(T0 + 5, [], {}, 0, health=[DeviceHealth("genset", True, T0 + 5, T0 + 5)])
    rows = {r["device"]: r for r in readers.read_devices(st.conn)}
    assert rows["mppt-1"] == {"device": "mppt-1", "online": True, "last_poll_ts": T0,
                              "last_ok_ts": T0, "error": None, "updated_ts": T0}
    assert rows["genset"] == {"device": "genset", "online": True, "last_poll_ts": T0 + 5,
                              "last_ok_ts": T0 + 5, "error": None, "updated_ts": T0 + 5}


def test_alarms_one_active_per_key_severity_from_table_and_restore(st: Store) -> None:
    a = st.raise_alarm(T0, "device_offline", "mppt-1", "mppt-1 silent")
    assert st.raise_alarm(T0 + 5, "device_offline", "mppt-1", "again") == a
    assert st.active_alarm_keys() == {"device_offline:mppt-1"}
    assert st.clear_alarm(T0 + 10, "device_offline", "mppt-1")
    assert not st.clear_alarm(T0 + 11, "device_offline", "mppt-1")
    b = st.raise_alarm(T0 + 20, "device_offline", "mppt-1", "silent again")
    assert b != a
    assert st.ack_alarm(T0 + 21, b, "ops")
    low_do = st.raise_alarm(T0 + 30, "low_do", "do-probe", "DO low")
    with pytest.raises(StoreError, match="unknown alarm kind"):
        st.raise_alarm(T0, "tea_time", "x", "?")
    with pytest.raises(StoreError, match="unknown event kind"):
        st.event(T0, "tea_time", "x", "?")
    st.event(T0 + 40, "generator_start", "genset", "SOC 28 %", {"reason": "low soc"})
    reopened = Store(st.path)
    assert reopened.active_alarm_keys() == {"device_offline:mppt-1", "low_do:do-probe"}
    reopened.close()
    events = readers.read_events(st.conn)
    assert [e["kind"] for e in events] == ["generator_start", "alarm_raised", "alarm_raised",
                                           "alarm_cleared", "alarm_raised"]
    assert events[0]["data"] == {"reason": "low soc"}
    alarms = readers.read_alarms(st.conn)
    assert [(x["id"], x["active"]) for x in alarms] == [(low_do, True), (b, True), (a, False)]
    assert readers.read_alarm(st.conn, low_do)["severity"] == "critical"  # ALARMS["low_do"]
    assert readers.read_alarm(st.conn, b)["severity"] == "warning"
    assert readers.read_alarm(st.conn, 999) is None
    assert [x["id"] for x in readers.read_alarms(st.conn, active=False)] == [a]
    assert [x["id"] for x in readers.read_alarms(st.conn, active=True, since_ts=T0 + 25)] == [
        low_do]
    assert readers.read_active_alarms(st.conn)[0]["acked_by"] == "ops"


def test_command_round_trip_expiry_and_audit(st: Store) -> None:
    api = readers.connect(st.path)
    ok = insert_command(api, "override_load", {"load": "pump", "on": True, "expires_s": 600},
                        requested_by="key:ops", now_ts=T0)
    old = insert_command(api, "generator", {"action": "start"}, requested_by="key:ops",
                         expires_ts=T0 + 1, now_ts=T0)
    pending = st.pending_commands(T0 + 2)
    assert [c.id for c in pending] == [ok]
    assert pending[0].target == "pump" and pending[0].value["on"] is True
    rejected = read_command(api, old)
    assert rejected is not None and rejected.status == "rejected"
    st.ack_command(T0 + 3, ok, "done", {"applied": True})
    st.ack_command(T0 + 4, ok, "failed", {"late": True})  # already acked: ignored
    c = read_command(api, ok)
    assert c is not None and (c.status, c.result, c.acked_ts) == ("done", {"applied": True},
                                                                  T0 + 3)
    audit = readers.read_audit(api)
    assert {a["action"] for a in audit} == {"command.override_load", "command.generator"}
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        api.execute("DELETE FROM audit")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        api.execute("UPDATE audit SET actor = 'x'")


def test_state_survives_reopen(st: Store) -> None:
    st.set_state(T0, "overrides", {"pump": {"on": True, "expires_ts": T0 + 60}})
    st.set_state(T0 + 1, "overrides", {})
    st.set_state(T0, "generator", {"running": True, "run_s": 1800})
    again = Store(st.path)
    assert again.get_state("overrides") == {}
    assert again.get_state("generator") == {"running": True, "run_s": 1800}
    assert again.get_state("nothing") is None
    again.close()


def test_prune_keeps_recent_samples_and_rollups(st: Store) -> None:
    day = 86400.0
    pv = RollupDelta(energy=(EnergyStep("pv", 1.0, "counter"),), soc_pct=50.0)
    st.write_cycle(T0, [Sample("d", "p", 1.0, "good", T0)], {SITE_SOURCE: pv}, 60.0)
    st.write_cycle(T0 + 9 * day, [Sample("d", "p", 2.0, "good", T0 + 9 * day)],
                   {SITE_SOURCE: pv}, 60.0)
    assert st.prune(T0 + 9 * day, retention_days=2) == 1
    assert [r["value"] for r in readers.read_samples(st.conn, "d", "p", 0)] == [2.0]
    # 1-minute rollups and energy older than 4 × 2 days go; 15-minute and daily ones stay.
    assert len(readers.read_energy(st.conn, "1m", 0)) == 1
    assert len(readers.read_rollups(st.conn, "1m", 0)) == 1
    assert len(readers.read_energy(st.conn, "15m", 0)) == 2
    assert len(readers.read_rollups(st.conn, "1d", 0)) == 2


def test_interruptions_and_curtailments_open_and_close(st: Store) -> None:
    st.start_interruption(T0, "farmhouse", "load_shedding", customers=4)
    st.start_interruption(T0 + 10, "farmhouse", "inverter_trip", customers=4)  # open: ignored
    st.start_interruption(T0, "school", "planned", customers=0, planned=True)
    st.start_curtailment(T0, "pump", "load_shedding")
    st.start_curtailment(T0 + 5, "pump", "inverter_trip")  # open: ignored
    assert st.open_interruptions() == {"farmhouse": False, "school": True}
    assert st.open_curtailments() == {"pump"}
    st.end_interruption(T0 + 60, "farmhouse")
    st.end_curtailment(T0 + 90, "pump")
    assert st.open_interruptions() == {"school": True} and st.open_curtailments() == set()
    rows = [tuple(r) for r in st.conn.execute(
        "SELECT load, cause, start_ts, end_ts, customers, planned FROM interruptions ORDER BY id")]
    assert rows == [("farmhouse", "load_shedding", T0, T0 + 60, 4, 0),
                    ("school", "planned", T0, None, 0, 1)]
    cut = st.conn.execute("SELECT load, cause, start_ts, end_ts FROM curtailments").fetchall()
    assert [tuple(r) for r in cut] == [("pump", "load_shedding", T0, T0 + 90)]
    with pytest.raises(StoreError, match=r"open an interruption of home.*CHECK") as e:
        st.start_interruption(T0, "home", "load_shedding", customers=-1)
    assert isinstance(e.value.__cause__, sqlite3.IntegrityError)  # the queue drops it
