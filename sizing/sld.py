"""The design's single-line diagram as SVG text (issue #17, item 4).

Pure: it draws what :func:`sizing.electrical.electrical_design` sized and what the site holds,
and reads no file. One entry point, :func:`single_line_svg`.

What is drawn, top to bottom, in IEC 60617 style (a breaker is a contact with a cross, a fuse
a small rectangle on the line):

- the sources: the PV array (modules in series × strings, kWp), AC-coupled PV with its PV
  inverter, wind turbines (AC-coupled ones to the AC busbar, DC-coupled ones to the DC
  busbar), the generators (count × kW) with their breakers and the changeover (ATS);
- DC-coupled PV: string fuses (when the design has them), the PV cable and breaker of each
  controller input, the charge controllers (count × model), their cable and breaker to the
  DC busbar; without a battery, the array feeds the inverter's own PV input;
- the DC busbar (system and nominal voltage), the battery (kWh, V, chemistry) and the
  inverter (kW, surge) with the cable and the breaker of its DC run;
- the inverter's AC run (cable, breaker) to the AC busbar (phases, voltage);
- one outgoing breaker per load group: critical loads, aerators, pumps, the water pump with
  its tank, households, other loads; the groups that the site has, no others, labelled with
  the site's load names.

Cables are labelled with the figures :mod:`sizing.electrical` sized: cross-section (parallel
conductors), length, voltage drop, design current and breaker. Breakers the electrical design
does not size are rated here by the same rule (the next standard rating ≥ 1.25 × the design
current, :func:`sizing.electrical.next_rating`): a generator's and a turbine's at their rated
power, an AC-coupled PV inverter's at the array's kWp, and a load group's at its connected
load (aerators units × kW, a pump's kW, a water pump's motor, households' appliances × count),
never above the inverter's AC breaker (a profile load, whose connected load the site does not
state, gets the inverter's AC breaker).

Layout: the drawing is a grid of columns (one per chain: DC PV, inverter, AC-coupled PV, wind,
generators; one per load group under the AC busbar) and bands (sources, runs, converters,
busbars, storage, feeders, loads). Every band is as tall as its tallest content and every
column as wide as its widest box or label, text widths estimated from the characters × the
font size (:data:`CHAR_EM`), so no two texts overlap. The SVG has a ``viewBox`` and
``width="100%"``: it scales to the page (A4) or the phone.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from xml.sax.saxutils import escape

from sitefile import Site
from sitefile.model import (
    AeratorLoad,
    ApplianceLoad,
    Load,
    ProfileLoad,
    PumpLoad,
    WaterPumpLoad,
)
from sizing.electrical import (
    AC_3PH_V,
    AC_V,
    DESIGN_FACTOR,
    Cable,
    ElectricalDesign,
    next_rating,
)
from sizing.report_assets import fmt
from sizing.wind import rated_kw

__all__ = ["CHAR_EM", "FONT_PX", "LINE_PX", "TITLE_PX", "Lang", "single_line_svg",
           "text_boxes"]

Lang = Literal["vi", "en"]

FONT_PX = 13.0
"""[px of the viewBox] label text."""
TITLE_PX = 14.0
"""[px] a box's title (bold)."""
CHAR_EM = 0.62
"""A character's width as a fraction of the font size: the estimate the layout (and the
tests' overlap check) use; a sans-serif's average Latin and Vietnamese letter is 0.5–0.55 em,
bold about 0.6."""
LINE_PX = 17.0
"""[px] baseline to baseline."""
WRAP = 30
"""[characters] a box's or label's longest line before it wraps."""

PAD = 8.0  # [px] inside a box
LINE_DX = 30.0  # [px] a column's vertical line from its left edge
LABEL_DX = 16.0  # [px] a run's label from its line
COL_GAP = 28.0  # [px] between columns
BAND_GAP = 10.0  # [px] above and below a box
MARGIN = 12.0
BUS_H = 24.0  # [px] a busbar's band
SYMBOL_H = 34.0  # [px] a run with a breaker or fuse symbol

