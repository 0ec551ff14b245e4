"""The site's uplink without a broker: what it packs into the outbox (records per interval,
keys across restarts), the Events it makes, the hub commands it takes, and its start checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from controller.uplink import Uplink, UplinkError
from controller.uplink_pack import channel_decimals
from fleetwire.batch import Record, decode_batch
from fleetwire.messages import Command, decode_events, encode
from sitefile import Site, SiteFileError, parse_site
from store import outbox
from store.contract import Sample
from store.schema import connect
from store.writer import Store
from tests.support import free_port

T0 = 1_780_000_200.0  # a multiple of 900 s


class Clock:
    """The site's clocks, moved by hand."""

    def __init__(self, wall: float) -> None:
        self.now = wall

    def wall(self) -> float:
        return self.now

    def mono(self) -> float:
        return self.now - T0 + 1000.0


def site_file(tmp_path: Path, **uplink: Any) -> Site:
    (tmp_path / "password").write_text("secret\n")
    return parse_site({
        "site": {"name": "Đảo Thử", "latitude": 10.0, "longitude": 106.0,
                 "province": "Kiên Giang"},
        "loads": [{"name": "village", "kind": "pump", "kw": 1, "daily_kwh": 2,
                   "customers": 40}],
        "uplink": {"enabled": True, "host": "127.0.0.1", "port": free_port(),
                   "site_id": "site-a", "password_file": "password", "groups": ["pilot"],
                   "reconnect_min_s": 30, "reconnect_max_s": 60, **uplink},
    }, base_dir=tmp_path)


def fill(db: Path, start: float, minutes: int, step_s: float = 20.0) -> None:
    """Samples every ``step_s`` for ``minutes``: soc rising, pv a bad read now and then."""
    store = Store(db)
    for i in range(int(minutes * 60 / step_s)):
        ts = start + i * step_s
        store.write_cycle(ts, [Sample("site", "soc_pct", 50 + i * step_s / 60, "good", ts),
                               Sample("mppt", "pv_w", None if i % 3 == 0 else 100.0,
                                      "invalid" if i % 3 == 0 else "good", ts)], {}, 0)
    store.close()


def batches(db: Path) -> list[Record]:
    conn = connect(db)
    out: list[Record] = []
    for row in outbox.pending(conn):
        if row.kind == "batch":
            payload = outbox.payload(conn, row.id)
            assert payload is not None
            batch = decode_batch(payload)
            assert batch.id == row.id and batch.site == "site-a"
            out += batch.records
    conn.close()
    return out


