"""The water pump and its tank in the dispatch kernel (issue 16): the water balance, the
pump's energy against the pump curve's efficiency, a variable-speed drive against a fixed-speed
pump, the kernel's power → flow lookup against :mod:`sizing.hydraulics`, and the water rules
(the reserve filled before night, unmet water as an interruption)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitefile import WaterPumpLoad, load_site
from sizing import hydraulics
from sizing.dispatch import (
    SUMMARY_KEYS,
    DispatchConfig,
    DispatchInputs,
    _flow_at_power,
    dispatch,
    dispatch_many,
    no_outages,
)
from sizing.water import pump_tables, water_demand_m3

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "irrigation-ninh-thuan.toml"
DAYS = 4
T = 24 * DAYS


def vineyard() -> WaterPumpLoad:
    """The example vineyard's water pump (Grundfos SP 9-8 on a VFD, 30 m head)."""
    return load_site(EXAMPLE).water_pumps[0]


def with_drive(load: WaterPumpLoad, drive: str) -> WaterPumpLoad:
    return load.model_copy(update={"pump": load.pump.model_copy(update={"drive": drive})})


def config(**kw: object) -> DispatchConfig:
    base: dict[str, object] = dict(
        dt_h=1.0, dc_coupled=True, inverter_eff=0.95, min_soc_frac=0.1, max_soc_frac=1.0,
        initial_soc_frac=0.5, charge_eff=0.95, discharge_eff=0.95, charge_c_rate=0.5,
        discharge_c_rate=0.5, shed_soc_frac=0.3, reconnect_soc_frac=0.45,
        gen_start_soc_frac=0.3, gen_stop_soc_frac=0.8, quiet_start_soc_frac=0.1,
        quiet_stop_soc_frac=0.3, gen_min_run_steps=1, gen_min_load_frac=0.3,
        gen_cycle_charging=False, fuel_l_per_kwh=0.25, fuel_idle_l_per_h_per_kw=0.08,
        cycle_life=6000.0, cycle_life_dod_frac=0.8, cycle_life_exponent=1.3,
        tank_min_frac=0.2, tank_max_frac=0.95, tank_initial_frac=0.5, pump_start_kw=0.2,
        water_customers=1.0)
    base.update(kw)
    return DispatchConfig(**base)  # type: ignore[arg-type]


def inputs(pv: np.ndarray, load_kw: np.ndarray, demand_m3: np.ndarray,
           tables: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
           fill: np.ndarray | None = None) -> DispatchInputs:
    """One continuous load, no deferrable pump; the water pump when ``tables`` is given."""
    n = pv.size
    inp = DispatchInputs(
        pv_kw_per_kwp=pv, load_kw=np.ascontiguousarray(load_kw.reshape(1, n)),
        load_critical=np.array([False]), load_customers=np.array([1.0]),
        load_flexible=np.array([False]), pump_kw=np.zeros(0), pump_daily_kwh=np.zeros(0),
        pump_steps_left=np.zeros((0, n), dtype=np.int64), pump_critical=np.zeros(0, bool),
        pump_customers=np.zeros(0), pump_flexible=np.zeros(0, bool),
        quiet=np.zeros(n, dtype=bool), **no_outages(n))
    if tables is None:
        return inp
    return inp._replace(water_demand_m3=demand_m3,
                        water_fill=np.zeros(n, bool) if fill is None else fill,
                        water_pump_kw=tables[0], water_pump_m3_h=tables[1],
                        water_pump_hydraulic_kw=tables[2])


def bell(steps: int = T, peak: float = 1.0) -> np.ndarray:
    hour = np.arange(steps) % 24
    return peak * np.clip(np.sin((hour - 6) / 12 * np.pi), 0, None)


def morning_demand(daily_m3: float, steps: int = T) -> np.ndarray:
    hour = np.arange(steps) % 24
    return np.where((hour >= 6) & (hour < 9), daily_m3 / 3, 0.0)


def site_tables(load: WaterPumpLoad) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = pump_tables(load, [load.pump])
    return t.electric_kw, t.flow_m3_h, t.hydraulic_kw


