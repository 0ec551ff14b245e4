"""Energy per category, from the devices' own counters where they have them (pure functions).

A device's natures say where each category of its energy comes from (:data:`SOURCES`): a
counter [kWh] (EPEver's generated and consumed energy, SunSpec's ``WH`` accumulators, the
generator controller's kWh), or, where the nature has none, its power [W] integrated over the
cycle's monotonic ``dt_s``. A counter's energy does not depend on the poll rate or on how fast
time runs on the device (a simulator at ``--speed 60``); integrated energy assumes the device
runs in real time. Each step says which it was (``EnergyStep.method``).

Counter resets are handled by :func:`counter_step_kwh`: a counter that goes down restarted at 0
(a reboot), so its new value is the energy since then; a rise larger than the site's rating
could produce since the last good read plus an hour is a discontinuity, not energy, and the
counter's mark stays where it was: when the counter comes back to its course, the energy of
the gap is counted once, and an implausible value never becomes the base of the next step.
(The hour of margin lets a simulator run faster than real time, ``offgrid sim --speed 60``.)
A counter that has given a good value once is never replaced by integration: a gap in its reads is
covered by the next good read's difference.

Energy meters on a load's circuit (:data:`METERED`, the :class:`Meter` nature) give each
metered load its own energy (:func:`meter_energy`), the same way, as detail beside the site's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from controller.devices.natures import (
    Battery,
    ChargeController,
    Generator,
    Inverter,
    Meter,
    Nature,
    WindTurbine,
)
from controller.snapshot import DeviceView
from sitefile import Site
from store.contract import (
    ENERGY_CATEGORIES,
    EnergyCategory,
    EnergyMethod,
    EnergyStep,
)

RESET_MARGIN_H = 1.0
"""A counter may rise by at most ``rating × (hours since its last good read + this)``."""


@dataclass(frozen=True)
class Source:
    """Where one nature's energy of one category comes from: the nature's ``counter`` field
    [kWh] if any, else its ``power`` field [W] × ``sign``, positive part only."""

    category: EnergyCategory
    counter: str | None
    power: str
    sign: float = 1.0


SOURCES: Mapping[type[Nature], tuple[Source, ...]] = MappingProxyType({
    ChargeController: (Source("pv", "pv_kwh_total", "pv_w"),
                       Source("load", "load_kwh_total", "load_w")),
    Inverter: (Source("load", "ac_kwh_total", "ac_w"), Source("pv", "pv_kwh_total", "pv_w")),
    Generator: (Source("generator", "generator_kwh_total", "generator_w"),),
    WindTurbine: (Source("wind", "wind_kwh_total", "wind_w"),),
    Battery: (Source("battery_charge", None, "battery_w", 1.0),
              Source("battery_discharge", None, "battery_w", -1.0)),
})

METERED: Mapping[type[Nature], tuple[Source, ...]] = MappingProxyType({
    Meter: (Source("load", "import_kwh", "power_w"),),
})
"""What an energy meter on a load's circuit measures: that load's energy, from its import
counter. Kept apart from :data:`SOURCES`: a metered load is detail of the site's load energy,
which the inverter already counts (:func:`meter_energy`)."""


@dataclass(frozen=True)
class Mark:
    """A counter's last good value [kWh] and when it was read [s, monotonic]."""

    kwh: float
    mono_s: float


@dataclass(frozen=True)
class EnergyState:
    """The counters' last good values, by (device, category)."""

    marks: Mapping[tuple[str, EnergyCategory], Mark] = field(
        default_factory=lambda: MappingProxyType({}))


def counter_step_kwh(prev_kwh: float, kwh: float, max_step_kwh: float) -> float | None:
    """Energy [kWh] between two reads of a counter, never negative; None for a discontinuity.

    A counter below ``prev_kwh`` restarted at 0, so ``kwh`` is the energy since. A step above
    ``max_step_kwh`` is a discontinuity (garbage that passed the plausibility ranges, another
    device), not energy.
    """
    step = kwh - prev_kwh if kwh >= prev_kwh else kwh
    return step if step <= max_step_kwh else None


def rated_kw(site: Site) -> dict[EnergyCategory, float]:
    """The most power each counted category can carry [kW] (inf when the site does not say;
    wind: a turbine library type's rating is sizing's to know, not the controller's)."""
    inverter_kw = site.inverter.kw if site.inverter is not None else math.inf
    gen_kw = sum(g.kw for g in site.generators)  # every unit in parallel
    return {"pv": site.pv.kwp if site.pv is not None else math.inf,
            "load": max(inverter_kw, gen_kw), "generator": gen_kw if gen_kw else math.inf,
            "battery_charge": math.inf, "battery_discharge": math.inf, "wind": math.inf}