HYBRID_DRIVERS = frozenset({"deye_hybrid", "growatt_spf", "srne_hybrid"})
"""[[devices]] drivers of hybrid inverters, which have their own MPPT PV input."""

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Sơ đồ một sợi",
        "pv": "Dàn pin mặt trời",
        "pv_ac": "Dàn pin mặt trời (nối AC)",
        "series": "{series} tấm nối tiếp × {strings} chuỗi",
        "series_one": "{series} tấm nối tiếp × 1 chuỗi",
        "modules": "{modules} tấm × {w} W",
        "voc": "Voc chuỗi {v} V ở {t} °C",
        "no_strings": "chưa xếp được chuỗi (xem cảnh báo)",
        "pv_inverter": "Biến tần PV hòa lưới",
        "controllers": "Bộ điều khiển sạc",
        "controllers_each": "{a} A sạc mỗi bộ",
        "controllers_hybrid": "MPPT tích hợp trong biến tần hybrid",
        "controllers_none": "chưa chọn được (xem cảnh báo)",
        "string_fuse": "Cầu chì chuỗi gPV {a} A",
        "runs_each": "{count} tuyến, mỗi tuyến:",
        "runs_strings": "{count} tuyến × {k} chuỗi, mỗi tuyến:",
        "cable": "Cáp {section} mm² Cu, {length} m",
        "drop": "ΔU {pct} %, Ib {ib} A",
        "dc_breaker": "Cầu dao DC {a} A",
        "ac_breaker": "Cầu dao {a} A",
        "ac_breaker_each": "Cầu dao {a} A mỗi máy",
        "dc_bus": "Thanh cái DC {v} V",
        "dc_bus_nominal": "Thanh cái DC {v} V ({nominal} V)",
        "ac_bus": "Thanh cái AC {phases}",
        "1ph": "1 pha 230 V",
        "3ph": "3 pha 400 V",
        "battery": "Ắc quy",
        "battery_kwh": "{kwh} kWh, {v} V",
        "lfp": "Lithium sắt phốt phát (LFP)",
        "lead_acid": "Axit chì",
        "inverter": "Biến tần",
        "inverter_kw": "{kw} kW, đỉnh {surge} kW",
        "inverter_pv": "Đầu vào PV (MPPT) của biến tần",
        "wind": "Tua-bin gió",
        "wind_each": "{name}: {count} × {kw} kW",
        "wind_dc": "nối DC",
        "generators": "Máy phát điện",
        "gen_same": "{count} × {kw} kW",
        "gen_one": "{name}: {kw} kW",
        "ats": "Bộ chuyển nguồn tự động (ATS)",
        "g_critical": "Tải ưu tiên",
        "g_aerators": "Máy sục khí",
        "g_pumps": "Máy bơm",
        "g_water": "Bơm nước và bể chứa",
        "g_households": "Hộ gia đình",
        "g_other": "Tải không ưu tiên",
        "aerator": "{name}: {units} × {kw} kW",
        "pump": "{name}: {kw} kW",
        "water_pump": "{name}: bơm {kw} kW",
        "tank": "Bể {m3} m³",
        "households": "{name}: {count} hộ",
        "appliance": "{name}: {kw} kW lắp đặt",
        "profile": "{name}: theo biểu đồ phụ tải",
        "critical_mark": "ưu tiên",
    },
    "en": {
        "title": "Single-line diagram",
        "pv": "PV array",
        "pv_ac": "PV array (AC-coupled)",
        "series": "{series} in series × {strings} strings",
        "series_one": "{series} in series × 1 string",
        "modules": "{modules} modules × {w} W",
        "voc": "String Voc {v} V at {t} °C",
        "no_strings": "strings not laid out (see warnings)",
        "pv_inverter": "PV inverter (grid-tie)",
        "controllers": "Charge controllers",
        "controllers_each": "{a} A charge each",
        "controllers_hybrid": "the hybrid inverter's own MPPT",
        "controllers_none": "none fits (see warnings)",
        "string_fuse": "gPV string fuses {a} A",
        "runs_each": "{count} runs, each:",
        "runs_strings": "{count} runs × {k} strings, each:",
        "cable": "Cable {section} mm² Cu, {length} m",
        "drop": "ΔU {pct} %, Ib {ib} A",
        "dc_breaker": "DC breaker {a} A",
        "ac_breaker": "Breaker {a} A",
        "ac_breaker_each": "Breaker {a} A each",
        "dc_bus": "DC busbar {v} V",
        "dc_bus_nominal": "DC busbar {v} V ({nominal} V)",
        "ac_bus": "AC busbar, {phases}",
        "1ph": "single phase 230 V",
        "3ph": "three phase 400 V",
        "battery": "Battery",
        "battery_kwh": "{kwh} kWh, {v} V",
        "lfp": "Lithium iron phosphate (LFP)",
        "lead_acid": "Lead-acid",
        "inverter": "Inverter",
        "inverter_kw": "{kw} kW, surge {surge} kW",
        "inverter_pv": "the inverter's PV input (MPPT)",
        "wind": "Wind turbines",
        "wind_each": "{name}: {count} × {kw} kW",
        "wind_dc": "DC-coupled",
        "generators": "Generators",
        "gen_same": "{count} × {kw} kW",
        "gen_one": "{name}: {kw} kW",
        "ats": "Automatic transfer switch (ATS)",
        "g_critical": "Critical loads",
        "g_aerators": "Aerators",
        "g_pumps": "Pumps",
        "g_water": "Water pump and tank",
        "g_households": "Households",
        "g_other": "Non-critical loads",
        "aerator": "{name}: {units} × {kw} kW",
        "pump": "{name}: {kw} kW",
        "water_pump": "{name}: pump {kw} kW",
        "tank": "Tank {m3} m³",
        "households": "{name}: {count} households",
        "appliance": "{name}: {kw} kW connected",
        "profile": "{name}: load profile",
        "critical_mark": "critical",
    },
}

