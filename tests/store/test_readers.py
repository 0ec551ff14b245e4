"""Readers the API needs beyond the writer's round trips: bucketed history."""

from __future__ import annotations

import pytest

from store import readers
from store.contract import Sample
from store.writer import Store
from tests.store.conftest import T0


def test_history_buckets_avg_min_max(st: Store) -> None:
    """Values 0, 1, …, 9 every 20 s from T0 (10:00:30 UTC) in 1-minute buckets: 10:00 holds
    0 and 1, 10:01 holds 2, 3, 4, …; None values are left out; the span is half-open."""
    for i in range(10):
        ts = T0 + 20.0 * i
        st.write_cycle(ts, [Sample("d", "p", float(i), "good", ts),
                            Sample("d", "q", None, "invalid", ts)], {}, 0)
    got = readers.read_history(st.conn, "d", "p", since_ts=T0, until_ts=T0 + 180.0,
                               bucket_s=60.0)
    assert [(r["start_ts"] - (T0 - 30), r["avg"], r["min"], r["max"]) for r in got] == [
        (0.0, 0.5, 0.0, 1.0), (60.0, 3.0, 2.0, 4.0), (120.0, 6.0, 5.0, 7.0),
        (180.0, 8.0, 8.0, 8.0)]
    # Local days in UTC+7: every sample falls on 2026-03-01, which starts 17:00 UTC the day
    # before.
    day = readers.read_history(st.conn, "d", "p", since_ts=0, until_ts=T0 + 1e6,
                               bucket_s=86400.0, offset_s=7 * 3600.0)
    assert len(day) == 1 and day[0]["avg"] == pytest.approx(4.5)
    assert day[0]["start_ts"] == T0 - 30 - 17 * 3600  # 10:00:30 UTC is 17:00:30 local
    assert readers.read_history(st.conn, "d", "q", since_ts=0, until_ts=T0 + 1e6,
                                bucket_s=60.0) == []
    assert readers.read_history(st.conn, "d", "nope", since_ts=0, until_ts=T0 + 1e6,
                                bucket_s=60.0) == []
