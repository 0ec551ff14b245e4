"""The engineer's report: one self-contained HTML file (inline CSS, matplotlib SVG charts).

``render_html(data, lang)`` is pure: it turns a :class:`ReportData` into the HTML text.
``report_data(site, result)`` gathers the figures (one hourly run of the chosen design, its costs,
the diesel-only baseline, the bill of materials with PV string sizing).
"""

from __future__ import annotations

import calendar
import html
import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from typing import Any, Literal

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sitefile import PV, AeratorLoad, Economics, PumpModel, Site
from sizing import simulate
from sizing.economics import Costs, DieselOnly
from sizing.errors import SizingError
from sizing.optimize import Result, apply_design, design_dict, pareto_front
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
    has_aerators: bool = True  # "critical loads (aerators)" is said only when this holds
    has_critical: bool = True  # the critical-loads row is shown only when this holds
    motor_start: dict[str, Any] | None = None  # the engine's motor-start check (as_dict)
    motor_start_soft: frozenset[str] = frozenset()  # motors on a VFD: no start surge to advise
    water: WaterData | None = None  # the water pump's figures (None: no water pump)


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


def monthly_table(hourly: pd.DataFrame, dt_h: float, worst: int, t: dict[str, str],
                  lang: Lang = "en") -> str:
    """The monthly energy by source as an HTML table, the worst month marked."""
    e = monthly_sources_kwh(hourly, dt_h)
    months = t["months"].split(",")
    cols = [("pv", t["s_pv"]), ("wind", t["s_wind"]), ("generator", t["s_gen"]),
            ("unmet", t["s_unmet"]), ("curtailed", t["s_curtailed"]), ("load", t["s_load"])]
    head = "".join(f"<th class='n'>{html.escape(label)}</th>" for _, label in cols)
    rows = "".join(
        f"<tr{' class=worst' if m == worst else ''}><td>{html.escape(months[m - 1])}"
        f"{' ◀' if m == worst else ''}</td>"
        + "".join(f"<td class='n'>{_num(float(e.loc[m, k]), 0, lang)}</td>" for k, _ in cols)
        + "</tr>"
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


def chart_typical_day(hourly: pd.DataFrame, month: int, t: dict[str, str],
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
    return _svg(fig)


def chart_loads(load_kwh: dict[str, float], t: dict[str, str]) -> str:
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
        ax.text(values[i], y, f"  {values[i]:,.0f} kWh ({100 * values[i] / total:.0f} %)",
                va="center", fontsize=8)
    ax.set_xlabel(f"{t['energy_kwh']} / {t['per_year']}")
    ax.set_xlim(0, values.max() * 1.45 if values.max() > 0 else 1)
    return _svg(fig)


def chart_pareto(npc: np.ndarray, unmet: np.ndarray, *, feasible: np.ndarray,
                 front: np.ndarray, winner: int, t: dict[str, str],
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


def daily_tank_pct(tank_m3: pd.Series, capacity_m3: float) -> pd.DataFrame:
    """Each day's lowest and highest tank level, ``min`` and ``max`` [% of ``capacity_m3``],
    indexed by the day (the series' local dates)."""
    pct = 100.0 * tank_m3.astype(float) / capacity_m3 if capacity_m3 > 0 else tank_m3 * 0.0
    index = pd.DatetimeIndex(tank_m3.index)
    by_day = pct.groupby(index.normalize())
    return pd.DataFrame({"min": by_day.min(), "max": by_day.max()})


def chart_tank(daily: pd.DataFrame, min_level_pct: float, max_level_pct: float,
               t: dict[str, str]) -> str:
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
    return _svg(fig)


# --------------------------------------------------------------------------- HTML

_VI_SEPARATORS = str.maketrans({",": ".", ".": ","})


def _num(value: float, digits: int = 0, lang: Lang = "en") -> str:
    """``value`` with grouped thousands and ``digits`` decimals, in the language's convention
    (CLDR): 1,234.5 in English, 1.234,5 in Vietnamese (no Babel: the two conventions are
    these two separators); "—" when it is not finite."""
    if not math.isfinite(value):
        return "—"  # a figure with no finite value (a cost per unit of nothing)
    text = f"{value:,.{digits}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]  # no "-0"
    return text.translate(_VI_SEPARATORS) if lang == "vi" else text


def _num_or(value: float | None, digits: int, lang: Lang) -> str:
    """:func:`_num`, with "—" for a figure the engine did not give and "∞" for an unbounded
    one."""
    if value is None or math.isnan(value):
        return "—"
    return "∞" if math.isinf(value) else _num(value, digits, lang)


def _g(value: float, lang: Lang = "en") -> str:
    """``value`` in its shortest form (``:g``), with the language's decimal mark."""
    return f"{value:g}".translate(_VI_SEPARATORS) if lang == "vi" else f"{value:g}"


def _vnd_m(value: float, lang: Lang = "en") -> str:
    """``value`` [VND] in millions, one decimal."""
    return _num(value / 1e6, 1, lang)


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
        m3_day=_num(f["delivered_m3"] / 365, 1, lang),
        peak_m3_day=_num(peak["delivered_m3"] / _days_in_month(month), 1, lang),
        month=t["months_long"].split(",")[month - 1],
        vnd_m3=_num_or(f["vnd_per_m3"], 0, lang))
    return f'<p class="big" id="water_headline">{html.escape(text)}</p>'


def water_card(w: WaterData, t: dict[str, str], lang: Lang) -> str:
    """The water figures of a year: demand, delivered, short, pumped, cost per m³, pump hours
    and energy, wire-to-water efficiency, the tank's autonomy, and the tank and pump chosen."""
    f = w.figures
    drive = t["drive_vfd"] if w.pump_drive == "vfd" else t["drive_fixed"]
    title = t["water_card_median"].format(n=w.years) if w.years > 1 else t["water_card"]
    return _card(title, [
        (t["water_demand"], t["m3_year"].format(value=_num(f["demand_m3"], 0, lang))),
        (t["water_delivered"], t["m3_day_mean"].format(
            value=_num(f["delivered_m3"], 0, lang),
            per_day=_num(f["delivered_m3"] / 365, 1, lang))),
        (t["water_unmet"], t["m3_share"].format(value=_num(f["unmet_m3"], 0, lang),
                                                pct=_num(100 * f["unmet_fraction"], 1, lang))),
        (t["water_pumped"], t["m3_year"].format(value=_num(f["pumped_m3"], 0, lang))),
        (t["water_cost"], t["vnd_m3"].format(value=_num_or(f["vnd_per_m3"], 0, lang))),
        (t["pump_hours"], t["h_year"].format(value=_num(f["pump_hours"], 0, lang))),
        (t["pump_energy"], t["kwh_year"].format(value=_num(f["pump_kwh"], 0, lang))),
        (t["wire_to_water"], f"{_num(f['wire_to_water_pct'], 1, lang)} %"),
        (t["autonomy"], t["days"].format(value=_num_or(f["autonomy_days"], 1, lang))),
        (t["tank"], t["m3"].format(value=_num(w.tank_capacity_m3, 1, lang))),
        (t["pump"], t["pump_short"].format(kw=_num(w.pump_rated_kw, 2, lang), drive=drive)),
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
        + "".join(f"<td class='n'>{_num(float(r[k]), 0, lang)}</td>" for k in cols) + "</tr>"
        for r in monthly)
    totals = "".join(f"<td class='n'>{_num(sum(float(r[k]) for r in monthly), 0, lang)}</td>"
                     for k in cols)
    title = t["water_table_median"].format(n=years) if years > 1 else t["water_table"]
    return (f"<h3>{html.escape(title)}</h3><table id='water_monthly'><thead><tr>"
            f"<th></th>{head}</tr></thead><tbody>{rows}</tbody><tfoot><tr>"
            f"<td>{html.escape(t['w_year'])}</td>{totals}</tr></tfoot></table>")


def water_section(w: WaterData, t: dict[str, str], lang: Lang) -> str:
    """The report's water section: the figures, the monthly table and the tank level chart."""
    chart = chart_tank(daily_tank_pct(w.tank_m3, w.tank_capacity_m3), w.min_level_pct,
                       w.max_level_pct, t)
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
    values = {"motor": motor["motor"], "start": _num(start, 1, lang),
              "running": _num(running, 1, lang), "surge": _num(surge, 1, lang),
              "need": _num(running + start, 1, lang), "limit": _num(surge - start, 1, lang)}
    return t["motor_start_alone" if start >= surge else "motor_start_over"].format(**values)


def payback_years(costs: Costs, diesel: DieselOnly) -> float | None:
    """First year in which the design's cumulative nominal cost falls below diesel only's."""
    ours = np.cumsum(costs.cash_flow_vnd[0])
    theirs = np.cumsum(diesel.costs.cash_flow_vnd[0])
    better = np.nonzero(ours <= theirs)[0]
    return float(better[0]) if len(better) else None


def _fmt_constraint(name: str, value: float, lang: Lang = "en") -> str:
    if name == "max_saidi_minutes":
        return f"{_num(value, 0, lang)} min"
    if name == "max_saifi_count":
        return _num(value, 1, lang)
    if name == "motor_start_surge":
        return f"{_num(100 * value, 0, lang)} %"
    return f"{_num(100 * value, 2, lang)} %"


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
                f"<td class='n'>{_vnd_m(r['npc_vnd'], lang)} {t['mvnd']}</td>"
                f"<td class='n'>{'+' if r['npc_delta_vnd'] >= 0 else ''}"
                f"{_vnd_m(r['npc_delta_vnd'], lang)}</td>"
                f"<td class='n'>{_num(100 * unmet(r), 2, lang)} %</td>"
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
        text = f"{_design_text(d, t, lang)} ({_vnd_m(best['npc_vnd'], lang)} {t['mvnd']})"
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
    w = data.water
    water_rows = [] if w is None else [
        (t["tank"], t["m3"].format(value=_num(w.tank_capacity_m3, 1, lang))),
        (t["pump"], t["pump_short"].format(
            kw=_num(w.pump_rated_kw, 2, lang),
            drive=t["drive_vfd"] if w.pump_drive == "vfd" else t["drive_fixed"]))]
    design_card = _card(t["design"], [
        (t["pv"], f"{_g(d['kwp'], lang)} kWp"),
        (t["battery"], f"{_g(d['kwh'], lang)} kWh" if d["kwh"] > 0 else none),
        (t["inverter"], f"{_g(d['inverter_kw'], lang)} kW"),
        (t["generator"], _generator_text(data, t, lang) if d["generator_kw"] > 0 else none),
        *([(t["wind"], f"{_g(d['turbines'], lang)} × {_g(data.turbine_kw, lang)} kW")]
          if data.turbine_kw > 0 else []),
        *water_rows,
    ])
    energy_rows = [(t["pv_energy"], f"{_num(f['pv_kwh'], 0, lang)} kWh / {t['per_year']}")]
    if data.turbine_kw > 0:
        energy_rows += [
            (t["wind_energy"],
             f"{_num(f['wind_kwh'], 0, lang)} kWh "
             f"({_num(100 * f['wind_capacity_factor'], 0, lang)} %)"),
            (t["wind_curtailed"], f"{_num(f['wind_curtailed_kwh'], 0, lang)} kWh")]
    energy_rows += [(t["per_unit"].format(name=u["name"]),
                     t["unit_hours"].format(hours=_num(u["hours"], 0, lang),
                                           fuel=_num(u["fuel_l"], 0, lang)))
                    for u in data.generator_units if len(data.generator_units) > 1]
    energy_card = _card(t["energy"], energy_rows)
    cost_card = _card(t["cost"], [
        (t["capital"], f"{_vnd_m(c.capital_vnd[0], lang)} {t['mvnd']}"),
        (t["npc"].format(years=econ.lifetime_years, rate=_g(econ.discount_rate_pct, lang)),
         f"{_vnd_m(c.npc_vnd[0], lang)} {t['mvnd']}"),
        (t["lcoe"], f"{_num(c.lcoe_vnd_per_kwh[0], 0, lang)} {t['vnd_kwh']}"),
        (t["fuel"], f"{_num(f['generator_fuel_l'], 0, lang)} L / {t['per_year']}"),
        (t["battery_life"], f"{_num(f['battery_life_years'], 0, lang)} {t['years']}"
         if d["kwh"] > 0 else none),
    ])
    rel_card = _card(t["reliability"], [
        (t["saidi"], f"{_num(f['saidi_minutes'], 0, lang)} · "
                     f"P90 {_num(f['saidi_p90_minutes'], 0, lang)}"),
        (t["saifi"], f"{_num(f['saifi_count'], 1, lang)} · "
                     f"P90 {_num(f['saifi_p90_count'], 1, lang)}"),
        (t["saidi_forced"], _num(f["saidi_forced_minutes"], 0, lang)),
        (t["curtailment"], _num(f["load_curtailed_hours"], 0, lang)),
        (t["unmet"], f"{_num(100 * f['unmet_fraction'], 2, lang)} %"),
        *([(t["aerator_hours"] if data.has_aerators else t["critical_hours"],
            _num(f["aerator_hours_at_risk"], 0, lang))] if data.has_critical else []),
        (t["renewable"], f"{_num(100 * f['renewable_fraction'], 0, lang)} %"),
    ])
    dsl = data.diesel
    saving = dsl.costs.npc_vnd[0] - c.npc_vnd[0]
    pb = payback_years(c, dsl)
    diesel_rows = [
        (t["diesel_only"].format(kw=_g(dsl.generator_kw, lang)),
         f"{_vnd_m(dsl.costs.npc_vnd[0], lang)} {t['mvnd']}"),
        (t["this_design"], f"{_vnd_m(c.npc_vnd[0], lang)} {t['mvnd']}"),
        (t["lcoe"] + " (diesel)",
         f"{_num(dsl.costs.lcoe_vnd_per_kwh[0], 0, lang)} {t['vnd_kwh']}"),
        ((t["saving"] if saving >= 0 else t["saving_neg"]).format(years=econ.lifetime_years),
         f"{_vnd_m(abs(saving), lang)} {t['mvnd']}"),
        (t["payback"], f"{_g(pb, lang)} {t['years']}" if pb is not None else t["never"]),
    ]
    diesel_card = _card(t["vs_diesel"], diesel_rows)

    battery = d["kwh"] > 0
    charts = [
        ("chart_monthly", chart_monthly(data.hourly, data.dt_h, t), ""),
        *([("chart_soc", chart_soc_heatmap(data.hourly, t), "")] if battery else []),
        ("chart_day", chart_typical_day(data.hourly, worst, t, battery), ""),
        ("chart_loads", chart_loads(data.load_kwh, t), ""),
        ("chart_pareto", chart_pareto(data.search_npc_vnd, data.search_unmet_fraction,
                                      feasible=data.search_feasible, front=data.pareto,
                                      winner=data.winner, t=t,
                                      unmet_label="unmet_water_pct" if w else "unmet_pct"),
         " wide"),
        ("chart_cash", chart_cash_flow(c, dsl, econ, t), " wide"),
    ]
    figures_html = "".join(
        f'<figure class="chart{cls}" id="{key}"><figcaption>'
        f"{html.escape(t[_caption(key, w is not None)].format(month=month_names[worst - 1]))}"
        f"</figcaption>{svg}</figure>"
        for key, svg, cls in charts)
    no_battery = ("" if battery else
                  f'<p class="note" id="no_battery">'
                  f'{html.escape(t["no_battery" if w is None else "no_battery_tank"])}</p>')

    bom_rows = []
    for line in data.bom:
        label = t.get(line.key, line.key)
        bom_rows.append(
            f"<tr><td>{html.escape(label)}</td><td>{html.escape(line.detail)}</td>"
            f"<td class='n'>{_g(line.quantity, lang)} "
            f"{html.escape(t.get(line.unit, line.unit))}</td>"
            f"<td class='n'>{_num(line.unit_vnd, 0, lang)}</td>"
            f"<td class='n'>{_num(line.total_vnd, 0, lang)}</td>"
            "</tr>")
    bom_total = sum(line.total_vnd for line in data.bom)
    s, pv = data.strings, data.pv
    strings_note = "" if s is None or pv is None else "<p class='note'>" + html.escape(
        t["strings_note"].format(
            series=s.series, strings=s.strings, tlow=_g(pv.record_low_temp_c, lang),
            voc=_num(s.voc_cold_v, 0, lang), vmax=_g(pv.mppt_max_input_v, lang),
            thot=_g(pv.max_cell_temp_c, lang), vmp=_num(s.vmp_hot_v, 0, lang),
            vmin=_g(pv.mppt_min_v, lang))) + "</p>"
    motor = motor_start_text(data.motor_start, data.motor_start_soft, t, lang)
    engine = [x for x in data.warnings
              if not (data.motor_start is not None and x.startswith("motor start: "))]
    warnings = ([t["edge_" + side].format(what=t["dim_" + dim], value=_g(value, lang), dim=dim)
                 for dim, value, side in data.edges] + ([motor] if motor else []) + engine)
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
{water_headline(w, t, lang) if w is not None else ""}
<div class="cards">{design_card}{energy_card}{cost_card}{rel_card}{diesel_card}</div>
<h3>{html.escape(t['why'])}</h3>
{_why(data, t, lang)}
{_sensitivity(data, t, lang)}
</section>
{water_section(w, t, lang) if w is not None else ""}
<section id="charts">
<h2>{html.escape(t['charts'])}</h2>
{no_battery}
<div class="charts">{figures_html}</div>
{monthly_table(data.hourly, data.dt_h, worst, t, lang)}
</section>
<section id="bom">
<h2>{html.escape(t['bom'])}</h2>
<table>
<thead><tr><th>{html.escape(t['item'])}</th><th></th><th class="n">{html.escape(t['qty'])}</th>
<th class="n">{html.escape(t['unit_price'])} (VND)</th>
<th class="n">{html.escape(t['total'])} (VND)</th></tr></thead>
<tbody>{''.join(bom_rows)}</tbody>
<tfoot><tr><td colspan="4">{html.escape(t['total'])}</td>
<td class="n">{_num(bom_total, 0, lang)}</td></tr></tfoot>
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


def _same(a: Any, b: Any) -> bool:
    """Two design values are the same (numbers within 1e-9, anything else equal)."""
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) < 1e-9
    return bool(a == b)


def _design_text(d: dict[str, Any], t: dict[str, str], lang: Lang) -> str:
    """A design in one line: ``kWp · kWh · kW · kW`` (PV, battery, inverter, generator),
    then the turbines and the tank when it has them."""
    text = " · ".join(f"{_g(d[k], lang)} {unit}" for k, unit in (
        ("kwp", "kWp"), ("kwh", "kWh"), ("inverter_kw", "kW"), ("generator_kw", "kW")))
    if d.get("turbines"):
        text += f" · {_g(d['turbines'], lang)} {t['turbine_units']}"
    if d.get("tank_m3"):
        text += f" · {_g(d['tank_m3'], lang)} m³"
    return text


def _generator_text(data: ReportData, t: dict[str, str], lang: Lang = "en") -> str:
    """The generator units: ``n × kW`` when identical, else each rating."""
    kws = [u["kw"] for u in data.generator_units] or [data.design["generator_kw"]]
    if len(set(kws)) == 1:
        return (t["generator_units"].format(n=len(kws), kw=_g(kws[0], lang)) if len(kws) > 1
                else f"{_g(kws[0], lang)} kW")
    return " + ".join(f"{_g(kw, lang)} kW" for kw in kws)


def bill_of_materials(econ: Economics, design: dict[str, float], strings: StringDesign | None,
                      module_w: float, *, generator_units: float = 1.0,
                      turbine_kw: float = 0.0, pump: PumpModel | None = None) -> list[BomLine]:
    """The priced parts list: modules, battery, inverter, generators (``generator_units``
    lead-unit ratings), turbines (of ``turbine_kw`` each), the water tank (``tank_m3``) and
    ``pump``, BOS and installation (as :func:`sizing.economics.capital_vnd` prices them)."""
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
    if design.get("tank_m3", 0.0) > 0 and pump is not None:
        lines.append(BomLine("tank_bom", "", design["tank_m3"], "m³", econ.tank_vnd_per_m3))
    if pump is not None:
        lines.append(BomLine("pump_bom", pump.name, 1, "pump_units", pump.price_vnd))
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
    strings = size_strings(designed.pv, design["kwp"]) if design["kwp"] > 0 else None
    warnings = list(dict.fromkeys(result.warnings + sim.warnings))
    water = _water_data(designed, sim.water, year.run.series, year.index, len(sim.years))
    pump = designed.water_pumps[0].pump if designed.water_pumps else None
    # A pump site's search is judged on its water: plot cost against the water not delivered.
    unmet = (result.perf.unmet_water_fraction if water is not None
             else result.perf.unmet_fraction)
    edges: list[tuple[str, float, str]] = [(e.dimension, e.value, e.side) for e in result.edges]
    return ReportData(
        site_name=site.site.name, design=design, hourly=hourly, dt_h=dt_h, load_kwh=load_kwh,
        figures=figures, econ=site.economics, costs=result.costs.take(result.best),
        diesel=result.diesel, search_npc_vnd=result.costs.npc_vnd,
        search_unmet_fraction=unmet, search_feasible=result.feasible,
        pareto=(pareto_front(result.costs.npc_vnd, unmet) if water is not None
                else result.pareto), winner=result.best, explanation=result.explanation,
        strings=strings, pv=designed.pv,
        bom=bill_of_materials(site.economics, design, strings, designed.pv.module_w,
                              generator_units=result.plant.generator_units,
                              turbine_kw=result.plant.turbine_kw, pump=pump),
        warnings=warnings, edges=edges, sensitivity=result.sensitivity,
        generator_units=sim.to_json()["generator_units"], turbine_kw=result.plant.turbine_kw,
        has_aerators=any(isinstance(ld, AeratorLoad) for ld in site.loads),
        has_critical=any(ld.critical for ld in site.loads),
        motor_start=sim.motor_start,
        motor_start_soft=frozenset(ld.name for ld in designed.loads
                                   if getattr(ld, "start_multiplier", 0.0) == 1.0),
        water=water)


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
