"""The design dossier: one self-contained HTML file (inline CSS, matplotlib SVG charts, the
single-line diagram), and the same HTML as a PDF (:func:`sizing.pdf.html_to_pdf`).

``render_html(data, lang)`` is pure: it turns a :class:`ReportData` into the HTML text, in this
order: summary, inputs and assumptions, the design and its single-line diagram, the electrical
design, energy (with the loss waterfall), reliability, economics (EVN tariff and subsidy gap,
grid-extension break-even, CO₂), the bill of materials, warnings.
``report_data(site, result)`` gathers the figures (one hourly run of the chosen design, its costs,
the diesel-only baseline, the electrical design, the bill of materials priced from
``sizing/data/prices.toml``). The capital shown is the bill of materials' total by construction:
the search priced every design on its bill (:func:`sizing.bom.priced`).

Every number, date and word goes through :mod:`sizing.report_assets.fmt` in the report's
language; the engine's English warnings become message codes (:func:`engine_warning`), and the
electrical findings are rendered from :data:`sizing.electrical.MESSAGES`.
"""

from __future__ import annotations

import calendar
import html
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from typing import Any, Literal

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, LogFormatter, NullFormatter, ScalarFormatter

from sitefile import PV, AeratorLoad, Economics, Site
from sizing import comparisons, simulate
from sizing.bom import BomLine, design_bill, site_prices
from sizing.economics import Costs, DieselOnly, ageing_table
from sizing.electrical import (
    MESSAGES,
    ElectricalDesign,
    Finding,
    check_devices,
)
from sizing.errors import SizingError
from sizing.optimize import Result, apply_design, design_dict, pareto_front
from sizing.prices import PriceTable
from sizing.report_assets import fmt
from sizing.report_assets.i18n import TEXT
from sizing.sld import single_line_svg
from sizing.strings import StringDesign

Lang = Literal["vi", "en"]
COLORS = {"pv": "#f2b701", "wind": "#8ecae6", "gen": "#7f5539", "batt": "#3a86ff",
          "load": "#1d2b36",
          "unmet": "#d62828", "curtailed": "#c9c9c9", "soc": "#0f7b6c", "front": "#0f7b6c",
          "grey": "#b8c4cc", "diesel": "#7f5539", "rep": "#219ebc",
          "capital": "#023047", "salvage": "#90be6d"}


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
    has_aerators: bool = True  # "critical loads (aerators)" is said only when this holds
    has_critical: bool = True  # the critical-loads row is shown only when this holds
    motor_start: dict[str, Any] | None = None  # the engine's motor-start check (as_dict)
    motor_start_soft: frozenset[str] = frozenset()  # motors on a VFD: no start surge to advise
    water: WaterData | None = None  # the water pump's figures (None: no water pump)
    dossier: DossierData | None = None  # the dossier's pages (None: a summary report)
    years: int = 1  # simulated years: the cards' figures are their medians (P50)


@dataclass(frozen=True)
class DossierData:
    """What the dossier's pages add to the report, already computed."""

    site: Site
    """The site with the design applied (its battery, generators and tank the design's)."""
    ed: ElectricalDesign
    findings: tuple[Finding, ...]
    """The electrical design's findings and what the site's ``[[devices]]`` lack."""
    prices: PriceTable
    monthly_ghi: tuple[float, ...]
    """Mean daily irradiation of each month of the first simulated year [kWh/m²/day]."""
    monthly_pv_kwh: tuple[float, ...]
    """PV output of each month of the first simulated year [kWh]."""
    losses: dict[str, float]
    """The first simulated year's energy from source to load [kWh/year]: ``pv`` (PV and
    wind output), ``generator``, ``curtailed``, ``battery`` (battery losses), ``conversion``
    (the rest of the losses), ``stored`` (energy left in the battery at the year's end,
    negative when it was drawn down), ``served``, ``unmet``; ``pv + generator − curtailed −
    battery − conversion − stored = served`` by construction."""
    served_kwh: float
    """Energy served a year, P50 [kWh/year]."""
    ageing: tuple[dict[str, Any], ...] = ()
    """The design's ageing, one row per project year (:func:`sizing.economics.ageing_table`)."""


@dataclass(frozen=True)
class WaterData:
    """What the report shows of a site with a water pump (COMMON.md §3), already computed."""

    figures: dict[str, Any]
    """The engine's ``water`` block: ``demand_m3``, ``delivered_m3``, ``unmet_m3``,
    ``unmet_fraction`` (0–1), ``pumped_m3``, ``pump_kwh``, ``pump_hours``, ``hydraulic_kwh``,
    ``wire_to_water_pct`` [%], ``autonomy_days``, ``vnd_per_m3``, ``monthly`` (12 rows of
    ``month``, ``demand_m3``, ``delivered_m3``, ``unmet_m3``), ``tank_m3``, ``pump`` (id)."""
    tank_m3: pd.Series
    """Water in the tank at each step of one year [m³] (local time index)."""
    tank_capacity_m3: float
    """The tank's usable volume: 100 % [m³]."""
    min_level_pct: float
    """The reserve the dispatch fills to before night [%]."""
    max_level_pct: float
    """The high-level stop [%]."""
    pump_name: str
    pump_source: str
    pump_rated_kw: float
    """Motor input at the rated point [kW]."""
    pump_drive: str
    """``"vfd"`` or ``"fixed"``."""
    years: int = 1
    """Simulated years: the figures are their medians (P50), the months each month's median."""


# --------------------------------------------------------------------------- charts


class LocaleTicks(Formatter):
    """Tick labels of a numeric axis in the report's language (:func:`fmt.number`: "1.500"
    and "0,5" in Vietnamese), every label of an axis with the decimals the finest needs."""

    def __init__(self, lang: Lang) -> None:
        self.lang: Lang = lang
        self.digits = 0

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        self.digits = next((d for d in range(4) if all(
            abs(round(v, d) - v) <= 1e-9 * max(1.0, abs(v)) for v in values)), 4)
        return [self(v) for v in values]

    def __call__(self, x: float, pos: int | None = None) -> str:
        return fmt.number(x, self.digits, self.lang)


