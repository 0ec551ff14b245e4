"""The buildable DC and AC design against hand calculations (issue #17, item 1).

Constants used in the hand calculations (sizing.electrical): ρ = 0.0225 Ω·mm²/m, ambient
derating 0.87 (40 °C, PVC), ampacities of IEC 60364-5-52 Table B.52.4 method C, Isc = 1.07 ×
Imp, breakers at the next standard rating ≥ 1.25 × Ib.
"""

from __future__ import annotations

import math
import string
import tomllib
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sitefile import PV, Site, SiteFileError, Wiring, parse_site
from sizing.electrical import (
    MESSAGES,
    CableSizingError,
    ElectricalDesign,
    Finding,
    System,
    check_devices,
    choose_controllers,
    controller_strings,
    electrical_design,
    load_catalogue,
    render,
    size_cable,
    system_voltage,
)
from sizing.strings import size_strings
from tests.conftest import EXAMPLES, SHRIMP

SITE_INFO = {"name": "t", "latitude": 10.0, "longitude": 106.0}


def shrimp_data() -> dict[str, Any]:
    return tomllib.loads(SHRIMP.read_text(encoding="utf-8"))


def parsed(data: dict[str, Any]) -> Site:
    return parse_site(data, base_dir=EXAMPLES)


@pytest.fixture(scope="module")
def shrimp() -> ElectricalDesign:
    return electrical_design(parsed(shrimp_data()), {"kwp": 100, "inverter_kw": 15})


# --------------------------------------------------------------------------- the shrimp example


def test_shrimp_strings_are_four_in_series(shrimp: ElectricalDesign) -> None:
    s = shrimp.strings
    assert s is not None
    # Voc at 15 °C: 49.5 × (1 − 0.0028 × (15 − 25)) = 50.886 V; 250 / 50.886 = 4.91 → 4.
    # 4 × 550 W = 2.2 kW per string; 100 / 2.2 = 45.45 → 46 strings = 101.2 kWp.
    assert (s.series, s.strings, s.modules) == (4, 46, 184)
    assert s.array_kwp == pytest.approx(101.2)
    assert s.voc_cold_v == pytest.approx(4 * 50.886)
    # Vmp at 70 °C: 41.6 × (1 − 0.0035 × 45) = 35.048 V; × 4 = 140.19 V ≥ 60 V.
    assert s.vmp_hot_v == pytest.approx(140.192)


def test_shrimp_charge_controllers(shrimp: ElectricalDesign) -> None:
    plan = shrimp.controllers
    assert plan is not None
    # Only a 250 V input takes 203.5 V of Voc: the SmartSolar 250/70 and 250/100.
    # 250/100 at 48 V: PV current 70 / 14.147 = 4.9 → 4 strings; PV power 5800 / 2200 = 2.6
    # → 2; charge current 100 A × 51.2 V / 2200 W = 2.3 → 2. k = 2 → ⌈46 / 2⌉ = 23 units,
    # 23 × 25 M = 575 M VND. 250/70: 35 / 14.147 → 2, 4000 / 2200 → 1, 70 × 51.2 / 2200 → 1:
    # 46 units × 19 M = 874 M VND. The 250/100 wins.
    assert plan.model.id == "victron-smartsolar-250-100"
    assert (plan.count, plan.strings_per_controller, plan.max_strings) == (23, 2, 2)
    assert plan.total_vnd == 23 * 25_000_000
    # Battery-bus charge current: 101.2 kWp × 1000 / 51.2 V = 1976.6 A.
    assert shrimp.pv_charge_a == pytest.approx(101_200 / 51.2)
    assert plan.charge_a_each == pytest.approx(2 * 2200 / 51.2)  # 85.9 A ≤ 100 A


def test_shrimp_bus_and_ac_currents(shrimp: ElectricalDesign) -> None:
    # Inverter DC: 15 000 W / (0.95 × 51.2 V) = 308.39 A; surge 30 kW → 616.78 A.
    assert shrimp.inverter_dc_a == pytest.approx(15_000 / (0.95 * 51.2))
    assert shrimp.inverter_surge_dc_a == pytest.approx(30_000 / (0.95 * 51.2))
    # 15 kW > 10 kW: three phase, 15 000 / (√3 × 400) = 21.65 A.
    assert (shrimp.ac_phases, shrimp.ac_v) == (3, 400)
    assert shrimp.ac_a == pytest.approx(21.6506, abs=1e-3)


