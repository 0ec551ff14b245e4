"""The buildable DC and AC design: charge controllers, bus currents, cables and protection.

Pure sizing math over a validated site and one design (``{"kwp": …, "inverter_kw": …}``, the
optimiser's winner); the catalogue file is read once at the edge (:func:`load_catalogue`).
One entry point, :func:`electrical_design`, and :func:`check_devices`, which says what the
site's ``[[devices]]`` lack. Warnings are :class:`Finding` codes with parameters; their
English and Vietnamese texts are in :data:`MESSAGES` (``str.format`` named fields; the
renderer formats the numbers in the language's conventions before filling them in).

The rules and their sources:

- **Strings** (:func:`sizing.strings.size_strings`): the longest string inside the MPPT's
  voltage window, then the fewest parallel strings reaching the kWp.
- **Charge controllers** (DC coupling): a catalogue model fits when the string's Voc at the
  record low is at most its ``max_pv_v``, the string's Vmp at the record low at most its
  ``mppt_max_v``, and its Vmp at the hot design cell at least its ``mppt_min_v`` at the
  battery's system voltage. One controller takes ``k`` strings, the fewest of: its PV
  short-circuit current over the string's Isc, its rated PV power at that voltage over the
  string's power, and its rated charge current × the battery's nominal voltage over the
  string's power (the battery-bus charge current, kWp × 1000 / V). Count = ⌈strings / k⌉;
  the cheapest total wins, then the fewest units. The site's own families
  (``[[devices]]`` driver ``epever_tracer``) are tried first.
- **Battery-bus currents** at the battery's nominal voltage: inverter continuous
  ``kw × 1000 / (η × V)`` and surge ``surge_kw × 1000 / (η × V)``; PV charge
  ``array kWp × 1000 / V``.
- **AC current**: single phase 230 V up to :data:`THREE_PHASE_ABOVE_KW`, else three phase
  400 V, ``P / (√3 × 400)``, at power factor 1.
- **Cables** (copper, PVC 70 °C): the smallest total copper area (then the fewest parallel
  runs) such that (1) the derated ampacity Iz ≥ design current Ib, (2) a breaker or fuse of
  the next standard rating In ≥ 1.25 × Ib exists with In ≤ Iz (IEC 60364-4-43: Ib ≤ In ≤
  Iz; 1.25 × for continuous duty and, on the PV side, for Isc as IEC 62548 asks), and (3) the
  voltage drop ``b × L × Ib × ρ / A`` stays under the run's limit (b = 2 for DC and single
  phase, √3 for three phase; IEC 60364-5-52 Annex G with cos φ = 1 and reactance neglected).
  Ampacity: IEC 60364-5-52 Table B.52.4, reference method C (clipped direct), two loaded
  conductors for DC and single phase, three for three phase, at 30 °C; × 0.87 for 40 °C air
  (Table B.52.14, PVC), × the grouping factor of Table B.52.17 for parallel runs bunched
  on a surface (2: 0.80, 3: 0.70, 4: 0.65); conductors in parallel are ≥ 50 mm² each.
  ρ = 0.0225 Ω·mm²/m: copper at its service temperature, 1.25 × ρ at 20 °C, as Annex G
  takes it.
- **PV string fuses**: when three or more strings are in parallel on one controller input,
  each string gets a gPV fuse of the next rating ≥ 1.5 × Isc and ≤ 2.4 × Isc and ≤ the
  module's maximum series fuse (IEC 62548, string overcurrent protection).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from sitefile import PV, Site
from sizing.errors import SizingError
from sizing.strings import (
    StringDesign,
    StringSizingError,
    module_isc_a,
    size_strings,
    vmp_at_v,
    voc_at_v,
)

__all__ = [
    "AC_COUPLING_ADVISED_A",
    "CATALOGUE_FILE",
    "MESSAGES",
    "RHO_CU_OHM_MM2_M",
    "THREE_PHASE_ABOVE_KW",
    "Cable",
    "CableSizingError",
    "ChargeControllerModel",
    "ControllerPlan",
    "ElectricalDesign",
    "Finding",
    "System",
    "check_devices",
    "choose_controllers",
    "controller_strings",
    "electrical_design",
    "family_alternative",
    "load_catalogue",
    "next_rating",
    "render",
    "size_cable",
    "system_voltage",
]

CATALOGUE_FILE = Path(__file__).with_name("data") / "charge_controllers.toml"

System = Literal["dc", "1ph", "3ph"]

# --------------------------------------------------------------------------- constants

SYSTEM_VOLTAGES = (12, 24, 36, 48)
"""[V] battery system voltages the catalogue's controllers charge."""