GROUP_ORDER = ("critical", "aerators", "pumps", "water", "households", "other")


# --------------------------------------------------------------------------- drawing items


@dataclass
class _Box:
    """A framed component: a bold title and lines of text."""

    title: str
    lines: list[str]

    def texts(self) -> list[str]:
        return _wrap([self.title]) + _wrap(self.lines)

    @property
    def width(self) -> float:
        title = _wrap([self.title])
        return 2 * PAD + max([_w(t, TITLE_PX, bold=True) for t in title]
                             + [_w(t, FONT_PX) for t in _wrap(self.lines)])

    @property
    def height(self) -> float:
        return 2 * PAD + LINE_PX * len(self.texts()) - (LINE_PX - TITLE_PX) + 4


@dataclass
class _Run:
    """A run on a column's line: an optional breaker or fuse symbol and label lines."""

    lines: list[str]
    symbol: Literal["breaker", "fuse", "fuse_breaker", "none"] = "breaker"

    @property
    def width(self) -> float:
        return LABEL_DX + max((_w(t, FONT_PX) for t in _wrap(self.lines)), default=0.0)

    @property
    def height(self) -> float:
        text_h = LINE_PX * len(_wrap(self.lines))
        symbol_h = {"breaker": SYMBOL_H, "fuse": SYMBOL_H, "fuse_breaker": SYMBOL_H + 24,
                    "none": 8.0}[self.symbol]
        return max(symbol_h, text_h + 6)


@dataclass
class _Bus:
    """A busbar's position in a column: the column's line ends or starts on it."""

    name: Literal["dc", "ac"]


_Item = _Box | _Run | _Bus | None


@dataclass
class _Column:
    """One chain of the drawing: its items by band name."""

    items: dict[str, _Item] = field(default_factory=dict)
    min_width: float = 0.0
    x: float = 0.0

    @property
    def width(self) -> float:
        ws = [self.min_width]
        for item in self.items.values():
            if isinstance(item, (_Box, _Run)):
                ws.append(item.width + (LINE_DX if isinstance(item, _Run) else 0.0))
        return max(ws)

    @property
    def line_x(self) -> float:
        return self.x + LINE_DX


