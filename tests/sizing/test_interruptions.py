"""Interruptions in the dispatch kernel (IEEE 1366, issue 13): recomputed by hand from the step
series, flexible loads curtailed, planned cuts, forced outages and generator failures."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from ieee1366 import ACC_KEYS, indices_from
from sizing.dispatch import dispatch, no_outages
from tests.sizing.test_dispatch import SETTINGS, _config, _flat, cases


def hand_saidi_saifi(demand: np.ndarray, served: np.ndarray, dt_h: float,
                     customers: np.ndarray, counted: np.ndarray,
                     cut: np.ndarray) -> tuple[float, float]:
    """SAIDI [min] and SAIFI from per-load demand and served series: contiguous steps with
    demand above served, or in a planned cut, are one interruption of that load's customers;
    < 5 min is momentary."""
    total = customers[counted].sum()
    minutes = interrupted = 0.0
    for k in np.nonzero(counted)[0]:
        short = ((demand[k] - served[k]) * dt_h > 1e-9) | cut
        run = 0
        for flag in [*short.tolist(), False]:
            if flag:
                run += 1
            elif run:
                if run * dt_h * 60 >= 5:
                    minutes += customers[k] * run * dt_h * 60
                    interrupted += customers[k]
                run = 0
    return (minutes / total, interrupted / total) if total else (0.0, 0.0)


@SETTINGS
@given(cases())
def test_kernel_saidi_saifi_equal_a_hand_count_of_its_series(case: tuple) -> None:
    inp, cfg, kwp, kwh, inv, gen = case
    run = dispatch(inp, cfg, kwp, kwh, inverter_kw=inv, generator_kw=gen)
    customers = np.concatenate([inp.load_customers, inp.pump_customers])
    counted = ~np.concatenate([inp.load_flexible, inp.pump_flexible])
    saidi, saifi = hand_saidi_saifi(run.demand_by_load_kw, run.served_by_load_kw, cfg.dt_h,
                                    customers, counted, inp.planned_cut)
    got = indices_from([run.summary[k] for k in ACC_KEYS], customers[counted].sum())
    assert got.saidi_minutes == pytest.approx(saidi, abs=1e-6)
    assert got.saifi_count == pytest.approx(saifi, abs=1e-9)
    # the forced part is part of the whole
    forced = indices_from([run.summary["forced_" + k] for k in ACC_KEYS],
                          customers[counted].sum())
    assert forced.saidi_minutes <= got.saidi_minutes + 1e-9


def test_a_flexible_load_shed_on_soc_is_curtailed_not_interrupted() -> None:
    # 1 kW house (critical) and a 1.3 kW air conditioner (flexible), no PV, 20 kWh from full,
    # lossless: 14 kWh lie above the 30 % shed SOC; both run 6 hours (13.8 kWh); in the 7th
    # the house takes 1 kWh first and the 0.2 kWh left above the shed SOC cannot serve the air
    # conditioner, which is then shed: 4 hours of 1.3 kW curtailed. The house runs on.
    inp = _flat(np.array([[1.0] * 10, [1.3] * 10]), [True, False], steps=10)._replace(
        load_flexible=np.array([False, True]))
    run = dispatch(inp, _config(), 0.0, 20.0, inverter_kw=5.0)
    got = indices_from([run.summary[k] for k in ACC_KEYS], 1)
    assert got.saidi_minutes == 0.0 and got.saifi_count == 0.0
    assert run.served_by_load_kw[1] == pytest.approx([1.3] * 6 + [0.0] * 4)
    assert run.served_by_load_kw[0] == pytest.approx([1.0] * 10)
    assert run.summary["load_curtailed_hours"] == pytest.approx(4.0)
    assert run.summary["load_curtailed_kwh"] == pytest.approx(5.2)
    assert run.summary["unmet_kwh"] == 0.0


def test_a_planned_cut_interrupts_every_load_weighted_by_customers() -> None:
    # PV and battery plenty; a 4-hour planned cut from hour 10.
    steps = 24
    cut = np.zeros(steps, dtype=bool)
    cut[10:14] = True
    inp = _flat(np.full((3, steps), 0.5), [True, False, False], steps=steps)._replace(
        load_customers=np.array([3.0, 1.0, 5.0]), load_flexible=np.array([False, False, True]),
        planned_cut=cut)
    run = dispatch(inp, _config(), 0.0, 100.0, inverter_kw=5.0)
    got = indices_from([run.summary[k] for k in ACC_KEYS], 4)
    # each non-flexible load: one 240-minute planned interruption; customers 3 + 1 of 4
    assert got.saidi_minutes == pytest.approx(240.0)
    assert got.saidi_planned_minutes == pytest.approx(240.0)
    assert got.saifi_count == pytest.approx(1.0)
    assert run.summary["load_curtailed_hours"] == pytest.approx(4.0)


def test_an_inverter_outage_blacks_out_the_loads_unless_a_generator_takes_them() -> None:
    steps = 24
    down = np.ones(steps, dtype=bool)
    down[5:15] = False
    inp = _flat(np.ones((1, steps)), [True], steps=steps)._replace(inverter_ok=down)
    alone = dispatch(inp, _config(), 0.0, 100.0, inverter_kw=5.0)
    got = indices_from([alone.summary[k] for k in ACC_KEYS], 1)
    forced = indices_from([alone.summary["forced_" + k] for k in ACC_KEYS], 1)
    assert got.saidi_minutes == pytest.approx(600.0) == forced.saidi_minutes
    assert alone.summary["outage_hours"] == pytest.approx(10.0)
    # a generator carries the loads through the outage (staff switch them to it)
    backed = dispatch(inp, _config(), 0.0, 100.0, inverter_kw=5.0, generator_kw=3.0)
    assert backed.summary["unmet_kwh"] == 0.0
    assert backed.series["generator_kw"][5:15] == pytest.approx(np.ones(10))


def test_a_generator_that_never_starts_leaves_the_loads_unserved() -> None:
    steps = 24
    inp = _flat(np.ones((1, steps)), [True], steps=steps)  # no PV, no battery: diesel only
    ok = dispatch(inp, _config(), 0.0, 0.0, inverter_kw=5.0, generator_kw=3.0)
    assert ok.summary["generator_starts"] == 1.0 and ok.summary["unmet_kwh"] == 0.0
    # every start fails and each failure waits 6 steps for repair: 4 failed attempts (steps
    # 0, 6, 12, 18), nothing served
    failing = dispatch(inp._replace(gen_draw=np.zeros(steps)),
                       _config(gen_start_fail_prob=1.0, repair_steps=6), 0.0, 0.0,
                       inverter_kw=5.0, generator_kw=3.0)
    assert failing.summary["generator_starts"] == 0.0
    assert failing.summary["generator_failures"] == 4.0
    assert failing.summary["generator_hours"] == 0.0
    assert failing.summary["unmet_kwh"] == pytest.approx(24.0)
    got = indices_from([failing.summary["forced_" + k] for k in ACC_KEYS], 1)
    assert got.saidi_minutes == pytest.approx(24 * 60.0)


def test_no_outages_means_everything_works() -> None:
    out = no_outages(5)
    assert out["inverter_ok"].all() and out["battery_ok"].all() and out["pv_ok"].all()
    assert not out["planned_cut"].any()
    assert (out["gen_draw"] >= 1.0).all()  # no probability ≤ 1 fails on a draw of 1
