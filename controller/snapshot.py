"""The cycle's snapshot, built from device natures (DESIGN.md §3 points 5 and 7).

Each device's points become the natures its driver provides (``DRIVERS[driver].natures``), and
every site figure is computed here, once, from natures only, never from a vendor's point names:

- ``soc_pct``: the trusted source's reading (:func:`controller.trust.trusted`: the largest
  group of agreeing sources, inverters' battery monitors first);
- ``battery_v``, ``battery_temp_c``: the best reading (good before stale before
  invalid before missing) of the :class:`Battery` and :class:`Inverter` natures;
- ``battery_w``: the sum of the :class:`Battery` natures' power, + charging, − discharging;
- ``pv_w``: the sum of the :class:`ChargeController` and :class:`Inverter` natures' PV power;
- ``wind_w``: the sum of the :class:`WindTurbine` natures' power;
- ``load_w``: the sum of the inverters' AC output and the charge controllers' DC load output;
- ``do_mg_l``: the lowest dissolved oxygen of the :class:`OxygenSensor` natures (the pond
  that needs air first), ``water_temp_c`` the best reading;
- ``generator_running``: True when any :class:`Generator` nature reports running (known
  good), else the best reading; ``fuel_pct``: the best reading of the :class:`Generator`
  natures; per unit of ``[[generators]]``, its controller's ``generator_running``;
- the water: ``tank_level_pct`` = the :class:`TankLevel`'s ``tank_level_m`` / ``tank.height_m``
  × 100, ``pump_w`` the :class:`PumpDrive`'s output power, ``water_m3_h`` the
  :class:`FlowMeter`'s flow, each from the first device of ``[[devices]]`` with that nature (the
  drivers ``tank_level``, ``pump_drive``, ``flow_meter``: a site has one of each);
  ``water_today_m3`` needs the day's account, kept by the cycle
  (:func:`controller.pumping.water_today`): missing here.

A sum takes the worst quality of its terms and has no value unless every term has one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from controller.devices.natures import (
    Battery,
    ChargeController,
    FlowMeter,
    Generator,
    Inverter,
    Nature,
    OxygenSensor,
    PumpDrive,
    RelayBank,
    TankLevel,
    WindTurbine,
)
from controller.devices.registry import DRIVERS
from controller.devices.values import Quality, Reading
from controller.model import PumpReadings, Snapshot
from controller.trust import SOC_AGREE_PCT, trusted
from sitefile import Site
from store.contract import SITE_FIGURES

N = TypeVar("N", bound=Nature)
QUALITY_RANK: dict[Quality, int] = {q: i for i, q in enumerate(Quality)}
"""Best first: good, stale, frozen, invalid, missing (``store.contract.QUALITY_ORDER``)."""


@dataclass(frozen=True)
class DeviceView:
    """One device as the controller sees it this cycle: its natures."""

    name: str
    natures: tuple[Nature, ...]

    def of(self, kind: type[N]) -> N | None:
        """The device's nature of type ``kind``, or None when its driver has none."""
        return next((n for n in self.natures if isinstance(n, kind)), None)


def device_view(name: str, driver: str, points: Mapping[str, Reading], ts: datetime
                ) -> DeviceView:
    """The natures of a device of ``driver`` from its readings ``points`` (absent: MISSING)."""
    return DeviceView(name, tuple(kind.from_points(points, ts)
                                  for kind in DRIVERS[driver].natures))


def best(readings: Iterable[Reading], ts: datetime) -> Reading:
    """The first reading of the best quality; MISSING at ``ts`` when there is none."""
    found = min(readings, key=lambda r: QUALITY_RANK[r.quality], default=None)
    return found or Reading.missing(ts)