def _wrap(lines: Sequence[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        out.extend(textwrap.wrap(line, WRAP, break_long_words=False) or [""])
    return out


def _w(text: str, size: float, *, bold: bool = False) -> float:
    """[px] the estimated width of ``text`` at font ``size``."""
    return len(text) * size * (CHAR_EM + (0.04 if bold else 0.0))


# --------------------------------------------------------------------------- content


def _cable_lines(cable: Cable, lang: Lang, word: Callable[..., str], *,
                 header: str | None = None) -> list[str]:
    section = fmt.short(cable.section_mm2, lang, 1)
    if cable.parallel > 1:
        section = f"{cable.parallel} × {section}"
    breaker = "dc_breaker" if cable.system == "dc" else "ac_breaker"
    lines = [header] if header else []
    return [*lines,
            word("cable", section=section, length=fmt.short(cable.length_m, lang, 1)),
            word("drop", pct=fmt.short(cable.drop_pct, lang, 1),
                 ib=fmt.short(cable.current_a, lang, 0)),
            word(breaker, a=fmt.short(cable.breaker_a, lang, 0))]


def _ac_breaker_a(kw: float, ed: ElectricalDesign, cap_a: float | None) -> float | None:
    """[A] the next standard rating ≥ 1.25 × the current of ``kw`` on the AC bus, at most
    ``cap_a``."""
    if kw <= 0:
        return cap_a
    current = (kw * 1000 / (math.sqrt(3) * AC_3PH_V) if ed.ac_phases == 3 else kw * 1000 / AC_V)
    rating = next_rating(DESIGN_FACTOR * current)
    if cap_a is not None and (rating is None or rating > cap_a):
        return cap_a
    return rating


def _group_of(load: Load) -> str:
    if isinstance(load, AeratorLoad):
        return "aerators"
    if isinstance(load, WaterPumpLoad):
        return "water"
    if isinstance(load, PumpLoad):
        return "pumps"
    if load.critical:
        return "critical"
    if isinstance(load, ApplianceLoad) and load.count > 1:
        return "households"
    return "other"


def _connected_kw(load: Load) -> float | None:
    """[kW] the load's connected load, where the site states it (None for a profile)."""
    if isinstance(load, AeratorLoad):
        return load.units * load.kw_per_unit
    if isinstance(load, PumpLoad):
        return load.kw
    if isinstance(load, WaterPumpLoad):
        return load.pump.rated_kw
    if isinstance(load, ApplianceLoad):
        return load.count * sum(a.power_w * a.count for a in load.appliances) / 1000
    return None


def _load_line(load: Load, lang: Lang, word: Callable[..., str]) -> str:
    if isinstance(load, AeratorLoad):
        text = word("aerator", name=load.name, units=load.units,
                    kw=fmt.short(load.kw_per_unit, lang, 2))
    elif isinstance(load, PumpLoad):
        text = word("pump", name=load.name, kw=fmt.short(load.kw, lang, 2))
    elif isinstance(load, WaterPumpLoad):
        text = word("water_pump", name=load.name, kw=fmt.short(load.pump.rated_kw, lang, 2))
    elif isinstance(load, ApplianceLoad) and load.count > 1:
        text = word("households", name=load.name, count=fmt.short(load.count, lang, 0))
    elif isinstance(load, ProfileLoad):
        text = word("profile", name=load.name)
    else:
        kw = _connected_kw(load) or 0.0
        text = word("appliance", name=load.name, kw=fmt.short(kw, lang, 2))
    if load.critical and _group_of(load) != "critical":
        text += f" ({word('critical_mark')})"
    return text


def _columns(site: Site, ed: ElectricalDesign, lang: Lang
             ) -> tuple[list[_Column], list[_Column], dict[str, str]]:
    """(the columns above the AC busbar, the load columns under it, the busbar labels)."""
    words = WORDS[lang]

    def word(key: str, **params: object) -> str:
        return words[key].format(**params)

    pv, battery, inverter = site.pv, site.battery, site.inverter
    has_battery = battery is not None and battery.kwh > 0 and ed.battery_nominal_v is not None
    has_inverter = inverter is not None and ed.inverter_kw > 0
    main_ac = ed.cable("inverter_to_loads")
    cap_a = main_ac.breaker_a if main_ac is not None else None
    bus: dict[str, str] = {}
    upper: list[_Column] = []

    def pv_box(title: str) -> _Box:
        assert pv is not None
        s = ed.strings
        if s is None:
            return _Box(title, [f"{fmt.short(ed.kwp, lang, 2)} kWp", word("no_strings")])
        return _Box(title, [
            f"{fmt.short(s.array_kwp, lang, 2)} kWp",
            word("series" if s.strings != 1 else "series_one", series=s.series,
                 strings=fmt.short(s.strings, lang, 0)),
            word("modules", modules=fmt.short(s.modules, lang, 0),
                 w=fmt.short(pv.module_w, lang, 1)),
            word("voc", v=fmt.short(s.voc_cold_v, lang, 1),
                 t=fmt.short(pv.record_low_temp_c, lang, 1)),
        ])

    dc_pv = pv is not None and pv.coupling == "dc" and ed.kwp > 0
    ac_pv = pv is not None and pv.coupling == "ac" and ed.kwp > 0
    inverter_box = (_Box(words["inverter"], [word(
        "inverter_kw", kw=fmt.short(ed.inverter_kw, lang, 1),
        surge=fmt.short(inverter.surge_kw / inverter.kw * ed.inverter_kw if inverter.kw else 0.0,
                   lang))]) if has_inverter and inverter is not None else None)
    inverter_ac_run = (_Run(_cable_lines(main_ac, lang, word)) if main_ac is not None
                       else _Run([], "none"))

    # the DC chain: PV → (fuses) → controllers → DC busbar → battery | inverter
    if dc_pv:
        col = _Column()
        col.items["src"] = pv_box(words["pv"])
        if has_battery:
            plan = ed.controllers
            pv_run = ed.cable("pv_to_controller")
            fuse = ([word("string_fuse", a=fmt.short(ed.string_fuse_a, lang, 0))]
                    if ed.string_fuse_a is not None else [])
            if pv_run is not None and plan is not None:
                header = (word("runs_strings", count=plan.count,
                               k=plan.strings_per_controller) if plan.count > 1 else None)
                col.items["run1"] = _Run(fuse + _cable_lines(pv_run, lang, word, header=header),
                                         "fuse_breaker" if fuse else "breaker")
            else:
                col.items["run1"] = _Run(fuse, "fuse" if fuse else "none")
            if plan is not None:
                col.items["conv"] = _Box(words["controllers"], [
                    f"{plan.count} × {plan.model.name}",
                    word("controllers_each",
                         a=fmt.short(plan.model.max_charge_a[ed.system_v or 48], lang, 0))])
            else:
                hybrid = any(d.driver in HYBRID_DRIVERS for d in site.devices)
                col.items["conv"] = _Box(words["controllers"], [
                    words["controllers_hybrid" if hybrid else "controllers_none"]])
            out_run = ed.cable("controller_to_battery")
            if out_run is not None and plan is not None:
                header = word("runs_each", count=plan.count) if plan.count > 1 else None
                col.items["run2"] = _Run(_cable_lines(out_run, lang, word, header=header))
            else:
                col.items["run2"] = _Run([], "none")
            col.items["dcbus"] = _Bus("dc")
        else:
            # no battery: the array feeds the inverter's own PV input (a solar pump drive)
            col.items["conv"] = (_Box(words["inverter"], [words["inverter_pv"]])
                                 if inverter_box is None else _Box(
                inverter_box.title, [*inverter_box.lines, words["inverter_pv"]]))
            if has_inverter:
                col.items["run4"] = inverter_ac_run
                col.items["acbus"] = _Bus("ac")
        upper.append(col)

    if has_battery:
        assert battery is not None and ed.battery_nominal_v is not None
        if dc_pv:
            bat_col = upper[-1]
        else:
            bat_col = _Column()
            bat_col.items["dcbus"] = _Bus("dc")
            upper.append(bat_col)
        bat_col.items["run3"] = _Run([], "none")
        bat_col.items["store"] = _Box(words["battery"], [
            word("battery_kwh", kwh=fmt.short(battery.kwh, lang, 1),
                 v=fmt.short(ed.battery_nominal_v, lang, 1)),
            words[battery.chemistry]])
        system_v = ed.system_v
        nominal_v = fmt.short(ed.battery_nominal_v, lang, 1)
        bus["dc"] = (word("dc_bus_nominal", v=system_v, nominal=nominal_v)
                     if system_v is not None and abs(system_v - ed.battery_nominal_v) > 1e-9
                     else word("dc_bus", v=fmt.short(ed.battery_nominal_v, lang, 1)))
        if inverter_box is not None:
            inv_col = _Column()
            inv_col.items["dcbus"] = _Bus("dc")
            dc_run = ed.cable("battery_to_inverter")
            inv_col.items["run3"] = (_Run(_cable_lines(dc_run, lang, word))
                                     if dc_run is not None else _Run([], "none"))
            inv_col.items["store"] = inverter_box
            inv_col.items["run4"] = inverter_ac_run
            inv_col.items["acbus"] = _Bus("ac")
            upper.append(inv_col)
    elif inverter_box is not None and not dc_pv:
        inv_col = _Column()
        inv_col.items["store"] = inverter_box
        inv_col.items["run4"] = inverter_ac_run
        inv_col.items["acbus"] = _Bus("ac")
        upper.append(inv_col)

    if ac_pv:
        col = _Column()
        col.items["src"] = pv_box(words["pv_ac"])
        col.items["run1"] = _Run([], "none")
        col.items["conv"] = _Box(words["pv_inverter"], [f"{fmt.short(ed.kwp, lang, 2)} kWp"])
        kw = ed.strings.array_kwp if ed.strings is not None else ed.kwp
        rating = _ac_breaker_a(kw, ed, None)
        col.items["run2"] = _Run([word("ac_breaker", a=fmt.short(rating or 0, lang, 0))])
        col.items["acbus"] = _Bus("ac")
        upper.append(col)

    for coupling in ("dc", "ac"):
        winds = [w for w in site.wind if w.coupling == coupling and w.count > 0]
        if not winds or (coupling == "dc" and not has_battery):
            continue
        col = _Column()
        lines = [word("wind_each", name=w.name, count=w.count, kw=fmt.short(rated_kw(w), lang, 1))
                 for w in winds]
        col.items["src"] = _Box(words["wind"], lines + ([words["wind_dc"]]
                                                        if coupling == "dc" else []))
        if coupling == "ac":
            kw = sum(w.count * rated_kw(w) for w in winds)
            rating = _ac_breaker_a(kw, ed, None)
            col.items["run2"] = _Run([word("ac_breaker", a=fmt.short(rating or 0, lang, 0))])
            col.items["acbus"] = _Bus("ac")
        else:
            col.items["run2"] = _Run([], "none")
            col.items["dcbus"] = _Bus("dc")
        # a DC-coupled turbine's line meets the DC busbar: keep it next to the DC chain
        if coupling == "dc":
            upper.insert(1 if dc_pv else 0, col)
        else:
            upper.append(col)

    gens = [g for g in site.generators if g.kw > 0]
    if gens:
        col = _Column()
        gen_kws = {g.kw for g in gens}
        if len(gen_kws) == 1:
            lines = [word("gen_same", count=len(gens), kw=fmt.short(gens[0].kw, lang, 1))]
            if len(gens) > 1:  # the units' names (one unit's is the default "generator")
                lines.append(", ".join(g.name for g in gens))
        else:
            lines = [word("gen_one", name=g.name, kw=fmt.short(g.kw, lang, 1)) for g in gens]
        col.items["src"] = _Box(words["generators"], lines)
        rating = _ac_breaker_a(max(gen_kws), ed, None)
        key = "ac_breaker_each" if len(gens) > 1 else "ac_breaker"
        col.items["run1"] = _Run([word(key, a=fmt.short(rating or 0, lang, 0))])
        col.items["conv"] = _Box(words["ats"], [])
        col.items["run2"] = _Run([], "none")
        col.items["acbus"] = _Bus("ac")
        upper.append(col)

    dc_cols = [c for c in upper if isinstance(c.items.get("dcbus"), _Bus)]
    if dc_cols and "dc" in bus:  # room for the DC busbar's label right of its end
        dc_cols[-1].min_width = LINE_DX + 20 + _w(bus["dc"], FONT_PX)

    # the load groups under the AC busbar
    lower: list[_Column] = []
    if any(isinstance(c.items.get("acbus"), _Bus) for c in upper):
        groups: dict[str, list[Load]] = {}
        for load in site.loads:
            groups.setdefault(_group_of(load), []).append(load)
        for key in GROUP_ORDER:
            loads = groups.get(key)
            if not loads:
                continue
            lines = [_load_line(ld, lang, word) for ld in loads]
            if key == "water" and site.tank is not None:
                lines.append(word("tank", m3=fmt.short(site.tank.m3, lang, 1)))
            kws = [_connected_kw(ld) for ld in loads]
            total = None if any(k is None for k in kws) else sum(k or 0.0 for k in kws)
            rating = cap_a if total is None else _ac_breaker_a(total, ed, cap_a)
            col = _Column()
            col.items["acbus"] = _Bus("ac")
            col.items["feed"] = _Run([word("ac_breaker", a=fmt.short(rating or 0, lang, 0))]
                                     if rating is not None else [])
            col.items["load"] = _Box(words[f"g_{key}"], lines)
            lower.append(col)
        bus["ac"] = word("ac_bus", phases=words["3ph" if ed.ac_phases == 3 else "1ph"])
    return upper, lower, bus


# --------------------------------------------------------------------------- rendering

BANDS = ("src", "run1", "conv", "run2", "dcbus", "run3", "store", "run4", "acbus", "feed",
         "load")


class _Svg:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 1.5) -> None:
        self.parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                          f'stroke-width="{width:g}"/>')

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        self.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                          'rx="3" fill="#fff"/>')

    def text(self, x: float, y: float, text: str, size: float, *, bold: bool = False) -> None:
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}"{weight}>'
                          f"{escape(text)}</text>")

    def breaker(self, x: float, top: float, bottom: float) -> None:
        """An IEC 60617 circuit breaker on a vertical line from ``top`` to ``bottom``: the
        fixed contact at the top with its cross, the moving contact open from the bottom."""
        self.parts.append(f'<path d="M{x:.1f} {bottom:.1f} L{x - 9:.1f} {top + 3:.1f}" '
                          'stroke-width="1.5"/>')
        self.line(x - 4, top - 4, x + 4, top + 4, 1.2)
        self.line(x - 4, top + 4, x + 4, top - 4, 1.2)

    def fuse(self, x: float, top: float, bottom: float) -> None:
        """An IEC 60617 fuse: a narrow rectangle with the line through it."""
        self.parts.append(f'<rect x="{x - 4:.1f}" y="{top:.1f}" width="8" '
                          f'height="{bottom - top:.1f}" stroke-width="1.2"/>')
        self.line(x, top, x, bottom, 1.0)


