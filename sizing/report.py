"""The engineer's report: one self-contained HTML file (inline CSS, matplotlib SVG charts).

``render_html(data, lang)`` is pure: it turns a :class:`ReportData` into the HTML text.
``report_data(site, result)`` gathers the figures (one hourly run of the chosen design, its costs,
the diesel-only baseline, the bill of materials with PV string sizing).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from typing import Any, Literal

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sitefile import PV, Economics, Site
from sizing import simulate
from sizing.economics import Costs, DieselOnly
from sizing.errors import SizingError
from sizing.optimize import Result, apply_design, design_dict
from sizing.report_assets.i18n import TEXT
from sizing.strings import StringDesign, size_strings

Lang = Literal["vi", "en"]
COLORS = {"pv": "#f2b701", "wind": "#8ecae6", "gen": "#7f5539", "batt": "#3a86ff",
          "load": "#1d2b36",
          "unmet": "#d62828", "curtailed": "#c9c9c9", "soc": "#0f7b6c", "front": "#0f7b6c",
          "grey": "#b8c4cc", "diesel": "#7f5539", "rep": "#219ebc",
          "capital": "#023047", "salvage": "#90be6d"}


@dataclass(frozen=True)
class BomLine:
    """One line of the bill of materials; ``key`` names it in the report's words."""

    key: str
    detail: str
    quantity: float
    unit: str
    unit_vnd: float

    @property
    def total_vnd(self) -> float:
        return self.quantity * self.unit_vnd


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, already computed."""

    site_name: str
    design: dict[str, float]
    hourly: pd.DataFrame  # one year: pv, wind, load, unmet, critical_unmet, generator,
    #                       battery, curtailed, wind_curtailed [kW] and soc_pct [%]
    dt_h: float
    load_kwh: dict[str, float]  # [kWh/year] by load name
    figures: dict[str, float]  # saidi_minutes, saifi_count, unmet_fraction, …
    econ: Economics
    costs: Costs  # of the chosen design (arrays of length 1)
    diesel: DieselOnly
    search_npc_vnd: np.ndarray
    search_unmet_fraction: np.ndarray
    search_feasible: np.ndarray
    pareto: np.ndarray
    winner: int
    explanation: dict[str, Any]
    strings: StringDesign | None
    pv: PV | None
    bom: list[BomLine]
    warnings: list[str]  # in English, from the engine
    edges: list[tuple[str, float, str]]  # (dimension, value, "top" | "bottom"), localised
    sensitivity: dict[str, Any]  # as in the optimiser's JSON
    generator_units: list[dict[str, Any]]  # name, kw, hours, kwh, fuel_l, starts per unit
    turbine_kw: float  # one turbine's rating [kW] (0: no wind)


# --------------------------------------------------------------------------- charts


def _svg(fig: Figure) -> str:
    """A figure as inline SVG text (text drawn as paths: no font needed to view it)."""
    buf = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "path", "svg.hashsalt": "offgrid"}):
        fig.savefig(buf, format="svg", bbox_inches="tight",
                    metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _figure(width: float = 6.4, height: float = 3.4) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e5e9ec", linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def monthly_sources_kwh(hourly: pd.DataFrame, dt_h: float) -> pd.DataFrame:
    """Energy by source in each month [kWh]: ``pv`` and ``wind`` used (their output less
    what was curtailed), ``generator``, ``unmet``, ``curtailed`` and ``load``."""
    e = hourly.groupby(hourly.index.month).sum() * dt_h
    pv_curtailed = e["curtailed_kw"] - e["wind_curtailed_kw"]
    return pd.DataFrame({
        "pv": (e["pv_kw"] - pv_curtailed).clip(lower=0),
        "wind": (e["wind_kw"] - e["wind_curtailed_kw"]).clip(lower=0),
        "generator": e["generator_kw"], "unmet": e["unmet_kw"],
        "curtailed": e["curtailed_kw"], "load": e["load_kw"]})


def monthly_table(hourly: pd.DataFrame, dt_h: float, worst: int, t: dict[str, str]) -> str:
    """The monthly energy by source as an HTML table, the worst month marked."""
    e = monthly_sources_kwh(hourly, dt_h)
    months = t["months"].split(",")
    cols = [("pv", t["s_pv"]), ("wind", t["s_wind"]), ("generator", t["s_gen"]),
            ("unmet", t["s_unmet"]), ("curtailed", t["s_curtailed"]), ("load", t["s_load"])]
    head = "".join(f"<th class='n'>{html.escape(label)}</th>" for _, label in cols)
    rows = "".join(
        f"<tr{' class=worst' if m == worst else ''}><td>{html.escape(months[m - 1])}"
        f"{' ◀' if m == worst else ''}</td>"
        + "".join(f"<td class='n'>{_num(float(e.loc[m, k]))}</td>" for k, _ in cols) + "</tr>"
        for m in e.index)
    return (f"<h3>{html.escape(t['monthly_table'])}</h3><table id='monthly'><thead><tr><th></th>"
            f"{head}</tr></thead><tbody>{rows}</tbody></table>")


def chart_monthly(hourly: pd.DataFrame, dt_h: float, t: dict[str, str]) -> str:
    """Monthly energy: PV and wind used and generator (the supply; the battery only shifts it
    in time), demand not served, and PV and wind curtailed, against the load."""
    e = monthly_sources_kwh(hourly, dt_h)
    months = t["months"].split(",")
    x = np.arange(len(e))
    fig, ax = _figure()
    bottom = np.zeros(len(e))
    for values, color, label in (
        (e["pv"], COLORS["pv"], t["s_pv"]),
        (e["wind"], COLORS["wind"], t["s_wind"]),
        (e["generator"], COLORS["gen"], t["s_gen"]),
        (e["unmet"], COLORS["unmet"], t["s_unmet"]),
        (e["curtailed"], COLORS["curtailed"], t["s_curtailed"]),
    ):
        ax.bar(x, np.asarray(values), bottom=bottom, color=color, label=label, width=0.7)
        bottom = bottom + np.asarray(values)
    ax.plot(x, e["load"].to_numpy(), "o-", color=COLORS["load"], label=t["s_load"], lw=1.5,
            ms=4)
    ax.set_xticks(x, [months[m - 1] for m in e.index])
    ax.set_ylabel(t["energy_kwh"])
    ax.legend(ncols=5, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
    return _svg(fig)


def chart_soc_heatmap(hourly: pd.DataFrame, t: dict[str, str]) -> str:
    """State of charge as a day-of-year × hour-of-day heat map."""
    soc = hourly["soc_pct"]
    table = soc.groupby([soc.index.day_of_year, soc.index.hour]).mean().unstack()
    fig, ax = _figure(6.4, 3.2)
    ax.grid(False)
    image = ax.imshow(table.to_numpy().T, aspect="auto", origin="lower", cmap="RdYlGn",
                      vmin=0, vmax=100, extent=(0.5, len(table) + 0.5, -0.5, 23.5),
                      interpolation="nearest")
    ax.set_xlabel(t["day"])
    ax.set_ylabel(t["hour"])
    ax.set_yticks([0, 6, 12, 18, 23])
    fig.colorbar(image, ax=ax, label=t["soc_pct"], fraction=0.05, pad=0.02)
    return _svg(fig)


def worst_month(hourly: pd.DataFrame) -> int:
    """The month with the most unmet energy, or with the least PV when nothing is unmet."""
    by_month = hourly.groupby(hourly.index.month)
    unmet = by_month["unmet_kw"].sum()
    if unmet.max() > 0:
        return int(unmet.idxmax())
    return int(by_month["pv_kw"].sum().idxmin())


def chart_typical_day(hourly: pd.DataFrame, month: int, t: dict[str, str]) -> str:
    """Mean hour-by-hour profile of ``month``: PV (wind stacked on it), load, generator,
    battery, unmet, SOC."""
    m = hourly[hourly.index.month == month]
    day = m.groupby(m.index.hour).mean()
    fig, ax = _figure()
    h = day.index.to_numpy()
    ax.fill_between(h, day["pv_kw"], color=COLORS["pv"], alpha=0.5, label=t["s_pv"], step="mid")
    if day["wind_kw"].max() > 0:
        ax.fill_between(h, day["pv_kw"], day["pv_kw"] + day["wind_kw"], color=COLORS["wind"],
                        alpha=0.6, label=t["s_wind"], step="mid")
    ax.step(h, day["load_kw"], where="mid", color=COLORS["load"], lw=2, label=t["s_load"])
    ax.step(h, day["generator_kw"], where="mid", color=COLORS["gen"], lw=1.5, label=t["s_gen"])
    ax.step(h, -day["battery_kw"], where="mid", color=COLORS["batt"], lw=1.5,
            label=t["s_batt_out"])
    ax.bar(h, day["unmet_kw"], color=COLORS["unmet"], label=t["s_unmet"], width=0.8)
    ax.axhline(0, color="#888", lw=0.6)
    ax.set_xlabel(t["hour"])
    ax.set_ylabel(t["power_kw"])
    ax.set_xticks(range(0, 24, 3))
    right = ax.twinx()
    right.plot(h, day["soc_pct"], "--", color=COLORS["soc"], lw=1.5, label=t["s_soc"])
    right.set_ylim(0, 105)
    right.set_ylabel(t["soc_pct"])
    right.spines[["top"]].set_visible(False)
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], ncols=3, fontsize=8, loc="upper center",
              bbox_to_anchor=(0.5, -0.16), frameon=False)
    return _svg(fig)


def chart_loads(load_kwh: dict[str, float], t: dict[str, str]) -> str:
    """Yearly energy of each load, as horizontal bars with their share."""
    names = list(load_kwh)
    values = np.array([load_kwh[n] for n in names])
    order = np.argsort(values)
    fig, ax = _figure(6.4, max(1.6, 0.5 * len(names) + 0.8))
    ax.grid(axis="x", color="#e5e9ec")
    ax.grid(axis="y", visible=False)
    total = values.sum() or 1.0
    ax.barh([names[i] for i in order], values[order], color=COLORS["batt"])
    for y, i in enumerate(order):
        ax.text(values[i], y, f"  {values[i]:,.0f} kWh ({100 * values[i] / total:.0f} %)",
                va="center", fontsize=8)
    ax.set_xlabel(f"{t['energy_kwh']} / {t['per_year']}")
    ax.set_xlim(0, values.max() * 1.45 if values.max() > 0 else 1)
    return _svg(fig)


def chart_pareto(npc: np.ndarray, unmet: np.ndarray, *, feasible: np.ndarray,
                 front: np.ndarray, winner: int, t: dict[str, str]) -> str:
    """Every design searched: NPC against unmet demand, with the Pareto front and the winner."""
    fig, ax = _figure(12.8, 4.2)
    mvnd = npc / 1e6
    pct = 100 * unmet
    ax.scatter(pct[~feasible], mvnd[~feasible], s=5, color=COLORS["grey"], label=t["s_designs"],
               rasterized=False, linewidths=0)
    ax.scatter(pct[feasible], mvnd[feasible], s=6, color=COLORS["batt"], alpha=0.6,
               label=t["s_feasible"], linewidths=0)
    ax.plot(pct[front], mvnd[front], "-o", color=COLORS["front"], ms=3, lw=1.2,
            label=t["s_pareto"])
    ax.scatter([pct[winner]], [mvnd[winner]], s=120, marker="*", color=COLORS["unmet"],
               zorder=5, label=t["s_winner"])
    ax.set_xlabel(t["unmet_pct"])
    ax.set_ylabel(t["npc_mvnd"])
    high = float(np.percentile(mvnd, 98)) if len(mvnd) > 10 else float(mvnd.max())
    ax.set_ylim(max(0.0, float(mvnd.min()) * 0.9), max(high, float(mvnd[winner])) * 1.05)
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_xlim(left=0)
    ax.legend(fontsize=9, frameon=False, ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    return _svg(fig)


def chart_cash_flow(costs: Costs, diesel: DieselOnly, econ: Economics, t: dict[str, str]) -> str:
    """Yearly nominal cash flow by kind, with the cumulative cost against diesel only."""
    n = econ.lifetime_years + 1
    years = np.arange(n)
    cash = costs.cash_flow_vnd[0] / 1e6
    capital = np.zeros(n)
    capital[0] = costs.capital_vnd[0] / 1e6
    rest = cash - capital
    salvage = np.minimum(rest, 0)
    fig, ax = _figure(12.8, 3.6)
    ax.bar(years, capital, color=COLORS["capital"], label=t["s_capital"])
    ax.bar(years, np.maximum(rest, 0), bottom=capital, color=COLORS["rep"],
           label=f"{t['s_fuel']}, {t['s_om']}, {t['s_replacement']}")
    ax.bar(years, salvage, color=COLORS["salvage"], label=t["s_salvage"])
    ax.plot(years, np.cumsum(cash), "-", color=COLORS["soc"], lw=2, label=t["cumulative"])
    ax.plot(years, np.cumsum(diesel.costs.cash_flow_vnd[0]) / 1e6, "--", color=COLORS["diesel"],
            lw=2, label=t["cumulative_diesel"])
    ax.axhline(0, color="#888", lw=0.6)
    ax.set_xlabel(t["year"])
    ax.set_ylabel(t["cash_mvnd"])
    ax.legend(fontsize=9, frameon=False, ncols=5, loc="upper center",
              bbox_to_anchor=(0.5, -0.14))
    return _svg(fig)


# --------------------------------------------------------------------------- HTML


def _num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _vnd_m(value: float) -> str:
    return f"{value / 1e6:,.1f}"


def _css() -> str:
    return files("sizing.report_assets").joinpath("style.css").read_text(encoding="utf-8")


def _card(title: str, rows: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows)
    return f'<div class="card"><h3>{html.escape(title)}</h3><dl>{items}</dl></div>'


def payback_years(costs: Costs, diesel: DieselOnly) -> float | None:
    """First year in which the design's cumulative nominal cost falls below diesel only's."""
    ours = np.cumsum(costs.cash_flow_vnd[0])
    theirs = np.cumsum(diesel.costs.cash_flow_vnd[0])
    better = np.nonzero(ours <= theirs)[0]
    return float(better[0]) if len(better) else None


def _fmt_constraint(name: str, value: float) -> str:
    if name == "max_saidi_minutes":
        return f"{value:.0f} min"
    if name == "motor_start_surge":
        return f"{100 * value:.0f} %"
    return f"{100 * value:.2f} %"


def _why(data: ReportData, t: dict[str, str]) -> str:
    ex = data.explanation
    name = ex["binding_constraint"]
    binding = t["why_binding"].format(constraint=t["constraint_" + name],
                                      value=_fmt_constraint(name, ex["values"][name]),
                                      limit=_fmt_constraint(name, ex["limits"][name]))
    parts = [f"<p>{html.escape(binding)}</p>"]

    def rows(items: list[dict[str, Any]], show_broken: bool) -> str:
        out = []
        for r in items:
            d = r["design"]
            broken = ", ".join(t["constraint_" + c] for c in r["violates"]) if show_broken else ""
            out.append(
                f"<tr><td>{d['kwp']:g} kWp · {d['kwh']:g} kWh · {d['inverter_kw']:g} kW"
                f" · {d['generator_kw']:g} kW{_turbines_text(d, t)}</td>"
                f"<td class='n'>{_vnd_m(r['npc_vnd'])} {t['mvnd']}</td>"
                f"<td class='n'>{r['npc_delta_vnd'] / 1e6:+,.1f}</td>"
                f"<td class='n'>{100 * r['unmet_fraction']:.2f} %</td>"
                f"<td>{html.escape(broken)}</td></tr>")
        head = "".join(f"<th{cls}>{html.escape(t[key])}</th>" for key, cls in (
            ("col_design", ""), ("col_npc", " class='n'"), ("col_delta", " class='n'"),
            ("col_unmet", " class='n'"), ("col_fails" if show_broken else "col_empty", "")))
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(out)}</tbody></table>"

    if ex["cheaper_infeasible"]:
        parts.append(f"<p>{html.escape(t['why_cheaper'])}</p>"
                     + rows(ex["cheaper_infeasible"], True))
    if ex["next_feasible"]:
        parts.append(f"<p>{html.escape(t['why_next'])}</p>" + rows(ex["next_feasible"], False))
    return "".join(parts)


def _sensitivity(data: ReportData, t: dict[str, str]) -> str:
    """What if fuel costs more or less, the load grows, or the weather is a P90 year."""
    sens = data.sensitivity
    yes, no = t["sens_yes"], t["sens_no"]

    def design_text(case: dict[str, Any]) -> str:
        best = case.get("best")
        if best is None:
            return t["sens_none"]
        d = best["design"]
        same = all(abs(d[k] - data.design[k]) < 1e-9 for k in d)
        text = (f"{d['kwp']:g} kWp · {d['kwh']:g} kWh · {d['inverter_kw']:g} kW · "
                f"{d['generator_kw']:g} kW{_turbines_text(d, t)} "
                f"({_vnd_m(best['npc_vnd'])} {t['mvnd']})")
        return t["sens_same"] if same else text

    rows = []
    for factor, case in sens.get("fuel_price", {}).items():
        rows.append((t["sens_fuel"].format(pct=f"{(float(factor) - 1) * 100:+.0f}"),
                     yes if case["base_winner"]["feasible"] else no, design_text(case)))
    for growth, case in sens.get("load_growth", {}).items():
        rows.append((t["sens_load"].format(pct=growth),
                     yes if case["base_winner"]["feasible"] else no, design_text(case)))
    if not rows:
        return ""
    body = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td>"
                   f"<td>{html.escape(c)}</td></tr>" for a, b, c in rows)
    head = "".join(f"<th>{html.escape(t[k])}</th>"
                   for k in ("sens_case", "sens_meets", "sens_best"))
    return (f"<h3>{html.escape(t['sens_title'])}</h3><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def render_html(data: ReportData, lang: Lang = "vi") -> str:
    """The whole report as one HTML document, with no external resource."""
    t = TEXT[lang]
    d = data.design
    f = data.figures
    c = data.costs
    econ = data.econ
    month_names = t["months"].split(",")
    worst = worst_month(data.hourly)
    none = t["none"]
    design_card = _card(t["design"], [
        (t["pv"], f"{d['kwp']:g} kWp"),
        (t["battery"], f"{d['kwh']:g} kWh" if d["kwh"] > 0 else none),
        (t["inverter"], f"{d['inverter_kw']:g} kW"),
        (t["generator"], _generator_text(data, t) if d["generator_kw"] > 0 else none),
        *([(t["wind"], f"{d['turbines']:g} × {data.turbine_kw:g} kW")]
          if data.turbine_kw > 0 else []),
    ])
    energy_rows = [(t["pv_energy"], f"{_num(f['pv_kwh'])} kWh / {t['per_year']}")]
    if data.turbine_kw > 0:
        energy_rows += [
            (t["wind_energy"],
             f"{_num(f['wind_kwh'])} kWh ({100 * f['wind_capacity_factor']:.0f} %)"),
            (t["wind_curtailed"], f"{_num(f['wind_curtailed_kwh'])} kWh")]
    energy_rows += [(t["per_unit"].format(name=u["name"]),
                     t["unit_hours"].format(hours=_num(u["hours"]), fuel=_num(u["fuel_l"])))
                    for u in data.generator_units if len(data.generator_units) > 1]
    energy_card = _card(t["energy"], energy_rows)
    cost_card = _card(t["cost"], [
        (t["capital"], f"{_vnd_m(c.capital_vnd[0])} {t['mvnd']}"),
        (t["npc"].format(years=econ.lifetime_years, rate=f"{econ.discount_rate_pct:g}"),
         f"{_vnd_m(c.npc_vnd[0])} {t['mvnd']}"),
        (t["lcoe"], f"{_num(c.lcoe_vnd_per_kwh[0])} {t['vnd_kwh']}"),
        (t["fuel"], f"{_num(f['generator_fuel_l'])} L / {t['per_year']}"),
        (t["battery_life"], f"{f['battery_life_years']:.0f} {t['years']}"
         if d["kwh"] > 0 else none),
    ])
    rel_card = _card(t["reliability"], [
        (t["saidi"], f"{_num(f['saidi_minutes'])} · P90 {_num(f['saidi_p90_minutes'])}"),
        (t["saifi"], f"{_num(f['saifi_count'], 1)} · P90 {_num(f['saifi_p90_count'], 1)}"),
        (t["saidi_forced"], _num(f["saidi_forced_minutes"])),
        (t["curtailment"], _num(f["load_curtailed_hours"])),
        (t["unmet"], f"{100 * f['unmet_fraction']:.2f} %"),
        (t["aerator_hours"], _num(f["aerator_hours_at_risk"])),
        (t["renewable"], f"{100 * f['renewable_fraction']:.0f} %"),
    ])
    dsl = data.diesel
    saving = dsl.costs.npc_vnd[0] - c.npc_vnd[0]
    pb = payback_years(c, dsl)
    diesel_rows = [
        (t["diesel_only"].format(kw=f"{dsl.generator_kw:g}"),
         f"{_vnd_m(dsl.costs.npc_vnd[0])} {t['mvnd']}"),
        (t["this_design"], f"{_vnd_m(c.npc_vnd[0])} {t['mvnd']}"),
        (t["lcoe"] + " (diesel)", f"{_num(dsl.costs.lcoe_vnd_per_kwh[0])} {t['vnd_kwh']}"),
        ((t["saving"] if saving >= 0 else t["saving_neg"]).format(years=econ.lifetime_years),
         f"{_vnd_m(abs(saving))} {t['mvnd']}"),
        (t["payback"], f"{pb:g} {t['years']}" if pb is not None else t["never"]),
    ]
    diesel_card = _card(t["vs_diesel"], diesel_rows)

    charts = [
        ("chart_monthly", chart_monthly(data.hourly, data.dt_h, t), ""),
        ("chart_soc", chart_soc_heatmap(data.hourly, t), ""),
        ("chart_day", chart_typical_day(data.hourly, worst, t), ""),
        ("chart_loads", chart_loads(data.load_kwh, t), ""),
        ("chart_pareto", chart_pareto(data.search_npc_vnd, data.search_unmet_fraction,
                                      feasible=data.search_feasible, front=data.pareto,
                                      winner=data.winner, t=t), " wide"),
        ("chart_cash", chart_cash_flow(c, dsl, econ, t), " wide"),
    ]
    figures_html = "".join(
        f'<figure class="chart{cls}" id="{key}"><figcaption>'
        f"{html.escape(t[key].format(month=month_names[worst - 1]))}</figcaption>{svg}</figure>"
        for key, svg, cls in charts)

    bom_rows = []
    for line in data.bom:
        label = t.get(line.key, line.key)
        bom_rows.append(
            f"<tr><td>{html.escape(label)}</td><td>{html.escape(line.detail)}</td>"
            f"<td class='n'>{line.quantity:g} {html.escape(t.get(line.unit, line.unit))}</td>"
            f"<td class='n'>{_num(line.unit_vnd)}</td><td class='n'>{_num(line.total_vnd)}</td>"
            "</tr>")
    bom_total = sum(line.total_vnd for line in data.bom)
    s, pv = data.strings, data.pv
    strings_note = "" if s is None or pv is None else "<p class='note'>" + html.escape(
        t["strings_note"].format(
            series=s.series, strings=s.strings, tlow=f"{pv.record_low_temp_c:g}",
            voc=f"{s.voc_cold_v:.0f}", vmax=f"{pv.mppt_max_input_v:g}",
            thot=f"{pv.max_cell_temp_c:g}", vmp=f"{s.vmp_hot_v:.0f}",
            vmin=f"{pv.mppt_min_v:g}")) + "</p>"
    warnings = [t["edge_" + side].format(what=t["dim_" + dim], value=value, dim=dim)
                for dim, value, side in data.edges] + data.warnings
    warnings_html = (
        "<ul class='warn'>" + "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        + "</ul>") if warnings else f"<p>{html.escape(t['no_warnings'])}</p>"
    try:
        ver = version("offgrid")
    except PackageNotFoundError:
        ver = "dev"
    title = html.escape(t["title"])
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {html.escape(data.site_name)}</title>
<style>{_css()}</style>
</head>
<body>
<main>
<header>
<h1>{title}</h1>
<p class="sub">{html.escape(t['subtitle'].format(site=data.site_name))}</p>
</header>
<section id="summary">
<h2>{html.escape(t['summary'])}</h2>
<div class="cards">{design_card}{energy_card}{cost_card}{rel_card}{diesel_card}</div>
<h3>{html.escape(t['why'])}</h3>
{_why(data, t)}
{_sensitivity(data, t)}
</section>
<section id="charts">
<h2>{html.escape(t['charts'])}</h2>
<div class="charts">{figures_html}</div>
{monthly_table(data.hourly, data.dt_h, worst, t)}
</section>
<section id="bom">
<h2>{html.escape(t['bom'])}</h2>
<table>
<thead><tr><th>{html.escape(t['item'])}</th><th></th><th class="n">{html.escape(t['qty'])}</th>
<th class="n">{html.escape(t['unit_price'])} (VND)</th>
<th class="n">{html.escape(t['total'])} (VND)</th></tr></thead>
<tbody>{''.join(bom_rows)}</tbody>
<tfoot><tr><td colspan="4">{html.escape(t['total'])}</td><td class="n">{_num(bom_total)}</td>
</tr></tfoot>
</table>
{strings_note}
</section>
<section id="warnings">
<h2>{html.escape(t['warnings'])}</h2>
{warnings_html}
</section>
<p class="note">{html.escape(t['generated'].format(
        version=ver, date=datetime.now(UTC).strftime('%Y-%m-%d')))}</p>
</main>
</body>
</html>
"""