def test_shrimp_cables_and_breakers(shrimp: ElectricalDesign) -> None:
    got = {c.run: (c.section_mm2, c.parallel, c.breaker_a, c.governed_by, c.count)
           for c in shrimp.cables}
    # PV → controller, one per controller: Ib = 2 × 14.147 = 28.29 A at 4 × 41.6 = 166.4 V,
    # 30 m, 3 % = 4.992 V: A ≥ 2 × 30 × 28.29 × 0.0225 / 4.992 = 7.65 mm² → 10 mm² (6 mm²
    # would drop 3.8 %); Iz 63 × 0.87 = 54.8 A; In ≥ 35.4 A → 40 A ≤ 54.8 A.
    assert got["pv_to_controller"] == (10.0, 1, 40.0, "voltage_drop", 23)
    # Controller → battery: Ib = 100 A; In ≥ 125 A → 125 A needs Iz ≥ 125: 35 mm² gives
    # 138 × 0.87 = 120.1 A (too little), 50 mm² 168 × 0.87 = 146.2 A. Drop 2 × 3 × 100 ×
    # 0.0225 / 50 = 0.27 V = 0.53 %.
    assert got["controller_to_battery"] == (50.0, 1, 125.0, "ampacity", 23)
    # Battery → inverter: Ib = 308.39 A; In ≥ 385.5 A → 400 A; 185 mm² gives 392 × 0.87 =
    # 341 A, 240 mm² 461 × 0.87 = 401.1 A ≥ 400 A. (Two runs of 120 mm²: 2 × 299 × 0.87 ×
    # 0.80 = 416 A, the same 240 mm² of copper: the single run wins the tie.)
    assert got["battery_to_inverter"] == (240.0, 1, 400.0, "ampacity", 1)
    # Inverter → loads, three phase: Ib = 21.65 A; 4 mm² gives 32 × 0.87 = 27.8 A but
    # In ≥ 27.06 A → 32 A > 27.8 A; 6 mm²: 41 × 0.87 = 35.7 A ≥ 32 A. Drop √3 × 30 × 21.65
    # × 0.0225 / 6 = 4.22 V = 1.05 % of 400 V.
    assert got["inverter_to_loads"] == (6.0, 1, 32.0, "ampacity", 1)
    loads = shrimp.cable("inverter_to_loads")
    assert loads is not None
    assert loads.drop_pct == pytest.approx(math.sqrt(3) * 30 * 21.6506 * 0.0225 / 6 / 4, rel=1e-4)
    # Two strings per controller: no string fuses.
    assert shrimp.string_fuse_a is None


def test_shrimp_warnings(shrimp: ElectricalDesign) -> None:
    site = parsed(shrimp_data())
    assert [f.code for f in shrimp.findings] == ["ac_coupling_advised"]
    assert shrimp.findings[0].params == {"kwp": 101.2, "battery_v": 51.2, "charge_a": 1977,
                                         "controllers": 23}
    # Two EPEver Tracers listed, but no Tracer takes 203.5 V (the largest input is 200 V).
    found = check_devices(site, shrimp)
    assert [f.code for f in found] == ["controllers_family_unfit", "family_alternative"]
    assert found[0].params["listed"] == 2 and found[0].params["needed"] == 23
    assert found[0].params["family_max_v"] == 200
    assert "23 × Victron SmartSolar MPPT 250/100" in render(found[0], "en")
    assert "thay cho 2 bộ" in render(found[0], "vi")
    # Keeping the Tracers: re-laid for their 200 V input, 200 / 50.886 = 3.9 → 3 in series
    # (Vmp at 15 °C 3 × 43.06 = 129.2 V ≤ 144 V), 1650 W a string, 100 / 1.65 → 61 strings
    # = 100.65 kWp. Tracer 10420AN: 5200 / 1650 → 3, 100 × 51.2 / 1650 → 3: ⌈61 / 3⌉ = 21
    # units, 262.5 M VND (8420AN: k = 2, 31 × 10.5 M = 325.5 M).
    assert found[1].params == {"family": "EPEver Tracer", "series": 3, "strings": 61,
                               "kwp": 100.7, "needed": 21, "model": "EPEver Tracer 10420AN",
                               "listed": 2}