RHO_CU_OHM_MM2_M = 0.0225
"""[Ω·mm²/m] copper in service: 1.25 × its resistivity at 20 °C (IEC 60364-5-52 Annex G)."""

SECTIONS_MM2 = (1.5, 2.5, 4.0, 6.0, 10.0, 16.0, 25.0, 35.0, 50.0, 70.0, 95.0, 120.0, 150.0,
                185.0, 240.0, 300.0)
"""[mm²] the standard conductor sizes (IEC 60228)."""

IZ_TWO_LOADED_A = (19.5, 27.0, 36.0, 46.0, 63.0, 85.0, 112.0, 138.0, 168.0, 213.0, 258.0,
                   299.0, 344.0, 392.0, 461.0, 530.0)
"""[A] IEC 60364-5-52 Table B.52.4, PVC, copper, method C, two loaded conductors, 30 °C."""

IZ_THREE_LOADED_A = (17.5, 24.0, 32.0, 41.0, 57.0, 76.0, 96.0, 119.0, 144.0, 184.0, 223.0,
                     259.0, 299.0, 341.0, 403.0, 464.0)
"""[A] the same table, three loaded conductors."""

AMBIENT_DERATING = 0.87
"""IEC 60364-5-52 Table B.52.14, PVC insulation at 40 °C ambient air (Mekong Delta power
rooms and cable trays in the sun reach it)."""

GROUPING = {1: 1.0, 2: 0.80, 3: 0.70, 4: 0.65}
"""IEC 60364-5-52 Table B.52.17 item 1 (bunched on a surface): factor by parallel runs."""

MAX_PARALLEL = max(GROUPING)
MIN_PARALLEL_MM2 = 50.0
"""[mm²] the smallest conductor run in parallel: thinner ones are not paralleled (they share
current badly and one loose lug overloads the other; the US NEC 310.10(G) sets 1/0 AWG,
53.5 mm², the same idea)."""

BREAKER_RATINGS_A = (6, 10, 13, 16, 20, 25, 32, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315,
                     400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500, 3200, 4000)
"""[A] standard rated currents of circuit breakers and gG/DC fuses (IEC 60898-1 up to 125 A,
then the R10 series of IEC 60947-2 frames and IEC 60269 fuse links)."""

PV_FUSE_RATINGS_A = (6, 8, 10, 12, 15, 16, 20, 25, 30, 32, 40)
"""[A] gPV string fuse links (IEC 60269-6), 10 × 38 mm."""

MODULE_MAX_FUSE_A = 25.0
"""[A] a crystalline module's maximum series fuse rating, the usual 25 A of 400–600 W
modules' datasheets (the site file does not give it)."""

DESIGN_FACTOR = 1.25
"""Protection at least 1.25 × the design current (continuous duty; PV Isc, IEC 62548)."""

THREE_PHASE_ABOVE_KW = 10.0
"""[kW] inverters above this feed the loads at 400 V three phase: above about 10 kW (43 A at
230 V) single-phase feeders and motor starts get heavy, and EVN's rural supply practice
moves to three phase; at or below, 230 V single phase."""

AC_V = 230.0
AC_3PH_V = 400.0

AC_COUPLING_ADVISED_A = 300.0
"""[A] PV charge current on the battery bus (array kWp × 1000 / V) above which an AC-coupled
PV inverter suits better than charge controllers: beyond it (≈ 15 kWp at 48 V) the bus
needs many paralleled controllers, busbars and fuses of several hundred amperes."""

CHARGE_CONTROLLER_DRIVERS: Mapping[str, str] = {"epever_tracer": "epever_tracer"}
"""[[devices]] driver → catalogue family, for drivers that are one charge controller each.
(A ``victron_gx`` reads any number of Victron controllers, so it says nothing about the
count.)"""

INVERTER_DRIVERS = frozenset({"sunspec", "victron_gx", "deye_hybrid", "growatt_spf",
                              "srne_hybrid"})
