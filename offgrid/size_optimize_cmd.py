"""``offgrid size optimize`` and ``offgrid size report``: search the design space, and the
engineer's report of the winner."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from offgrid.common import JsonOpt, SiteArg, fail, open_site, print_json
from sitefile import Site, SiteFileError, write_site
from sitefile.presets import PUMP_CATALOGUE
from sizing.errors import SizingError

if TYPE_CHECKING:
    from sizing.optimize import Result

err = Console(stderr=True)
out = Console()
SECTIONS = ("weather", "pv", "inverter", "loads", "search")  # no [battery]: kwh stays 0


def _run(site: Site) -> Result:
    """Optimise with a progress bar on stderr (stdout stays pure JSON)."""
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TextColumn("design-years"),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("optimising", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        from sizing.inputs import read_inputs  # noqa: PLC0415 (heavy: loaded by this command only)
        from sizing.optimize import optimize  # noqa: PLC0415

        return optimize(site, read_inputs(site), progress=progress)


def _design_changes(site: Site, design: dict[str, float]) -> dict[str, dict[str, Any] | None]:
    """The site-file keys that the design changes, for :func:`sitefile.write_site`: the sizes,
    the ratings that follow them, the tank's volume, and ``[generator]`` added or removed.
    Raises :class:`SizingError` when the design changes ``[[generators]]``, ``[[wind]]`` or a
    water pump's model (arrays of tables, which the writer does not rewrite)."""
    from sizing.optimize import apply_design  # noqa: PLC0415 (heavy: loaded by this command only)

    designed = apply_design(site, design)
    assert designed.pv is not None and designed.inverter is not None
    b, inv = designed.battery, designed.inverter
    changes: dict[str, dict[str, Any] | None] = {
        "pv": {"kwp": designed.pv.kwp},
        "inverter": {"kw": inv.kw, "surge_kw": inv.surge_kw},
    }
    if b is not None:  # a site without [battery] stays without one
        changes["battery"] = {"kwh": b.kwh, "max_charge_kw": b.max_charge_kw,
                              "max_discharge_kw": b.max_discharge_kw}
    if designed.tank is not None:
        changes["tank"] = {"m3": designed.tank.m3}
    # Arrays of tables ([[generators]], [[wind]], [[loads]]) are not rewritten: say what to
    # change.
    by_hand = [f'[[loads]] {new.name}: pump = "{new.pump.id}"'
               for old, new in zip(site.water_pumps, designed.water_pumps, strict=True)
               if new.pump.id != old.pump.id]
    if len(site.generators) > 1 or (site.generators and site.generators[0].name != "generator"):
        if [g.kw for g in designed.generators] != [g.kw for g in site.generators]:
            by_hand.append("[[generators]] kw = " + ", ".join(
                f"{g.kw:g}" for g in designed.generators) if designed.generators
                else "remove [[generators]]")
    else:
        changes["generator"] = (None if designed.generator is None
                                else {"kw": designed.generator.kw})
    if [w.count for w in designed.wind] != [w.count for w in site.wind]:
        by_hand.append(f"[[wind]] count = {design['turbines']:g}")
    if by_hand:
        raise SizingError("the chosen design changes " + "; ".join(by_hand)
                          + ": edit the site file by hand (--write-site rewrites tables only)")
    return changes


def _pump_text(pump: Any, names: dict[str, str]) -> str:
    """The pump of a design: its catalogue id with its model name when known."""
    name = names.get(str(pump))
    return f"{pump} ({name})" if name else str(pump)


def _figure(value: float | None, spec: str) -> str:
    """A figure of the JSON (None: not a finite number, e.g. an unbounded autonomy)."""
    return "—" if value is None else format(value, spec)


def _tank_text(d: dict[str, Any]) -> str:
    """`` tank n m³`` for a design with a tank, else nothing."""
    return f" tank {d['tank_m3']:g} m³" if d.get("tank_m3") else ""


