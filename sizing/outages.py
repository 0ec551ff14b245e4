"""Forced outages and planned cuts, step by step, for the dispatch kernel.

Forced outages are sampled as a renewal process per component, as reliability studies of
off-grid systems do (Billinton & Allan, *Reliability Evaluation of Power Systems*, ch. 12, the
sequential Monte Carlo method): the time to the next failure is exponential with the
component's failure rate (``[reliability] *_failures_per_year``), and each failure keeps the
component out of service for the site's ``repair_days``. Each simulated year ``k`` draws its
own outages from ``[seed, k]``, so the years differ and the same site gives the same years.

The generators' failures depend on when they run, so they are decided in the kernel; here each
unit gets its own uniform draw per step (its own row: units fail independently), and the
configured probabilities are turned into per-attempt and per-step ones
(:func:`generator_failure_probs`).

Planned cuts (``[[maintenance]]``) recur every year at the same local date and hour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sitefile import Maintenance, Reliability

HOURS_PER_YEAR = 8760.0


def outage_mask(rng: np.random.Generator, n_steps: int, dt_h: float,
                failures_per_year: float, repair_h: float) -> np.ndarray:
    """[T] bool: True where the component works; failures at rate ``failures_per_year``
    [1/year] while it works, each repaired after ``repair_h`` [h]."""
    ok = np.ones(n_steps, dtype=np.bool_)
    if failures_per_year <= 0.0 or repair_h <= 0.0:
        return ok
    rate_per_h = failures_per_year / HOURS_PER_YEAR
    t_h = 0.0
    end_h = n_steps * dt_h
    while True:
        t_h += rng.exponential(1.0 / rate_per_h)
        if t_h >= end_h:
            return ok
        first = int(t_h / dt_h)
        last = min(int(np.ceil((t_h + repair_h) / dt_h)), n_steps)
        ok[first:last] = False
        t_h += repair_h


def planned_cut_mask(index: pd.DatetimeIndex, cuts: list[Maintenance]) -> np.ndarray:
    """[T] bool: the steps of ``index`` (local time) that lie in a planned cut."""
    mask = np.zeros(len(index), dtype=np.bool_)
    if not cuts:
        return mask
    day_of_year = index.day_of_year.to_numpy()
    hour = (index.hour + index.minute / 60.0).to_numpy()
    year = int(index[0].year)
    for cut in cuts:
        start = pd.Timestamp(year=year, month=cut.month, day=cut.day)
        start_h = (start.day_of_year - 1) * 24.0 + cut.start_h
        at_h = (day_of_year - 1) * 24.0 + hour
        mask |= (at_h >= start_h) & (at_h < start_h + cut.hours)
    return mask


def generator_failure_probs(r: Reliability, dt_h: float) -> tuple[float, float, int]:
    """``(start_fail_prob, run_fail_prob_per_step, repair_steps)`` of the kernel's generator."""
    run_rate_per_h = r.generator_failures_per_1000_h / 1000.0
    return (r.generator_start_failure_pct / 100.0, float(-np.expm1(-run_rate_per_h * dt_h)),
            int(np.ceil(r.repair_days * 24.0 / dt_h)))


def year_outages(r: Reliability, cuts: list[Maintenance], index: pd.DatetimeIndex,
                 dt_h: float, year: int, *, n_units: int = 1) -> dict[str, np.ndarray]:
    """The outage fields of the kernel's inputs for simulated year ``year`` over ``index``
    (see :class:`sizing.dispatch.DispatchInputs`), for ``n_units`` generator units (one
    row of draws each; one unit: the same draws as a [T] row)."""
    rng = np.random.default_rng([r.seed, year])
    n = len(index)
    repair_h = r.repair_days * 24.0
    # The PV converter: the charge controller (DC-coupled) or the PV inverter (AC-coupled),
    # at the same rate (the site file names it by the common case).
    return {
        "inverter_ok": outage_mask(rng, n, dt_h, r.inverter_failures_per_year, repair_h),
        "battery_ok": outage_mask(rng, n, dt_h, r.battery_failures_per_year, repair_h),
        "pv_ok": outage_mask(rng, n, dt_h, r.charge_controller_failures_per_year, repair_h),
        "planned_cut": planned_cut_mask(index, cuts),
        "gen_draw": rng.random(n) if n_units == 1 else rng.random((n_units, n)),
    }
