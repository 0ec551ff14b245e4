"""One definition of SAIDI/SAIFI (issue 13): the same interruption set gives the same figures
from sizing's kernel and from the site's store.

The kernel runs two days with a shortage at night, a planned cut and an inverter failure; the
interruptions it made are read back from its own step series (demand above served, or a planned
cut) and written, with their customers, through the controller's store writer into a real
SQLite file; the store's reader must then give the kernel's figures.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from ieee1366 import ACC_KEYS, indices_from
from sizing.dispatch import dispatch
from store import readers
from store.writer import Store
from tests.sizing.test_dispatch import _config, _flat

TZ = "Asia/Ho_Chi_Minh"
T0 = datetime(2026, 3, 1, tzinfo=ZoneInfo(TZ)).timestamp()
STEPS = 48


def kernel_run() -> tuple[object, np.ndarray, np.ndarray, np.ndarray]:
    hour = np.arange(STEPS) % 24
    pv = np.clip(np.sin((hour - 6) / 12 * np.pi), 0, None)
    load = np.array([np.full(STEPS, 0.6), np.where(hour >= 18, 1.0, 0.3),
                     np.full(STEPS, 0.5)])
    cut = np.zeros(STEPS, dtype=bool)
    cut[9:12] = True
    inverter = np.ones(STEPS, dtype=bool)
    inverter[30:33] = False
    customers = np.array([2.0, 1.0, 4.0])
    flexible = np.array([False, False, True])
    inp = _flat(load, [True, False, False], pv=pv, steps=STEPS)._replace(
        load_customers=customers, load_flexible=flexible, planned_cut=cut,
        inverter_ok=inverter)
    run = dispatch(inp, _config(), 2.0, 4.0, inverter_kw=3.0)
    return run, customers, flexible, cut


def intervals_of(run: object, flexible: np.ndarray, cut: np.ndarray
                 ) -> list[tuple[int, int, int, bool]]:
    """(load, first step, end step, planned) of each interruption in the kernel's series."""
    out = []
    demand, served = run.demand_by_load_kw, run.served_by_load_kw  # type: ignore[attr-defined]
    for k in np.nonzero(~flexible)[0]:
        out_now = ((demand[k] - served[k]) > 1e-9) | cut
        start = None
        for t, flag in enumerate([*out_now.tolist(), False]):
            if flag and start is None:
                start = t
            elif not flag and start is not None:
                out.append((int(k), start, t, bool(cut[start])))
                start = None
    return out


def test_sizing_and_the_store_give_the_same_figures_for_the_same_interruptions(
        tmp_path: Path) -> None:
    run, customers, flexible, cut = kernel_run()
    served_customers = int(customers[~flexible].sum())
    kernel = indices_from([run.summary[k] for k in ACC_KEYS], served_customers)
    found = intervals_of(run, flexible, cut)
    # the scenario holds every kind: planned, unplanned, and more than one load
    assert any(p for *_, p in found) and any(not p for *_, p in found)
    assert len({k for k, *_ in found}) == 2

    st = Store(tmp_path / "site.db", timezone=TZ)
    try:
        for k, first, end, planned in found:
            name = f"load{k}"
            st.start_interruption(T0 + first * 3600.0, name, "planned" if planned else "shortage",
                                  customers=int(customers[k]), planned=planned)
            st.end_interruption(T0 + end * 3600.0, name)
        rel = readers.read_reliability(st.conn, customers_served=served_customers,
                                       timezone=TZ, year=2026, now_ts=T0 + STEPS * 3600.0)
    finally:
        st.close()
    store = rel["year_to_date"]
    assert store["saidi_minutes"] == pytest.approx(kernel.saidi_minutes)
    assert store["saifi_count"] == pytest.approx(kernel.saifi_count)
    assert store["maifi_count"] == pytest.approx(kernel.maifi_count)
    assert store["saidi_planned_minutes"] == pytest.approx(kernel.saidi_planned_minutes)
    assert store["saifi_planned_count"] == pytest.approx(kernel.saifi_planned_count)
    # and both equal the hand count: customer-minutes over the 3 customers served
    by_hand = sum(customers[k] * (end - first) * 60.0 for k, first, end, _ in found)
    assert kernel.saidi_minutes == pytest.approx(by_hand / served_customers)
