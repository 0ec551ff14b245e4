"""The bill of materials of a design: every device, cable and breaker, priced item by item
from the dated price table (:mod:`sizing.prices`), and its total by economic part.

One price for a design: the optimiser ranks the designs of a search on their bills of
materials (:func:`priced`, through :class:`sizing.economics.Priced`), and the dossier prints the
winner's (:func:`bill_of_materials`), so the capital, the net present cost and the cost of
energy are the same figures on every page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sitefile import AeratorLoad, PumpLoad, PumpModel, Site
from sizing.economics import PARTS, Priced
from sizing.electrical import (
    CHARGE_CONTROLLER_DRIVERS,
    INVERTER_DRIVERS,
    ElectricalDesign,
    electrical_design,
)
from sizing.prices import CableKind, PriceError, PriceTable, load_prices
from sizing.report_assets import fmt


@dataclass(frozen=True)
class BomLine:
    """One line of the bill of materials; ``key`` names it in the report's words, ``detail``
    is a text or a message rendered in the report's language, ``unit`` a key of
    :data:`sizing.report_assets.fmt.UNITS` (or "" for a lump sum); ``price_key`` names the
    price table's entry it was priced from ("" when the site file priced it)."""

    key: str
    detail: str | fmt.Message
    quantity: float
    unit: str
    unit_vnd: float
    price_key: str = ""

    @property
    def total_vnd(self) -> float:
        """The line's amount, in whole đồng (the total adds the lines as printed)."""
        return float(round(self.quantity * self.unit_vnd))


DEVICE_PRICES = {"relay_board": "relay_board", "do_sensor": "do_probe",
                 "generator": "genset_controller", "sdm120": "energy_meter_1ph",
                 "sdm630": "energy_meter_3ph"}
"""A ``[[devices]]`` driver → its price table entry (charge controllers and inverters are
the design's own lines)."""

CONDUCTORS = {"dc": 2, "1ph": 2, "3ph": 4}
"""Conductors of one run: + and − (DC), line and neutral (single phase), three lines and the
neutral (three phase)."""


def breaker(prices: PriceTable, rating_a: float, system: str) -> tuple[str, float]:
    """The protection device kind and its price [VND] for ``rating_a`` [A] on ``system``:
    a miniature breaker up to the largest listed, else a moulded-case one."""
    kinds = ("mcb_dc", "mccb_dc") if system == "dc" else ("mcb_ac", "mccb_ac")
    for kind in kinds:
        try:
            return kind, prices.breaker_vnd(rating_a, kind)  # type: ignore[arg-type]
        except PriceError:
            continue
    raise PriceError(f"no breaker of {rating_a:g} A in the price table")


