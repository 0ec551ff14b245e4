"""Reliability and wear figures: battery life from its cycle damage, motor starts, P50/P90."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from sitefile import AeratorLoad, ApplianceLoad, PumpLoad, Site, WaterPumpLoad
from sizing.loads import appliance_starts

# Figures where more is better: their P90 is the value exceeded in 90 % of years (the 10th
# percentile). For every other figure, P90 is the value not exceeded in 90 % of years.
HIGHER_IS_BETTER = frozenset({"pv_ac_kwh", "served_kwh", "renewable_fraction",
                              "battery_life_years"})


def battery_life_years(damage_per_year: ArrayLike, calendar_life_years: float) -> np.ndarray:
    """Years until the battery reaches end of life: cycling or calendar, whichever comes first.

    ``damage_per_year``: fraction of the cycle life used a year, from the dispatch kernel's
    rainflow count (``battery_cycle_damage``, :mod:`sizing.dispatch`) [1/year].
    """
    damage = np.asarray(damage_per_year, dtype=float)
    with np.errstate(divide="ignore"):
        by_cycling = np.where(damage > 0.0, 1.0 / np.maximum(damage, 1e-300), np.inf)
    return np.minimum(calendar_life_years, by_cycling)


@dataclass(frozen=True)
class MotorStart:
    """Direct-on-line motor start against the inverter's surge rating."""

    motor: str
    start_kw: float
    """Largest single start: running power × start multiplier [kW]."""
    running_kw: float
    """Peak running load of the other loads when it starts [kW]."""
    surge_kw: float
    ok: bool
    max_simultaneous_starts: int
    """How many of the largest motor may start at the same moment within the surge rating."""
    advice: str

    def as_dict(self) -> dict[str, object]:
        return {
            "motor": self.motor, "start_kw": round(self.start_kw, 3),
            "running_kw": round(self.running_kw, 3), "surge_kw": self.surge_kw, "ok": self.ok,
            "max_simultaneous_starts": self.max_simultaneous_starts, "advice": self.advice,
        }


def motor_start_check(site: Site, others_peak_kw: Mapping[str, float]) -> MotorStart | None:
    """Check the worst DOL start plus the running load against ``inverter.surge_kw``.

    Motors are the aerators, the pumps, and the appliances with a ``start_multiplier`` above 1
    (a compressor; named ``<load>/<appliance>``, see :func:`sizing.loads.appliance_starts`).
    ``others_peak_kw``: per motor name, the highest load of everything else running with it
    [kW] (an aerator's other units, an appliance's other units included). ``None`` without
    motors.
    """
    motors: list[tuple[str, float, float, int]] = []
    for load in site.loads:
        if isinstance(load, AeratorLoad):
            switched = max(1, round(load.units * (load.night_fraction - load.day_fraction)))
            motors.append((load.name, load.kw_per_unit, load.start_multiplier, switched))
        elif isinstance(load, PumpLoad):
            motors.append((load.name, load.kw, load.start_multiplier, 1))
        elif isinstance(load, WaterPumpLoad) and load.start_multiplier > 1:
            # a pump on a variable-speed drive ramps up: no start surge to check
            motors.append((load.name, load.pump.rated_kw, load.start_multiplier, 1))
        elif isinstance(load, ApplianceLoad):
            motors += [(name, kw, mult, 1) for name, kw, mult in appliance_starts(load)]
    if not motors or site.inverter is None:
        return None
    name, kw, mult, switched = max(motors,
                                   key=lambda m: others_peak_kw.get(m[0], 0.0) + m[1] * m[2])
    surge = site.inverter.surge_kw
    start_kw = kw * mult
    running = others_peak_kw.get(name, 0.0)
    extra_per_start = start_kw
    fit = int(max((surge - running) // extra_per_start, 0)) if extra_per_start > 0 else 0
    ok = running + start_kw <= surge + 1e-9
    spacing = site.control.motor_start_spacing_s
    if not ok and start_kw > surge:
        advice = (f"starting {name} ({kw:g} kW × {mult:g} = {start_kw:.1f} kW) alone exceeds "
                  f"the {surge:g} kW surge rating: fit a soft starter or VFD, or an inverter "
                  f"with ≥ {running + start_kw:.1f} kW surge")
    elif not ok:
        advice = (f"starting {name} ({kw:g} kW × {mult:g} = {start_kw:.1f} kW) on top of "
                  f"{running:.1f} kW running exceeds the {surge:g} kW surge rating: start it only "
                  f"when the running load is below {surge - start_kw:.1f} kW (switch "
                  "other loads off first), or fit a soft starter or VFD, or an inverter with "
                  f"≥ {running + start_kw:.1f} kW surge")
    elif switched > 1 and fit < switched:
        advice = (f"{switched} units of {name} switch on together at dusk; start at most "
                  f"{fit} at a time, {spacing:g} s apart (control.motor_start_spacing_s), "
                  f"about {spacing * (switched - 1):g} s for all of them")
    else:
        advice = f"fits: {running:.1f} kW running + {start_kw:.1f} kW start ≤ {surge:g} kW surge"
    return MotorStart(name, start_kw, running, surge, ok, fit, advice)


def p50_p90(per_year: Iterable[Mapping[str, float]]) -> tuple[dict[str, float],
                                                                dict[str, float]]:
    """Median and P90 of each figure over weather years (see :data:`HIGHER_IS_BETTER`)."""
    rows = list(per_year)
    p50: dict[str, float] = {}
    p90: dict[str, float] = {}
    for key in rows[0]:
        values = np.array([r[key] for r in rows], dtype=float)
        p50[key] = float(np.median(values))
        p90[key] = float(np.percentile(values, 10 if key in HIGHER_IS_BETTER else 90))
    return p50, p90