def total(readings: Iterable[Reading], ts: datetime) -> Reading:
    """The sum of ``readings``, of the worst quality; no value unless every term has one."""
    terms = list(readings)
    if not terms:
        return Reading.missing(ts)
    worst = max(terms, key=lambda r: QUALITY_RANK[r.quality])
    values = [r.value for r in terms]
    if not all(isinstance(v, int | float) for v in values):
        return Reading(None, ts, worst.quality if worst.value is None else Quality.INVALID)
    return Reading(sum(float(v) for v in values if isinstance(v, int | float)),
                   min(r.ts for r in terms), worst.quality)


def lowest(readings: Iterable[Reading], ts: datetime) -> Reading:
    """The lowest of the best-quality readings (MISSING when there is none)."""
    terms = list(readings)
    top = best(terms, ts)
    same = [r for r in terms if r.quality is top.quality and isinstance(r.value, int | float)]
    return min(same, key=lambda r: float(r.value or 0.0), default=top)


def any_true(readings: Iterable[Reading], ts: datetime) -> Reading:
    """The first good reading whose value is True, else the best reading."""
    terms = list(readings)
    return next((r for r in terms if r.ok and r.value is True), None) or best(terms, ts)


def soc_sources(views: Iterable[DeviceView]) -> list[tuple[str, Reading]]:
    """Every device's SOC reading, by priority: the inverters' battery monitors (coulomb
    counting), then the :class:`Battery` natures (charge controllers' voltage estimates)."""
    vs = list(views)
    return [*((v.name, n.soc_pct) for v in vs if (n := v.of(Inverter)) is not None),
            *((v.name, b.soc_pct) for v in vs if (b := v.of(Battery)) is not None)]


def first(views: Iterable[DeviceView], kind: type[N]) -> N | None:
    """The nature ``kind`` of the first device that has it (None when none has)."""
    return next((n for v in views if (n := v.of(kind)) is not None), None)


def tank_level_pct(level: TankLevel | None, height_m: float | None, ts: datetime) -> Reading:
    """The tank's level [%] of its inner height ``height_m`` [m] from the transmitter's
    ``tank_level_m`` [m], of the same quality (MISSING without a transmitter or a tank)."""
    if level is None or height_m is None:
        return Reading.missing(ts)
    r = level.tank_level_m
    if not isinstance(r.value, int | float) or isinstance(r.value, bool):
        return r
    return Reading(float(r.value) / height_m * 100.0, r.ts, r.quality)


def site_figures(views: Iterable[DeviceView], ts: datetime, tank_height_m: float | None = None
                 ) -> dict[str, Reading]:
    """Every name of ``SITE_FIGURES`` plus ``battery_temp_c``, ``inverter_fault`` [Reading];
    ``tank_height_m`` [m]: the site's tank (None: none, the level is missing)."""
    vs = list(views)
    drive, meter = first(vs, PumpDrive), first(vs, FlowMeter)

    def each(kind: type[N], field: Callable[[N], Reading]) -> list[Reading]:
        return [field(n) for v in vs if (n := v.of(kind)) is not None]

    socs = soc_sources(vs)
    trusted_soc, _ = trusted(socs, SOC_AGREE_PCT)
    figures = {
        "soc_pct": dict(socs)[trusted_soc] if trusted_soc is not None else best(
            (r for _, r in socs), ts),
        "battery_v": best([*each(Battery, lambda b: b.battery_v),
                           *each(Inverter, lambda i: i.battery_v)], ts),
        "battery_w": total(each(Battery, lambda b: b.battery_w), ts),
        "pv_w": total([*each(ChargeController, lambda c: c.pv_w),
                       *each(Inverter, lambda i: i.pv_w)], ts),
        "wind_w": total(each(WindTurbine, lambda w: w.wind_w), ts),
        "load_w": total([*each(Inverter, lambda i: i.ac_w),
                         *each(ChargeController, lambda c: c.load_w)], ts),
        "do_mg_l": lowest(each(OxygenSensor, lambda o: o.do_mg_l), ts),
        "water_temp_c": best(each(OxygenSensor, lambda o: o.water_temp_c), ts),
        "generator_running": any_true(each(Generator, lambda g: g.generator_running), ts),
        "fuel_pct": best(each(Generator, lambda g: g.fuel_pct), ts),
        "battery_temp_c": best(each(Battery, lambda b: b.battery_temp_c), ts),
        "inverter_fault": best(each(Inverter, lambda i: i.inverter_fault), ts),
        "tank_level_pct": tank_level_pct(first(vs, TankLevel), tank_height_m, ts),
        "pump_w": drive.pump_w if drive is not None else Reading.missing(ts),
        "water_m3_h": meter.flow_m3_h if meter is not None else Reading.missing(ts),
        "water_today_m3": Reading.missing(ts),
    }
    assert set(SITE_FIGURES) <= set(figures)
    return figures