def test_samples_become_one_record_per_minute_and_restarts_never_repeat_a_key(
        tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    fill(db, T0, 30)
    clock = Clock(T0 + 30 * 60 + 5)
    up = Uplink(site_file(tmp_path), db, wall=clock.wall, mono=clock.mono)
    up.step()  # packs; the broker is not there (a closed port): nothing leaves
    up.stop()
    records = batches(db)
    assert [r.wall_ms for r in records] == [round((T0 + 60 * i) * 1000) for i in range(30)]
    assert {(r.boot, r.seq) for r in records} == {(1, i) for i in range(30)}
    first = records[0].values
    # sent at 0.1 % (its unit's resolution on the wire)
    assert first["site/soc_pct"] == pytest.approx(50 + (0 + 1 / 3 + 2 / 3) / 3, abs=0.05)
    assert first["mppt/pv_w"] == 100.0  # the mean of the good samples only
    assert all(r.clock_trusted for r in records)  # clock = "rtc"
    # two batch rows: 15 minutes each (aligned on batch_interval_s = 900 s)
    conn = connect(db)
    assert [r.records for r in outbox.pending(conn)] == [15, 15]
    conn.close()
    # more samples, a restart: the new boot continues after the cursor, no key repeats
    fill(db, T0 + 30 * 60, 10)
    clock.now = T0 + 40 * 60 + 1
    up = Uplink(site_file(tmp_path), db, wall=clock.wall, mono=clock.mono)
    up.step()
    up.stop()
    again = batches(db)
    assert len(again) == 40
    assert len({(r.boot, r.seq) for r in again}) == 40
    assert len({r.wall_ms for r in again}) == 40
    # the previous boot's samples (before the restart) kept the previous boot's keys
    assert {r.boot for r in again[30:]} == {1}


def test_alarms_interruptions_and_results_go_into_events_at_once(tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    clock = Clock(T0)
    up = Uplink(site_file(tmp_path), db, wall=clock.wall, mono=clock.mono)
    store = Store(db)
    a = store.raise_alarm(T0 + 1, "low_soc", "site", "SOC 18 %")
    store.start_interruption(T0 + 2, "village", "shed", customers=40)
    up.step()
    store.clear_alarm(T0 + 3, "low_soc", "site")
    store.end_interruption(T0 + 4, "village")
    up.step()
    up.step()  # nothing new: no new row
    events = [decode_events(p) for p in _payloads(db, "events")]
    assert len(events) == 2
    first, second = events
    assert [(x.seq, x.active) for x in first.alarms] == [(2 * a, True)]
    assert first.interruptions[0].end_ms is None and first.interruptions[0].customers == 40
    assert [(x.seq, x.active) for x in second.alarms] == [(2 * a + 1, False)]
    assert second.interruptions[0].end_ms == round((T0 + 4) * 1000)
    assert second.interruptions[0].seq == first.interruptions[0].seq
    assert first.alarms[0].boot == second.interruptions[0].boot  # the database's epoch
    store.close()
    up.stop()


def _payloads(db: Path, kind: str) -> list[bytes]:
    conn = connect(db)
    out = [p for r in outbox.pending(conn) if r.kind == kind
           if (p := outbox.payload(conn, r.id)) is not None]
    conn.close()
    return out


def test_hub_commands_run_once_and_stale_or_bad_ones_never(tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    clock = Clock(T0)
    up = Uplink(site_file(tmp_path), db, wall=clock.wall, mono=clock.mono)
    now_ms = round(T0 * 1000)
    good = Command("c-good", "site-a", "generator", now_ms - 10, now_ms + 60_000, "op",
                   {"action": "start"})
    up.take_command(encode(good))
    up.take_command(encode(good))  # delivered twice
    up.take_command(encode(Command("c-late", "site-a", "generator", now_ms - 70_000, now_ms,
                               "op", {"action": "stop"})))
    up.take_command(encode(Command("c-bad", "site-a", "generator", now_ms, now_ms + 60_000,
                               "op", {"action": "dance"})))
    store = Store(db)
    pending = store.pending_commands(T0 + 1)
    assert [(c.kind, c.requested_by, c.expires_ts) for c in pending] == [
        ("generator", "hub:op", T0 + 60)]
    up.step()
    results = {r.id: r for e in map(decode_events, _payloads(db, "events")) for r in e.results}
    assert {k: v.status for k, v in results.items()} == {"c-late": "expired",
                                                         "c-bad": "rejected"}
    store.ack_command(T0 + 2, pending[0].id, "done", {"running": True})
    up.step()
    results = {r.id: r for e in map(decode_events, _payloads(db, "events")) for r in e.results}
    assert results["c-good"].status == "done" and '"running":true' in results["c-good"].detail
    assert len([e for e in map(decode_events, _payloads(db, "events")) if e.results]) == 2
    store.close()
    up.stop()


def test_state_carries_the_site_meta(tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    up = Uplink(site_file(tmp_path), db, wall=Clock(T0).wall, mono=Clock(T0).mono)
    up.step()
    state = up.current_state()
    assert (state.site, state.name, state.province, state.groups) == (
        "site-a", "Đảo Thử", "Kiên Giang", ("pilot",))
    assert state.boot == 1 and state.free_disk_bytes > 0
    assert set(state.values) >= {"soc_pct", "pv_w"}
    up.stop()


def test_a_bad_site_id_or_password_file_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(SiteFileError, match=r"uplink\.site_id: .*'Site_A'"):
        site_file(tmp_path, site_id="Site_A")  # the site file refuses it: no uplink starts
    with pytest.raises(UplinkError, match="password_file"):
        Uplink(site_file(tmp_path, password_file="nowhere"), tmp_path / "a.db")


def test_the_site_file_defaults(tmp_path: Path) -> None:
    (tmp_path / "password").write_text("x")
    site = parse_site({"site": {"name": "x", "latitude": 0, "longitude": 0},
                       "uplink": {"host": "hub", "site_id": "site-a",
                                  "password_file": "password"}}, base_dir=tmp_path)
    assert site.uplink is not None
    u = site.uplink
    assert not u.enabled
    assert (u.username, u.port, u.batch_interval_s, u.resolution_s, u.max_in_flight,
            u.clock, u.ca_file) == ("site-a", 8883, 900, 60, 4, "rtc", None)
    assert u.password_file == tmp_path / "password"
    assert parse_site({"site": {"name": "x", "latitude": 0, "longitude": 0}}).uplink is None


def test_each_channel_travels_at_its_units_resolution() -> None:
    assert channel_decimals(["site/pv_w", "site/soc_pct", "mppt/battery_v", "pond/do_mg_l",
                             "site/energy_kwh", "gen/fuel_l", "relays/relay_1"]) == {
        "site/pv_w": 0, "site/soc_pct": 1, "mppt/battery_v": 2, "pond/do_mg_l": 2,
        "site/energy_kwh": 3, "gen/fuel_l": 1}