def _print_result(data: dict[str, Any], pump_names: dict[str, str] | None = None) -> None:
    """The search's outcome and its best design. ``pump_names``: model name by catalogue id
    (for the water pump's line)."""
    names = pump_names or {}
    best = data["best"]
    out.print(f"[bold]{data['candidates']:,}[/] candidates, {data['feasible']:,} feasible at "
              f"{data['reliability_level'].upper()} over {data['years']} simulated years "
              f"(weather and equipment failures); {data['evaluated']:,} design-years in "
              f"{data['elapsed_s']:.2f} s")
    if best is None:
        for w in data["warnings"]:
            out.print(f"[yellow]warning:[/] {escape(w)}")
        return
    d = best["design"]
    table = Table(title="Best design (lowest net present cost)", show_header=False)
    table.add_row("PV", f"{d['kwp']:g} kWp")
    table.add_row("battery", f"{d['kwh']:g} kWh" if d["kwh"] else "none")
    table.add_row("inverter", f"{d['inverter_kw']:g} kW")
    table.add_row("generator", f"{d['generator_kw']:g} kW" if d["generator_kw"] else "none")
    if d["turbines"] or best["wind_kwh"]:
        table.add_row("wind turbines", f"{d['turbines']:g}: {best['wind_kwh']:,.0f} kWh/year, "
                      f"capacity factor {100 * best['wind_capacity_factor']:.0f} %, "
                      f"{best['wind_curtailed_kwh']:,.0f} kWh dumped")
    water = best.get("water")
    if water:
        table.add_row("tank", f"{water['tank_m3']:g} m³")
        table.add_row("pump", escape(_pump_text(water["pump"], names)))
        table.add_row("water delivered", f"{water['delivered_m3']:,.0f} m³/year "
                      f"({water['delivered_m3'] / 365:,.1f} m³/day), "
                      f"{100 * water['unmet_fraction']:.2f} % not delivered")
        table.add_row("cost of water", f"{_figure(water['vnd_per_m3'], ',.0f')} VND/m³")
        table.add_row("pump running", f"{water['pump_hours']:,.0f} h/year, wire-to-water "
                      f"{water['wire_to_water_pct']:.1f} %, tank autonomy "
                      f"{_figure(water['autonomy_days'], '.1f')} days in the peak month")
    table.add_row("net present cost", f"{best['npc_vnd'] / 1e6:,.1f} M VND")
    table.add_row("capital", f"{best['capital_vnd'] / 1e6:,.1f} M VND")
    table.add_row("LCOE", f"{best['lcoe_vnd_per_kwh']:,.0f} VND/kWh")
    table.add_row("unmet", f"{100 * best['unmet_fraction']:.2f} %")
    table.add_row("critical unmet", f"{100 * best['critical_unmet_fraction']:.3f} %")
    labels = {"saidi_minutes": ("SAIDI", "min/year"), "saifi_count": ("SAIFI", "/year")}
    for key, row in best["targets"].items():
        label, unit = labels[key]
        marks = {lv: "" if row[f"meets_{lv}"] else " [red](misses)[/]" for lv in ("p50", "p90")}
        table.add_row(f"{label} P50 / P90", f"{row['p50']:,.1f}{marks['p50']} / "
                      f"{row['p90']:,.1f}{marks['p90']} {unit} (target {row['target']:g})")
    table.add_row("of SAIDI, equipment failures",
                  f"{best['saidi_forced_minutes']:,.0f} min/year at "
                  f"{data['reliability_level'].upper()}")
    dsl = data["diesel_only"]
    lcoe = dsl["lcoe_vnd_per_kwh"]
    if not water:  # the diesel-only baseline pumps no water: no comparison on a water site
        table.add_row("diesel only", f"{dsl['npc_vnd'] / 1e6:,.1f} M VND "
                      f"({_figure(lcoe if lcoe is None or math.isfinite(lcoe) else None, ',.0f')}"
                      " VND/kWh)")
    out.print(table)
    why = data["why"]
    name = why["binding_constraint"]

    def fmt(value: float) -> str:
        if name == "max_saidi_minutes":
            return f"{value:,.0f} min"
        if name == "max_saifi_count":
            return f"{value:,.1f} /year"
        if name == "motor_start_surge":
            return f"{100 * value:.0f} %"
        return f"{100 * value:.3f} %"

    out.print(f"binding constraint: [bold]{name}[/] ({fmt(why['values'][name])} against "
              f"{fmt(why['limits'][name])})")
    for r in why["cheaper_infeasible"]:
        rd = r["design"]
        out.print(f"  cheaper, fails {', '.join(r['violates'])}: {rd['kwp']:g} kWp "
                  f"{rd['kwh']:g} kWh {rd['inverter_kw']:g} kW gen {rd['generator_kw']:g} kW "
                  f"{rd['turbines']:g} turbine(s){_tank_text(rd)} "
                  f"({r['npc_delta_vnd'] / 1e6:+,.1f} M VND)")
    for r in why["next_feasible"]:
        rd = r["design"]
        out.print(f"  next feasible: {rd['kwp']:g} kWp {rd['kwh']:g} kWh "
                  f"{rd['inverter_kw']:g} kW gen {rd['generator_kw']:g} kW "
                  f"{rd['turbines']:g} turbine(s){_tank_text(rd)} "
                  f"({r['npc_delta_vnd'] / 1e6:+,.1f} M VND)")
    for w in data["warnings"]:
        out.print(f"[yellow]warning:[/] {escape(w)}")


