"""Water pumping physics: pipe friction against hand Darcy–Weisbach calculations (Swamee–Jain
and Hagen–Poiseuille, written out here as the independent check), operating points on both
curves, the affinity laws on the power/flow table, hydraulic power by hand, properties of
``flow_at_power`` and of the wire-to-water efficiency, and every catalogue pump."""

from __future__ import annotations

import math
from functools import cache
from typing import Any, get_args

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitefile import PUMP_CATALOGUE, Pipe, PumpModel, WaterPumpLoad
from sizing.hydraulics import (
    FLUIDS_MATERIAL,
    G_M_S2,
    MU_WATER_PA_S,
    RHO_WATER_KG_M3,
    PowerFlowTable,
    flow_at_power,
    friction_head_m,
    hydraulic_kw,
    hydraulic_kwh,
    operating_point,
    power_flow_table,
    pump_efficiency,
    pump_head_m,
    pump_shaft_kw,
    runout_flow_m3_h,
    system_head_m,
)

RHO, G, MU = 997.0, 9.80665, 8.90e-4  # water at 25 °C, standard gravity, by hand
LORENTZ = "lorentz-ps2-1800-c-sj8-7"

# A pump whose catalogue points lie exactly on H = 40 − 0.25·Q², so the fit is that parabola.
PARABOLA: dict[str, Any] = {
    "name": "parabola", "rated_kw": 1.0, "flow_m3_h": [0.0, 2.0, 4.0, 6.0, 8.0, 10.0],
    "head_m": [40 - 0.25 * q * q for q in (0.0, 2.0, 4.0, 6.0, 8.0, 10.0)],
    "efficiency_pct": [0.0, 30.0, 50.0, 60.0, 55.0, 40.0], "motor_efficiency_pct": 80.0,
    "min_frequency_hz": 25.0,
}


def catalogue_pump(pump_id: str) -> PumpModel:
    return PumpModel(id=pump_id, **PUMP_CATALOGUE[pump_id])


def water_load(pump: str | dict[str, Any] = LORENTZ, head_m: float = 18.0,
               length_m: float = 150.0, diameter_mm: float = 50.0, material: str = "pvc",
               drive: str | None = None) -> WaterPumpLoad:
    raw: dict[str, Any] = {"name": "field", "kind": "water_pump", "flow_m3_per_day": 30.0,
                           "head_m": head_m, "pump": pump,
                           "pipe": {"length_m": length_m, "diameter_mm": diameter_mm,
                                    "material": material}}
    if drive is not None:
        raw["drive"] = drive
    return WaterPumpLoad.model_validate(raw)


def swamee_jain_head_m(flow_m3_h: float, length_m: float, diameter_m: float,
                       roughness_m: float) -> float:
    """Darcy–Weisbach with the Swamee–Jain (1976) explicit friction factor, by hand."""
    area = math.pi * diameter_m ** 2 / 4
    v = flow_m3_h / 3600 / area
    re = RHO * v * diameter_m / MU
    f = 0.25 / math.log10(roughness_m / (3.7 * diameter_m) + 5.74 / re ** 0.9) ** 2
    return f * length_m / diameter_m * v * v / (2 * G)


# --------------------------------------------------------------------------- water and pipes


def test_constants_are_water_at_25_c() -> None:
    assert RHO_WATER_KG_M3 == RHO
    assert G_M_S2 == G
    assert MU_WATER_PA_S == MU


def test_hydraulic_power_by_hand() -> None:
    assert hydraulic_kw(10.0, 20.0) == pytest.approx(997 * 9.80665 * (10 / 3600) * 20 / 1000,
                                                     rel=1e-12)
    # One hour of 10 m³/h at 20 m is the same energy.
    assert hydraulic_kwh(10.0, 20.0) == pytest.approx(997 * 9.80665 * 10 * 20 / 3.6e6,
                                                      rel=1e-12)
    assert hydraulic_kwh(10.0, 20.0) == pytest.approx(hydraulic_kw(10.0, 20.0), rel=1e-12)
    five = float(hydraulic_kw(5.0, 20.0))
    assert np.allclose(hydraulic_kw(np.array([0.0, 5.0]), 20.0), [0.0, five])