def _number(nature: Nature, name: str) -> float | None:
    r = getattr(nature, name)
    return float(r.value) if r.ok and isinstance(r.value, int | float) else None


def device_energy(view: DeviceView, state: EnergyState, dt_s: float, now_mono: float,
                  rating_kw: Mapping[EnergyCategory, float], *,
                  sources: Mapping[type[Nature], tuple[Source, ...]] = SOURCES
                  ) -> tuple[tuple[EnergyStep, ...], dict[tuple[str, EnergyCategory], Mark]]:
    """One device's energy steps this cycle [Wh], and its counters' new marks."""
    steps: list[EnergyStep] = []
    marks: dict[tuple[str, EnergyCategory], Mark] = {}
    for nature in view.natures:
        for src in sources.get(type(nature), ()):
            key = (view.name, src.category)
            kwh = None if src.counter is None else _number(nature, src.counter)
            prev = state.marks.get(key)
            if kwh is not None:
                step = 0.0 if prev is None else counter_step_kwh(
                    prev.kwh, kwh, rating_kw[src.category]
                    * (RESET_MARGIN_H + (now_mono - prev.mono_s) / 3600.0))
                if step is not None:  # a discontinuity moves neither the energy nor the mark
                    marks[key] = Mark(kwh, now_mono)
                steps.append(EnergyStep(src.category, (step or 0.0) * 1000.0, "counter"))
            elif prev is None and (watts := _number(nature, src.power)) is not None:
                steps.append(EnergyStep(src.category, max(src.sign * watts, 0.0) * dt_s / 3600.0,
                                        "integrated"))
    return tuple(steps), marks


def site_energy(per_device: Iterable[tuple[EnergyStep, ...]]) -> tuple[EnergyStep, ...]:
    """The site's energy: the sum over devices per category and method (integrated steps
    that moved no energy are left out)."""
    wh: dict[tuple[EnergyCategory, EnergyMethod], float] = {}
    for steps in per_device:
        for s in steps:
            wh[s.category, s.method] = wh.get((s.category, s.method), 0.0) + s.wh
    return tuple(EnergyStep(c, e, m) for (c, m), e in sorted(
        wh.items(), key=lambda kv: (ENERGY_CATEGORIES.index(kv[0][0]), kv[0][1]))
        if m == "counter" or e > 0)


def energy(views: Iterable[DeviceView], state: EnergyState, dt_s: float, now_mono: float,
           rating_kw: Mapping[EnergyCategory, float]
           ) -> tuple[dict[str, tuple[EnergyStep, ...]], EnergyState]:
    """Every device's energy steps this cycle (device → steps) and the new state."""
    marks = dict(state.marks)
    out: dict[str, tuple[EnergyStep, ...]] = {}
    for view in views:
        steps, new = device_energy(view, state, dt_s, now_mono, rating_kw)
        marks.update(new)
        if steps:
            out[view.name] = steps
    return out, EnergyState(MappingProxyType(marks))


def meter_energy(views: Iterable[DeviceView], state: EnergyState, dt_s: float,
                 now_mono: float, rating_kw: Mapping[EnergyCategory, float]
                 ) -> tuple[dict[str, tuple[EnergyStep, ...]], EnergyState]:
    """Each energy meter's ``load`` energy this cycle (meter device → steps), and the new state.

    A meter's import counter is read like any counter (:func:`counter_step_kwh`: a reset
    restarts at 0, a jump beyond the load category's rating is a discontinuity); a meter that
    never gave its counter falls back to integrating its power. The energy stays under the
    meter's name: the site file's ``measures`` says whose load it is (a meter that measures
    none meters the whole AC output). It is detail, never added to the site's energy, which
    the inverter already counts.
    """
    marks = dict(state.marks)
    out: dict[str, tuple[EnergyStep, ...]] = {}
    for view in views:
        if view.of(Meter) is None:
            continue
        steps, new = device_energy(view, state, dt_s, now_mono, rating_kw, sources=METERED)
        marks.update(new)
        if steps:
            out[view.name] = steps
    return out, EnergyState(MappingProxyType(marks))