FAMILY_NAMES = {"epever_tracer": "EPEver Tracer", "victron_smartsolar": "Victron SmartSolar",
                "srne_ml": "SRNE ML"}


class CableSizingError(SizingError):
    """No standard cable (up to :data:`MAX_PARALLEL` × 300 mm²) carries the current."""


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Finding:
    """A warning as a code with parameters; :func:`render` gives its text."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "controllers_short": (
            "The site file lists {listed} {family} charge controller(s); the design needs "
            "{needed} × {model}. Add {missing}."),
        "controllers_missing": (
            "The site file lists no charge controller; the design needs {needed} × {model}."),
        "controllers_family_unfit": (
            "No {family} model fits the strings (string Voc {voc_cold_v} V at the record low, "
            "the family's largest input {family_max_v} V); the design uses {needed} × {model} "
            "instead of the {listed} listed."),
        "no_controller_fits": (
            "No catalogue charge controller takes a string of {series} modules (Voc "
            "{voc_cold_v} V at the record low, Vmp {vmp_hot_v} V hot) on a {system_v} V "
            "battery; choose a controller by hand."),
        "ac_coupling_advised": (
            "DC-coupled {kwp} kWp on a {battery_v} V battery bus is {charge_a} A of charge "
            "current and takes {controllers} charge controllers; an AC-coupled PV inverter "
            "would suit better."),
        "family_alternative": (
            "With the listed {family} family instead: {series} modules in series × {strings} "
            "strings ({kwp} kWp) on {needed} × {model} ({listed} listed)."),
        "inverter_not_listed": (
            "The site file lists no inverter device (SunSpec, Victron GX or a hybrid) for the "
            "{kw} kW inverter."),
        "generator_controller_not_listed": (
            "The site file lists {listed} generator controller(s) for {needed} generator(s)."),
        "cable_too_large": (
            "The {run} run carries {current_a} A, more than {parallel} parallel 300 mm² "
            "cables; use busbars or a higher voltage."),
        "string_fuse_unavailable": (
            "{strings} strings in parallel need string fuses, but no gPV rating lies between "
            "1.5 × Isc ({low_a} A) and the module's maximum series fuse ({max_a} A)."),
        "no_battery_bus": (
            "No battery: charge controllers and the battery-bus cables are not sized."),
        "no_string_fits": (
            "No string of these modules fits the MPPT window {min_v}–{max_input_v} V (one "
            "module: Voc {voc_v} V at the record low, Vmp {vmp_v} V hot); choose another "
            "controller or modules."),
    },
    "vi": {
        "controllers_short": (
            "Hồ sơ trạm khai báo {listed} bộ điều khiển sạc {family}; thiết kế cần "
            "{needed} × {model}. Cần bổ sung {missing}."),
        "controllers_missing": (
            "Hồ sơ trạm không khai báo bộ điều khiển sạc nào; thiết kế cần {needed} × "
            "{model}."),
        "controllers_family_unfit": (
            "Không có model {family} nào phù hợp với chuỗi pin (Voc của chuỗi {voc_cold_v} V ở "
            "nhiệt độ thấp kỷ lục, đầu vào lớn nhất của dòng {family_max_v} V); thiết kế dùng "
            "{needed} × {model} thay cho {listed} bộ đã khai báo."),
        "no_controller_fits": (
            "Không có bộ điều khiển sạc nào trong danh mục nhận chuỗi {series} tấm (Voc "
            "{voc_cold_v} V ở nhiệt độ thấp kỷ lục, Vmp {vmp_hot_v} V khi nóng) với ắc quy "
            "{system_v} V; cần chọn bộ điều khiển thủ công."),
        "ac_coupling_advised": (
            "{kwp} kWp nối phía một chiều trên thanh cái ắc quy {battery_v} V cho dòng sạc "
            "{charge_a} A và cần {controllers} bộ điều khiển sạc; nên dùng biến tần hòa lưới "
            "nối phía xoay chiều (AC-coupling)."),
        "family_alternative": (
            "Nếu giữ dòng {family} đã khai báo: {series} tấm nối tiếp × {strings} chuỗi "
            "({kwp} kWp) trên {needed} × {model} (đã khai báo {listed})."),
        "inverter_not_listed": (
            "Hồ sơ trạm không khai báo thiết bị biến tần (SunSpec, Victron GX hoặc hybrid) "
            "cho biến tần {kw} kW."),
        "generator_controller_not_listed": (
            "Hồ sơ trạm khai báo {listed} bộ điều khiển máy phát cho {needed} máy phát."),
        "cable_too_large": (
            "Tuyến {run} mang dòng {current_a} A, vượt quá {parallel} cáp 300 mm² song song; "
            "cần dùng thanh cái hoặc điện áp cao hơn."),
        "string_fuse_unavailable": (
            "{strings} chuỗi song song cần cầu chì chuỗi, nhưng không có định mức gPV nào "
            "nằm giữa 1,5 × Isc ({low_a} A) và cầu chì nối tiếp lớn nhất của tấm pin "
            "({max_a} A)."),
        "no_battery_bus": (
            "Không có ắc quy: không tính bộ điều khiển sạc và cáp thanh cái ắc quy."),
        "no_string_fits": (
            "Không có chuỗi nào của loại tấm pin này nằm trong dải MPPT {min_v}–{max_input_v} V "
            "(một tấm: Voc {voc_v} V ở nhiệt độ thấp kỷ lục, Vmp {vmp_v} V khi nóng); cần chọn "
            "bộ điều khiển hoặc tấm pin khác."),
    },
}


def render(finding: Finding, lang: str = "en") -> str:
    """The finding's text in ``lang`` ("en" or "vi"), its parameters filled in as given."""
    return MESSAGES[lang][finding.code].format(**finding.params)


# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class ChargeControllerModel:
    """One charge-controller model of the catalogue; voltages [V], currents [A], power [W]
    by battery system voltage."""

    id: str
    name: str
    family: str
    max_pv_v: float
    mppt_max_v: float
    mppt_min_v: Mapping[int, float]
    max_pv_isc_a: float  # 0: not stated, the power limit governs
    max_charge_a: Mapping[int, float]
    pv_w: Mapping[int, float]
    price_vnd: float
    price_basis: str
    source: str

    def supports(self, system_v: int) -> bool:
        """Whether it charges a battery of this system voltage."""
        return system_v in self.max_charge_a


def _by_voltage(table: Mapping[str, Any]) -> dict[int, float]:
    return {int(k): float(v) for k, v in table.items()}


def _parse_catalogue(data: Mapping[str, Any]) -> dict[str, ChargeControllerModel]:
    """The catalogue's tables as models, keyed by id (pure)."""
    out = {}
    for key, t in data.items():
        out[key] = ChargeControllerModel(
            id=key, name=str(t["name"]), family=str(t["family"]), max_pv_v=float(t["max_pv_v"]),
            mppt_max_v=float(t["mppt_max_v"]), mppt_min_v=_by_voltage(t["mppt_min_v"]),
            max_pv_isc_a=float(t["max_pv_isc_a"]), max_charge_a=_by_voltage(t["max_charge_a"]),
            pv_w=_by_voltage(t["pv_w"]), price_vnd=float(t["price_vnd"]),
            price_basis=str(t["price_basis"]), source=str(t["source"]))
    return out