def single_line_svg(site: Site, ed: ElectricalDesign, lang: Lang = "vi") -> str:
    """The single-line diagram of ``site`` built as ``ed`` sizes it, as SVG text in ``lang``
    ("vi" or "en"): a ``viewBox`` and ``width="100%"``, no external references.

    Pass the site with the design applied (:func:`sizing.optimize.apply_design`), so the
    battery's kWh and the generators' kW are the design's, and ``ed`` from
    :func:`sizing.electrical.electrical_design` of the same design.
    """
    upper, lower, bus_labels = _columns(site, ed, lang)

    # columns: x from the left, each as wide as its widest content
    x = MARGIN
    for col in upper:
        col.x = x
        x += col.width + COL_GAP
    upper_right = x
    x = MARGIN
    for col in lower:
        col.x = x
        x += col.width + COL_GAP
    lower_right = x

    # bands: y from the top, each as tall as its tallest content
    heights: dict[str, float] = {}
    for band in BANDS:
        h = 0.0
        for col in (*upper, *lower):
            item = col.items.get(band)
            if isinstance(item, _Box):
                h = max(h, item.height + 2 * BAND_GAP)
            elif isinstance(item, _Run):
                h = max(h, item.height)
            elif isinstance(item, _Bus):
                h = max(h, BUS_H)
        heights[band] = h
    top: dict[str, float] = {}
    y = MARGIN
    for band in BANDS:
        top[band] = y
        y += heights[band]
    total_h = y + MARGIN

    svg = _Svg()
    bus_y = {"dc": top["dcbus"] + BUS_H / 2, "ac": top["acbus"] + BUS_H / 2}

    def box_at(col: _Column, band: str, box: _Box) -> tuple[float, float]:
        """Draw ``box`` centred in its band; (its top, its bottom)."""
        by = top[band] + (heights[band] - box.height) / 2
        svg.rect(col.x, by, box.width, box.height)
        ty = by + PAD + TITLE_PX
        for i, t in enumerate(box.texts()):
            title = i < len(_wrap([box.title]))
            svg.text(col.x + PAD, ty, t, TITLE_PX if title else FONT_PX, bold=title)
            ty += LINE_PX
        return by, by + box.height

    for col in (*upper, *lower):
        lx = col.line_x
        prev_y: float | None = None  # where the line leaves the item above
        for band in BANDS:
            item = col.items.get(band)
            if item is None:
                continue
            if isinstance(item, _Box):
                b_top, b_bottom = box_at(col, band, item)
                if prev_y is not None:
                    svg.line(lx, prev_y, lx, b_top)
                prev_y = b_bottom
            elif isinstance(item, _Bus):
                if prev_y is not None:
                    svg.line(lx, prev_y, lx, bus_y[item.name])
                prev_y = bus_y[item.name]
            else:
                yc = top[band] + heights[band] / 2
                span = {"breaker": 22.0, "fuse": 18.0, "fuse_breaker": 46.0, "none": 0.0}[
                    item.symbol]
                s_top, s_bottom = yc - span / 2, yc + span / 2
                if prev_y is not None:
                    svg.line(lx, prev_y, lx, s_top)
                if item.symbol == "breaker":
                    svg.breaker(lx, s_top, s_bottom)
                elif item.symbol == "fuse":
                    svg.fuse(lx, s_top, s_bottom)
                elif item.symbol == "fuse_breaker":
                    svg.fuse(lx, s_top, s_top + 18)
                    svg.line(lx, s_top + 18, lx, s_top + 24)
                    svg.breaker(lx, s_top + 24, s_bottom)
                lines = _wrap(item.lines)
                ty = yc - LINE_PX * len(lines) / 2 + FONT_PX * 0.8
                for t in lines:
                    svg.text(lx + LABEL_DX, ty, t, FONT_PX)
                    ty += LINE_PX
                prev_y = s_bottom

    # busbars, with their labels at the right end
    dc_cols = [c for c in upper if isinstance(c.items.get("dcbus"), _Bus)]
    if dc_cols and "dc" in bus_labels:
        x1 = min(c.line_x for c in dc_cols) - 12
        x2 = max(c.line_x for c in dc_cols) + 12
        svg.line(x1, bus_y["dc"], x2, bus_y["dc"], 5)
        svg.text(x2 + 8, bus_y["dc"] + FONT_PX * 0.35, bus_labels["dc"], FONT_PX, bold=False)
    ac_cols = [c for c in (*upper, *lower) if isinstance(c.items.get("acbus"), _Bus)]
    right = max(upper_right, lower_right) - COL_GAP
    if ac_cols and "ac" in bus_labels:
        x1 = min(c.line_x for c in ac_cols) - 12
        x2 = max(c.line_x for c in ac_cols) + 12
        svg.line(x1, bus_y["ac"], x2, bus_y["ac"], 5)
        label_x = x2 + 8
        svg.text(label_x, bus_y["ac"] + FONT_PX * 0.35, bus_labels["ac"], FONT_PX)
        right = max(right, label_x + _w(bus_labels["ac"], FONT_PX))
    width = right + MARGIN

    title = f"{WORDS[lang]['title']}: {site.site.name}"
    label = escape(title, {'"': "&quot;"})
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {total_h:.0f}" '
        f'width="100%" style="max-width:{width:.0f}px" role="img" '
        f'aria-label="{label}" '
        'class="sld" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" '
        'stroke="#222" fill="#222">'
        f"<title>{escape(title)}</title>"
        '<g fill="none">' + "".join(p for p in svg.parts if not p.startswith("<text"))
        + '</g><g stroke="none">' + "".join(p for p in svg.parts if p.startswith("<text"))
        + "</g></svg>")


def text_boxes(svg: str) -> list[tuple[str, float, float, float, float]]:
    """Each ``<text>`` of ``svg`` as (text, left, top, right, bottom) [px of the viewBox],
    its width estimated as the layout does (characters × :data:`CHAR_EM` × font size, bold a
    little wider): the tests' overlap check, and the report's."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415 (only this helper parses)

    ns = "{http://www.w3.org/2000/svg}"
    out = []
    for el in ET.fromstring(svg).iter(f"{ns}text"):
        text = el.text or ""
        size = float(el.get("font-size", FONT_PX))
        x, y = float(el.get("x", 0)), float(el.get("y", 0))
        bold = el.get("font-weight") == "bold"
        out.append((text, x, y - 0.8 * size, x + _w(text, size, bold=bold), y + 0.25 * size))
    return out