def _turbines_text(d: dict[str, float], t: dict[str, str]) -> str:
    """`` · n turbines`` for a design with wind, else nothing."""
    return f" · {d['turbines']:g} {t['turbine_units']}" if d.get("turbines") else ""


def _generator_text(data: ReportData, t: dict[str, str]) -> str:
    """The generator units: ``n × kW`` when identical, else each rating."""
    kws = [u["kw"] for u in data.generator_units] or [data.design["generator_kw"]]
    if len(set(kws)) == 1:
        return (t["generator_units"].format(n=len(kws), kw=f"{kws[0]:g}") if len(kws) > 1
                else f"{kws[0]:g} kW")
    return " + ".join(f"{kw:g} kW" for kw in kws)


def bill_of_materials(econ: Economics, design: dict[str, float], strings: StringDesign | None,
                      module_w: float, *, generator_units: float = 1.0,
                      turbine_kw: float = 0.0) -> list[BomLine]:
    """The priced parts list: modules, battery, inverter, generators (``generator_units``
    lead-unit ratings), turbines (of ``turbine_kw`` each), BOS and installation."""
    lines: list[BomLine] = []
    if design["kwp"] > 0:
        if strings is not None:
            lines.append(BomLine("pv", f"{module_w:g} W, {strings.series} × {strings.strings}",
                                 strings.modules, "pcs", module_w / 1000 * econ.pv_vnd_per_kwp))
        else:
            lines.append(BomLine("pv", "", design["kwp"], "kWp", econ.pv_vnd_per_kwp))
    if design["kwh"] > 0:
        lines.append(BomLine("battery", "", design["kwh"], "kWh", econ.battery_vnd_per_kwh))
    lines.append(BomLine("inverter", "", design["inverter_kw"], "kW", econ.inverter_vnd_per_kw))
    if design["generator_kw"] > 0:
        lines.append(BomLine("generator", "", design["generator_kw"] * generator_units, "kW",
                             econ.generator_vnd_per_kw))
    if design.get("turbines", 0.0) > 0 and turbine_kw > 0:
        lines.append(BomLine("wind", f"{turbine_kw:g} kW", design["turbines"], "turbine_units",
                             turbine_kw * econ.wind_vnd_per_kw))
    equipment = sum(line.total_vnd for line in lines)
    lines.append(BomLine("bos", f"{econ.bos_pct:g} %", 1, "", equipment * econ.bos_pct / 100))
    lines.append(BomLine("installation", f"{econ.installation_pct:g} %", 1, "",
                         equipment * econ.installation_pct / 100))
    return lines


