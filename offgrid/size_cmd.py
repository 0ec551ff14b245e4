"""``offgrid size simulate``: one design over one or N weather years (optimize and report are in
:mod:`offgrid.size_optimize_cmd`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from offgrid.common import JsonOpt, SiteArg, fail, open_site, print_json
from sizing.errors import SizingError

YearsOpt = Annotated[
    int | None,
    typer.Option("--years", min=1, max=200,
                 help="Simulated years, weather and outages (default: [reliability].years, at "
                      "least [weather].years)."),
]
SeriesOpt = Annotated[
    Path | None,
    typer.Option("--series", dir_okay=False, writable=True,
                 help="Write the step series (PV, generator, battery, SOC, each load's demand "
                      "and served power) of every simulated year to this CSV file."),
]

# (key, label, format) of the readable table.
_ROWS: tuple[tuple[str, str, str], ...] = (
    ("pv_ac_kwh", "PV energy [kWh]", "{:,.0f}"),
    ("load_kwh", "load [kWh]", "{:,.0f}"),
    ("served_kwh", "served [kWh]", "{:,.0f}"),
    ("unmet_kwh", "unmet [kWh]", "{:,.1f}"),
    ("unmet_load_fraction", "unmet fraction", "{:.2%}"),
    ("critical_unmet_fraction", "critical unmet fraction", "{:.3%}"),
    ("loss_of_load_hours", "loss-of-load hours", "{:,.0f}"),
    ("saidi_minutes", "SAIDI [min/year]", "{:,.0f}"),
    ("saidi_planned_minutes", "  of which planned [min/year]", "{:,.0f}"),
    ("saidi_forced_minutes", "  of which forced outages [min/year]", "{:,.0f}"),
    ("saifi_count", "SAIFI [interruptions/year]", "{:,.1f}"),
    ("maifi_count", "MAIFI [momentary/year]", "{:,.1f}"),
    ("load_curtailed_hours", "flexible loads curtailed [load-hours]", "{:,.0f}"),
    ("load_curtailed_kwh", "flexible loads curtailed [kWh]", "{:,.1f}"),
    ("curtailed_kwh", "curtailed PV and wind [kWh]", "{:,.0f}"),
    ("wind_kwh", "wind energy [kWh]", "{:,.0f}"),
    ("wind_curtailed_kwh", "  of it dumped [kWh]", "{:,.0f}"),
    ("wind_capacity_factor", "wind capacity factor", "{:.1%}"),
    ("losses_pct", "conversion losses [% of delivered]", "{:.1f}"),
    ("battery_throughput_kwh", "battery throughput [kWh]", "{:,.0f}"),
    ("battery_equivalent_cycles", "equivalent full cycles", "{:,.0f}"),
    ("battery_life_years", "battery life [years]", "{:.1f}"),
    ("generator_hours", "generator hours", "{:,.0f}"),
    ("generator_fuel_l", "generator fuel [L]", "{:,.0f}"),
    ("renewable_fraction", "renewable fraction", "{:.1%}"),
)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def motor_start_line(motor: dict[str, Any], soft: frozenset[str] = frozenset()) -> str | None:
    """The motor-start check in one line, from its figures: what fits, or what to do when the
    largest start exceeds the inverter's surge rating. None for a motor on a variable-speed
    drive (``soft``: no direct-on-line surge to advise on; its running power is the peak-load
    check's business)."""
    if motor["motor"] in soft:
        return None
    if motor["ok"]:
        return str(motor["advice"])
    name, start, running = motor["motor"], motor["start_kw"], motor["running_kw"]
    surge = motor["surge_kw"]
    if start >= surge:
        return (f"starting {name} draws {start:.1f} kW, more than the {surge:g} kW surge rating "
                f"even with nothing else running: fit a soft starter or a variable-speed drive, "
                f"or an inverter with ≥ {running + start:.1f} kW surge")
    return (f"starting {name} ({start:.1f} kW) on top of {running:.1f} kW running exceeds the "
            f"{surge:g} kW surge rating: start it only when the running load is below "
            f"{surge - start:.1f} kW (switch other loads off first), or fit a soft starter or a "
            f"variable-speed drive, or an inverter with ≥ {running + start:.1f} kW surge")


def _figure(value: float | None, spec: str) -> str:
    """A figure of the JSON (None: not a finite number, e.g. an unbounded autonomy)."""
    return "—" if value is None else format(value, spec)


def water_tables(water: dict[str, Any], years: int = 1) -> tuple[Table, Table]:
    """The water pump's year (``water`` block of the JSON) and its months, as two tables
    (with several ``years``: the P50 of each figure, and each month's median)."""
    w = water
    several = years > 1
    table = Table(title=f"Water (P50 of {years} years)" if several else "Water",
                  show_edge=False, title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for label, value in (
        ("demand [m³/year]", f"{w['demand_m3']:,.0f}"),
        ("delivered [m³/year]", f"{w['delivered_m3']:,.0f}"),
        ("  mean [m³/day]", f"{w['delivered_m3'] / 365:,.1f}"),
        ("not delivered [m³/year]", f"{w['unmet_m3']:,.1f} ({w['unmet_fraction']:.2%})"),
        ("pumped [m³/year]", f"{w['pumped_m3']:,.0f}"),
        ("pump energy [kWh/year]", f"{w['pump_kwh']:,.0f}"),
        ("pump operating hours [h/year]", f"{w['pump_hours']:,.0f}"),
        ("hydraulic energy [kWh/year]", f"{w['hydraulic_kwh']:,.0f}"),
        ("wire-to-water efficiency [%]", f"{w['wire_to_water_pct']:.1f}"),
        ("tank autonomy, peak month [days]", _figure(w["autonomy_days"], ".1f")),
        ("cost of water [VND/m³]", _figure(w["vnd_per_m3"], ",.0f")),
        ("tank [m³]", f"{w['tank_m3']:g}"),
        ("pump", escape(str(w["pump"]))),
    ):
        table.add_row(escape(label), value)
    months = Table(title=(f"Water by month (m³ in the month, each month's median of {years} "
                          "years; the year row adds the months)") if several
                   else "Water by month (m³ in the month)", show_edge=False,
                   title_justify="left")
    for col in ("month", "demand", "delivered", "not delivered"):
        months.add_column(col, justify="left" if col == "month" else "right")
    for r in w["monthly"] or []:
        months.add_row(_MONTHS[int(r["month"]) - 1], f"{r['demand_m3']:,.0f}",
                       f"{r['delivered_m3']:,.0f}", f"{r['unmet_m3']:,.1f}")
    months.add_row("[bold]year[/bold]",
                   *(f"[bold]{sum(r[k] for r in w['monthly'] or []):,.{d}f}[/bold]"
                     for k, d in (("demand_m3", 0), ("delivered_m3", 0), ("unmet_m3", 1))))
    return table, months


def _print_table(console: Console, site_name: str, data: dict[str, Any],
                 soft: frozenset[str] = frozenset()) -> None:
    d = data["design"]
    n_units = len(data["generator_units"])
    units = f"{n_units} × " if n_units > 1 else ""
    console.print(f"[bold]{site_name}[/bold]: {d['kwp']:g} kWp, {d['kwh']:g} kWh, "
                  f"inverter {d['inverter_kw']:g} kW, generator {units}{d['generator_kw']:g} kW, "
                  f"{d['turbines']:g} wind turbine(s), "
                  + (f"tank {d['tank_m3']:g} m³, " if d.get("tank_m3") else "") +
                  f"{data['years']} simulated year(s) of weather and outages")
    table = Table(show_edge=False)
    table.add_column("figure")
    several = data["years"] > 1
    table.add_column("P50" if several else "value", justify="right")
    if several:
        table.add_column("P90", justify="right")
    for key, label, fmt in _ROWS:
        row = [escape(label), fmt.format(data[key])]
        if several:
            row.append(fmt.format(data["p90"][key]))
        table.add_row(*row)
    console.print(table)
    unmet = Table(title="Unmet energy by load", show_edge=False, title_justify="left")
    unmet.add_column("load")
    unmet.add_column("kWh/year", justify="right")
    for name, kwh in data["unmet_by_load_kwh"].items():
        unmet.add_row(name, f"{kwh:,.1f}")
    console.print(unmet)
    console.print(f"Conversion losses {data['losses_pct']:.1f} % of the energy delivered "
                  f"(target {data['losses_target_pct']:g} %); curtailed PV "
                  f"{data['curtailed_kwh']:,.0f} kWh on its own line. SAIDI and SAIFI over "
                  f"{data['customers_served']} customer(s), IEEE 1366.")
    water = data.get("water")
    if water:
        for table in water_tables(water, data["years"]):
            console.print(table)
    motor = data["motor_start"]
    line = motor_start_line(motor, soft) if motor else None
    if line is not None:
        console.print(f"Motor start: {escape(line)}.")
    for warning in data["warnings"]:
        if motor and warning.startswith("motor start: "):
            continue  # said above, from the figures
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")


def simulate_cmd(site_file: SiteArg, as_json: JsonOpt = False, years: YearsOpt = None,
                 series: SeriesOpt = None) -> None:
    """One design over N simulated years: energy balance and reliability."""
    from sizing.inputs import read_inputs, simulated_years  # noqa: PLC0415 (numba/pvlib: heavy)
    from sizing.simulate import series_frame, simulate  # noqa: PLC0415

    site = open_site(site_file, "weather", "pv", "inverter")
    if not site.loads:
        fail(f"{site_file}: loads: at least one [[loads]] entry is required to simulate")
    err = Console(stderr=True)
    n_years = years or simulated_years(site)
    try:
        inputs = read_inputs(site, years)
        if n_years > 1 and not as_json:
            with Progress(console=err, transient=True) as progress:
                task = progress.add_task("simulating weather years", total=n_years)
                result = simulate(site, inputs, on_year=lambda done, _n: progress.update(
                    task, completed=done))
        else:
            result = simulate(site, inputs)
    except SizingError as e:
        fail(f"{site_file}: {e}")
    data = result.to_json()
    if series is not None:
        try:
            series_frame(result).to_csv(series, index=False, float_format="%.6g")
        except OSError as e:
            fail(f"--series {series}: {e.strerror or e}")
    if as_json:
        print_json(data)
    else:
        _print_table(Console(), site.site.name, data, frozenset(
            ld.name for ld in site.loads if getattr(ld, "start_multiplier", 0.0) == 1.0))
