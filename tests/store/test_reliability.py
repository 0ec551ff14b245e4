"""SAIDI, SAIFI and MAIFI from the store (:func:`store.readers.read_reliability`): interruptions
written through the controller's writer give the figures of a hand calculation, and the same
figures as :func:`ieee1366.interruption_indices` on the same intervals."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ieee1366 import Interval, interruption_indices
from store import readers
from store.writer import Store

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SERVED = 10  # customers served


def local(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=TZ).timestamp()


NOW = local(4, 2, 13)
# (load, customers, planned, start, end or None for open)
CUTS: list[tuple[str, int, bool, float, float | None]] = [
    ("farmhouse", 4, False, local(3, 10, 12), local(3, 10, 12, 30)),  # 30 min
    ("school", 2, True, local(3, 15, 8), local(3, 15, 10)),  # 120 min, planned
    ("farmhouse", 4, False, local(3, 20, 7), local(3, 20, 7, 3)),  # 3 min: momentary
    ("shed-light", 0, False, local(3, 21, 19), local(3, 21, 20)),  # 60 min, nobody's
    ("farmhouse", 4, False, local(3, 31, 23, 50), local(4, 1, 0, 20)),  # 30 min over midnight
    ("home-b", 3, False, local(4, 2, 12), None),  # open: 60 min up to NOW
    ("farmhouse", 4, False, local(12, 31, 23, year=2025), local(1, 1, 1)),  # 2025's: 120 min
]


def write(st: Store) -> None:
    for load, customers, planned, start, end in CUTS:
        st.start_interruption(start, load, "planned" if planned else "load_shedding",
                              customers=customers, planned=planned)
        if end is not None:
            st.end_interruption(end, load)
    st.start_curtailment(local(3, 20, 10), "pump", "load_shedding")
    st.end_curtailment(local(3, 20, 12, 30), "pump")  # 2.5 h
    st.start_curtailment(local(4, 2, 12, 30), "pump", "load_shedding")  # open: 0.5 h to NOW


def test_months_and_year_to_date_by_hand(st: Store) -> None:
    write(st)
    rel = readers.read_reliability(st.conn, customers_served=SERVED,
                                   timezone="Asia/Ho_Chi_Minh", now_ts=NOW)
    assert rel["year"] == 2026 and rel["customers_served"] == SERVED
    assert (rel["saidi_target_minutes"], rel["saifi_target_count"]) == (150.0, 3.0)
    months = {m["period"]: m for m in rel["months"]}
    assert list(months) == ["2026-01", "2026-02", "2026-03", "2026-04"]
    # January: the interruption of New Year's Eve started in 2025 and counts there.
    assert months["2026-01"]["saidi_minutes"] == 0.0 and months["2026-01"]["interruptions"] == 0
    mar = months["2026-03"]
    # customer-minutes: 4×30 + 2×120 (planned) + 0×60 + 4×30 (started 31 March) = 480
    assert mar["saidi_minutes"] == pytest.approx(480 / 10)
    assert mar["saidi_planned_minutes"] == pytest.approx(240 / 10)
    assert mar["saidi_unplanned_minutes"] == pytest.approx(240 / 10)
    # customers interrupted: 4 + 2 + 0 + 4 = 10, of which 2 planned
    assert mar["saifi_count"] == pytest.approx(1.0)
    assert mar["saifi_planned_count"] == pytest.approx(0.2)
    assert mar["saifi_unplanned_count"] == pytest.approx(0.8)
    assert mar["maifi_count"] == pytest.approx(0.4)  # the 3-minute one, 4 customers
    assert (mar["interruptions"], mar["momentary_interruptions"]) == (4, 1)
    assert mar["curtailment_hours"] == pytest.approx(2.5) and mar["curtailments"] == 1
    apr = months["2026-04"]
    # only the open interruption (3 customers × 60 min): 31 March's is all March's
    assert apr["saidi_minutes"] == pytest.approx(18.0)
    assert apr["saifi_count"] == pytest.approx(0.3) and apr["maifi_count"] == 0.0
    assert apr["curtailment_hours"] == pytest.approx(0.5) and apr["curtailments"] == 1
    assert apr["to_ts"] == NOW and apr["from_ts"] == local(4, 1, 0)
    ytd = rel["year_to_date"]
    assert ytd["period"] == "2026"
    assert ytd["saidi_minutes"] == pytest.approx(66.0)
    assert ytd["saifi_count"] == pytest.approx(1.3)
    assert ytd["maifi_count"] == pytest.approx(0.4)
    assert ytd["saidi_planned_minutes"] == pytest.approx(24.0)
    assert ytd["curtailment_hours"] == pytest.approx(3.0) and ytd["curtailments"] == 2
    assert (ytd["interruptions"], ytd["momentary_interruptions"]) == (5, 1)
    # the months add up to the year to date: an interruption is never split
    for key in ("saidi_minutes", "saifi_count", "maifi_count", "curtailment_hours"):
        assert sum(m[key] for m in rel["months"]) == pytest.approx(ytd[key])


def test_the_store_agrees_with_ieee1366_on_the_same_intervals(st: Store) -> None:
    write(st)
    ytd = readers.read_reliability(st.conn, customers_served=SERVED,
                                   timezone="Asia/Ho_Chi_Minh", now_ts=NOW)["year_to_date"]
    intervals = [Interval(start, NOW if end is None else end, customers, planned)
                 for _, customers, planned, start, end in CUTS if start >= local(1, 1, 0)]
    want = interruption_indices(intervals, SERVED).as_dict()
    assert {k: ytd[k] for k in want} == pytest.approx(want)


def test_a_past_year_has_twelve_months_and_keeps_its_december(st: Store) -> None:
    write(st)
    rel = readers.read_reliability(st.conn, customers_served=SERVED,
                                   timezone="Asia/Ho_Chi_Minh", year=2025, now_ts=NOW)
    assert [m["period"] for m in rel["months"]][::11] == ["2025-01", "2025-12"]
    assert len(rel["months"]) == 12
    dec: dict[str, Any] = rel["months"][-1]
    assert dec["saidi_minutes"] == pytest.approx(4 * 120 / 10)  # whole, though it ran into 2026
    assert rel["year_to_date"]["saifi_count"] == pytest.approx(0.4)
    future = readers.read_reliability(st.conn, customers_served=SERVED, year=2027, now_ts=NOW)
    assert future["months"] == [] and future["year_to_date"]["saidi_minutes"] == 0.0


def test_customers_weight_and_a_site_without_customers(st: Store) -> None:
    st.start_interruption(local(3, 1, 8), "village", "inverter_trip", customers=30)
    st.end_interruption(local(3, 1, 8, 10), "village")  # 10 min
    st.start_interruption(local(3, 1, 8), "clinic", "inverter_trip", customers=1)
    st.end_interruption(local(3, 1, 8, 10), "clinic")
    ytd = readers.read_reliability(st.conn, customers_served=40, timezone="Asia/Ho_Chi_Minh",
                                   now_ts=NOW)["year_to_date"]
    assert ytd["saidi_minutes"] == pytest.approx(31 * 10 / 40)
    assert ytd["saifi_count"] == pytest.approx(31 / 40)
    nobody = readers.read_reliability(st.conn, customers_served=0, now_ts=NOW)["year_to_date"]
    assert nobody["saidi_minutes"] == 0.0 and nobody["saifi_count"] == 0.0
