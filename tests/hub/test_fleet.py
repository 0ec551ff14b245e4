"""The fleet's readers on the real PostgreSQL, against hand calculations: a province's monthly
SAIDI/SAIFI/MAIFI (customer-minutes / customers served, local months, momentary cuts apart,
planned cuts counted, an open interruption until now), energy per source, a channel's series,
active alarms, the silent flag, and scope (a province or a group sees only its sites)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest

import ieee1366
from fleetwire.batch import Batch, Record, decode_columns, encode_batch
from fleetwire.messages import Alarm, Events, Interruption
from hub.events import store_events
from hub.fleet import (
    EVERYTHING,
    EnergyRow,
    ReliabilityRow,
    Scope,
    active_alarms,
    monthly_energy,
    monthly_reliability,
    site_detail,
    site_series,
    sites_overview,
)
from hub.schema import Conn
from hub.writer import ChannelSets, prepare, store_batches
from tests.hub.test_events import state

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 5, 15, 10, 30, tzinfo=UTC)
CA_MAU, KIEN_GIANG = "Cà Mau", "Kiên Giang"


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def cut(seq: int, start: datetime, minutes: float | None, customers: int,
        planned: bool = False) -> Interruption:
    end = None if minutes is None else ms(start + timedelta(minutes=minutes))
    return Interruption(boot=1, seq=seq, load="homes", cause="planned" if planned else "fault",
                        start_ms=ms(start), end_ms=end, customers=customers, planned=planned)


def raised(site: str, seq: int, kind: str, active: bool, at: datetime,
           severity: str = "critical") -> Alarm:
    return Alarm(site, 1, seq, seq, ms(at), True, kind, active, severity, kind)


@pytest.fixture
def fleet(hub_db: Conn) -> Conn:
    """Four sites in Cà Mau (customers 100, 50, 50, 100) and one in Kiên Giang (80)."""
    store_events(hub_db, [], [
        state("site-a", province=CA_MAU, groups=("shrimp",), customers=100),
        state("site-b", province=CA_MAU, groups=(), customers=50),
        state("site-c", province=CA_MAU, groups=("shrimp",), customers=50),
        state("site-d", province=CA_MAU, groups=(), customers=100),
        state("site-q", province=KIEN_GIANG, groups=("island",), customers=80)])
    hub_db.execute("UPDATE sites SET first_contact = '2026-01-01T00:00:00Z'")
    hub_db.commit()
    march = datetime(2026, 3, 10, 8, tzinfo=VN)
    store_events(hub_db, [
        Events("site-a", 1, interruptions=(
            cut(1, march, 60, 100),
            # 00:30 on 1 April in Vietnam, still 31 March in UTC: April's
            cut(2, datetime(2026, 4, 1, 0, 30, tzinfo=VN), 40, 100)),
            alarms=(raised("site-a", 1, "low_soc", True, march),
                    raised("site-a", 2, "low_soc", False, march + timedelta(hours=1)),
                    raised("site-a", 3, "low_do", True, march, "warning"))),
        Events("site-b", 1, interruptions=(cut(1, march, 30, 20, planned=True),)),
        Events("site-c", 1, interruptions=(cut(1, march, 3, 50),)),  # momentary
        Events("site-q", 1, interruptions=(
            cut(1, march, 10, 80),
            cut(2, NOW - timedelta(minutes=30), None, 80)),  # still open at NOW
            alarms=(raised("site-q", 1, "low_soc", True, march),)),
    ], [])
    return hub_db


R = TypeVar("R", ReliabilityRow, EnergyRow)


def pick(rows: Sequence[R], level: str, key: str, month: int) -> R:
    [row] = [r for r in rows if (r.level, r.key, r.month) == (level, key, month)]
    return row


def test_a_provinces_monthly_saidi_saifi_is_the_hand_calculation(fleet: Conn) -> None:
    rows = monthly_reliability(fleet, 2026, EVERYTHING, "Asia/Ho_Chi_Minh", now=NOW)
    assert sorted({r.month for r in rows}) == [0, 1, 2, 3, 4, 5]  # up to NOW's month
    march = pick(rows, "province", CA_MAU, 3)
    # customers served 100 + 50 + 50 + 100 = 300; sustained: 60 min x 100 + 30 min x 20
    # (planned, counted); momentary: 3 min x 50 (MAIFI only)
    assert (march.sites, march.customers_served) == (4, 300)
    assert march.saidi_minutes == pytest.approx((60 * 100 + 30 * 20) / 300)  # 22.0
    assert march.saifi_count == pytest.approx((100 + 20) / 300)
    assert march.maifi_count == pytest.approx(50 / 300)
    assert march.saidi_planned_minutes == pytest.approx(30 * 20 / 300)
    assert march.saifi_planned_count == pytest.approx(20 / 300)
    assert march.interruptions == 2
    assert march.saidi_target_minutes == pytest.approx(ieee1366.SAIDI_TARGET_MINUTES / 12)
    assert not march.within_target  # 22 min > 12.5 min
    april = pick(rows, "province", CA_MAU, 4)
    assert april.saidi_minutes == pytest.approx(40 * 100 / 300)
    assert april.saifi_count == pytest.approx(100 / 300)
    year = pick(rows, "province", CA_MAU, 0)
    assert year.saidi_minutes == pytest.approx((6000 + 600 + 4000) / 300)
    assert year.saidi_target_minutes == ieee1366.SAIDI_TARGET_MINUTES
    assert year.within_target  # 35.3 min and 0.67 a year so far
    assert pick(rows, "province", CA_MAU, 1).saidi_minutes == 0.0
    assert pick(rows, "site", "site-a", 3).saidi_minutes == pytest.approx(60.0)
    # the open interruption counts until NOW: 30 min x 80 over 80 customers
    assert pick(rows, "site", "site-q", 5).saidi_minutes == pytest.approx(30.0)
    fleet_march = pick(rows, "fleet", "", 3)
    assert fleet_march.customers_served == 380
    assert fleet_march.saidi_minutes == pytest.approx((6600 + 10 * 80) / 380)


def test_a_site_first_heard_of_later_does_not_count_before(fleet: Conn) -> None:
    fleet.execute("UPDATE sites SET first_contact = '2026-03-20T00:00:00Z' "
                  "WHERE site = 'site-d'")
    rows = monthly_reliability(fleet, 2026, EVERYTHING, now=NOW)
    assert pick(rows, "province", CA_MAU, 2).customers_served == 200
    assert pick(rows, "province", CA_MAU, 3).customers_served == 300


def test_scope_limits_every_reader(fleet: Conn) -> None:
    kien_giang = Scope(provinces=frozenset({KIEN_GIANG}))
    shrimp = Scope(groups=frozenset({"shrimp"}))
    now = datetime.now(UTC)
    assert [s.site for s in sites_overview(fleet, now, kien_giang)] == ["site-q"]
    assert [s.site for s in sites_overview(fleet, now, shrimp)] == ["site-a", "site-c"]
    assert [s.site for s in sites_overview(fleet, now, Scope(provinces=frozenset()))] == []
    rows = monthly_reliability(fleet, 2026, kien_giang, now=NOW)
    assert {(r.level, r.key) for r in rows} == {("site", "site-q"), ("province", KIEN_GIANG),
                                                ("fleet", "")}
    assert pick(rows, "fleet", "", 3).customers_served == 80
    assert [(a.site, a.kind) for a in active_alarms(fleet, kien_giang)] == [
        ("site-q", "low_soc")]
    assert site_detail(fleet, "site-a", kien_giang) is None
    assert site_detail(fleet, "site-a", shrimp) is not None
    assert site_series(fleet, "site-a", ["site/soc_pct"], NOW, NOW + timedelta(hours=1), 60,
                       kien_giang) == {}


def test_overview_alarms_and_the_silent_flag(fleet: Conn) -> None:
    now = datetime.now(UTC)
    fleet.execute("UPDATE sites SET last_contact = %s WHERE site = 'site-b'",
                  (now - timedelta(hours=2),))
    rows = {s.site: s for s in sites_overview(fleet, now, EVERYTHING, silent_after_s=3600)}
    assert [s for s, r in rows.items() if r.silent] == ["site-b"]
    a = rows["site-a"]
    assert (a.name, a.province, a.groups, a.customers) == ("Trạm site-a", CA_MAU, ("shrimp",),
                                                           100)
    assert (a.soc_pct, a.do_mg_l, a.pv_w, a.load_w, a.outbox_rows) == (63.5, 5.5, 1200.0, 800.0,
                                                                       4)
    # low_soc raised then cleared; low_do still raised
    assert (a.active_alarms, rows["site-q"].active_alarms, rows["site-b"].active_alarms) == (
        1, 1, 0)
    alarms = active_alarms(fleet, EVERYTHING, now, silent_after_s=3 * 3600)
    assert [(x.site, x.kind, x.severity) for x in alarms] == [
        ("site-q", "low_soc", "critical"), ("site-a", "low_do", "warning")]
    # the hub's own alarm for the silent site, most severe and newest first
    alarms = active_alarms(fleet, EVERYTHING, now, silent_after_s=3600)
    assert [(x.site, x.kind, x.severity) for x in alarms] == [
        ("site-b", "no_data", "critical"), ("site-q", "low_soc", "critical"),
        ("site-a", "low_do", "warning")]
    assert alarms[0].since == now - timedelta(hours=2)


def test_the_overview_takes_figures_from_a_batch_newer_than_the_state(fleet: Conn) -> None:
    now = datetime.now(UTC)
    state_at = sites_overview(fleet, now, EVERYTHING)[0].state_at
    assert state_at is not None
    later = state_at + timedelta(minutes=30)
    store(fleet, records("site-a", later, 3, {"site/soc_pct": 71.0, "site/pv_w": 2500.0,
                                              "inverter/ac_v": 231.0}))
    # and an older batch of site-c changes nothing: its State is newer
    store(fleet, records("site-c", state_at - timedelta(hours=1), 2, {"site/soc_pct": 10.0}))
    rows = {r.site: r for r in sites_overview(fleet, later + timedelta(minutes=5), EVERYTHING)}
    a = rows["site-a"]
    assert (a.soc_pct, a.pv_w, a.do_mg_l, a.load_w) == (71.0, 2500.0, 5.5, 800.0)
    assert a.state_at == later + timedelta(minutes=2) and "inverter/ac_v" not in a.values
    assert rows["site-c"].soc_pct == 63.5 and rows["site-c"].state_at == state_at


def records(site: str, start: datetime, minutes: int, values: dict[str, float],
            seq0: int = 0) -> Batch:
    return Batch(site, seq0 + 1, tuple(
        Record(0, seq0 + m, 60_000 * m, ms(start) + 60_000 * m, True, values)
        for m in range(minutes)))


def store(conn: Conn, *batches: Batch) -> None:
    prepare(conn)
    store_batches(conn, [decode_columns(encode_batch(b)) for b in batches], ChannelSets({}))


def test_monthly_energy_integrates_each_hours_mean_power(fleet: Conn) -> None:
    t = datetime(2026, 5, 10, 8, tzinfo=VN)
    running = {"site/pv_w": 1000.0, "site/load_w": 500.0, "site/generator_running": 1.0,
               "gen1/generator_w": 2000.0}
    stopped = running | {"site/generator_running": 0.0, "gen1/generator_w": 0.0}
    store(fleet, records("site-a", t, 60, running),
          records("site-a", t + timedelta(hours=1), 60, stopped, seq0=60),
          # channels the energy does not use are ignored; a bare name is not a site figure
          records("site-q", t, 60, {"site/pv_w": 3000.0, "gen/generator_w": 0.0,
                                    "pv_w": 9999.0, "inverter/ac_v": 230.0}))
    rows = monthly_energy(fleet, 2026, EVERYTHING, "Asia/Ho_Chi_Minh")
    a = pick(rows, "site", "site-a", 5)
    assert (a.pv_kwh, a.load_kwh, a.generator_kwh, a.generator_h, a.hours_with_data) == (
        pytest.approx(2.0), pytest.approx(1.0), pytest.approx(2.0), pytest.approx(1.0), 2)
    assert a.wind_kwh == 0.0
    assert pick(rows, "province", CA_MAU, 5).pv_kwh == pytest.approx(2.0)
    assert pick(rows, "fleet", "", 5).pv_kwh == pytest.approx(5.0)
    assert pick(rows, "fleet", "", 0).pv_kwh == pytest.approx(5.0)
    only_q = monthly_energy(fleet, 2026, Scope(groups=frozenset({"island"})))
    assert {r.key for r in only_q} == {"site-q", KIEN_GIANG, ""}


def test_a_series_is_averaged_per_step_and_lists_every_step(fleet: Conn) -> None:
    t = datetime(2026, 5, 20, tzinfo=UTC)
    store(fleet, Batch("site-a", 1, tuple(
        Record(0, s, 60_000 * s, ms(t) + 60_000 * s, True,
               {"site/soc_pct": 50.0 + 2 * s, "site/pv_w": 100.0}) for s in range(4))))
    series = site_series(fleet, "site-a", ["site/soc_pct", "site/wind_w"], t,
                         t + timedelta(minutes=6), 120)
    assert series == {
        "site/soc_pct": [(t, 51.0), (t + timedelta(minutes=2), 55.0),
                         (t + timedelta(minutes=4), None)],
        "site/wind_w": [(t, None), (t + timedelta(minutes=2), None),
                        (t + timedelta(minutes=4), None)]}
