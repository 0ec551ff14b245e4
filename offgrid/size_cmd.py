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


def _print_table(console: Console, site_name: str, data: dict[str, Any]) -> None:
    d = data["design"]
    n_units = len(data["generator_units"])
    units = f"{n_units} × " if n_units > 1 else ""
    console.print(f"[bold]{site_name}[/bold]: {d['kwp']:g} kWp, {d['kwh']:g} kWh, "
                  f"inverter {d['inverter_kw']:g} kW, generator {units}{d['generator_kw']:g} kW, "
                  f"{d['turbines']:g} wind turbine(s), "
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
    if data["motor_start"]:
        console.print(f"Motor start: {data['motor_start']['advice']}.")
    for warning in data["warnings"]:
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
        _print_table(Console(), site.site.name, data)