def bill_of_materials(site: Site, design: dict[str, float], ed: ElectricalDesign,
                      prices: PriceTable, *, generator_units: float = 1.0,
                      turbine_kw: float = 0.0, pump: PumpModel | None = None) -> list[BomLine]:
    """The dossier's bill of materials, one line per item: the PV modules (of the string
    layout), their mounting, the charge controllers of the plan, the battery, the inverter,
    the generators, the turbines, the tank and the pump, every ``[[devices]]`` entry of
    ``site``, the controller and its cabinet, a contactor per switched motor, every cable
    [m of one conductor] and breaker of ``ed``, the string fuses and surge protection, then
    labour, transport and design as the price table's percentages of the equipment."""
    lines: list[BomLine] = []
    pv = site.pv
    by_driver: dict[str, list[str]] = {}
    for dev in site.devices:
        by_driver.setdefault(dev.driver, []).append(dev.name)
    listed_cc = [n for d, names in by_driver.items() if d in CHARGE_CONTROLLER_DRIVERS
                 for n in names]
    listed_inv = [n for d, names in by_driver.items() if d in INVERTER_DRIVERS for n in names]
    s = ed.strings
    if design["kwp"] > 0 and pv is not None:
        if s is not None:
            lines.append(BomLine("bom_pv", fmt.Message("bom_d_modules", {
                "w": fmt.Num(pv.module_w, 0, "w"), "series": s.series, "strings": s.strings}),
                s.modules, "modules", pv.module_w * prices.price("pv_module"), "pv_module"))
        else:
            lines.append(BomLine("bom_pv", "", design["kwp"], "kwp",
                                 1000 * prices.price("pv_module"), "pv_module"))
        kwp = s.array_kwp if s is not None else design["kwp"]
        lines.append(BomLine("bom_mounting", "", kwp, "kwp", prices.price("mounting_ground"),
                             "mounting_ground"))
    plan = ed.controllers
    if plan is not None:
        detail = plan.model.name + (f" ({', '.join(listed_cc)})" if listed_cc else "")
        lines.append(BomLine("bom_controllers", detail, plan.count, "pcs", plan.model.price_vnd,
                             "charge_controllers"))
    if design["kwh"] > 0:
        lfp = site.battery is None or site.battery.chemistry == "lfp"
        lines.append(BomLine("bom_battery", "", design["kwh"], "kwh",
                             prices.price("lfp_battery") if lfp
                             else site.economics.battery_vnd_per_kwh,
                             "lfp_battery" if lfp else ""))
    if design["inverter_kw"] > 0:
        lines.append(BomLine("bom_inverter", ", ".join(listed_inv), design["inverter_kw"], "kw",
                             prices.price("hybrid_inverter"), "hybrid_inverter"))
    if design["generator_kw"] > 0:
        lines.append(BomLine("bom_generator", "", design["generator_kw"] * generator_units, "kw",
                             prices.price("diesel_genset"), "diesel_genset"))
    if design.get("turbines", 0.0) > 0 and turbine_kw > 0:
        lines.append(BomLine("wind", fmt.Message("bom_d_kw", {"kw": fmt.Num(turbine_kw, 1)}),
                             design["turbines"], "pcs",
                             turbine_kw * site.economics.wind_vnd_per_kw))
    if design.get("tank_m3", 0.0) > 0 and pump is not None:
        lines.append(BomLine("tank_bom", "", design["tank_m3"], "m3",
                             site.economics.tank_vnd_per_m3))
    if pump is not None:
        lines.append(BomLine("pump_bom", pump.name, 1, "pcs", pump.price_vnd))
    for driver, names in by_driver.items():
        key = DEVICE_PRICES.get(driver)
        if key is not None:
            lines.append(BomLine("bom_dev_" + key, ", ".join(names), len(names), "pcs",
                                 prices.price(key), key))
        elif driver not in CHARGE_CONTROLLER_DRIVERS and driver not in INVERTER_DRIVERS:
            lines.append(BomLine("bom_dev_unpriced", fmt.Message("bom_d_unpriced", {
                "names": ", ".join(names)}), len(names), "pcs", 0.0))
    lines.append(BomLine("bom_controller_box", "", 1, "pcs", prices.price("controller_box"),
                         "controller_box"))
    lines.append(BomLine("bom_enclosure", "", 1, "pcs", prices.price("enclosure"), "enclosure"))
    motors = sum(len(ld.switch.channels) for ld in site.loads
                 if isinstance(ld, AeratorLoad | PumpLoad) and ld.switch is not None)
    if motors:
        lines.append(BomLine("bom_contactor", "", motors, "pcs", prices.price("contactor"),
                             "contactor"))
    for c in ed.cables:
        conductors = CONDUCTORS[c.system] * c.parallel * c.count
        kind: CableKind = "solar" if c.run == "pv_to_controller" else "copper"
        lines.append(BomLine("bom_cable", fmt.Message("bom_d_cable", {
            "run": fmt.Message("run_" + c.run), "n": conductors,
            "mm2": fmt.Num(prices.cable_section_mm2(c.section_mm2, kind), 0, "mm2"),
            "m": fmt.Num(c.length_m, 0, "m")}),
            conductors * c.length_m, "m", prices.cable_vnd_per_m(c.section_mm2, kind),
            "cable_" + kind))
        brk_kind, vnd = breaker(prices, c.breaker_a, c.system)
        lines.append(BomLine("bom_breaker", fmt.Message("bom_d_breaker", {
            "run": fmt.Message("run_" + c.run), "a": fmt.Num(c.breaker_a, 0, "a"),
            "kind": fmt.Message("brk_" + brk_kind)}), c.count, "pcs", vnd, "breakers"))
    if ed.string_fuse_a is not None and s is not None:
        lines.append(BomLine("bom_fuse", fmt.Message("bom_d_fuse", {
            "cls": "gPV", "a": fmt.Num(ed.string_fuse_a, 0, "a")}), s.strings, "pcs",
            prices.breaker_vnd(ed.string_fuse_a, "fuse_pv"), "breakers"))
    if plan is not None:
        lines.append(BomLine("bom_spd", "", plan.count, "pcs", prices.breaker_vnd(0, "spd_dc"),
                             "breakers"))
    equipment = sum(line.total_vnd for line in lines)
    for key in ("labour", "transport", "design_and_permits"):
        pct = prices.price(key)
        lines.append(BomLine("bom_" + key, fmt.Message("bom_d_pct", {"pct": fmt.Pct(pct / 100, 0)}),
                             1, "", equipment * pct / 100, key))
    return lines