def test_friction_of_50_mm_pvc_against_swamee_jain() -> None:
    """100 m of 50 mm PVC at 10 m³/h: V = 1.415 m/s, Re ≈ 79 000, smooth pipe (ε = 1.5 µm):
    Swamee–Jain f ≈ 0.0189, h ≈ 3.86 m."""
    pipe = Pipe(length_m=100, diameter_mm=50, material="pvc")
    by_hand = swamee_jain_head_m(10.0, 100.0, 0.05, 1.5e-6)
    assert by_hand == pytest.approx(3.86, abs=0.02)
    assert friction_head_m(10.0, pipe) == pytest.approx(by_hand, rel=0.02)


@pytest.mark.parametrize(("material", "roughness_m"), [
    ("pvc", 1.5e-6), ("hdpe", 7e-6), ("steel", 4.5e-5), ("galvanized", 1.5e-4)])
def test_friction_of_each_material_against_textbook_roughness(material: str,
                                                              roughness_m: float) -> None:
    """Swamee–Jain with the textbook (Moody chart) roughness of each material: within 5 %
    (the roughnesses differ a little from fluids' database entries)."""
    pipe = Pipe(length_m=250, diameter_mm=40, material=material)
    for flow in (2.0, 6.0, 12.0):
        assert friction_head_m(flow, pipe) == pytest.approx(
            swamee_jain_head_m(flow, 250.0, 0.04, roughness_m), rel=0.05)


def test_laminar_friction_is_hagen_poiseuille() -> None:
    """At Re < 2040 the head loss is 32·µ·L·V/(ρ·g·D²), whatever the roughness."""
    pipe = Pipe(length_m=50, diameter_mm=100, material="galvanized")
    flow = 0.3  # [m³/h]: V ≈ 0.0106 m/s, Re ≈ 1190
    v = flow / 3600 / (math.pi * 0.1 ** 2 / 4)
    assert RHO * v * 0.1 / MU < 2040
    assert friction_head_m(flow, pipe) == pytest.approx(32 * MU * 50 * v / (RHO * G * 0.1 ** 2),
                                                        rel=1e-6)


def test_friction_is_vectorised_and_zero_at_no_flow() -> None:
    pipe = Pipe(length_m=100, diameter_mm=50)
    heads = friction_head_m(np.array([[0.0, 5.0], [10.0, 20.0]]), pipe)
    assert isinstance(heads, np.ndarray) and heads.shape == (2, 2)
    assert heads[0, 0] == 0.0
    assert np.all(np.diff(heads.ravel()) > 0)
    assert heads[1, 0] == pytest.approx(friction_head_m(10.0, pipe))
    assert system_head_m(10.0, 18.0, pipe) == pytest.approx(18.0 + heads[1, 0])


def test_every_site_file_material_is_mapped() -> None:
    materials = get_args(Pipe.model_fields["material"].annotation)
    assert set(materials) == set(FLUIDS_MATERIAL)


# --------------------------------------------------------------------------- pump curves


def test_a_parabolic_curve_is_fitted_exactly_and_scaled_by_the_affinity_laws() -> None:
    pump = PumpModel(**PARABOLA)
    assert pump_head_m(pump, 6.0) == pytest.approx(31.0)
    assert runout_flow_m3_h(pump) == pytest.approx(math.sqrt(40 / 0.25))
    # H(Q, n) = n²·H1(Q/n): at n = 0.5 the shut-off head is 10 m and 3 m³/h gives 7.75 m.
    assert pump_head_m(pump, 0.0, 0.5) == pytest.approx(10.0)
    assert pump_head_m(pump, 3.0, 0.5) == pytest.approx(0.25 * 31.0)
    # Efficiency: interpolated among the points above 0, similar points keep it.
    assert pump_efficiency(pump, 5.0) == pytest.approx(0.55)
    assert pump_efficiency(pump, 2.5, 0.5) == pytest.approx(0.55)
    assert pump_efficiency(pump, 0.5) == pytest.approx(0.30)  # held below the first point
    # P ∝ n³ at similar points.
    assert pump_shaft_kw(pump, 3.0, 0.5) == pytest.approx(0.125 * pump_shaft_kw(pump, 6.0))
    assert pump.rated_flow_m3_h == 6.0