def _pump_names(site: Site) -> dict[str, str]:
    """Model name by catalogue id: the pumps the search tries and the site's own."""
    ids = (site.search.pumps if site.search is not None else None) or []
    names = {i: str(PUMP_CATALOGUE[i].get("name", i)) for i in ids if i in PUMP_CATALOGUE}
    names.update({wp.pump.id: wp.pump.name for wp in site.water_pumps})
    return names


def optimize_cmd(
    site_file: SiteArg,
    as_json: JsonOpt = False,
    write: Annotated[Path | None, typer.Option(
        "--write-site", help="Write a copy of the site file with the chosen sizes.",
        show_default=False)] = None,
) -> None:
    """Search the site's search ranges for the cheapest design that meets its constraints."""
    site = open_site(site_file, *SECTIONS)
    try:
        result = _run(site)
    except SizingError as e:
        fail(f"{site_file}: {e}")
    from sizing.optimize import design_dict, result_json  # noqa: PLC0415 (heavy: loaded by this command only)

    data = result_json(result)
    if write is not None:
        if result.best is None:
            fail(f"{site_file}: no feasible design, so no site file was written", code=1)
        try:
            write_site(site_file, write,
                       _design_changes(site, design_dict(result.grid.designs, result.best)))
        except OSError as e:
            fail(f"{write}: cannot write: {e.strerror}", code=1)
        except SizingError as e:
            fail(f"{write}: {e}", code=1)
        except SiteFileError as e:
            fail(f"{write}: the written site file does not validate:\n{e}", code=1)
    if as_json:
        print_json(data)
    else:
        _print_result(data, _pump_names(site))
        if write is not None:
            out.print(f"wrote {write}")


def report_cmd(
    site_file: SiteArg,
    output: Annotated[Path, typer.Option("-o", "--output",
                                         help="The file to write (.html or .pdf).",
                                         show_default=False)],
    lang: Annotated[str, typer.Option("--lang", help="vi or en.")] = "vi",
    fmt: Annotated[str | None, typer.Option(
        "--format", help="html or pdf (default: from the output's suffix, else html).",
        show_default=False)] = None,
) -> None:
    """Optimise, then write the design dossier: one self-contained HTML file, or the same
    HTML as an A4 PDF with page numbers."""
    if lang not in ("vi", "en"):
        fail(f"--lang: must be vi or en (got {lang!r})")
    language: Literal["vi", "en"] = "vi" if lang == "vi" else "en"
    kind = (fmt or ("pdf" if output.suffix.lower() == ".pdf" else "html")).lower()
    if kind not in ("html", "pdf"):
        fail(f"--format: must be html or pdf (got {fmt!r})")
    site = open_site(site_file, *SECTIONS)
    try:
        result = _run(site)
        if result.best is None:
            fail(f"{site_file}: " + "; ".join(result.warnings), code=1)
        from sizing.report import render_html, report_data  # noqa: PLC0415 (heavy: loaded by this command only)

        text = render_html(report_data(site, result), language)
        body: bytes | None = None
        if kind == "pdf":
            from sizing.pdf import html_to_pdf  # noqa: PLC0415 (heavy: loaded on use)

            body = html_to_pdf(text, str(output.resolve().parent), language)
    except SizingError as e:
        fail(f"{site_file}: {e}")
    try:
        if body is not None:
            output.write_bytes(body)
        else:
            output.write_text(text, encoding="utf-8")
    except OSError as e:
        fail(f"{output}: cannot write: {e.strerror}", code=1)
    err.print(f"wrote {output}")