@pytest.fixture(scope="module")
def vfd_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return site_tables(vineyard())


# --------------------------------------------------------------------------- the water balance

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), kwp=st.floats(0.0, 8.0),
       kwh=st.sampled_from([0.0, 3.0, 12.0]), tank=st.floats(0.0, 80.0),
       daily=st.floats(0.0, 60.0), gen=st.sampled_from([0.0, 2.0]),
       initial=st.floats(0.0, 0.95), dc=st.booleans())
def test_water_balance_closes_and_the_tank_stays_within_its_levels(
        vfd_tables: tuple[np.ndarray, np.ndarray, np.ndarray], seed: int, kwp: float,
        kwh: float, tank: float, daily: float, gen: float, initial: float, dc: bool) -> None:
    rng = np.random.default_rng(seed)
    pv = bell() * rng.uniform(0.1, 1.0, T)
    fill = (np.arange(T) % 24 >= 15) & (np.arange(T) % 24 < 18)
    inp = inputs(pv, rng.uniform(0.0, 1.0, T), morning_demand(daily) * rng.uniform(0.5, 1.5, T),
                 vfd_tables, fill)
    cfg = config(tank_initial_frac=initial, dc_coupled=dc)
    run = dispatch(inp, cfg, kwp, kwh, inverter_kw=4.0, generator_kw=gen, tank_m3=tank)
    s, dt = run.series, cfg.dt_h
    level = np.concatenate(([tank * initial], s["tank_m3"]))
    pumped = s["water_pumped_m3_h"] * dt
    delivered = s["water_delivered_m3_h"] * dt
    assert np.allclose(np.diff(level), pumped - delivered, atol=1e-9)
    assert np.all(s["tank_m3"] >= -1e-12)
    assert np.all(s["tank_m3"] <= tank * cfg.tank_max_frac + 1e-9)
    assert np.all(delivered <= inp.water_demand_m3 + 1e-12) and np.all(pumped >= 0)
    f = run.summary
    assert f["water_demand_m3"] == pytest.approx(inp.water_demand_m3.sum())
    assert f["water_delivered_m3"] == pytest.approx(delivered.sum())
    assert f["water_pumped_m3"] == pytest.approx(pumped.sum())
    assert f["water_unmet_m3"] == pytest.approx(f["water_demand_m3"] - delivered.sum(),
                                                abs=1e-9)
    assert f["tank_min_m3"] == pytest.approx(level.min())
    # the pump's energy is load, served: the energy balance still closes every step
    soc = np.concatenate(([kwh * cfg.initial_soc_frac], s["soc_kwh"]))
    d_soc = np.diff(soc)
    supply = (s["pv_kw"] + s["generator_kw"] + s["unmet_kw"] + s["load_curtailed_kw"]) * dt \
        + np.maximum(-d_soc, 0)
    use = (s["load_kw"] + s["curtailed_kw"] + s["losses_kw"]) * dt + np.maximum(d_soc, 0)
    assert np.max(np.abs(supply - use)) < 1e-6
    assert f["pump_kwh"] == pytest.approx((s["pump_kw"] * dt).sum())
    assert np.all(s["pump_kw"] <= vfd_tables[0].max() + 1e-9)
    # dispatch_many gives the same figures
    many = dispatch_many(inp, cfg, np.array([kwp]), np.array([kwh]), inverter_kw=4.0,
                         generator_kw=gen, tank_m3=tank)
    assert many.summary[0] == pytest.approx([f[k] for k in SUMMARY_KEYS], rel=1e-12, abs=1e-9)