def test_80_kwp_dc_coupled_says_how_many_controllers() -> None:
    site = parsed(shrimp_data())
    ed = electrical_design(site, {"kwp": 80, "inverter_kw": 15})
    # 80 / 2.2 = 36.4 → 37 strings of 4 (81.4 kWp, not 2 × 73); 81 400 / 51.2 = 1589.8 A;
    # ⌈37 / 2⌉ = 19 controllers.
    assert ed.strings is not None and (ed.strings.series, ed.strings.strings) == (4, 37)
    assert ed.pv_charge_a == pytest.approx(1589.84, abs=0.01)
    assert ed.controllers is not None and ed.controllers.count == 19
    assert "19 charge controllers" in render(ed.findings[0], "en")


# --------------------------------------------------------------------------- an EPEver site


def epever_site(**pv: Any) -> Site:
    data = shrimp_data()
    data["pv"].update({"mppt_max_input_v": 150, **pv})
    return parsed(data)


def test_epever_site_short_of_controllers_and_string_fuses() -> None:
    site = epever_site()
    ed = electrical_design(site, {"kwp": 10, "inverter_kw": 15})
    # 150 / 50.886 = 2.95 → 2 in series (Voc 101.8 V); Vmp at 15 °C 2 × 41.6 × 1.035 =
    # 86.1 V ≤ 108 V; hot 70.1 V ≥ 59.6 V. 10 / 1.1 → 10 strings, 11 kWp.
    assert ed.strings is not None and (ed.strings.series, ed.strings.strings) == (2, 10)
    plan = ed.controllers
    assert plan is not None
    # Tracer 10415AN: 5200 / 1100 = 4.7 → 4; 100 × 51.2 / 1100 = 4.65 → 4: ⌈10 / 4⌉ = 3
    # units, 33 M VND (10420AN: 3 × 12.5 M; 6415AN: k = 2, 5 × 7.5 M; 8420AN: k = 3,
    # 4 × 10.5 M; XTRA 4415N: k = 1, 10 × 5.5 M).
    assert (plan.model.id, plan.count, plan.strings_per_controller) == (
        "epever-tracer-10415an", 3, 4)
    # Four strings in parallel: gPV fuse ≥ 1.5 × 14.147 = 21.2 A → 25 A (≤ 2.4 × Isc =
    # 33.95 A and ≤ the module's 25 A).
    assert ed.string_fuse_a == 25.0
    # 11 000 / 51.2 = 214.8 A: below 300 A, no advice to couple on the AC side.
    assert ed.pv_charge_a == pytest.approx(214.84, abs=0.01)
    assert not ed.findings
    found = check_devices(site, ed)
    assert found == [Finding("controllers_short", {
        "listed": 2, "family": "EPEver Tracer", "needed": 3, "model": "EPEver Tracer 10415AN",
        "missing": 1})]
    assert render(found[0], "en") == (
        "The site file lists 2 EPEver Tracer charge controller(s); the design needs 3 × EPEver "
        "Tracer 10415AN. Add 1.")


def test_devices_missing() -> None:
    data = shrimp_data()
    data["pv"]["mppt_max_input_v"] = 150
    data["devices"] = [d for d in data["devices"]
                       if d["driver"] not in ("epever_tracer", "sunspec", "generator")]
    site = parsed(data)
    codes = [f.code for f in check_devices(site, {"kwp": 10, "inverter_kw": 5})]
    assert codes == ["controllers_missing", "inverter_not_listed",
                     "generator_controller_not_listed"]


def test_no_battery_no_dc_bus() -> None:
    data = shrimp_data()
    del data["battery"]
    ed = electrical_design(parsed(data), {"kwp": 10, "inverter_kw": 5})
    assert ed.controllers is None and [f.code for f in ed.findings] == ["no_battery_bus"]
    # 5 kW single phase: 5000 / 230 = 21.74 A; only the AC feeder is sized.
    assert [c.run for c in ed.cables] == ["inverter_to_loads"]
    assert ed.ac_a == pytest.approx(21.739, abs=1e-3)