def _svg(fig: Figure, lang: Lang) -> str:
    """A figure as inline SVG text (text drawn as paths: no font needed to view it), the
    numbers on its axes in ``lang``'s conventions (:class:`LocaleTicks`)."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), ScalarFormatter | LogFormatter):
                axis.set_major_formatter(LocaleTicks(lang))
                axis.set_minor_formatter(NullFormatter())
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


def monthly_table(hourly: pd.DataFrame, dt_h: float, worst: int, t: dict[str, str],
                  lang: Lang = "en") -> str:
    """The monthly energy by source as an HTML table, the worst month marked."""
    e = monthly_sources_kwh(hourly, dt_h)
    months = t["months"].split(",")
    cols = [("pv", t["s_pv"]), ("wind", t["s_wind"]), ("generator", t["s_gen"]),
            ("unmet", t["s_unmet"]), ("curtailed", t["s_curtailed"]), ("load", t["s_load"])]
    if float(e["wind"].sum()) <= 0:
        cols = [col for col in cols if col[0] != "wind"]
    head = "".join(f"<th class='n'>{html.escape(label)}</th>" for _, label in cols)
    rows = "".join(
        f"<tr{' class=worst' if m == worst else ''}><td>{html.escape(months[m - 1])}"
        f"{' ◀' if m == worst else ''}</td>"
        + "".join(f"<td class='n'>{fmt.number(float(e.loc[m, k]), 0, lang)}</td>" for k, _ in cols)
        + "</tr>"
        for m in e.index)
    return (f"<h3>{html.escape(t['monthly_table'])}</h3><table id='monthly'><thead><tr><th></th>"
            f"{head}</tr></thead><tbody>{rows}</tbody></table>")


def chart_monthly(hourly: pd.DataFrame, dt_h: float, t: dict[str, str], lang: Lang) -> str:
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
    return _svg(fig, lang)


def chart_soc_heatmap(hourly: pd.DataFrame, t: dict[str, str], lang: Lang) -> str:
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
    return _svg(fig, lang)


def worst_month(hourly: pd.DataFrame) -> int:
    """The month with the most unmet energy, or with the least PV when nothing is unmet."""
    by_month = hourly.groupby(hourly.index.month)
    unmet = by_month["unmet_kw"].sum()
    if unmet.max() > 0:
        return int(unmet.idxmax())
    return int(by_month["pv_kw"].sum().idxmin())


def chart_typical_day(hourly: pd.DataFrame, month: int, t: dict[str, str], lang: Lang,
                      battery: bool = True) -> str:
    """Mean hour-by-hour profile of ``month``: PV (wind stacked on it), load, generator,
    battery and SOC (when ``battery``), unmet."""
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
    if battery:
        ax.step(h, -day["battery_kw"], where="mid", color=COLORS["batt"], lw=1.5,
                label=t["s_batt_out"])
    ax.bar(h, day["unmet_kw"], color=COLORS["unmet"], label=t["s_unmet"], width=0.8)
    ax.axhline(0, color="#888", lw=0.6)
    ax.set_xlabel(t["hour"])
    ax.set_ylabel(t["power_kw"])
    ax.set_xticks(range(0, 24, 3))
    lines = ax.get_legend_handles_labels()
    more: tuple[list[Any], list[str]] = ([], [])
    if battery:
        right = ax.twinx()
        right.plot(h, day["soc_pct"], "--", color=COLORS["soc"], lw=1.5, label=t["s_soc"])
        right.set_ylim(0, 105)
        right.set_ylabel(t["soc_pct"])
        right.spines[["top"]].set_visible(False)
        more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], ncols=3, fontsize=8, loc="upper center",
              bbox_to_anchor=(0.5, -0.16), frameon=False)
    return _svg(fig, lang)


def chart_loads(load_kwh: dict[str, float], t: dict[str, str], lang: Lang) -> str:
    """Yearly energy of each load, as horizontal bars with their share."""
    names = list(load_kwh)
    values = np.array([load_kwh[n] for n in names], dtype=float).reshape(-1)
    if values.size == 0:
        names, values = [""], np.zeros(1)
    order = np.argsort(values)
    fig, ax = _figure(6.4, max(1.6, 0.5 * len(names) + 0.8))
    ax.grid(axis="x", color="#e5e9ec")
    ax.grid(axis="y", visible=False)
    total = values.sum() or 1.0
    ax.barh([names[i] for i in order], values[order], color=COLORS["batt"])
    for y, i in enumerate(order):
        ax.text(values[i], y, f"  {fmt.number(values[i], 0, lang)} kWh "
                f"({fmt.percent(values[i] / total, 0, lang)})",
                va="center", fontsize=8)
    ax.set_xlabel(f"{t['energy_kwh']} / {t['per_year']}")
    ax.set_xlim(0, values.max() * 1.45 if values.max() > 0 else 1)
    return _svg(fig, lang)


def chart_pareto(npc: np.ndarray, unmet: np.ndarray, *, feasible: np.ndarray,
                 front: np.ndarray, winner: int, t: dict[str, str], lang: Lang,
                 unmet_label: str = "unmet_pct") -> str:
    """Every design searched: NPC against unmet demand (``unmet_label``: the key of its axis
    label; the water not delivered on a pump site), with the Pareto front and the winner."""
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
    ax.set_xlabel(t[unmet_label])
    ax.set_ylabel(t["npc_mvnd"])
    high = float(np.percentile(mvnd, 98)) if len(mvnd) > 10 else float(mvnd.max())
    ax.set_ylim(max(0.0, float(mvnd.min()) * 0.9), max(high, float(mvnd[winner])) * 1.05)
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_xlim(left=0)
    ax.legend(fontsize=9, frameon=False, ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    return _svg(fig, lang)


def chart_cash_flow(costs: Costs, diesel: DieselOnly, econ: Economics, t: dict[str, str],
                    lang: Lang) -> str:
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
    return _svg(fig, lang)


def daily_tank_pct(tank_m3: pd.Series, capacity_m3: float) -> pd.DataFrame:
    """Each day's lowest and highest tank level, ``min`` and ``max`` [% of ``capacity_m3``],
    indexed by the day (the series' local dates)."""
    pct = 100.0 * tank_m3.astype(float) / capacity_m3 if capacity_m3 > 0 else tank_m3 * 0.0
    index = pd.DatetimeIndex(tank_m3.index)
    by_day = pct.groupby(index.normalize())
    return pd.DataFrame({"min": by_day.min(), "max": by_day.max()})


def chart_tank(daily: pd.DataFrame, min_level_pct: float, max_level_pct: float,
               t: dict[str, str], lang: Lang) -> str:
    """The tank level over the year: the band between each day's lowest and highest level
    [%], with the reserve and the pump's high-level stop."""
    fig, ax = _figure(12.8, 3.4)
    x = np.arange(1, len(daily) + 1)
    ax.fill_between(x, daily["min"].to_numpy(), daily["max"].to_numpy(), color=COLORS["wind"],
                    alpha=0.55, linewidth=0, step="mid")
    ax.step(x, daily["max"].to_numpy(), where="mid", color=COLORS["batt"], lw=1,
            label=t["s_tank_max"])
    ax.step(x, daily["min"].to_numpy(), where="mid", color=COLORS["capital"], lw=1,
            label=t["s_tank_min"])
    ax.axhline(min_level_pct, color=COLORS["unmet"], lw=1, ls="--", label=t["s_tank_reserve"])
    ax.axhline(max_level_pct, color=COLORS["soc"], lw=1, ls=":", label=t["s_tank_stop"])
    ax.set_ylim(0, 105)
    ax.set_xlim(0.5, len(daily) + 0.5)
    ax.set_xlabel(t["day"])
    ax.set_ylabel(t["tank_pct"])
    ax.legend(ncols=4, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.16),
              frameon=False)
    return _svg(fig, lang)


# --------------------------------------------------------------------------- HTML

def _css() -> str:
    return files("sizing.report_assets").joinpath("style.css").read_text(encoding="utf-8")


def _card(title: str, rows: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows)
    return f'<div class="card"><h3>{html.escape(title)}</h3><dl>{items}</dl></div>'


def _days_in_month(month: int) -> int:
    return calendar.monthrange(2023, month)[1]  # a common year, as the simulated years


def water_headline(w: WaterData, t: dict[str, str], lang: Lang) -> str:
    """The water in one line: mean m³/day delivered over the year, the peak month's m³/day,
    and the cost of a m³."""
    f = w.figures
    monthly = f["monthly"] or [{"month": 1, "demand_m3": 0.0, "delivered_m3": 0.0}]
    peak = max(monthly, key=lambda r: r["demand_m3"] / _days_in_month(int(r["month"])))
    month = int(peak["month"])
    text = t["water_headline"].format(
        m3_day=fmt.number(f["delivered_m3"] / 365, 1, lang),
        peak_m3_day=fmt.number(peak["delivered_m3"] / _days_in_month(month), 1, lang),
        month=t["months_long"].split(",")[month - 1],
        vnd_m3=fmt.number(f["vnd_per_m3"], 0, lang))
    return f'<p class="big" id="water_headline">{html.escape(text)}</p>'


def water_card(w: WaterData, t: dict[str, str], lang: Lang) -> str:
    """The water figures of a year: demand, delivered, short, pumped, cost per m³, pump hours
    and energy, wire-to-water efficiency, the tank's autonomy, and the tank and pump chosen."""
    f = w.figures
    drive = t["drive_vfd"] if w.pump_drive == "vfd" else t["drive_fixed"]
    title = t["water_card_median"].format(n=w.years) if w.years > 1 else t["water_card"]
    return _card(title, [
        (t["water_demand"], t["m3_year"].format(value=fmt.number(f["demand_m3"], 0, lang))),
        (t["water_delivered"], t["m3_day_mean"].format(
            value=fmt.number(f["delivered_m3"], 0, lang),
            per_day=fmt.number(f["delivered_m3"] / 365, 1, lang))),
        (t["water_unmet"], t["m3_share"].format(value=fmt.number(f["unmet_m3"], 0, lang),
                                                pct=fmt.percent(f["unmet_fraction"], 1, lang))),
        (t["water_pumped"], t["m3_year"].format(value=fmt.number(f["pumped_m3"], 0, lang))),
        (t["water_cost"], t["vnd_m3"].format(value=fmt.number(f["vnd_per_m3"], 0, lang))),
        (t["pump_hours"], t["h_year"].format(value=fmt.number(f["pump_hours"], 0, lang))),
        (t["pump_energy"], t["kwh_year"].format(value=fmt.number(f["pump_kwh"], 0, lang))),
        (t["wire_to_water"], fmt.percent(f['wire_to_water_pct'] / 100, 1, lang)),
        (t["autonomy"], t["days"].format(value=fmt.number(f["autonomy_days"], 1, lang))),
        (t["tank"], t["m3"].format(value=fmt.number(w.tank_capacity_m3, 1, lang))),
        (t["pump"], t["pump_short"].format(kw=fmt.number(w.pump_rated_kw, 2, lang), drive=drive)),
    ])