def test_a_convex_curve_falls_back_to_its_straight_line() -> None:
    """Points on H = 40·(1 − Q/20)³ + 3: the least-squares parabola bottoms out above 0,
    so the curve is the least-squares line, which runs out where it crosses 0."""
    flows = [0.0, 2.0, 5.0, 9.0, 14.0, 19.0]
    heads = [40 * (1 - q / 20) ** 3 + 3 for q in flows]
    c, b, a = np.polyfit(flows, heads, 2)
    assert c > 0 and b * b - 4 * a * c < 0  # the parabola has no real root
    pump = PumpModel(**{**PARABOLA, "flow_m3_h": flows, "head_m": heads})
    slope, intercept = np.polyfit(flows, heads, 1)
    assert pump_head_m(pump, 7.0) == pytest.approx(intercept + slope * 7.0)
    assert runout_flow_m3_h(pump) == pytest.approx(-intercept / slope)
    assert operating_point(pump, 10.0, Pipe(length_m=50, diameter_mm=80)) is not None


def test_operating_point_of_the_parabola_by_hand() -> None:
    """A 1 m pipe of 1 m bore has practically no friction: 40 − 0.25·Q² = 20 → Q = √80."""
    pump = PumpModel(**PARABOLA)
    pipe = Pipe(length_m=1, diameter_mm=1000)
    op = operating_point(pump, 20.0, pipe)
    assert op is not None
    assert op.flow_m3_h == pytest.approx(math.sqrt(80), rel=1e-6)
    assert op.head_m == pytest.approx(20.0, rel=1e-6)
    eta = float(np.interp(math.sqrt(80), [2, 4, 6, 8, 10], [0.3, 0.5, 0.6, 0.55, 0.4]))
    assert op.hydraulic_kw == pytest.approx(hydraulic_kw(math.sqrt(80), 20.0), rel=1e-6)
    assert op.shaft_kw == pytest.approx(op.hydraulic_kw / eta, rel=1e-6)
    assert op.electric_kw == pytest.approx(op.shaft_kw / 0.8, rel=1e-12)


@pytest.mark.parametrize("speed", [1.0, 0.8, 0.6])
def test_operating_point_lies_on_both_curves(speed: float) -> None:
    pump = catalogue_pump(LORENTZ)
    pipe = Pipe(length_m=150, diameter_mm=50, material="pvc")
    op = operating_point(pump, 12.0, pipe, speed)
    assert op is not None and op.flow_m3_h > 0
    assert op.speed == speed
    assert pump_head_m(pump, op.flow_m3_h, speed) == pytest.approx(op.head_m, rel=1e-6)
    assert system_head_m(op.flow_m3_h, 12.0, pipe) == pytest.approx(op.head_m, rel=1e-9)


def test_no_operating_point_when_the_pump_cannot_lift() -> None:
    pump = PumpModel(**PARABOLA)  # shut-off 40 m at rated speed, 10 m at half speed
    pipe = Pipe(length_m=10, diameter_mm=50)
    assert operating_point(pump, 40.0, pipe) is None
    assert operating_point(pump, 10.0, pipe, 0.5) is None
    assert operating_point(pump, 9.0, pipe, 0.5) is not None
    assert operating_point(pump, 9.0, pipe, 0.0) is None


# --------------------------------------------------------------------------- power ↔ flow