def relay_outputs(site: Site, views: Mapping[str, DeviceView]
                  ) -> dict[str, tuple[bool | None, ...]]:
    """Per switchable load, each unit's relay as read back (None when not known good)."""
    outputs: dict[str, tuple[bool | None, ...]] = {}
    for ld in site.loads:
        if ld.switch is None:
            continue
        view = views.get(ld.switch.device)
        bank = view.of(RelayBank) if view is not None else None
        outputs[ld.name] = tuple(
            bool(r.value) if bank is not None and (r := bank.channel(ch)).ok else None
            for ch in ld.switch.channels)
    return outputs


def generators_running(site: Site, views: Mapping[str, DeviceView]
                       ) -> dict[str, bool | None]:
    """Per generator unit, whether its controller (``[[generators]] device``) reports it
    running (None when unknown or when the unit names no controller)."""
    out: dict[str, bool | None] = {}
    for unit in site.generators:
        view = views.get(unit.device) if unit.device is not None else None
        gen = view.of(Generator) if view is not None else None
        out[unit.name] = (bool(gen.generator_running.value)
                          if gen is not None and gen.generator_running.ok else None)
    return out


def pump_readings(views: Iterable[DeviceView], ts: datetime) -> PumpReadings:
    """The first pump drive's and flow meter's readings beyond the site figures."""
    vs = list(views)
    drive, meter = first(vs, PumpDrive), first(vs, FlowMeter)
    none = Reading.missing(ts)
    return PumpReadings(
        hz=drive.pump_hz if drive else none, running=drive.pump_running if drive else none,
        run_cmd=drive.pump_run if drive else none, hz_set=drive.pump_hz_set if drive else none,
        fault=drive.pump_fault if drive else none,
        flow_total_m3=meter.flow_total_m3 if meter else none)


def build_snapshot(site: Site, views: Mapping[str, DeviceView], mono_s: float, wall_ts: float,
                   clearsky_w: tuple[float, ...]) -> Snapshot:
    """The immutable snapshot of one cycle from the devices' natures ``views`` (name → view,
    in ``[[devices]]`` order)."""
    now_utc = datetime.fromtimestamp(wall_ts, UTC)
    local = now_utc.astimezone(site.tz)
    f = site_figures(views.values(), now_utc,
                     site.tank.height_m if site.tank is not None else None)
    return Snapshot(
        mono_s=mono_s, wall_ts=wall_ts,
        local_h=local.hour + local.minute / 60 + local.second / 3600,
        local_day=local.date().isoformat(),
        soc_pct=f["soc_pct"], battery_v=f["battery_v"], battery_w=f["battery_w"],
        battery_temp_c=f["battery_temp_c"], pv_w=f["pv_w"], wind_w=f["wind_w"],
        load_w=f["load_w"],
        do_mg_l=f["do_mg_l"], water_temp_c=f["water_temp_c"],
        inverter_fault=f["inverter_fault"], generator_running=f["generator_running"],
        fuel_pct=f["fuel_pct"], outputs=relay_outputs(site, views), clearsky_w=clearsky_w,
        gen_running=generators_running(site, views),
        tank_level_pct=f["tank_level_pct"], pump_w=f["pump_w"], water_m3_h=f["water_m3_h"],
        water_today_m3=f["water_today_m3"], pump=pump_readings(views.values(), now_utc))
