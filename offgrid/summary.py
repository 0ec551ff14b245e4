"""The one-screen site summary printed by ``offgrid check``."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
from rich.console import Console
from rich.table import Table

from sitefile import (
    AeratorLoad,
    ApplianceLoad,
    Load,
    ProfileLoad,
    PumpLoad,
    Site,
    WaterPumpLoad,
)
from sitefile.model import WEEKDAYS, Schedule
from sizing.loads import (
    after_diversity_peak_kw,
    annual_energy_kwh,
    diversity_factor,
    household_step_kw,
    night_hours,
)
from sizing.weather import SYNTHETIC_YEAR


def _load_detail(load: object) -> str:
    if isinstance(load, WaterPumpLoad):
        w = load.irrigation
        flow = load.flow_m3_per_day
        p = load.pipe
        return (f"{min(flow):g}–{max(flow):g} m³/day, head {load.head_m:g} m, irrigation "
                f"{w.start_h:g}–{w.end_h:g} h, pipe {p.length_m:g} m × {p.diameter_mm:g} mm "
                f"{p.material}")
    if isinstance(load, AeratorLoad):
        return (f"{load.units} × {load.kw_per_unit:g} kW, {load.day_fraction:.0%} by day, "
                f"{load.night_fraction:.0%} at night")
    if isinstance(load, PumpLoad):
        w = load.window
        return f"{load.kw:g} kW deferrable, {w.start_h:g}–{w.end_h:g} h"
    if isinstance(load, ApplianceLoad):
        homes = f"{load.count} households × " if load.count > 1 else ""
        return f"{homes}{len(load.appliances)} appliances" + (
            f" ({load.preset})" if load.preset else "")
    if isinstance(load, ProfileLoad):
        varied = (f", ±{load.day_to_day_pct:g} % day to day, ±{load.timestep_pct:g} % per step"
                  if load.day_to_day_pct or load.timestep_pct else "")
        return load.profile.name + varied
    return ""


def _schedule_detail(schedule: Schedule | None) -> str:
    """A schedule in a few words: its weekdays, months and closed periods."""
    if schedule is None:
        return ""
    parts = []
    if len(schedule.weekdays) < len(WEEKDAYS):
        parts.append(" ".join(d.capitalize() for d in WEEKDAYS if d in schedule.weekdays))
    if len(set(schedule.months)) < 12:
        parts.append("months " + ",".join(str(m) for m in sorted(set(schedule.months))))
    parts += [f"closed {p.from_}–{p.to}" for p in schedule.closed]
    return "; ".join(parts)


def _detail(load: Load) -> str:
    """The detail column: the kind's detail, the schedule and the load growth."""
    growth = (f"{load.load_growth_pct_per_year:+g} %/year"
              if load.load_growth_pct_per_year else "")
    return "; ".join(p for p in (_load_detail(load), _schedule_detail(load.schedule), growth)
                     if p)


def _households_table(site: Site) -> Table | None:
    """Loads of several households: the sum of their individual peaks, the after-diversity
    peak (the peak of their sum) and the diversity factor, on the simulation's step; None when
    no load has more than one household."""
    villages = [ld for ld in site.loads if isinstance(ld, ApplianceLoad) and ld.count > 1]
    if not villages:
        return None
    step = site.weather.step_min if site.weather is not None else 60
    index = pd.date_range(f"{SYNTHETIC_YEAR}-01-01", periods=8760 * 60 // step,
                          freq=f"{step}min", tz=site.site.timezone)
    table = Table(title=f"Households (diversity of {step}-minute demand)", show_edge=False,
                  title_justify="left")
    for col in ("load", "homes", "Σ own peaks kW", "after-diversity peak kW", "kW/home",
                "diversity factor"):
        table.add_column(col, justify="left" if col == "load" else "right")
    for ld in villages:
        kw = household_step_kw(ld, index)
        peak = after_diversity_peak_kw(kw)
        table.add_row(ld.name, str(ld.count), f"{kw.max(axis=1).sum():.2f}", f"{peak:.2f}",
                      f"{peak / ld.count:.2f}", f"{diversity_factor(kw):.2f}")
    return table