def test_vfd_table_rows_are_similar_points_of_the_rated_curve() -> None:
    """Each row at speed n: (Q/n, H/n²) lies on the rated curve, and its wire-to-water
    efficiency is η1(Q/n)·η_motor (affinity laws)."""
    load = water_load()
    pump = load.pump
    table = power_flow_table(load)
    assert table.electric_kw.size == 24
    assert np.all(np.diff(table.electric_kw) > 0)
    assert np.all(np.diff(table.flow_m3_h) > 0)
    assert table.speed[-1] == 1.0
    for n, q, p_hyd, p_el in zip(table.speed, table.flow_m3_h, table.hydraulic_kw,
                                 table.electric_kw, strict=True):
        head = float(system_head_m(q, load.head_m, load.pipe))
        assert float(pump_head_m(pump, q / n)) == pytest.approx(head / n ** 2, rel=1e-6)
        assert p_hyd == pytest.approx(hydraulic_kw(q, head), rel=1e-9)
        assert p_hyd / p_el == pytest.approx(
            float(pump_efficiency(pump, q / n)) * pump.motor_efficiency_pct / 100, rel=1e-9)
    full = operating_point(pump, load.head_m, load.pipe)
    assert full is not None
    assert table.flow_m3_h[-1] == pytest.approx(full.flow_m3_h)
    assert table.electric_kw[-1] == pytest.approx(full.electric_kw)


def test_vfd_table_starts_at_min_frequency_when_the_pump_is_in_range_there() -> None:
    load = water_load(head_m=5.0, length_m=20.0)
    table = power_flow_table(load)
    assert table.speed[0] == pytest.approx(25.0 / 50.0)
    assert table.flow_m3_h[0] / table.speed[0] >= 2.0  # the first point with an efficiency


def test_vfd_table_starts_where_the_pump_enters_its_operating_range() -> None:
    """At 18 m static head the pump at 25 Hz lifts nothing: the table starts at the higher of
    the site file's lowest useful speed (5 % above the speed that just lifts the static head)
    and the speed where Q/n reaches the first catalogue point with an efficiency."""
    load = water_load(head_m=18.0)
    table = power_flow_table(load)
    lift = math.sqrt(18.0 / load.pump.head_m[0])  # shut-off head n²·H0 = static head
    assert table.speed[0] >= 1.05 * lift - 1e-9
    assert table.flow_m3_h[0] / table.speed[0] >= 2.0 - 1e-6
    assert table.speed[0] == pytest.approx(load.pump.lowest_hz(18.0) / 50.0) or \
        table.flow_m3_h[0] / table.speed[0] == pytest.approx(2.0, rel=1e-6)


def test_fixed_speed_table_is_one_point_twice() -> None:
    load = water_load(drive="fixed")
    assert load.pump.drive == "fixed" and load.start_multiplier > 1
    table = power_flow_table(load)
    full = operating_point(load.pump, load.head_m, load.pipe)
    assert full is not None
    assert table.electric_kw.tolist() == [full.electric_kw] * 2
    assert table.flow_m3_h.tolist() == [full.flow_m3_h] * 2
    assert flow_at_power(table, full.electric_kw * 0.99) == (0.0, 0.0)
    assert flow_at_power(table, full.electric_kw) == (full.flow_m3_h, full.electric_kw)
    assert flow_at_power(table, full.electric_kw * 3) == (full.flow_m3_h, full.electric_kw)


def test_table_is_empty_when_the_pump_cannot_lift() -> None:
    table = power_flow_table(water_load(head_m=60.0))
    assert table.electric_kw.size == table.flow_m3_h.size == table.hydraulic_kw.size == 0
    assert flow_at_power(table, 5.0) == (0.0, 0.0)
    flows, used = flow_at_power(table, np.array([0.0, 5.0]))
    assert np.all(flows == 0) and np.all(used == 0)


def test_another_pump_for_the_same_load() -> None:
    load = water_load()
    other = catalogue_pump("grundfos-sp-5a-12")
    table = power_flow_table(load, other, points=10)
    assert table.electric_kw.size == 10
    full = operating_point(other, load.head_m, load.pipe)
    assert full is not None and table.flow_m3_h[-1] == pytest.approx(full.flow_m3_h)


def test_flow_at_power_interpolates_between_rows() -> None:
    table = PowerFlowTable(electric_kw=np.array([0.2, 0.6, 1.0]),
                           flow_m3_h=np.array([1.0, 5.0, 7.0]),
                           hydraulic_kw=np.array([0.05, 0.3, 0.5]))
    assert flow_at_power(table, 0.1) == (0.0, 0.0)
    assert flow_at_power(table, 0.2) == (1.0, 0.2)
    assert flow_at_power(table, 0.4) == pytest.approx((3.0, 0.4))
    assert flow_at_power(table, 0.8) == pytest.approx((6.0, 0.8))
    assert flow_at_power(table, 2.0) == (7.0, 1.0)
    flows, used = flow_at_power(table, np.array([0.1, 0.4, 2.0]))
    assert np.allclose(flows, [0.0, 3.0, 7.0]) and np.allclose(used, [0.0, 0.4, 1.0])