ECONOMICS_PRICES: Mapping[str, str] = {
    "battery_vnd_per_kwh": "lfp_battery", "inverter_vnd_per_kw": "hybrid_inverter",
    "generator_vnd_per_kw": "diesel_genset", "installation_pct": "labour"}
"""``[economics]`` keys → the price table's entry they replace when the site file gives them
(the same unit: VND/kWh, VND/kW, % of the equipment)."""


def site_prices(site: Site) -> PriceTable:
    """The price table the site's designs are priced from: the package's, with the site file's
    own ``[economics]`` prices in place of their entries (:data:`ECONOMICS_PRICES`; a key the
    site file leaves out keeps the table's dated price)."""
    econ = site.economics
    return load_prices({item: getattr(econ, key) for key, item in ECONOMICS_PRICES.items()
                        if key in econ.model_fields_set})


PER_KW_ONLY = ("pv_vnd_per_kwp", "bos_pct")
"""``[economics]`` keys the bill of materials has no use for: it prices the PV modules, their
mounting and the balance of system item by item (they price only :func:`sizing.economics.costs`
called without a bill)."""


def unused_price_warnings(site: Site) -> list[str]:
    """A warning for each :data:`PER_KW_ONLY` key the site file gives: it changes nothing in
    the search or the report."""
    return [f"economics.{key} is not used: the search and the report price each design on its "
            "bill of materials" for key in PER_KW_ONLY if key in site.economics.model_fields_set]


PART_OF_LINE: Mapping[str, str] = {
    "bom_pv": "pv", "bom_mounting": "pv", "bom_battery": "battery", "bom_inverter": "inverter",
    "bom_generator": "generator", "wind": "wind", "tank_bom": "tank", "pump_bom": "pump"}
"""A bill-of-materials line → the economic part it is replaced with
(:data:`sizing.economics.PARTS`); every other line is the balance of the plant, bought once."""
PERCENT_KEYS = ("labour", "transport", "design_and_permits")
"""The lines priced as a percentage of the equipment."""


def part_amounts(lines: Sequence[BomLine]) -> dict[str, float]:
    """The bill's total by economic part [VND]: :data:`sizing.economics.PARTS` and
    ``balance``; the percentage lines (labour, transport, design) spread over the parts in
    proportion to their equipment, so that a replacement carries its labour and transport,
    and the parts add up to the bill's total."""
    equipment = dict.fromkeys((*PARTS, "balance"), 0.0)
    extra = 0.0
    for line in lines:
        if line.price_key in PERCENT_KEYS:
            extra += line.total_vnd
        else:
            equipment[PART_OF_LINE.get(line.key, "balance")] += line.total_vnd
    base = sum(equipment.values())
    scale = 1.0 + extra / base if base > 0 else 1.0
    return {part: vnd * scale for part, vnd in equipment.items()}


def design_bill(site: Site, design: Mapping[str, float], prices: PriceTable, *,
                generator_units: float = 1.0, turbine_kw: float = 0.0,
                pump: PumpModel | None = None) -> tuple[ElectricalDesign, list[BomLine]]:
    """The electrical design of ``site`` (its sizes already ``design``'s) and its bill of
    materials."""
    ed = electrical_design(site, dict(design))
    return ed, bill_of_materials(site, dict(design), ed, prices, generator_units=generator_units,
                                 turbine_kw=turbine_kw, pump=pump)


def priced(sites: Sequence[tuple[Site, Mapping[str, float], PumpModel | None]],
           prices: PriceTable, *, generator_units: float = 1.0,
           turbine_kw: float = 0.0) -> Priced:
    """Each design's bill by part (:func:`part_amounts`), for ``sites``: each design as its
    sized site, its sizes and its water pump. A design that cannot be built from the price
    table (a breaker above the largest listed, a run beyond the largest cables in parallel)
    costs infinity: it is never chosen."""
    rows: list[dict[str, float]] = []
    for site, design, pump in sites:
        try:
            ed, lines = design_bill(site, design, prices, generator_units=generator_units,
                                    turbine_kw=turbine_kw, pump=pump)
        except PriceError:
            rows.append({"balance": np.inf})
            continue
        if any(f.code == "cable_too_large" for f in ed.findings):
            rows.append({"balance": np.inf})
        else:
            rows.append(part_amounts(lines))
    keys = (*PARTS, "balance")
    return Priced({k: np.array([r.get(k, 0.0) for r in rows], dtype=float) for k in keys})
