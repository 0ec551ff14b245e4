"""The one-screen site summary printed by ``offgrid check``."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.table import Table

from sitefile import AeratorLoad, ApplianceLoad, ProfileLoad, PumpLoad, Site
from sizing.loads import night_hours, nominal_daily_kwh


def _load_detail(load: object) -> str:
    if isinstance(load, AeratorLoad):
        return (f"{load.units} × {load.kw_per_unit:g} kW, {load.day_fraction:.0%} by day, "
                f"{load.night_fraction:.0%} at night")
    if isinstance(load, PumpLoad):
        w = load.window
        return f"{load.kw:g} kW deferrable, {w.start_h:g}–{w.end_h:g} h"
    if isinstance(load, ApplianceLoad):
        return f"{len(load.appliances)} appliances" + (f" ({load.preset})" if load.preset else "")
    if isinstance(load, ProfileLoad):
        return load.profile.name
    return ""


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
    if site.generator:
        g = site.generator
        comp.add_row("Generator", f"{g.kw:g} kW", f"{g.strategy}, {g.fuel_l_per_kwh:g} L/kWh")
    console.print(comp)

    loads = Table(title="Loads", show_edge=False, title_justify="left")
    for col in ("load", "kind", "critical", "priority", "kWh/day", "detail"):
        loads.add_column(col, justify="right" if col == "kWh/day" else "left")
    night_h = night_hours(site.control.night_start, site.control.night_end)
    total = 0.0
    for load in site.loads:
        kwh = nominal_daily_kwh(load, night_h)
        total += kwh
        loads.add_row(load.name, load.kind, "yes" if load.critical else "no",
                      str(load.priority), f"{kwh:.2f}", _load_detail(load))
    loads.add_row("[bold]total[/bold]", "", "", "", f"[bold]{total:.2f}[/bold]", "")
    console.print(loads)

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