@cache
def load_catalogue(path: Path = CATALOGUE_FILE) -> dict[str, ChargeControllerModel]:
    """Read the charge-controller catalogue (``sizing/data/charge_controllers.toml``)."""
    return _parse_catalogue(tomllib.loads(path.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- controllers


def system_voltage(nominal_v: float) -> int | None:
    """The battery system voltage class [V] of a battery of ``nominal_v`` [V] (LFP 51.2 V →
    48), or None when no class lies within 25 % (a high-voltage battery)."""
    nearest = min(SYSTEM_VOLTAGES, key=lambda v: abs(v - nominal_v))
    return nearest if abs(nominal_v - nearest) <= 0.25 * nearest else None


def controller_strings(model: ChargeControllerModel, strings: StringDesign, pv: PV,
                       system_v: int, nominal_v: float) -> tuple[int, str]:
    """How many strings one controller of ``model`` takes, and the limit that binds
    (``"pv_current"``, ``"pv_power"`` or ``"charge_current"``); ``(0, reason)`` when the
    string does not fit it at all (``"battery_v"``, ``"max_pv_v"``, ``"mppt_max_v"``,
    ``"mppt_min_v"``)."""
    if not model.supports(system_v):
        return 0, "battery_v"
    if strings.voc_cold_v > model.max_pv_v + 1e-9:
        return 0, "max_pv_v"
    if strings.series * vmp_at_v(pv, pv.record_low_temp_c) > model.mppt_max_v + 1e-9:
        return 0, "mppt_max_v"
    if strings.vmp_hot_v < model.mppt_min_v[system_v] - 1e-9:
        return 0, "mppt_min_v"
    string_w = strings.series * pv.module_w
    limits = {
        "pv_current": (math.floor(model.max_pv_isc_a / module_isc_a(pv) + 1e-9)
                       if model.max_pv_isc_a > 0 else math.inf),
        "pv_power": math.floor(model.pv_w[system_v] / string_w + 1e-9),
        "charge_current": math.floor(model.max_charge_a[system_v] * nominal_v / string_w + 1e-9),
    }
    binding = min(limits, key=lambda k: limits[k])
    return int(limits[binding]), binding


@dataclass(frozen=True)
class ControllerPlan:
    """``count`` controllers of ``model``, at most ``strings_per_controller`` strings each."""

    model: ChargeControllerModel
    count: int
    strings_per_controller: int
    max_strings: int  # the model's limit per controller
    limited_by: str
    charge_a_each: float  # [A] the largest share's PV power / battery nominal V
    total_vnd: float


def choose_controllers(strings: StringDesign, pv: PV, nominal_v: float,
                       catalogue: Mapping[str, ChargeControllerModel],
                       families: Sequence[str] | None = None) -> ControllerPlan | None:
    """The cheapest set of one catalogue model (then the fewest units) that takes every
    string, among ``families`` (all when None); None when no model fits."""
    system_v = system_voltage(nominal_v)
    if system_v is None or strings.strings == 0:
        return None
    best: ControllerPlan | None = None
    for model in catalogue.values():
        if families is not None and model.family not in families:
            continue
        k, binding = controller_strings(model, strings, pv, system_v, nominal_v)
        if k <= 0:
            continue
        count = math.ceil(strings.strings / k)
        per = math.ceil(strings.strings / count)
        plan = ControllerPlan(model=model, count=count, strings_per_controller=per,
                              max_strings=k, limited_by=binding,
                              charge_a_each=per * strings.series * pv.module_w / nominal_v,
                              total_vnd=count * model.price_vnd)
        if best is None or (plan.total_vnd, plan.count, model.id) < (
                best.total_vnd, best.count, best.model.id):
            best = plan
    return best


# --------------------------------------------------------------------------- cables


def next_rating(current_a: float, ratings: Sequence[float] = BREAKER_RATINGS_A) -> float | None:
    """The smallest standard rating ≥ ``current_a`` [A], or None above the series."""
    for r in ratings:
        if r >= current_a - 1e-9:
            return float(r)
    return None


@dataclass(frozen=True)
class Cable:
    """One cable run, sized; ``count`` identical runs (one per controller, say)."""

    run: str
    system: System
    current_a: float  # [A] design current Ib
    voltage_v: float  # [V] the run's voltage (line-to-line for three phase)
    length_m: float  # [m] one way
    section_mm2: float  # [mm²] of one conductor
    parallel: int  # conductors per pole
    ampacity_a: float  # [A] Iz, derated, all parallel conductors
    drop_v: float
    drop_pct: float
    breaker_a: float  # [A] In, the next standard rating ≥ 1.25 × Ib, ≤ Iz
    governed_by: Literal["ampacity", "voltage_drop"]
    count: int = 1


def _drop_v(system: System, length_m: float, current_a: float, area_mm2: float) -> float:
    b = math.sqrt(3) if system == "3ph" else 2.0
    return b * length_m * current_a * RHO_CU_OHM_MM2_M / area_mm2


def _smallest(system: System, current_a: float, length_m: float, voltage_v: float, *,
              max_drop_pct: float | None, derating: float) -> tuple[int, int] | None:
    """(parallel runs, index into SECTIONS_MM2) of least total copper, fewest runs on ties."""
    table = IZ_THREE_LOADED_A if system == "3ph" else IZ_TWO_LOADED_A
    breaker = next_rating(DESIGN_FACTOR * current_a)
    if breaker is None:
        return None
    best: tuple[float, int, int] | None = None
    for n in range(1, MAX_PARALLEL + 1):
        for i, area in enumerate(SECTIONS_MM2):
            if n > 1 and area < MIN_PARALLEL_MM2:
                continue
            iz = n * table[i] * derating * GROUPING[n]
            if iz < current_a or breaker > iz + 1e-9:
                continue
            if max_drop_pct is not None and (_drop_v(system, length_m, current_a, n * area)
                                             > max_drop_pct / 100 * voltage_v + 1e-12):
                continue
            if best is None or (n * area, n) < best[:2]:
                best = (n * area, n, i)
            break  # larger sections of n runs only add copper
    return None if best is None else (best[1], best[2])


def size_cable(run: str, system: System, current_a: float, length_m: float, voltage_v: float,
               *, max_drop_pct: float, derating: float = AMBIENT_DERATING,
               count: int = 1) -> Cable:
    """Size one copper run for design current ``current_a`` [A] over ``length_m`` [m] one way
    at ``voltage_v`` [V], with a voltage drop of at most ``max_drop_pct`` [%].

    Raises :class:`CableSizingError` when no standard cable carries it.
    """
    if current_a <= 0:
        raise CableSizingError(f"{run}: no current to size for ({current_a:g} A)")
    pick = _smallest(system, current_a, length_m, voltage_v, max_drop_pct=max_drop_pct,
                     derating=derating)
    if pick is None:
        raise CableSizingError(f"{run}: {current_a:.0f} A is beyond {MAX_PARALLEL} × 300 mm²")
    n, i = pick
    loose = _smallest(system, current_a, length_m, voltage_v, max_drop_pct=None,
                      derating=derating)
    area = SECTIONS_MM2[i]
    table = IZ_THREE_LOADED_A if system == "3ph" else IZ_TWO_LOADED_A
    drop = _drop_v(system, length_m, current_a, n * area)
    breaker = next_rating(DESIGN_FACTOR * current_a)
    assert breaker is not None and loose is not None
    governed: Literal["ampacity", "voltage_drop"] = (
        "voltage_drop" if loose[0] * SECTIONS_MM2[loose[1]] < n * area else "ampacity")
    return Cable(run=run, system=system, current_a=current_a, voltage_v=voltage_v,
                 length_m=length_m, section_mm2=area, parallel=n,
                 ampacity_a=n * table[i] * derating * GROUPING[n], drop_v=drop,
                 drop_pct=drop / voltage_v * 100, breaker_a=breaker, governed_by=governed,
                 count=count)


def string_fuse_a(pv: PV) -> float | None:
    """The gPV string fuse [A]: the next rating ≥ 1.5 × Isc, if it is ≤ 2.4 × Isc and ≤ the
    module's maximum series fuse; None when none is (IEC 62548)."""
    isc = module_isc_a(pv)
    rating = next_rating(1.5 * isc, PV_FUSE_RATINGS_A)
    if rating is None or rating > 2.4 * isc + 1e-9 or rating > MODULE_MAX_FUSE_A + 1e-9:
        return None
    return rating


# --------------------------------------------------------------------------- the design


@dataclass(frozen=True)
class ElectricalDesign:
    """The buildable DC and AC design of one site design. Currents [A], voltages [V]."""

    kwp: float
    inverter_kw: float
    battery_nominal_v: float | None
    system_v: int | None
    strings: StringDesign | None
    controllers: ControllerPlan | None
    pv_charge_a: float  # array kWp × 1000 / battery nominal V (0 when AC-coupled)
    inverter_dc_a: float
    inverter_surge_dc_a: float
    ac_phases: int
    ac_v: float
    ac_a: float
    cables: tuple[Cable, ...]
    string_fuse_a: float | None  # per string, when ≥ 3 strings share a controller input
    findings: tuple[Finding, ...]

    def cable(self, run: str) -> Cable | None:
        """The run called ``run``, if sized."""
        return next((c for c in self.cables if c.run == run), None)


def _site_families(site: Site) -> list[str]:
    return sorted({CHARGE_CONTROLLER_DRIVERS[d.driver] for d in site.devices
                   if d.driver in CHARGE_CONTROLLER_DRIVERS})


def _r(x: float, digits: int = 1) -> float:
    return round(x, digits)


def electrical_design(site: Site, design: Mapping[str, float],
                      catalogue: Mapping[str, ChargeControllerModel] | None = None
                      ) -> ElectricalDesign:
    """Size strings, charge controllers, bus currents, cables and protection for ``design``
    (``kwp`` and ``inverter_kw``; the site's own values where a key is missing)."""
    cat = load_catalogue() if catalogue is None else catalogue
    wiring = site.wiring
    pv, battery, inverter = site.pv, site.battery, site.inverter
    kwp = float(design.get("kwp", pv.kwp if pv else 0.0))
    inv_kw = float(design.get("inverter_kw", inverter.kw if inverter else 0.0))
    findings: list[Finding] = []
    cables: list[Cable] = []

    def add(run: str, system: System, current: float, length: float, volts: float, *,
            drop: float, count: int = 1) -> None:
        try:
            cables.append(size_cable(run, system, current, length, volts, max_drop_pct=drop,
                                     count=count))
        except CableSizingError:
            findings.append(Finding("cable_too_large", {"run": run, "current_a": round(current),
                                                        "parallel": MAX_PARALLEL}))

    strings: StringDesign | None = None
    if pv is not None and kwp > 0:
        try:
            strings = size_strings(pv, kwp)
        except StringSizingError:
            findings.append(Finding("no_string_fits", {
                "voc_v": _r(voc_at_v(pv, pv.record_low_temp_c)),
                "vmp_v": _r(vmp_at_v(pv, pv.max_cell_temp_c)),
                "max_input_v": _r(pv.mppt_max_input_v), "min_v": _r(pv.mppt_min_v)}))
    nominal = battery.nominal_v if battery is not None and battery.kwh > 0 else None
    system_v = system_voltage(nominal) if nominal is not None else None
    dc_coupled = pv is not None and pv.coupling == "dc"
    plan: ControllerPlan | None = None
    pv_charge_a = 0.0
    fuse: float | None = None
    if nominal is None:
        if strings is not None and dc_coupled:
            findings.append(Finding("no_battery_bus", {}))
    elif strings is not None and pv is not None and dc_coupled:
        pv_charge_a = strings.array_kwp * 1000 / nominal
        families = _site_families(site)
        if families:
            plan = choose_controllers(strings, pv, nominal, cat, families)
        if plan is None:
            plan = choose_controllers(strings, pv, nominal, cat)
        if plan is None:
            findings.append(Finding("no_controller_fits", {
                "series": strings.series, "voc_cold_v": _r(strings.voc_cold_v),
                "vmp_hot_v": _r(strings.vmp_hot_v), "system_v": system_v or _r(nominal)}))
        else:
            isc = module_isc_a(pv)
            string_v = strings.series * pv.module_vmp_v
            add("pv_to_controller", "dc", plan.strings_per_controller * isc,
                wiring.pv_to_controller_m, string_v, drop=wiring.max_drop_dc_pct,
                count=plan.count)
            assert system_v is not None
            add("controller_to_battery", "dc", plan.model.max_charge_a[system_v],
                wiring.controller_to_battery_m, nominal, drop=wiring.max_drop_dc_pct,
                count=plan.count)
            if plan.strings_per_controller >= 3:
                fuse = string_fuse_a(pv)
                if fuse is None:
                    findings.append(Finding("string_fuse_unavailable", {
                        "strings": plan.strings_per_controller, "low_a": _r(1.5 * isc),
                        "max_a": MODULE_MAX_FUSE_A}))
        if pv_charge_a > AC_COUPLING_ADVISED_A:
            findings.append(Finding("ac_coupling_advised", {
                "kwp": _r(strings.array_kwp), "battery_v": _r(nominal),
                "charge_a": round(pv_charge_a), "controllers": plan.count if plan else 0}))

    inv_dc = inv_surge = ac_a = 0.0
    phases, ac_v = 1, AC_V
    if inverter is not None and inv_kw > 0:
        eta = inverter.efficiency_pct / 100
        surge_kw = inverter.surge_kw / inverter.kw * inv_kw if inverter.kw > 0 else 0.0
        if nominal is not None:
            inv_dc = inv_kw * 1000 / (eta * nominal)
            inv_surge = surge_kw * 1000 / (eta * nominal)
            add("battery_to_inverter", "dc", inv_dc, wiring.battery_to_inverter_m, nominal,
                drop=wiring.max_drop_dc_pct)
        if inv_kw > THREE_PHASE_ABOVE_KW:
            phases, ac_v = 3, AC_3PH_V
            ac_a = inv_kw * 1000 / (math.sqrt(3) * AC_3PH_V)
        else:
            ac_a = inv_kw * 1000 / AC_V
        add("inverter_to_loads", "3ph" if phases == 3 else "1ph", ac_a,
            wiring.inverter_to_loads_m, ac_v, drop=wiring.max_drop_ac_pct)

    return ElectricalDesign(
        kwp=kwp, inverter_kw=inv_kw, battery_nominal_v=nominal, system_v=system_v,
        strings=strings, controllers=plan, pv_charge_a=pv_charge_a, inverter_dc_a=inv_dc,
        inverter_surge_dc_a=inv_surge, ac_phases=phases, ac_v=ac_v, ac_a=ac_a,
        cables=tuple(cables), string_fuse_a=fuse, findings=tuple(findings))


def family_alternative(pv: PV, kwp: float, nominal_v: float, families: Sequence[str],
                       catalogue: Mapping[str, ChargeControllerModel]
                       ) -> tuple[StringDesign, ControllerPlan] | None:
    """The layout the site's own controller families would take: the strings re-laid for
    each input voltage the families offer, highest first (the longest strings first again),
    and the first that a model of the families takes; None when none does."""
    for max_v in sorted({m.max_pv_v for m in catalogue.values() if m.family in families},
                        reverse=True):
        try:
            strings = size_strings(pv.model_copy(update={"mppt_max_input_v": max_v}), kwp)
        except StringSizingError:
            continue
        plan = choose_controllers(strings, pv, nominal_v, catalogue, families)
        if plan is not None:
            return strings, plan
    return None


def check_devices(site: Site, design: ElectricalDesign | Mapping[str, float],
                  catalogue: Mapping[str, ChargeControllerModel] | None = None
                  ) -> list[Finding]:
    """What the site's ``[[devices]]`` lack for ``design`` (an :class:`ElectricalDesign`, or
    the design mapping to build one from), as findings."""
    cat = load_catalogue() if catalogue is None else catalogue
    ed = (design if isinstance(design, ElectricalDesign)
          else electrical_design(site, design, cat))
    out: list[Finding] = []
    drivers = [d.driver for d in site.devices]
    plan = ed.controllers
    if plan is not None:
        families = _site_families(site)
        listed = sum(1 for d in drivers if d in CHARGE_CONTROLLER_DRIVERS)
        model = plan.model
        if families and model.family not in families:
            strings = ed.strings
            assert strings is not None
            family_max = max((m.max_pv_v for m in cat.values() if m.family in families),
                             default=0.0)
            family = ", ".join(FAMILY_NAMES.get(f, f) for f in families)
            out.append(Finding("controllers_family_unfit", {
                "family": family, "voc_cold_v": _r(strings.voc_cold_v),
                "family_max_v": _r(family_max), "needed": plan.count, "model": model.name,
                "listed": listed}))
            alt = (family_alternative(site.pv, ed.kwp, ed.battery_nominal_v, families, cat)
                   if site.pv is not None and ed.battery_nominal_v is not None else None)
            if alt is not None:
                alt_strings, alt_plan = alt
                out.append(Finding("family_alternative", {
                    "family": family, "series": alt_strings.series,
                    "strings": alt_strings.strings, "kwp": _r(alt_strings.array_kwp),
                    "needed": alt_plan.count, "model": alt_plan.model.name,
                    "listed": listed}))
        elif families and listed < plan.count:
            out.append(Finding("controllers_short", {
                "listed": listed, "family": FAMILY_NAMES.get(model.family, model.family),
                "needed": plan.count, "model": model.name, "missing": plan.count - listed}))
        elif not families and "victron_gx" not in drivers:
            out.append(Finding("controllers_missing", {"needed": plan.count,
                                                       "model": model.name}))
    if ed.inverter_kw > 0 and not INVERTER_DRIVERS.intersection(drivers):
        out.append(Finding("inverter_not_listed", {"kw": _r(ed.inverter_kw)}))
    gens = len(site.generators)
    gen_listed = drivers.count("generator")
    if gens and gen_listed < gens:
        out.append(Finding("generator_controller_not_listed",
                           {"listed": gen_listed, "needed": gens}))
    return out