def print_site(console: Console, site: Site) -> None:
    """Print the site, its components, its loads with daily energy, and its devices by bus."""
    s = site.site
    console.print(f"[bold]{s.name}[/bold]  {s.latitude:.3f}°, {s.longitude:.3f}°, "
                  f"{s.altitude_m:g} m, {s.timezone}")
    w = site.weather
    if w is not None:
        if w.file is not None:
            console.print(f"Weather: file {w.file.name}")
        else:
            assert w.monthly_ghi_kwh_m2_day is not None
            ghi = w.monthly_ghi_kwh_m2_day
            console.print(f"Weather: synthetic, {w.years} year(s), seed {w.seed}, "
                          f"GHI {min(ghi):g}–{max(ghi):g} kWh/m²/day")

    comp = Table(title="Components", show_edge=False, title_justify="left")
    comp.add_column("component")
    comp.add_column("size", justify="right")
    comp.add_column("detail")
    if site.pv:
        comp.add_row("PV", f"{site.pv.kwp:g} kWp",
                     f"tilt {site.pv.tilt_deg:g}°, azimuth {site.pv.azimuth_deg:g}°, "
                     f"losses {site.pv.losses_pct:g} %, {site.pv.coupling.upper()}-coupled")
    if site.battery:
        b = site.battery
        comp.add_row("Battery", f"{b.kwh:g} kWh",
                     f"{b.chemistry}, SOC {b.min_soc_pct:g}–{b.max_soc_pct:g} %, "
                     f"±{b.max_charge_kw:g}/{b.max_discharge_kw:g} kW")
    if site.inverter:
        i = site.inverter
        comp.add_row("Inverter", f"{i.kw:g} kW",
                     f"surge {i.surge_kw:g} kW, {i.efficiency_pct:g} %")
    for g in site.generators:
        comp.add_row(f"Generator {g.name}", f"{g.kw:g} kW",
                     f"{g.strategy}, {g.fuel_l_per_kwh:g} L/kWh"
                     + (f", device {g.device}" if g.device else ""))
    for wt in site.wind:
        comp.add_row(f"Wind {wt.name}", f"{wt.count} turbine(s)",
                     f"{wt.turbine or 'own power curve'}, hub {wt.hub_height_m:g} m, "
                     f"{wt.coupling.upper()}-coupled, {wt.availability_pct:g} % available")
    if site.tank is not None:
        tk = site.tank
        comp.add_row("Tank", f"{tk.m3:g} m³",
                     f"height {tk.height_m:g} m, reserve {tk.min_level_pct:g} %, pump stop "
                     f"{tk.max_level_pct:g} %, starts at {tk.initial_level_pct:g} %")
    for wp in site.water_pumps:
        pump = wp.pump
        flow = wp.flow_m3_per_day
        drive = "variable-speed drive" if wp.drive == "vfd" else "fixed speed, direct on line"
        comp.add_row(f"Pump {wp.name}", f"{pump.rated_kw:g} kW",
                     f"{pump.name} ({pump.id}), {pump.kind}, {drive}; head {wp.head_m:g} m, "
                     f"{min(flow):g}–{max(flow):g} m³/day"
                     + (f"; source: {pump.source}" if pump.source else ""))
    console.print(comp)

    loads = Table(title="Loads", show_edge=False, title_justify="left")
    for col in ("load", "kind", "critical", "priority", "kWh/day", "detail"):
        loads.add_column(col, justify="right" if col == "kWh/day" else "left")
    night_h = night_hours(site.control.night_start, site.control.night_end)
    total = 0.0
    for load in site.loads:
        kwh = annual_energy_kwh(load, night_h) / 365  # a water pump: at its rated speed
        total += kwh
        loads.add_row(load.name, load.kind, "yes" if load.critical else "no",
                      str(load.priority), f"{kwh:.2f}", _detail(load))
    loads.add_row("[bold]total[/bold]", "", "", "", f"[bold]{total:.2f}[/bold]", "")
    console.print(loads)
    households = _households_table(site)
    if households is not None:
        console.print(households)

    if site.devices:
        by_bus = defaultdict(list)
        for dev in site.devices:
            by_bus[dev.bus].append(dev)
        devs = Table(title="Devices by bus", show_edge=False, title_justify="left")
        for col in ("bus", "unit", "device", "driver", "poll"):
            devs.add_column(col)
        for bus, members in by_bus.items():
            label = bus
            if members[0].transport == "rtu":
                d = members[0]
                label += f" {d.baudrate} {d.bytesize}{d.parity}{d.stopbits}"
            for dev in sorted(members, key=lambda d: d.unit_id):
                devs.add_row(label, str(dev.unit_id), dev.name, dev.driver, f"{dev.poll_s:g} s")
                label = ""
        console.print(devs)