def test_ac_coupled_has_no_charge_controllers() -> None:
    data = shrimp_data()
    data["pv"]["coupling"] = "ac"
    ed = electrical_design(parsed(data), {"kwp": 100, "inverter_kw": 15})
    assert ed.controllers is None and ed.pv_charge_a == 0
    assert ed.cable("pv_to_controller") is None and not ed.findings


# --------------------------------------------------------------------------- cables by hand


def test_single_phase_feeder_by_hand() -> None:
    # 5 kW at 230 V: 21.74 A, 30 m, 3 % = 6.9 V: A ≥ 2 × 30 × 21.74 × 0.0225 / 6.9 = 4.25
    # → 6 mm²; 4 mm² would carry 36 × 0.87 = 31.3 A but In ≥ 27.2 → 32 A > 31.3 A.
    c = size_cable("feeder", "1ph", 5000 / 230, 30, 230, max_drop_pct=3)
    assert (c.section_mm2, c.breaker_a, c.parallel) == (6.0, 32.0, 1)
    assert c.ampacity_a == pytest.approx(46 * 0.87)
    assert c.drop_v == pytest.approx(2 * 30 * 5000 / 230 * 0.0225 / 6)


def test_long_dc_run_is_governed_by_voltage_drop() -> None:
    # 40 A at 51.2 V over 20 m, 3 %: A ≥ 2 × 20 × 40 × 0.0225 / 1.536 = 23.4 → 25 mm²;
    # ampacity alone: In ≥ 50 A → 50 A ≤ 10 mm² (54.8 A).
    c = size_cable("long", "dc", 40, 20, 51.2, max_drop_pct=3)
    assert (c.section_mm2, c.breaker_a, c.governed_by) == (25.0, 50.0, "voltage_drop")


def test_big_current_runs_in_parallel() -> None:
    # 600 A DC over 2 m: In ≥ 750 → 800 A. One 300 mm² gives 530 × 0.87 = 461 A: too little.
    # Two runs: Iz = 2 × Iz1 × 0.87 × 0.80 ≥ 800 → Iz1 ≥ 574.7: none. Three: 3 × 0.87 × 0.70
    # × Iz1 ≥ 800 → Iz1 ≥ 437.9 → 240 mm² (461 A): 720 mm². Four: 4 × 0.87 × 0.65 × Iz1 ≥
    # 800 → Iz1 ≥ 353.7 → 185 mm² (392 A): 740 mm². Three × 240 mm² wins.
    c = size_cable("bus", "dc", 600, 2, 51.2, max_drop_pct=3)
    assert (c.parallel, c.section_mm2, c.breaker_a) == (3, 240.0, 800.0)
    with pytest.raises(CableSizingError):
        size_cable("bus", "dc", 5000, 2, 51.2, max_drop_pct=3)


def test_system_voltage_classes() -> None:
    assert [system_voltage(v) for v in (12.8, 25.6, 51.2, 48.0, 400.0)] == [12, 24, 48, 48, None]


# --------------------------------------------------------------------------- properties

systems: st.SearchStrategy[System] = st.sampled_from(["dc", "1ph", "3ph"])


def _total(system: System, current: float, length: float, volts: float, drop: float) -> float:
    try:
        c = size_cable("p", system, current, length, volts,
                       max_drop_pct=drop)
    except CableSizingError:
        return math.inf
    return c.parallel * c.section_mm2


@given(system=systems, i=st.floats(0.5, 1500), di=st.floats(0, 500), length=st.floats(0.5, 200),
       dl=st.floats(0, 200), volts=st.floats(12, 800), drop=st.floats(0.5, 8))
def test_cable_area_never_falls_with_current_or_length(
        system: System, i: float, di: float, length: float, dl: float, volts: float,
        drop: float) -> None:
    base = _total(system, i, length, volts, drop)
    assert _total(system, i + di, length, volts, drop) >= base
    assert _total(system, i, length + dl, volts, drop) >= base


