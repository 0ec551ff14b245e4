"""The SQLite store: schema, telemetry, rollups, alarms, commands, audit, state, reliability."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from controller import store
from controller.store import CommandError, RollupDelta, Sample, Store

T0 = datetime(2026, 3, 1, 10, 0, 30, tzinfo=ZoneInfo("UTC")).timestamp()


@pytest.fixture
def st(tmp_path: Path) -> Store:
    s = Store(tmp_path / "site.db", timezone="Asia/Ho_Chi_Minh")
    yield s
    s.close()


def test_wal_and_tables(st: Store) -> None:
    mode = st.conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    names = {r[0] for r in st.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"samples", "latest", "rollups", "alarms", "events", "interruptions", "commands",
            "audit", "state", "points"} <= names


def test_write_cycle_samples_latest(st: Store) -> None:
    st.write_cycle(T0, [Sample("mppt-1", "pv_w", 1200.0, "good", T0),
                        Sample("mppt-1", "soc_pct", None, "invalid", T0)], {}, 0)
    st.write_cycle(T0 + 5, [Sample("mppt-1", "pv_w", 1300.0, "good", T0 + 5)], {}, 0)
    ro = store.connect(st.path, readonly=True)
    latest = {r["point"]: r for r in store.read_latest(ro, "mppt-1")}
    assert latest["pv_w"]["value"] == 1300.0
    assert latest["soc_pct"]["quality"] == "invalid"
    rows = store.read_samples(ro, "mppt-1", "pv_w", T0)
    assert [r["value"] for r in rows] == [1200.0, 1300.0]
    assert store.read_samples(ro, "mppt-1", "pv_w", T0, until_ts=T0 + 1)[0]["value"] == 1200.0
    with pytest.raises(sqlite3.OperationalError):
        ro.execute("DELETE FROM samples")


def test_rollups_accumulate_and_split_by_period(st: Store) -> None:
    # 10:00:30 and 10:00:50 fall in one minute; 10:01:10 in the next; all in one 15 min and day.
    st.write_cycle(T0, [], {"bat": RollupDelta(energy_in_wh=10, soc_pct=50, do_mg_l=None)}, 5)
    st.write_cycle(T0 + 20, [], {"bat": RollupDelta(energy_in_wh=5, soc_pct=40, do_mg_l=5.5)}, 5)
    st.write_cycle(T0 + 40, [], {"bat": RollupDelta(energy_out_wh=2, soc_pct=60)}, 5)
    one = store.read_rollups(st.conn, "1m", 0)
    assert [r["energy_in_wh"] for r in one] == [15, None]
    assert one[0]["soc_min_pct"] == 40 and one[0]["soc_max_pct"] == 50
    assert one[0]["do_min_mg_l"] == 5.5
    q = store.read_rollups(st.conn, "15m", 0)
    assert len(q) == 1 and q[0]["energy_in_wh"] == 15 and q[0]["energy_out_wh"] == 2
    assert q[0]["soc_min_pct"] == 40 and q[0]["soc_max_pct"] == 60 and q[0]["seconds"] == 15
    day = store.read_rollups(st.conn, "1d", 0)
    # The day starts at local midnight (UTC+7): 2026-03-01 00:00 +07 = 2026-02-28 17:00 UTC.
    assert day[0]["start_ts"] == datetime(2026, 2, 28, 17, tzinfo=ZoneInfo("UTC")).timestamp()
    with pytest.raises(store.StoreError):
        store.read_rollups(st.conn, "2h", 0)


def test_alarms_one_active_per_key_and_restore(st: Store) -> None:
    a = st.raise_alarm(T0, "device_offline", "mppt-1", "mppt-1 silent")
    assert st.raise_alarm(T0 + 5, "device_offline", "mppt-1", "again") == a
    assert st.active_alarm_keys() == {"device_offline:mppt-1"}
    assert st.clear_alarm(T0 + 10, "device_offline", "mppt-1")
    assert not st.clear_alarm(T0 + 11, "device_offline", "mppt-1")
    b = st.raise_alarm(T0 + 20, "device_offline", "mppt-1", "silent again")
    assert b != a
    assert st.ack_alarm(T0 + 21, b, "ops")
    reopened = Store(st.path)
    assert reopened.active_alarm_keys() == {"device_offline:mppt-1"}
    reopened.close()
    kinds = [e["kind"] for e in store.read_events(st.conn)]
    assert kinds == ["alarm_raised", "alarm_cleared", "alarm_raised"]
    alarms = store.read_alarms(st.conn)
    assert [a["active"] for a in alarms] == [1, 0]
    assert store.read_active_alarms(st.conn)[0]["acked_by"] == "ops"


@pytest.mark.parametrize(
    ("kind", "target", "value", "error"),
    [
        ("reboot", None, {}, "unknown command kind"),
        ("override_load", None, {"load": "pump", "on": 1, "expires_s": 60}, "value.on"),
        ("override_load", None, {"load": "pump", "on": True, "expires_s": 0}, "expires_s"),
        ("override_load", "x", {"load": "pump", "on": True, "expires_s": 5}, "target"),
        ("set_threshold", None, {"key": "shed_soc_pct"}, "value.value"),
        ("set_threshold", None, {"key": "shed_soc_pct", "value": True}, "value.value"),
        ("generator", None, {"action": "explode"}, "start, stop or auto"),
        ("ack_alarm", None, {"alarm_id": 1, "x": 2}, "unknown value keys"),
    ],
)
def test_validate_command_rejects(kind: str, target: str | None, value: dict[str, object],
                                  error: str) -> None:
    with pytest.raises(CommandError, match=error):
        store.validate_command(kind, target, value)


def test_command_round_trip_expiry_and_audit(st: Store) -> None:
    api = store.connect(st.path)
    ok = store.insert_command(api, "override_load", {"load": "pump", "on": True,
                                                     "expires_s": 600},
                              requested_by="key:ops", now_ts=T0)
    old = store.insert_command(api, "generator", {"action": "start"}, requested_by="key:ops",
                               expires_ts=T0 + 1, now_ts=T0)
    pending = st.pending_commands(T0 + 2)
    assert [c.id for c in pending] == [ok]
    assert pending[0].target == "pump" and pending[0].value["on"] is True
    assert store.read_command(api, old).status == "rejected"
    st.ack_command(T0 + 3, ok, "done", {"applied": True})
    st.ack_command(T0 + 4, ok, "failed", {"late": True})  # already acked: ignored
    c = store.read_command(api, ok)
    assert (c.status, c.result, c.acked_ts) == ("done", {"applied": True}, T0 + 3)
    assert [x.id for x in store.read_commands(api, status="done")] == [ok]
    audit = store.read_audit(api)
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


def test_prune_keeps_recent_samples(st: Store) -> None:
    day = 86400.0
    st.write_cycle(T0, [Sample("d", "p", 1.0, "good", T0)], {}, 0)
    st.write_cycle(T0 + 3 * day, [Sample("d", "p", 2.0, "good", T0 + 3 * day)], {}, 0)
    assert st.prune(T0 + 3 * day, retention_days=2) == 1
    assert [r["value"] for r in store.read_samples(st.conn, "d", "p", 0)] == [2.0]


def test_reliability_saidi_saifi(st: Store) -> None:
    # Two loads; March: one 30 min and one 60 min interruption; April: one still open.
    mar = datetime(2026, 3, 10, 12, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).timestamp()
    apr = datetime(2026, 4, 2, 12, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).timestamp()
    st.start_interruption(mar, "farmhouse", "shed")
    st.start_interruption(mar + 10, "farmhouse", "shed")  # already open: ignored
    st.end_interruption(mar + 1800, "farmhouse")
    st.start_interruption(mar + 7200, "pump", "inverter_trip")
    st.end_interruption(mar + 7200 + 3600, "pump")
    st.start_interruption(apr, "pump", "shed")
    assert st.open_interruptions() == {"pump"}
    rel = store.read_reliability(st.conn, timezone="Asia/Ho_Chi_Minh", now_ts=apr + 600)
    assert [r["period"] for r in rel] == ["2026-03", "2026-04"]
    assert rel[0]["saidi_minutes"] == pytest.approx(45.0)
    assert rel[0]["saifi_count"] == pytest.approx(1.0)
    assert rel[1]["saidi_minutes"] == pytest.approx(5.0)
    year = store.read_reliability(st.conn, by="year", timezone="Asia/Ho_Chi_Minh",
                                  now_ts=apr + 600)
    assert year == [{"period": "2026", "saidi_minutes": pytest.approx(50.0),
                     "saifi_count": pytest.approx(1.5), "interruptions": 3}]