@cache
def _table(pump_id: str, head_m: float, length_m: float) -> PowerFlowTable:
    return power_flow_table(water_load(pump_id, head_m=head_m, length_m=length_m))


@settings(max_examples=60, deadline=None)
@given(pump_id=st.sampled_from(sorted(PUMP_CATALOGUE)),
       head_m=st.sampled_from([5.0, 10.0, 18.0, 25.0]),
       length_m=st.sampled_from([20.0, 150.0, 400.0]),
       powers_kw=st.lists(st.floats(min_value=0.0, max_value=10.0), min_size=2, max_size=30))
def test_flow_at_power_is_monotone_and_capped(pump_id: str, head_m: float, length_m: float,
                                              powers_kw: list[float]) -> None:
    table = _table(pump_id, head_m, length_m)
    powers = np.sort(np.asarray(powers_kw))
    flows, used = flow_at_power(table, powers)
    assert isinstance(flows, np.ndarray) and isinstance(used, np.ndarray)
    assert np.all(np.diff(flows) >= 0)
    assert np.all(used <= powers + 1e-12)
    full = operating_point(PumpModel(id=pump_id, **PUMP_CATALOGUE[pump_id]), head_m,
                           Pipe(length_m=length_m, diameter_mm=50.0))
    if full is not None:
        assert np.all(flows <= full.flow_m3_h + 1e-9)
    else:
        assert np.all(flows == 0)


@pytest.mark.parametrize("pump_id", sorted(PUMP_CATALOGUE))
def test_wire_to_water_efficiency_stays_within_the_curve(pump_id: str) -> None:
    pump = catalogue_pump(pump_id)
    eta = np.asarray(pump.efficiency_pct) / 100 * pump.motor_efficiency_pct / 100
    lo, hi = eta[eta > 0].min(), eta.max()
    for head_m in (5.0, 12.0, 20.0):
        table = _table(pump_id, head_m, 100.0)
        w2w = table.hydraulic_kw / table.electric_kw
        assert np.all(w2w >= lo - 1e-12) and np.all(w2w <= hi + 1e-12)


# --------------------------------------------------------------------------- the catalogue


@pytest.mark.parametrize("pump_id", sorted(PUMP_CATALOGUE))
def test_catalogue_entry(pump_id: str) -> None:
    entry = PUMP_CATALOGUE[pump_id]
    assert pump_id == pump_id.lower() and " " not in pump_id
    pump = catalogue_pump(pump_id)  # validates
    assert np.all(np.diff(pump.flow_m3_h) > 0) and np.all(np.diff(pump.head_m) < 0)
    assert pump.price_vnd > 0 and pump.life_years > 0
    assert len(entry["source"]) > 40 and "estimate" in entry["source"].lower()
    assert 0.75 <= pump.rated_kw <= 7.5
    # The quadratic fit follows the catalogue's points within 3 % of the shut-off head.
    fit = np.asarray(pump_head_m(pump, np.asarray(pump.flow_m3_h)))
    assert np.max(np.abs(fit - pump.head_m)) <= 0.03 * pump.head_m[0]
    # rated_kw is the electric input this module computes at the best-efficiency point.
    q_bep = pump.rated_flow_m3_h
    p_el = pump_shaft_kw(pump, q_bep) / (pump.motor_efficiency_pct / 100)
    assert pump.rated_kw == pytest.approx(p_el, rel=0.05)
    # It lifts water 10 m through a short pipe, inside its operating range, at rated speed.
    table = power_flow_table(water_load(pump_id, head_m=10.0, length_m=20.0,
                                        diameter_mm=100.0))
    assert table.flow_m3_h.size >= 2 and table.flow_m3_h[-1] > 0