def report_data(site: Site, result: Result) -> ReportData:
    """Gather the report of the search's winner: one engine run of it (hourly series, figures,
    warnings), its costs, the diesel baseline, and the bill of materials."""
    if result.best is None or result.explanation is None:
        raise SizingError("no design meets the constraints, so there is nothing to report")
    design = design_dict(result.grid.designs, result.best)
    designed = apply_design(site, design)
    sim = simulate.simulate(designed, result.inputs)  # the search's own weather
    year = sim.years[0]
    series = year.run.series
    dt_h = float(len(year.index) and (year.index[1] - year.index[0]) / pd.Timedelta(hours=1))
    kwh = design["kwh"]
    hourly = pd.DataFrame({
        "pv_kw": series["pv_kw"], "wind_kw": series["wind_kw"],
        "wind_curtailed_kw": series["wind_curtailed_kw"],
        "load_kw": series["load_kw"], "unmet_kw": series["unmet_kw"],
        "critical_unmet_kw": series["critical_unmet_kw"],
        "generator_kw": series["generator_kw"], "battery_kw": series["battery_kw"],
        "soc_pct": 100 * series["soc_kwh"] / kwh if kwh > 0 else np.zeros(len(year.index)),
        "curtailed_kw": series["curtailed_kw"]}, index=year.index)
    served = year.run.served_by_load_kw.sum(axis=1) * dt_h
    load_kwh = {name: float(served[i]) + year.unmet_by_load_kwh[name]
                for i, name in enumerate(year.unmet_by_load_kwh)}
    at_risk = np.mean([float((y.run.series["critical_unmet_kw"] > 1e-9).sum()) * dt_h
                       for y in sim.years])
    figures = {
        "saidi_minutes": sim.p50["saidi_minutes"], "saifi_count": sim.p50["saifi_count"],
        "saidi_p90_minutes": sim.p90["saidi_minutes"], "saifi_p90_count": sim.p90["saifi_count"],
        "saidi_forced_minutes": sim.p50["saidi_forced_minutes"],
        "load_curtailed_hours": sim.p50["load_curtailed_hours"],
        "unmet_fraction": sim.p50["unmet_load_fraction"],
        "critical_unmet_fraction": sim.p50["critical_unmet_fraction"],
        "aerator_hours_at_risk": float(at_risk),
        "renewable_fraction": sim.p50["renewable_fraction"],
        "generator_fuel_l": sim.p50["generator_fuel_l"],
        "battery_life_years": sim.p50["battery_life_years"],
        "pv_kwh": sim.p50["pv_ac_kwh"],
        "wind_kwh": sim.p50["wind_kwh"],
        "wind_curtailed_kwh": sim.p50["wind_curtailed_kwh"],
        "wind_capacity_factor": sim.p50["wind_capacity_factor"],
    }
    assert designed.pv is not None
    strings = size_strings(designed.pv, design["kwp"]) if design["kwp"] > 0 else None
    warnings = list(dict.fromkeys(result.warnings + sim.warnings))
    edges: list[tuple[str, float, str]] = [(e.dimension, e.value, e.side) for e in result.edges]
    return ReportData(
        site_name=site.site.name, design=design, hourly=hourly, dt_h=dt_h, load_kwh=load_kwh,
        figures=figures, econ=site.economics, costs=result.costs.take(result.best),
        diesel=result.diesel, search_npc_vnd=result.costs.npc_vnd,
        search_unmet_fraction=result.perf.unmet_fraction, search_feasible=result.feasible,
        pareto=result.pareto, winner=result.best, explanation=result.explanation,
        strings=strings, pv=designed.pv,
        bom=bill_of_materials(site.economics, design, strings, designed.pv.module_w,
                              generator_units=result.plant.generator_units,
                              turbine_kw=result.plant.turbine_kw),
        warnings=warnings, edges=edges, sensitivity=result.sensitivity,
        generator_units=sim.to_json()["generator_units"], turbine_kw=result.plant.turbine_kw)