def test_without_a_water_pump_the_figures_are_those_of_a_pump_that_never_runs(
        vfd_tables: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Empty water inputs (every site before issue 16) against a water pump with no demand
    and no tank, which never runs: the electric figures and series are the same."""
    rng = np.random.default_rng(7)
    pv, load = bell() * rng.uniform(0.2, 1.0, T), rng.uniform(0.2, 1.5, T)
    cfg = config()
    dry = inputs(pv, load, np.zeros(T), None)
    idle = inputs(pv, load, np.zeros(T), vfd_tables)
    for kwh, gen in ((0.0, 0.0), (6.0, 0.0), (6.0, 2.0)):
        a = dispatch(dry, cfg, 3.0, kwh, inverter_kw=3.0, generator_kw=gen)
        b = dispatch(idle, cfg, 3.0, kwh, inverter_kw=3.0, generator_kw=gen, tank_m3=0.0)
        assert b.summary["pump_kwh"] == 0.0 and b.summary["water_pumped_m3"] == 0.0
        assert b.summary == pytest.approx(a.summary, rel=1e-12, abs=1e-12)
        for k, v in a.series.items():
            assert b.series[k] == pytest.approx(v, rel=1e-12, abs=1e-12)


# --------------------------------------------------------------------------- pump physics


def test_hydraulic_energy_over_electric_energy_lies_within_the_pump_curves_efficiency(
        vfd_tables: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """ρ·g·H·V of the water pumped each step (H the system head at the step's flow, from
    sizing.hydraulics) over the pump's electric energy lies between the lowest and highest
    η_pump·η_motor of the curve's operating points (1 % for the table's linear
    interpolation of a quadratic head)."""
    load = vineyard()
    rng = np.random.default_rng(3)
    pv = bell() * rng.uniform(0.05, 1.0, T)
    inp = inputs(pv, np.zeros(T), morning_demand(40.0), vfd_tables)
    run = dispatch(inp, config(), 4.0, 0.0, inverter_kw=4.0, tank_m3=60.0)
    s = run.series
    on = s["pump_kw"] > 0
    assert on.sum() > 10
    table = hydraulics.power_flow_table(load)
    eta = np.array([hydraulics.pump_efficiency(load.pump, q, n) for q, n in
                    zip(table.flow_m3_h, table.speed, strict=True)]) \
        * load.pump.motor_efficiency_pct / 100.0
    # each step: the flow while running (a step below the lowest speed runs part time)
    share = np.minimum(s["water_pumped_m3_h"][on] / table.flow_m3_h[0], 1.0)
    share = np.where(s["water_pumped_m3_h"][on] >= table.flow_m3_h[0], 1.0, share)
    flow = s["water_pumped_m3_h"][on] / share
    head = hydraulics.system_head_m(flow, load.head_m, load.pipe)
    volume = s["water_pumped_m3_h"][on] * 1.0
    hyd_kwh = hydraulics.RHO_WATER_KG_M3 * hydraulics.G_M_S2 * head * volume / 3.6e6
    ratio = hyd_kwh / (s["pump_kw"][on] * 1.0)
    assert ratio.min() >= eta.min() * 0.99
    assert ratio.max() <= eta.max() * 1.01
    # and the kernel's own hydraulic energy agrees with the independent one
    assert run.summary["hydraulic_kwh"] == pytest.approx(hyd_kwh.sum(), rel=0.01)
    assert hyd_kwh.sum() == pytest.approx(float(np.sum(hydraulics.hydraulic_kwh(volume, head))),
                                          rel=1e-9)


def test_a_vfd_pump_delivers_on_a_weak_morning_when_a_fixed_speed_pump_delivers_none() -> None:
    """A hazy morning: the array gives at most 60 % of the pump's rated power. The VFD pump
    slows down and lifts water; the same pump at fixed speed never has its rated power."""
    load = vineyard()
    fixed = with_drive(load, "fixed")
    vfd_t, fixed_t = site_tables(load), site_tables(fixed)
    rated_kw = float(fixed_t[0][0, 0])
    assert fixed_t[0][0, 0] == fixed_t[0][0, -1]  # one operating point
    pv_kw = bell(24, peak=0.6 * rated_kw)  # kW for 1 kWp
    demand = np.zeros(24)
    results = {}
    for name, tables in (("vfd", vfd_t), ("fixed", fixed_t)):
        inp = inputs(pv_kw, np.zeros(24), demand, tables)
        run = dispatch(inp, config(tank_initial_frac=0.0), 1.0, 0.0, inverter_kw=5.0,
                       tank_m3=60.0)
        results[name] = run.summary["water_pumped_m3"]
    assert results["fixed"] == 0.0
    assert results["vfd"] > 1.0


@settings(max_examples=200, deadline=None)
@given(available=st.floats(0.0, 4.0), drive=st.sampled_from(["vfd", "fixed"]),
       head=st.floats(5.0, 45.0))
def test_the_kernels_flow_at_power_is_hydraulics_flow_at_power(
        available: float, drive: str, head: float) -> None:
    load = with_drive(vineyard(), drive).model_copy(update={"head_m": head})
    table = hydraulics.power_flow_table(load)
    t = pump_tables(load, [load.pump])
    flow, used, hyd = _flow_at_power(t.electric_kw, t.flow_m3_h, t.hydraulic_kw, 0, available)
    ref_flow, ref_used = hydraulics.flow_at_power(table, available)
    assert flow == pytest.approx(ref_flow, rel=1e-12, abs=1e-12)
    assert used == pytest.approx(ref_used, rel=1e-12, abs=1e-12)
    if table.electric_kw.size:
        assert hyd == pytest.approx(float(np.interp(used, table.electric_kw,
                                                    table.hydraulic_kw)) if ref_flow else 0.0)


# --------------------------------------------------------------------------- the water rules


def test_the_reserve_is_filled_before_night_from_the_battery_and_only_then(
        vfd_tables: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """No sun at all: a tank below its reserve is filled from the battery only in the fill
    window, up to the reserve, never above it."""
    n = 24
    fill = (np.arange(n) >= 15) & (np.arange(n) < 18)
    inp = inputs(np.zeros(n), np.zeros(n), np.zeros(n), vfd_tables, fill)
    cfg = config(tank_initial_frac=0.0, initial_soc_frac=1.0, tank_min_frac=0.2)
    run = dispatch(inp, cfg, 0.0, 20.0, inverter_kw=4.0, tank_m3=40.0)
    s = run.series
    assert np.all(s["pump_kw"][~fill] == 0.0)
    assert s["tank_m3"][-1] == pytest.approx(0.2 * 40.0)
    assert s["battery_kw"][fill].min() < 0  # it came from the battery
    # the battery stops at the shed floor: a battery at the floor fills nothing
    low = dispatch(inp, cfg._replace(initial_soc_frac=cfg.shed_soc_frac), 0.0, 20.0,
                   inverter_kw=4.0, tank_m3=40.0)
    assert low.summary["water_pumped_m3"] == 0.0


def test_unmet_water_is_an_interruption_of_the_pump_loads_customers(
        vfd_tables: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """An empty tank, no sun: the field's 3 morning hours are unmet each day: one
    interruption of 180 min a day, of the load's 5 customers (the continuous load is 0)."""
    inp = inputs(np.zeros(T), np.zeros(T), morning_demand(30.0), vfd_tables)
    run = dispatch(inp, config(tank_initial_frac=0.0, water_customers=5.0), 0.0, 0.0,
                   inverter_kw=4.0, tank_m3=10.0)
    f = run.summary
    assert f["water_unmet_m3"] == pytest.approx(30.0 * DAYS)
    assert f["unmet_kwh"] == 0.0
    assert run.series["interrupted"].sum() == 3 * DAYS
    flexible = dispatch(inp, config(tank_initial_frac=0.0, water_flexible=True), 0.0, 0.0,
                        inverter_kw=4.0, tank_m3=10.0)
    assert flexible.series["interrupted"].sum() == 0


def test_the_fields_draw_spreads_each_months_daily_water_over_the_window() -> None:
    import pandas as pd  # noqa: PLC0415

    load = vineyard()
    index = pd.date_range("2025-01-01", periods=8760, freq="h", tz="Asia/Ho_Chi_Minh")
    demand = water_demand_m3(load, index)
    per_day = pd.Series(demand, index=index).groupby(index.date).sum()
    months = pd.DatetimeIndex(per_day.index).month
    assert per_day.to_numpy() == pytest.approx(
        np.asarray(load.flow_m3_per_day)[months - 1])
    hours = np.unique(index.hour[demand > 0])
    assert hours.tolist() == [6, 7, 8, 9]  # irrigation 6–10 h