def pump_note(w: WaterData, t: dict[str, str]) -> str:
    """The pump chosen: its catalogue name and where its curve and price come from."""
    source = (f' <span class="note">{html.escape(t["pump_source"])}: '
              f"{html.escape(w.pump_source)}</span>") if w.pump_source else ""
    return (f'<p id="pump_chosen"><strong>{html.escape(t["pump_model"])}:</strong> '
            f"{html.escape(w.pump_name)}.{source}</p>")


def water_table(monthly: list[dict[str, Any]], t: dict[str, str], lang: Lang,
                years: int = 1) -> str:
    """The water of each month (demand, delivered, not delivered: totals in the month [m³];
    with several ``years``, each month's median), with their sums as the footer."""
    months = t["months"].split(",")
    cols = ("demand_m3", "delivered_m3", "unmet_m3")
    head = "".join(f"<th class='n'>{html.escape(t[k])}</th>"
                   for k in ("w_demand", "w_delivered", "w_unmet"))
    rows = "".join(
        f"<tr><td>{html.escape(months[int(r['month']) - 1])}</td>"
        + "".join(f"<td class='n'>{fmt.number(float(r[k]), 0, lang)}</td>" for k in cols) + "</tr>"
        for r in monthly)
    totals = "".join(f"<td class='n'>{fmt.number(sum(float(r[k]) for r in monthly), 0, lang)}</td>"
                     for k in cols)
    title = t["water_table_median"].format(n=years) if years > 1 else t["water_table"]
    return (f"<h3>{html.escape(title)}</h3><table id='water_monthly'><thead><tr>"
            f"<th></th>{head}</tr></thead><tbody>{rows}</tbody><tfoot><tr>"
            f"<td>{html.escape(t['w_year'])}</td>{totals}</tr></tfoot></table>")


def water_section(w: WaterData, t: dict[str, str], lang: Lang) -> str:
    """The report's water section: the figures, the monthly table and the tank level chart."""
    chart = chart_tank(daily_tank_pct(w.tank_m3, w.tank_capacity_m3), w.min_level_pct,
                       w.max_level_pct, t, lang)
    return (f'<section id="water"><h2>{html.escape(t["water"])}</h2>'
            f'<div class="cards">{water_card(w, t, lang)}</div>{pump_note(w, t)}'
            f"{water_table(w.figures['monthly'], t, lang, w.years) if w.figures['monthly'] else ''}"
            f'<div class="charts"><figure class="chart wide" id="chart_tank"><figcaption>'
            f"{html.escape(t['chart_tank'])}</figcaption>{chart}</figure></div></section>")


def motor_start_text(motor: dict[str, Any] | None, soft: frozenset[str],
                     t: dict[str, str], lang: Lang) -> str | None:
    """The motor-start advice in the report's words, when the largest start does not fit the
    inverter's surge rating; None when it fits, or when the motor is on a variable-speed drive
    (no direct-on-line surge to advise on)."""
    if motor is None or motor["ok"] or motor["motor"] in soft:
        return None
    start, running, surge = motor["start_kw"], motor["running_kw"], motor["surge_kw"]
    values = {"motor": motor["motor"], "start": fmt.number(start, 1, lang),
              "running": fmt.number(running, 1, lang), "surge": fmt.number(surge, 1, lang),
              "need": fmt.number(running + start, 1, lang),
              "limit": fmt.number(surge - start, 1, lang)}
    return t["motor_start_alone" if start >= surge else "motor_start_over"].format(**values)


def payback_years(costs: Costs, diesel: DieselOnly) -> float | None:
    """First year in which the design's cumulative nominal cost falls below diesel only's."""
    ours = np.cumsum(costs.cash_flow_vnd[0])
    theirs = np.cumsum(diesel.costs.cash_flow_vnd[0])
    better = np.nonzero(ours <= theirs)[0]
    return float(better[0]) if len(better) else None


def _fmt_constraint(name: str, value: float, lang: Lang = "en") -> str:
    if name == "max_saidi_minutes":
        return fmt.quantity(value, "min_per_year", 0, lang)
    if name == "max_saifi_count":
        return fmt.number(value, 1, lang)
    if name == "motor_start_surge":
        return fmt.percent(value, 0, lang)
    return fmt.percent(value, 2, lang)


def _caption(key: str, water: bool) -> str:
    """A chart's caption key: the Pareto chart of a pump site plots the water not delivered."""
    return "chart_pareto_water" if water and key == "chart_pareto" else key


def _constraint(name: str, data: ReportData, t: dict[str, str]) -> str:
    """A constraint in the report's words ("aerator" only on a site with aerators)."""
    if name == "max_critical_unmet_fraction" and not data.has_aerators:
        return t["constraint_max_critical_unmet_fraction_generic"]
    return t["constraint_" + name]


def _why(data: ReportData, t: dict[str, str], lang: Lang = "en") -> str:
    ex = data.explanation
    name = ex["binding_constraint"]
    binding = t["why_binding"].format(constraint=_constraint(name, data, t),
                                      value=_fmt_constraint(name, ex["values"][name], lang),
                                      limit=_fmt_constraint(name, ex["limits"][name], lang))
    parts = [f"<p>{html.escape(binding)}</p>"]

    rivals = ex["next_feasible"] + ex["cheaper_infeasible"]
    water = data.water is not None and all("unmet_water_fraction" in r for r in rivals)

    def unmet(r: dict[str, Any]) -> float:
        return float(r["unmet_water_fraction"] if water else r["unmet_fraction"])

    def rows(items: list[dict[str, Any]], show_broken: bool) -> str:
        out = []
        for r in items:
            d = r["design"]
            broken = (", ".join(_constraint(c, data, t) for c in r["violates"])
                      if show_broken else "")
            out.append(
                f"<tr><td>{_design_text(d, t, lang)}</td>"
                f"<td class='n'>{fmt.money(r['npc_vnd'], lang, scale='million')}</td>"
                f"<td class='n'>{'+' if r['npc_delta_vnd'] >= 0 else ''}"
                f"{fmt.number(r['npc_delta_vnd'] / 1e6, 1, lang)}</td>"
                f"<td class='n'>{fmt.percent(unmet(r), 2, lang)}</td>"
                f"<td>{html.escape(broken)}</td></tr>")
        head = "".join(f"<th{cls}>{html.escape(t[key])}</th>" for key, cls in (
            ("col_design", ""), ("col_npc", " class='n'"), ("col_delta", " class='n'"),
            ("col_unmet_water" if water else "col_unmet", " class='n'"),
            ("col_fails" if show_broken else "col_empty", "")))
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(out)}</tbody></table>"

    if ex["cheaper_infeasible"]:
        parts.append(f"<p>{html.escape(t['why_cheaper'])}</p>"
                     + rows(ex["cheaper_infeasible"], True))
    if ex["next_feasible"]:
        parts.append(f"<p>{html.escape(t['why_next'])}</p>" + rows(ex["next_feasible"], False))
    return "".join(parts)