@given(system=systems, i=st.floats(0.5, 1500), length=st.floats(0.5, 300),
       volts=st.floats(12, 800), drop=st.floats(0.5, 8))
def test_breaker_between_design_current_and_ampacity(
        system: System, i: float, length: float, volts: float, drop: float) -> None:
    try:
        c = size_cable("p", system, i, length, volts,
                       max_drop_pct=drop)
    except CableSizingError:
        return
    assert c.breaker_a >= 1.25 * i - 1e-9
    assert c.breaker_a <= c.ampacity_a + 1e-9
    assert c.ampacity_a >= i
    assert c.drop_pct <= drop + 1e-9


@given(kwp=st.floats(1, 300), vmax=st.sampled_from([150.0, 200.0, 250.0]),
       low=st.floats(-10, 30), nominal=st.sampled_from([12.8, 25.6, 51.2]))
def test_controller_plan_respects_each_rating(kwp: float, vmax: float, low: float,
                                               nominal: float) -> None:
    pv = PV(kwp=kwp, mppt_max_input_v=vmax, mppt_min_v=60, record_low_temp_c=low)
    s = size_strings(pv, kwp)
    plan = choose_controllers(s, pv, nominal, load_catalogue())
    assume(plan is not None)
    assert plan is not None
    sv = system_voltage(nominal)
    assert sv is not None
    m = plan.model
    assert plan.count * plan.strings_per_controller >= s.strings
    assert s.voc_cold_v <= m.max_pv_v
    assert s.vmp_hot_v >= m.mppt_min_v[sv]
    share_w = plan.strings_per_controller * s.series * pv.module_w
    assert share_w <= m.pv_w[sv] + 1e-6
    assert share_w / nominal <= m.max_charge_a[sv] + 1e-6
    k, _ = controller_strings(m, s, pv, sv, nominal)
    assert plan.strings_per_controller <= k


# --------------------------------------------------------------------------- messages & data


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_code_has_both_languages_with_the_same_fields() -> None:
    assert set(MESSAGES["en"]) == set(MESSAGES["vi"])
    for code, en in MESSAGES["en"].items():
        assert _fields(en) == _fields(MESSAGES["vi"][code]), code


def test_catalogue_is_complete_and_sourced() -> None:
    cat = load_catalogue()
    assert {"victron-smartsolar-250-100", "epever-tracer-10415an", "srne-ml4860"} <= set(cat)
    for m in cat.values():
        assert m.price_vnd > 0 and m.price_basis and m.source
        assert set(m.pv_w) == set(m.max_charge_a) == set(m.mppt_min_v)
        assert m.mppt_max_v <= m.max_pv_v


def test_wiring_defaults_and_overrides() -> None:
    site = parse_site({"site": SITE_INFO})
    assert site.wiring == Wiring()
    assert (site.wiring.pv_to_controller_m, site.wiring.battery_to_inverter_m) == (30, 3)
    site = parse_site({"site": SITE_INFO, "wiring": {"inverter_to_loads_m": 120}})
    assert site.wiring.inverter_to_loads_m == 120
    with pytest.raises(SiteFileError):
        parse_site({"site": SITE_INFO, "wiring": {"pv_m": 3}})


def test_longer_feeder_from_the_site_file() -> None:
    data = shrimp_data()
    data["wiring"] = {"inverter_to_loads_m": 150}
    ed = electrical_design(parsed(data), {"kwp": 100, "inverter_kw": 15})
    # 150 m, 3 % of 400 V = 12 V: A ≥ √3 × 150 × 21.65 × 0.0225 / 12 = 10.5 → 16 mm².
    c = ed.cable("inverter_to_loads")
    assert c is not None and (c.section_mm2, c.governed_by) == (16.0, "voltage_drop")


def test_a_window_no_string_fits_is_a_finding() -> None:
    data = shrimp_data()
    data["pv"].update({"mppt_max_input_v": 45, "mppt_min_v": 30})
    ed = electrical_design(parsed(data), {"kwp": 10, "inverter_kw": 5})
    assert ed.strings is None and ed.controllers is None
    assert [f.code for f in ed.findings] == ["no_string_fits"]
    assert "45" in render(ed.findings[0], "vi")