def _sensitivity(data: ReportData, t: dict[str, str], lang: Lang = "en") -> str:
    """What if fuel costs more or less, the load grows, or the weather is a P90 year."""
    sens = data.sensitivity
    yes, no = t["sens_yes"], t["sens_no"]

    def design_text(case: dict[str, Any]) -> str:
        best = case.get("best")
        if best is None:
            return t["sens_none"]
        d = best["design"]
        same = all(_same(d[k], data.design.get(k)) for k in d)
        text = f"{_design_text(d, t, lang)} ({fmt.money(best['npc_vnd'], lang, scale='million')})"
        return t["sens_same"] if same else text

    rows = []
    for factor, case in sens.get("fuel_price", {}).items():
        rows.append((t["sens_fuel"].format(
            pct=("+" if float(factor) >= 1 else "-")
            + fmt.percent(abs(float(factor) - 1), 0, lang)),
                     yes if case["base_winner"]["feasible"] else no, design_text(case)))
    for growth, case in sens.get("load_growth", {}).items():
        rows.append((t["sens_load"].format(pct=fmt.percent(float(growth) / 100, 0, lang)),
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
    w = data.water
    water_rows = [] if w is None else [
        (t["tank"], t["m3"].format(value=fmt.number(w.tank_capacity_m3, 1, lang))),
        (t["pump"], t["pump_short"].format(
            kw=fmt.number(w.pump_rated_kw, 2, lang),
            drive=t["drive_vfd"] if w.pump_drive == "vfd" else t["drive_fixed"]))]
    design_card = _card(t["design"], [
        (t["pv"], f"{fmt.short(d['kwp'], lang)} kWp"),
        (t["battery"], f"{fmt.short(d['kwh'], lang)} kWh" if d["kwh"] > 0 else none),
        (t["inverter"], f"{fmt.short(d['inverter_kw'], lang)} kW"),
        (t["generator"], _generator_text(data, t, lang) if d["generator_kw"] > 0 else none),
        *([(t["wind"], f"{fmt.short(d['turbines'], lang)} × {fmt.short(data.turbine_kw, lang)} kW")]
          if data.turbine_kw > 0 else []),
        *water_rows,
    ])
    energy_rows = [(t["pv_energy"], fmt.quantity(f["pv_kwh"], "kwh_per_year", 0, lang))]
    if data.turbine_kw > 0:
        energy_rows += [
            (t["wind_energy"],
             f"{fmt.number(f['wind_kwh'], 0, lang)} kWh "
             f"({fmt.percent(f['wind_capacity_factor'], 0, lang)})"),
            (t["wind_curtailed"], f"{fmt.number(f['wind_curtailed_kwh'], 0, lang)} kWh")]
    energy_rows += [(t["per_unit"].format(name=u["name"]),
                     t["unit_hours"].format(hours=fmt.number(u["hours"], 0, lang),
                                           fuel=fmt.number(u["fuel_l"], 0, lang)))
                    for u in data.generator_units if len(data.generator_units) > 1]
    energy_card = _card(f"{t['energy']}: {fmt.render('stat_p50', {'n': data.years}, lang)}",
                        energy_rows)
    cost_card = _card(t["cost"], [
        (t["capital"], fmt.money(float(c.capital_vnd[0]), lang, scale="unit")),
        (t["npc"].format(years=econ.lifetime_years,
                         rate=fmt.percent(econ.discount_rate_pct / 100, 1, lang)),
         fmt.money(float(c.npc_vnd[0]), lang)),
        (t["lcoe"], fmt.money_per(float(c.lcoe_vnd_per_kwh[0]), "kWh", lang)),
        (t["fuel"], fmt.quantity(f["generator_fuel_l"], "l_per_year", 0, lang)),
        (t["battery_life"], fmt.quantity(f["battery_life_years"], "year", 0, lang)
         if d["kwh"] > 0 else none),
    ])
    stat = fmt.render("stat_p50", {"n": data.years}, lang)
    rel_card = _card(f"{t['reliability']}: {stat}", [
        (t["saidi"], f"{fmt.number(f['saidi_minutes'], 0, lang)} · "
                     f"P90 {fmt.number(f['saidi_p90_minutes'], 0, lang)}"),
        (t["saifi"], f"{fmt.number(f['saifi_count'], 1, lang)} · "
                     f"P90 {fmt.number(f['saifi_p90_count'], 1, lang)}"),
        (t["saidi_forced"], fmt.number(f["saidi_forced_minutes"], 0, lang)),
        (t["curtailment"], fmt.number(f["load_curtailed_hours"], 0, lang)),
        (t["unmet"], fmt.percent(f['unmet_fraction'], 2, lang)),
        *([(t["aerator_hours"] if data.has_aerators else t["critical_hours"],
            fmt.number(f["aerator_hours_at_risk"], 0, lang))] if data.has_critical else []),
        (t["renewable"], fmt.percent(f['renewable_fraction'], 0, lang)),
    ])
    dsl = data.diesel
    saving = dsl.costs.npc_vnd[0] - c.npc_vnd[0]
    pb = payback_years(c, dsl)
    diesel_rows = [
        (t["diesel_only"].format(kw=fmt.short(dsl.generator_kw, lang)),
         fmt.money(float(dsl.costs.npc_vnd[0]), lang)),
        (t["this_design"], fmt.money(float(c.npc_vnd[0]), lang)),
        (t["lcoe"] + " (diesel)", fmt.money_per(float(dsl.costs.lcoe_vnd_per_kwh[0]), "kWh",
                                                lang)),
        ((t["saving"] if saving >= 0 else t["saving_neg"]).format(years=econ.lifetime_years),
         fmt.money(float(abs(saving)), lang)),
        (t["payback"], fmt.quantity(pb, "year", 0, lang) if pb is not None else t["never"]),
    ]
    diesel_card = _card(t["vs_diesel"], diesel_rows)

    battery = d["kwh"] > 0
    dd = data.dossier

    def figure(key: str, svg: str, cls: str = "") -> str:
        caption = t[_caption(key, w is not None)].format(month=month_names[worst - 1])
        return (f'<figure class="chart{cls}" id="{key}"><figcaption>{html.escape(caption)}'
                f"</figcaption>{svg}</figure>")

    energy_figs = (figure("chart_monthly", chart_monthly(data.hourly, data.dt_h, t, lang))
                   + figure("chart_day", chart_typical_day(data.hourly, worst, t, lang, battery))
                   + figure("chart_loads", chart_loads(data.load_kwh, t, lang))
                   + (figure("chart_losses", chart_losses(dd.losses, t, lang), " wide")
                      if dd is not None else ""))
    rel_figs = ((figure("chart_soc", chart_soc_heatmap(data.hourly, t, lang)) if battery else "")
                + figure("chart_pareto", chart_pareto(
                    data.search_npc_vnd, data.search_unmet_fraction,
                    feasible=data.search_feasible, front=data.pareto, winner=data.winner, t=t,
                    lang=lang, unmet_label="unmet_water_pct" if w else "unmet_pct"), " wide"))
    cash_fig = figure("chart_cash", chart_cash_flow(c, dsl, econ, t, lang), " wide")
    no_battery = ("" if battery else
                  f'<p class="note" id="no_battery">'
                  f'{html.escape(t["no_battery" if w is None else "no_battery_tank"])}</p>')

    s, pv = data.strings, data.pv
    strings_note = "" if s is None or pv is None else "<p class='note'>" + html.escape(
        fmt.render("strings_note", {
            "series": s.series, "strings": s.strings,
            "tlow": fmt.Num(pv.record_low_temp_c, 0), "voc": fmt.Num(s.voc_cold_v, 0),
            "vmax": fmt.Num(pv.mppt_max_input_v, 0), "thot": fmt.Num(pv.max_cell_temp_c, 0),
            "vmp": fmt.Num(s.vmp_hot_v, 0), "vmin": fmt.Num(pv.mppt_min_v, 0)}, lang)) + "</p>"
    motor = motor_start_text(data.motor_start, data.motor_start_soft, t, lang)
    engine = [warning_text(engine_warning(x), lang) for x in data.warnings
              if not (data.motor_start is not None and x.startswith("motor start: "))]
    findings = [finding_text(x, lang) for x in dd.findings] if dd is not None else []
    warnings = ([t["edge_" + side].format(what=t["dim_" + dim], value=fmt.short(value, lang),
                                          dim=dim)
                 for dim, value, side in data.edges] + ([motor] if motor else []) + engine
                + findings)
    warnings_html = (
        "<ul class='warn'>" + "".join(f"<li>{html.escape(x)}</li>" for x in warnings)
        + "</ul>") if warnings else f"<p>{html.escape(t['no_warnings'])}</p>"
    try:
        ver = version("offgrid")
    except PackageNotFoundError:
        ver = "dev"
    title = html.escape(t["title"])
    capital_note = ("" if dd is None else "<p class='note' id='capital_note'>" + html.escape(
        fmt.render("capital_note", {"bom": fmt.Money(float(c.capital_vnd[0]), "unit")}, lang))
        + "</p>")
    if dd is not None:
        middle = (inputs_section(data, dd, lang) + design_section(data, dd, lang, strings_note)
                  + electrical_section(dd, lang))
        econ_html = economics_section(data, dd, lang, diesel_card, cash_fig)
        bom_html = bom_section(data.bom, lang, capital_note)
        summary_cards = f"{design_card}{energy_card}{cost_card}{rel_card}"
        rel_html = (f'<section id="reliability"><h2>{html.escape(t["reliability"])}</h2>'
                    f'{no_battery}<div class="charts">{rel_figs}</div></section>')
    else:
        middle = ""
        econ_html = (f'<section id="economics"><h2>{html.escape(t["economics"])}</h2>'
                     f'<div class="cards">{diesel_card}</div>'
                     f'<div class="charts">{cash_fig}</div></section>')
        bom_html = bom_section(data.bom, lang) + strings_note
        summary_cards = f"{design_card}{energy_card}{cost_card}{rel_card}"
        rel_html = (f'<section id="reliability"><h2>{html.escape(t["reliability"])}</h2>'
                    f'{no_battery}<div class="charts">{rel_figs}</div></section>')
    page = f"""<!DOCTYPE html>
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
{water_headline(w, t, lang) if w is not None else ""}
<div class="cards">{summary_cards}</div>
<h3>{html.escape(t['why'])}</h3>
{_why(data, t, lang)}
{_sensitivity(data, t, lang)}
</section>
{middle}
{water_section(w, t, lang) if w is not None else ""}
<section id="charts">
<h2>{html.escape(t['energy_page'])}</h2>
<div class="charts">{energy_figs}</div>
{monthly_table(data.hourly, data.dt_h, worst, t, lang)}
</section>
{rel_html}
{econ_html}
{bom_html}
<section id="warnings">
<h2>{html.escape(t['warnings'])}</h2>
{warnings_html}
</section>
<p class="note">{html.escape(fmt.render("generated", {
        "version": ver, "date": datetime.now(UTC).date()}, lang))}</p>
</main>
</body>
</html>
"""
    # every table scrolls inside its own wrapper on a narrow screen
    return re.sub(r"<table\b", "<div class='scroll'><table", page).replace(
        "</table>", "</table></div>")


def _same(a: Any, b: Any) -> bool:
    """Two design values are the same (numbers within 1e-9, anything else equal)."""
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) < 1e-9
    return bool(a == b)


def _design_text(d: dict[str, Any], t: dict[str, str], lang: Lang) -> str:
    """A design in one line: ``kWp · kWh · kW · kW`` (PV, battery, inverter, generator),
    then the turbines and the tank when it has them."""
    text = " · ".join(f"{fmt.short(d[k], lang)} {unit}" for k, unit in (
        ("kwp", "kWp"), ("kwh", "kWh"), ("inverter_kw", "kW"), ("generator_kw", "kW")))
    if d.get("turbines"):
        text += f" · {fmt.short(d['turbines'], lang)} {t['turbine_units']}"
    if d.get("tank_m3"):
        text += f" · {fmt.short(d['tank_m3'], lang)} m³"
    return text


def _generator_text(data: ReportData, t: dict[str, str], lang: Lang = "en") -> str:
    """The generator units: ``n × kW`` when identical, else each rating."""
    kws = [u["kw"] for u in data.generator_units] or [data.design["generator_kw"]]
    if len(set(kws)) == 1:
        return (t["generator_units"].format(n=len(kws), kw=fmt.short(kws[0], lang)) if len(kws) > 1
                else f"{fmt.short(kws[0], lang)} kW")
    return " + ".join(f"{fmt.short(kw, lang)} kW" for kw in kws)


# --------------------------------------------------------------------------- the dossier

def loss_waterfall(series: dict[str, np.ndarray], dt_h: float, kwh: float,
                   charge_eff: float = 1.0) -> dict[str, float]:
    """One year's energy from source to load [kWh]; see :attr:`DossierData.losses`.

    ``battery``: what the battery lost, charged − discharged − the change of its content
    (``soc_kwh`` at the end of each step; the first step's start is taken as its end less
    its own flow × ``charge_eff``); ``conversion``: the balance's remainder."""
    pv = float(np.sum(series["pv_kw"]) + np.sum(series["wind_kw"])) * dt_h
    gen = float(np.sum(series["generator_kw"])) * dt_h
    curtailed = float(np.sum(series["curtailed_kw"])) * dt_h
    served = float(np.sum(series["served_kw"])) * dt_h
    unmet = float(np.sum(series["unmet_kw"])) * dt_h
    flow = np.asarray(series["battery_kw"], dtype=float)
    stored = 0.0
    battery = 0.0
    if kwh > 0 and len(flow):
        soc = np.asarray(series["soc_kwh"], dtype=float)
        start = soc[0] - flow[0] * dt_h * (charge_eff if flow[0] > 0 else 1.0)
        stored = float(soc[-1] - start)
        charged = float(np.sum(np.clip(flow, 0, None))) * dt_h
        discharged = float(-np.sum(np.clip(flow, None, 0))) * dt_h
        battery = max(0.0, charged - discharged - stored)
    conversion = pv + gen - curtailed - battery - stored - served
    return {"pv": pv, "generator": gen, "curtailed": curtailed, "battery": battery,
            "conversion": conversion, "stored": stored, "served": served, "unmet": unmet}


def chart_losses(losses: dict[str, float], t: dict[str, str], lang: Lang) -> str:
    """The year's energy as a waterfall: the sources up, the curtailment and losses down, to
    the energy served; the demand not served beside it [kWh]."""
    steps = [("lw_pv", losses["pv"], COLORS["pv"]), ("lw_gen", losses["generator"], COLORS["gen"]),
             ("lw_curtailed", -losses["curtailed"], COLORS["curtailed"]),
             ("lw_conversion", -losses["conversion"], COLORS["grey"]),
             ("lw_battery", -losses["battery"], COLORS["batt"]),
             ("lw_stored", -losses["stored"], COLORS["soc"])]
    steps = [st for st in steps if abs(st[1]) > 1e-6 or st[0] == "lw_pv"]
    fig, ax = _figure(12.8, 3.6)
    level = 0.0
    labels = []
    for i, (key, value, color) in enumerate(steps):
        ax.bar(i, value, bottom=level, color=color, width=0.6)
        level += value
        labels.append(t[key])
    n = len(steps)
    ax.bar(n, losses["served"], color=COLORS["load"], width=0.6)
    ax.bar(n + 1, losses["unmet"], color=COLORS["unmet"], width=0.6)
    labels += [t["lw_served"], t["lw_unmet"]]
    ax.set_xticks(range(n + 2), labels, fontsize=8)
    ax.set_ylabel(t["energy_kwh"])
    return _svg(fig, lang)


def _t(key: str, lang: Lang) -> str:
    return html.escape(TEXT[lang][key])


def _table(head: list[tuple[str, bool]], rows: list[list[str]], ident: str = "",
           foot: list[str] | None = None) -> str:
    """A table in a scrolling wrapper (a phone scrolls it, the page does not); ``head`` the
    escaped labels and whether the column is numeric; cells already escaped."""
    num = [n for _, n in head]
    th = "".join(f"<th{' class=n' if n else ''}>{label}</th>" for label, n in head)
    body = "".join("<tr>" + "".join(f"<td{' class=n' if num[i] else ''}>{cell}</td>"
                                    for i, cell in enumerate(r)) + "</tr>" for r in rows)
    tf = ("<tfoot><tr>" + "".join(f"<td{' class=n' if num[i] else ''}>{cell}</td>"
                                  for i, cell in enumerate(foot)) + "</tr></tfoot>"
          if foot else "")
    idattr = f" id='{ident}'" if ident else ""
    return (f"<table{idattr}><thead><tr>{th}</tr></thead>"
            f"<tbody>{body}</tbody>{tf}</table>")


def _detail(detail: str | fmt.Message, lang: Lang) -> str:
    if isinstance(detail, fmt.Message):
        return fmt.render(detail.code, detail.params, lang)
    return detail


def bom_section(bom: list[BomLine], lang: Lang, note: str = "") -> str:
    """The bill of materials: item, detail, quantity, unit price, amount [đồng]; the total is
    the sum of the amounts as printed."""
    t = TEXT[lang]
    rows = []
    for line in bom:
        qty = (fmt.quantity(line.quantity, line.unit, 0 if float(line.quantity).is_integer()
                            else 1, lang) if line.unit else "")
        rows.append([html.escape(t.get(line.key, line.key)),
                     html.escape(_detail(line.detail, lang)), html.escape(qty),
                     fmt.number(line.unit_vnd, 0, lang), fmt.number(line.total_vnd, 0, lang)])
    total = sum(line.total_vnd for line in bom)
    head = [(_t("item", lang), False), ("", False), (_t("qty", lang), True),
            (_t("unit_price_vnd", lang), True), (_t("amount_vnd", lang), True)]
    foot = [_t("bom_total", lang), "", "", "",
            f"<span id='bom_total'>{html.escape(fmt.money(total, lang, scale='unit'))}</span>"]
    return (f'<section id="bom"><h2>{_t("bom", lang)}</h2>'
            + _table(head, rows, "bom_table", foot) + note + "</section>")


def inputs_section(data: ReportData, dd: DossierData, lang: Lang) -> str:
    """Inputs and assumptions: the place, the weather and its monthly irradiation, the loads,
    the prices with their dates and sources, the lifetimes and the discount rate."""
    t = TEXT[lang]
    site, econ = dd.site, data.econ
    w = site.weather
    if w is not None and w.file is not None:
        source = fmt.render("weather_file", {"file": str(w.file)}, lang)
    else:
        source = fmt.render("weather_monthly", {"years": w.years if w else 1,
                                                "seed": w.seed if w else 0}, lang)
    place = _card(t["in_place"], [
        (t["in_coords"], fmt.render("coords", {"lat": fmt.Num(site.site.latitude, 4),
                                               "lon": fmt.Num(site.site.longitude, 4)}, lang)),
        (t["in_altitude"], fmt.quantity(site.site.altitude_m, "m", 0, lang)),
        (t["in_weather"], source),
        (t["in_tz"], site.site.timezone),
    ])
    months = fmt.month_names(lang)
    given = w.monthly_ghi_kwh_m2_day if w is not None else None
    head = [(_t("in_month", lang), False), (_t("in_ghi_sim", lang), True),
            (_t("in_pv_month", lang), True)]
    if given:
        head.insert(1, (_t("in_ghi_given", lang), True))
    rows = []
    for m in range(12):
        r = [html.escape(months[m])]
        if given:
            r.append(fmt.number(given[m], 2, lang))
        r += [fmt.number(dd.monthly_ghi[m], 2, lang), fmt.number(dd.monthly_pv_kwh[m], 0, lang)]
        rows.append(r)
    irr = f"<h3>{_t('in_irradiation', lang)}</h3>" + _table(head, rows, "irradiation")
    kinds = {"profile": "k_profile", "appliance": "k_appliance", "aerator": "k_aerator",
             "pump": "k_pump", "water_pump": "k_water_pump"}
    load_rows = [[html.escape(ld.name), _t(kinds.get(ld.kind, "k_profile"), lang),
                  _t("sens_yes" if ld.critical else "sens_no", lang),
                  fmt.number(data.load_kwh.get(ld.name, 0.0) / 365, 1, lang)]
                 for ld in site.loads]
    total_day = sum(data.load_kwh.values()) / 365
    loads = f"<h3>{_t('in_loads', lang)}</h3>" + _table(
        [(_t("in_load", lang), False), (_t("in_kind", lang), False),
         (_t("in_critical", lang), False), (_t("in_kwh_day", lang), True)], load_rows,
        "loads", [_t("sum_row", lang), "", "", fmt.number(total_day, 1, lang)])
    used = sorted({line.price_key for line in data.bom if line.price_key})
    price_rows = []
    for key in used:
        if key == "charge_controllers":
            price_rows.append([_t("bom_controllers", lang), "", "", _t("src_catalogue", lang)])
            continue
        if key.startswith("cable_"):
            lad = dd.prices.cables[key[len("cable_"):]]
            price_rows.append([_t("bom_cable", lang) + f" ({_t(key, lang)})",
                               _t("per_conductor_m", lang), html.escape(_month(lad.date, lang)),
                               _source(lad.source, lang)])
            continue
        if key == "breakers":
            lad = next(iter(dd.prices.breakers.values()))
            price_rows.append([_t("bom_breaker", lang), "", html.escape(_month(lad.date, lang)),
                               _source(lad.source, lang)])
            continue
        e = dd.prices.entry(key)
        if e.unit.startswith("VND/"):
            per = e.unit[len("VND/"):]
            shown = fmt.money_per(e.value, "pcs" if per == "unit" else per, lang)
        else:  # a percentage of the equipment
            shown = fmt.render("bom_d_pct", {"pct": fmt.Pct(e.value / 100, 0)}, lang)
        price_rows.append([_t(_PRICE_LABEL.get(key, "bom_dev_" + key), lang),
                           html.escape(shown),
                           html.escape(_month(e.date, lang)), _source(e.source, lang)])
    prices = f"<h3>{_t('in_prices', lang)}</h3>" + _table(
        [(_t("in_item", lang), False), (_t("in_price", lang), True),
         (_t("in_date", lang), False), (_t("in_source", lang), False)], price_rows, "prices")
    life = _card(t["in_finance"], [
        (t["in_discount"], fmt.percent(econ.discount_rate_pct / 100, 1, lang)),
        (t["in_project"], fmt.quantity(econ.lifetime_years, "year", 0, lang)),
        (t["in_pv_life"], fmt.quantity(econ.pv_life_years, "year", 0, lang)),
        (t["in_inverter_life"], fmt.quantity(econ.inverter_life_years, "year", 0, lang)),
        (t["battery_life"], fmt.quantity(data.figures["battery_life_years"], "year", 0, lang)),
        (t["in_om"], fmt.percent(econ.om_pct_per_year / 100, 1, lang)),
        (t["in_fuel_price"], fmt.money_per(econ.fuel_vnd_per_l, "l", lang)),
    ])
    return (f'<section id="inputs"><h2>{_t("inputs", lang)}</h2>'
            f'<div class="cards">{place}{life}</div>{irr}{loads}{prices}</section>')


_PRICE_LABEL = {"pv_module": "bom_pv", "mounting_ground": "bom_mounting",
                "lfp_battery": "bom_battery", "hybrid_inverter": "bom_inverter",
                "diesel_genset": "bom_generator", "controller_box": "bom_controller_box",
                "enclosure": "bom_enclosure", "contactor": "bom_contactor",
                "labour": "bom_labour", "transport": "bom_transport",
                "design_and_permits": "bom_design_and_permits"}
"""A price table entry → the words of its BOM line (devices: ``bom_dev_<entry>``)."""


def _month(yyyy_mm: str, lang: Lang) -> str:
    """A price's "YYYY-MM" as "10/2025" (vi) or "Oct 2025" (en); "" when not dated."""
    try:
        year, month = (int(x) for x in yyyy_mm.split("-")[:2])
    except ValueError:
        return yyyy_mm
    if lang == "vi":
        return f"{month:02d}/{year}"
    return f"{fmt.month_names('en')[month - 1]} {year}"


def _source(source: str, lang: Lang) -> str:
    """A price's source: in Vietnamese, an estimate says so (its basis, in English, is in the
    price table); in English, the source as written."""
    if lang == "vi":
        return _t("src_estimate" if source.startswith("estimate") else "src_quote", lang)
    return html.escape(source)


def design_section(data: ReportData, dd: DossierData, lang: Lang, strings_note: str) -> str:
    """The design and its single-line diagram."""
    svg = single_line_svg(dd.site, dd.ed, lang)
    return (f'<section id="design"><h2>{_t("design_page", lang)}</h2>'
            f'<div class="sldbox" id="sld"><h3>{_t("sld", lang)}</h3>{svg}'
            f"</div>{strings_note}</section>")


def electrical_section(dd: DossierData, lang: Lang) -> str:
    """Strings, charge controllers, bus currents, cables, breakers and fuses."""
    t = TEXT[lang]
    ed = dd.ed
    rows: list[tuple[str, str]] = []
    s = ed.strings
    if s is not None:
        rows.append((t["el_strings"], fmt.render("el_strings_v", {
            "series": s.series, "strings": s.strings, "modules": s.modules,
            "kwp": fmt.Num(s.array_kwp, 2, "kwp")}, lang)))
    if ed.controllers is not None:
        p = ed.controllers
        rows.append((t["el_controllers"], fmt.render("el_controllers_v", {
            "count": p.count, "model": p.model.name, "per": p.strings_per_controller,
            "a": fmt.Num(p.charge_a_each, 0, "a")}, lang)))
    if ed.battery_nominal_v is not None:
        rows.append((t["el_bus"], fmt.quantity(ed.battery_nominal_v, "v", 1, lang)))
        rows.append((t["el_pv_a"], fmt.quantity(ed.pv_charge_a, "a", 0, lang)))
        rows.append((t["el_inv_a"], fmt.render("el_inv_a_v", {
            "a": fmt.Num(ed.inverter_dc_a, 0, "a"),
            "surge": fmt.Num(ed.inverter_surge_dc_a, 0, "a")}, lang)))
    rows.append((t["el_ac"], fmt.render("el_ac_v", {
        "phases": ed.ac_phases, "v": fmt.Num(ed.ac_v, 0, "v"),
        "a": fmt.Num(ed.ac_a, 1, "a")}, lang)))
    if ed.string_fuse_a is not None:
        rows.append((t["el_fuse"], fmt.quantity(ed.string_fuse_a, "a", 0, lang)))
    card = _card(t["el_summary"], rows)
    cable_rows = [[_t("run_" + c.run, lang), fmt.number(c.count, 0, lang),
                   fmt.number(c.current_a, 1, lang), fmt.number(c.length_m, 0, lang),
                   html.escape(f"{c.parallel} × {fmt.number(c.section_mm2, 0, lang)}"),
                   fmt.number(c.ampacity_a, 0, lang), fmt.number(c.drop_pct, 2, lang),
                   fmt.number(c.breaker_a, 0, lang), _t("gov_" + c.governed_by, lang)]
                  for c in ed.cables]
    head = [(_t(k, lang), n) for k, n in (
        ("c_run", False), ("c_count", True), ("c_ib", True), ("c_len", True),
        ("c_section", True), ("c_iz", True), ("c_drop", True), ("c_in", True),
        ("c_governed", False))]
    return (f'<section id="electrical"><h2>{_t("electrical", lang)}</h2>'
            f'<div class="cards">{card}</div><h3>{_t("cables", lang)}</h3>'
            + _table(head, cable_rows, "cables")
            + "<p class='note'>" + html.escape(fmt.render(
                "cables_note", {"ib": "Ib", "iz": "Iz", "pvc": "PVC"}, lang)) + "</p></section>")


def economics_section(data: ReportData, dd: DossierData, lang: Lang, diesel_card: str,
                      cash_chart: str) -> str:
    """NPC and LCOE, the EVN tariff and the subsidy gap, the grid-extension break-even
    distance, the CO₂ avoided against diesel only."""
    t = TEXT[lang]
    c, econ = data.costs, data.econ
    lcoe = float(c.lcoe_vnd_per_kwh[0])
    tariff = comparisons.EVN_AVERAGE_RETAIL_VND_PER_KWH
    gap = float(comparisons.evn_gap_vnd_per_kwh(lcoe, tariff))
    year_gap = float(comparisons.annual_gap_vnd(lcoe, dd.served_kwh, tariff))
    km = float(comparisons.grid_breakeven_km(
        c.npc_vnd[0], dd.served_kwh, discount_rate=econ.discount_rate_pct / 100,
        years=econ.lifetime_years))
    co2 = float(comparisons.co2_avoided_kg(data.diesel.fuel_l,
                                           data.figures["generator_fuel_l"])) / 1000
    card = _card(t["econ_card"], [
        (t["capital"], fmt.money(float(c.capital_vnd[0]), lang, scale="unit")),
        (t["npc"].format(years=econ.lifetime_years,
                         rate=fmt.percent(econ.discount_rate_pct / 100, 1, lang)),
         fmt.money(float(c.npc_vnd[0]), lang)),
        (t["lcoe"], fmt.money_per(lcoe, "kWh", lang)),
        (t["evn_tariff"], fmt.money_per(tariff, "kWh", lang)),
        (t["gap_kwh"], fmt.money_per(gap, "kWh", lang)),
        (t["gap_year"], fmt.render("per_year_v", {"v": fmt.Money(year_gap)}, lang)),
        (t["breakeven"], fmt.quantity(max(km, 0.0), "km", 1, lang)),
        (t["co2"], fmt.quantity(co2, "t_co2_per_year", 1, lang)),
    ])
    notes = fmt.render("econ_note", {
        "decision": "1279/QĐ-BCT", "kv": "22 kV",
        "served": fmt.Num(dd.served_kwh, 0, "kwh_per_year"),
        "line": fmt.Money(comparisons.LINE_22KV_VND_PER_KM),
        "conn": fmt.Money(comparisons.GRID_CONNECTION_VND),
        "ef": fmt.Num(comparisons.DIESEL_CO2_KG_PER_L, 2),
        "diesel_l": fmt.Num(data.diesel.fuel_l, 0, "l_per_year"),
        "l": fmt.Num(data.figures["generator_fuel_l"], 0, "l_per_year")}, lang)
    return (f'<section id="economics"><h2>{_t("economics", lang)}</h2>'
            f'<div class="cards">{card}{diesel_card}</div><p class="note">'
            f"{html.escape(notes)}</p><div class='charts'>{cash_chart}</div>"
            f"{ageing_section(dd.ageing, lang)}</section>")


def ageing_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The project years the dossier prints of an ageing table: the first, every fifth, the
    last, and every year something is replaced."""
    last = len(rows)
    return [r for r in rows if r["year"] in (1, last) or r["year"] % 5 == 0 or r["replacements"]]


def ageing_section(rows: Sequence[dict[str, Any]], lang: Lang) -> str:
    """The design's ageing as a table (:func:`sizing.economics.ageing_table`): the PV output
    and battery capacity left, what is replaced and what it costs, the PV energy lost and
    where it goes (more fuel, or demand not served)."""
    if not rows:
        return ""
    t = TEXT[lang]
    battery = rows[0]["battery_capacity_pct"] is not None
    head = [(_t("ag_year", lang), False), (_t("ag_pv", lang), True)]
    head += [(_t("ag_battery", lang), True)] if battery else []
    head += [(_t("ag_replaced", lang), False), (_t("ag_cost", lang), True),
             (_t("ag_shortfall", lang), True), (_t("ag_fuel", lang), True),
             (_t("ag_unmet", lang), True)]
    body = []
    for r in ageing_rows(rows):
        parts = ", ".join(t["part_" + part] + (f" × {n}" if n > 1 else "")
                          for part, n in r["replacements"].items())
        cells = [fmt.number(r["year"], 0, lang, grouped=False),
                 fmt.number(r["pv_output_pct"], 1, lang)]
        cells += [fmt.number(r["battery_capacity_pct"], 0, lang)] if battery else []
        cells += [html.escape(parts or "—"),
                  fmt.money(r["replacement_vnd"], lang) if r["replacement_vnd"] > 0 else "—",
                  fmt.number(r["pv_shortfall_kwh"], 0, lang),
                  fmt.number(r["extra_fuel_l"], 0, lang), fmt.number(r["unmet_kwh"], 0, lang)]
        body.append(cells)
    note = html.escape(t["ag_note"])
    return (f"<h3>{_t('ag_title', lang)}</h3>{_table(head, body, 'ageing')}"
            f"<p class='note'>{note}</p>")


# The engine's warnings (English sentences) → a code and its parameters.
_ENGINE_WARNINGS: list[tuple[re.Pattern[str], str, tuple[str, ...]]] = [
    (re.compile(r"peak load ([\d.]+) kW exceeds the inverter's ([\d.]+) kW"), "warn_peak",
     ("peak", "kw")),
    (re.compile(r"conversion losses ([\d.]+) % of the energy delivered exceed the ([\d.]+) % "
                r"target"), "warn_losses", ("pct", "target")),
    (re.compile(r"in project year (\d+), with the loads grown, ([\d.]+) % of the demand is "
                r"unmet \(limit ([\d.]+) %\)"), "warn_growth_unmet", ("year", "pct", "limit")),
    (re.compile(r"in project year (\d+), with the loads grown, SAIDI reaches ([\d.]+) min/year "
                r"\(limit ([\d.]+)\)"), "warn_growth_saidi", ("year", "saidi", "limit")),
    (re.compile(r"the chosen design misses the programme's (SAIDI|SAIFI) target of ([\d.]+) "
                r"(?:min/year|per year): (.*)"), "warn_target", ("what", "target", "at")),
    (re.compile(r"a weather file holds one year: its weather is the same in all (\d+) "),
     "warn_one_weather_year", ("years",)),
    (re.compile(r"(economics\.\w+) is not used: the search and the report price each design"),
     "warn_unused_price", ("what",)),
    (re.compile(r"(\d+) designs of the search were left out: the price table has no breaker"),
     "warn_unpriced", ("count",)),
]


def engine_warning(text: str) -> fmt.Message:
    """An engine warning as a message code with its parameters; a sentence no pattern knows
    becomes ``w_other`` (its English text kept for the English report)."""
    for pattern, code, names in _ENGINE_WARNINGS:
        m = pattern.search(text)
        if m is None:
            continue
        params: dict[str, Any] = {}
        for name, value in zip(names, m.groups(), strict=True):
            if name in ("what", "at"):  # text: a SAIDI/SAIFI, a key, a figure at its level
                params[name] = value
            elif code in ("warn_losses", "warn_growth_unmet") and name != "year":
                params[name] = fmt.Pct(float(value) / 100, 1)
            else:
                params[name] = int(value) if value.isdigit() else float(value)
        if code == "warn_target":
            params["at"] = fmt.Message("raw", {"text": params["at"]})
        return fmt.Message(code, params)
    return fmt.Message("warn_other", {"text": text})


def warning_text(message: fmt.Message, lang: Lang) -> str:
    """A warning in ``lang``; a ``w_target``'s P50/P90 figures re-written in the language."""
    if message.code == "warn_target":
        at = message.params["at"].params["text"]
        parts = [fmt.render("at_level", {"v": float(v), "level": lv}, lang)
                 for v, lv in re.findall(r"([\d.e+-]+) at (P50|P90)", at)]
        return fmt.render("warn_target", {**message.params, "at": ", ".join(parts)}, lang)
    return fmt.render(message.code, message.params, lang)


def finding_text(finding: Finding, lang: Lang) -> str:
    """An electrical finding in ``lang`` (:data:`sizing.electrical.MESSAGES`), its numbers in
    the language's convention; a run's name in the language's words."""
    params = dict(finding.params)
    if "run" in params:
        params["run"] = TEXT[lang]["run_" + str(params["run"])]
    return fmt.render(finding.code, params, lang, catalogue=MESSAGES)


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
    for wp in site.water_pumps:  # its own slot in the engine: the year's pump energy
        load_kwh[wp.name] = float(year.figures["pump_kwh"])
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
    warnings = list(dict.fromkeys(result.warnings + sim.warnings))
    water = _water_data(designed, sim.water, year.run.series, year.index, len(sim.years))
    pump = designed.water_pumps[0].pump if designed.water_pumps else None
    # A pump site's search is judged on its water: plot cost against the water not delivered.
    unmet = (result.perf.unmet_water_fraction if water is not None
             else result.perf.unmet_fraction)
    edges: list[tuple[str, float, str]] = [(e.dimension, e.value, e.side) for e in result.edges]
    prices = site_prices(site)
    ed, bom = design_bill(designed, design, prices, generator_units=result.plant.generator_units,
                          turbine_kw=result.plant.turbine_kw, pump=pump)
    findings = tuple(ed.findings) + tuple(check_devices(designed, ed))
    costs = result.costs.take(result.best)
    capital = sum(line.total_vnd for line in bom)
    if not math.isclose(capital, float(costs.capital_vnd[0]), rel_tol=1e-9):
        raise SizingError(f"the bill of materials totals {capital:,.0f} VND but the search "
                          f"priced the design at {float(costs.capital_vnd[0]):,.0f} VND")
    weather = result.inputs.weather[0]
    ghi = weather["ghi"].groupby(weather.index.month).sum() / 1000 * dt_h
    days = [_days_in_month(m) for m in range(1, 13)]
    pv_month = hourly["pv_kw"].groupby(hourly.index.month).sum() * dt_h
    eff = designed.battery.charge_efficiency_pct / 100 if designed.battery is not None else 1.0
    dossier = DossierData(
        site=designed, ed=ed, findings=findings, prices=prices,
        monthly_ghi=tuple(float(ghi.get(m, 0.0)) / days[m - 1] for m in range(1, 13)),
        monthly_pv_kwh=tuple(float(pv_month.get(m, 0.0)) for m in range(1, 13)),
        losses=loss_waterfall(series, dt_h, kwh, eff), served_kwh=float(sim.p50["served_kwh"]),
        ageing=tuple(ageing_table(
            site.economics, designed, result.grid.designs.take(result.best),
            result.perf.operation.take(result.best), plant=result.plant,
            priced=result.priced.take(result.best))))
    return ReportData(
        site_name=site.site.name, design=design, hourly=hourly, dt_h=dt_h, load_kwh=load_kwh,
        figures=figures, econ=site.economics, costs=costs,
        diesel=result.diesel, search_npc_vnd=result.costs.npc_vnd,
        search_unmet_fraction=unmet, search_feasible=result.feasible,
        pareto=(pareto_front(result.costs.npc_vnd, unmet) if water is not None
                else result.pareto), winner=result.best, explanation=result.explanation,
        strings=ed.strings, pv=designed.pv,
        bom=bom,
        warnings=warnings, edges=edges, sensitivity=result.sensitivity,
        generator_units=sim.to_json()["generator_units"], turbine_kw=result.plant.turbine_kw,
        has_aerators=any(isinstance(ld, AeratorLoad) for ld in site.loads),
        has_critical=any(ld.critical for ld in site.loads),
        motor_start=sim.motor_start,
        motor_start_soft=frozenset(ld.name for ld in designed.loads
                                   if getattr(ld, "start_multiplier", 0.0) == 1.0),
        water=water, dossier=dossier, years=len(sim.years))


def _water_data(site: Site, figures: dict[str, Any] | None, series: dict[str, np.ndarray],
                index: pd.DatetimeIndex, years: int) -> WaterData | None:
    """The water section's data of the designed ``site`` (its tank and pump chosen) from the
    simulation's ``water`` block and one year's ``tank_m3`` series; None without a pump."""
    if figures is None or site.tank is None or not site.water_pumps:
        return None
    load = site.water_pumps[0]
    return WaterData(figures=figures, tank_m3=pd.Series(series["tank_m3"], index=index),
                     tank_capacity_m3=site.tank.m3, min_level_pct=site.tank.min_level_pct,
                     max_level_pct=site.tank.max_level_pct, pump_name=load.pump.name,
                     pump_source=load.pump.source, pump_rated_kw=load.pump.rated_kw,
                     pump_drive=load.drive, years=years)
