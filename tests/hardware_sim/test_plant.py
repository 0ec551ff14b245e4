"""The plant model, stepped in virtual time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardware_sim.inputs import build_inputs, hour_of_year
from hardware_sim.plant import GenState, InverterState, Plant, Stage, terminal_v
from tests.hardware_sim.conftest import DUSK, NOON, shrimp_data, site_with

AERATORS = range(6)
PUMP, HOUSE = 6, 7


def balance_error(p: Plant, stored0: float) -> float:
    e = p.energy
    supplied = e.pv_kwh + e.generator_kwh
    used = ((p.soc_kwh - stored0) + e.battery_loss_kwh + e.inverter_loss_kwh
            + e.charger_loss_kwh + e.served_kwh)
    return abs(supplied - used)


def stagger(p: Plant, channels: range | list[int], spacing_s: float = 5) -> None:
    for ch in channels:
        p.set_relay("relays", ch, True)
        p.advance(spacing_s)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # a pure factory
@given(
    start_h=st.integers(0, 23),
    soc=st.floats(10, 100),
    actions=st.lists(st.tuples(st.integers(0, 9), st.floats(0.2, 900)), max_size=12),
)
def test_energy_balance_closes(make_plant: Callable[..., Plant], start_h: int, soc: float,
                               actions: list[tuple[int, float]]) -> None:
    p = make_plant(DUSK + timedelta(hours=start_h))
    p.soc_kwh = p.site.battery.kwh * soc / 100
    stored0 = p.soc_kwh
    for what, seconds in actions:
        if what < 8:
            p.set_relay("relays", what, not p.relays["relays"][what])
        elif what == 8:
            p.generator_command(p.gen is GenState.STANDBY)
        else:
            p.reset_inverter()
        p.advance(seconds)
        assert balance_error(p, stored0) < 1e-6
        b = p.site.battery
        assert b.min_soc_pct - 1e-9 <= p.soc_pct <= b.max_soc_pct + 1e-9


def test_balance_over_a_day_with_the_farm_running(make_plant: Callable[..., Plant]) -> None:
    p = make_plant(DUSK)
    stored0 = p.soc_kwh
    stagger(p, [*AERATORS, HOUSE])
    p.generator_command(True)
    p.advance(3 * 3600)
    p.generator_command(False)
    p.advance(21 * 3600)
    e = p.energy
    assert e.pv_kwh > 100 and e.generator_kwh > 10 and e.served_kwh > 150
    assert balance_error(p, stored0) < 1e-6


def test_night_without_aeration_goes_below_3_within_hours(make_plant: Callable[..., Plant]
                                                          ) -> None:
    p = make_plant(DUSK)
    start_do = p.do_mg_l
    hours = 0.0
    while p.do_mg_l >= 3.0 and hours < 12:
        p.advance(600)
        hours += 600 / 3600
    assert start_do > 5.0
    assert hours <= 6.0, f"DO still {p.do_mg_l:.2f} mg/L after {hours:.1f} h"


def test_aeration_recovers_oxygen(make_plant: Callable[..., Plant]) -> None:
    still, aerated = make_plant(DUSK), make_plant(DUSK)
    for p in (still, aerated):
        p.advance(6 * 3600)
    assert aerated.do_mg_l < 3.0
    low = aerated.do_mg_l
    stagger(aerated, AERATORS)
    aerated.advance(2 * 3600)
    still.advance(2 * 3600 + 30)
    assert aerated.do_mg_l > low + 0.3
    assert aerated.do_mg_l > still.do_mg_l + 0.5


def test_oxygen_rises_by_day(make_plant: Callable[..., Plant]) -> None:
    p = make_plant(NOON - timedelta(hours=4))  # 08:00 local
    start = p.do_mg_l
    p.advance(4 * 3600)
    assert p.do_mg_l > start


def test_simultaneous_starts_trip_and_need_a_reset(make_plant: Callable[..., Plant]) -> None:
    p = make_plant(DUSK)
    for ch in (0, 1, 2):  # 3 × 7 × 1.5 kW = 31.5 kW > 30 kW surge
        p.set_relay("relays", ch, True)
    p.advance(1)
    assert p.inverter is InverterState.FAULT
    p.advance(600)
    assert p.inverter is InverterState.FAULT and p.load_w == 0
    assert p.energy.unserved_kwh > 0
    p.reset_inverter()  # relays still closed: all three start together again
    p.advance(1)
    assert p.inverter is InverterState.FAULT
    for ch in (0, 1, 2):
        p.set_relay("relays", ch, False)
    p.reset_inverter()
    stagger(p, AERATORS)
    p.advance(60)
    assert p.inverter is InverterState.ON
    assert p.load_w == pytest.approx(9000, rel=0.02)


def test_two_starts_at_once_fit_the_surge(make_plant: Callable[..., Plant]) -> None:
    p = make_plant(DUSK)
    for ch in (0, 1):  # 2 × 10.5 kW = 21 kW < 30 kW
        p.set_relay("relays", ch, True)
    p.advance(10)
    assert p.inverter is InverterState.ON


def test_sustained_overload_trips_after_surge_time() -> None:
    data = shrimp_data()
    data["inverter"].update(kw=8, surge_kw=30, surge_s=5)
    site = site_with(data)
    p = Plant(site, build_inputs(site), DUSK)
    stagger(p, range(5), spacing_s=2)  # 7.5 kW: within the rating
    p.advance(30)
    assert p.inverter is InverterState.ON
    p.set_relay("relays", 5, True)  # 9 kW > 8 kW
    p.advance(4)
    assert p.inverter is InverterState.ON
    p.advance(3)
    assert p.inverter is InverterState.FAULT


def test_generator_start_delay_and_output(make_plant: Callable[..., Plant]) -> None:
    p = make_plant(DUSK)
    stagger(p, AERATORS)
    delay = p.site.generator.start_delay_s
    p.generator_command(True)
    p.advance(delay - 1)
    assert p.gen is GenState.CRANKING and p.gen_w == 0
    p.advance(2)
    assert p.gen is GenState.RUNNING
    p.advance(60)
    assert p.gen_w == pytest.approx(p.site.generator.kw * 1000, rel=1e-6)  # loads + charging
    assert p.battery_w > 0  # the spare power charges the battery
    fuel = p.fuel_l
    p.advance(3600)
    g = p.site.generator
    assert g is not None
    assert fuel - p.fuel_l == pytest.approx(g.fuel_l_per_h_idle + g.fuel_l_per_kwh * g.kw,
                                            rel=0.01)  # an hour at full output
    p.generator_command(False)
    p.advance(1)
    assert p.gen is GenState.STANDBY and p.gen_w == 0


def test_low_battery_shuts_the_inverter_down_until_recharged(
        make_plant: Callable[..., Plant]) -> None:
    p = make_plant(DUSK)
    b = p.site.battery
    p.soc_kwh = b.kwh * (b.min_soc_pct + 0.5) / 100
    stagger(p, AERATORS)
    p.advance(3600)
    assert p.inverter is InverterState.OFF
    assert p.energy.unserved_kwh > 1
    assert p.soc_pct >= b.min_soc_pct - 1e-9
    for ch in AERATORS:  # a restart with every motor on would start them all at once
        p.set_relay("relays", ch, False)
    p.advance(18 * 3600)  # through the next morning's sun
    assert p.inverter is InverterState.ON


@pytest.mark.parametrize(("soc", "stage"), [(50, Stage.BULK), (97, Stage.ABSORPTION),
                                             (99.9, Stage.FLOAT)])
def test_charge_stages_at_noon(make_plant: Callable[..., Plant], soc: float,
                               stage: Stage) -> None:
    p = make_plant(NOON)
    p.soc_kwh = p.site.battery.kwh * soc / 100
    p.advance(1)
    assert p.stage is stage


def test_no_charging_at_night(make_plant: Callable[..., Plant]) -> None:
    p = make_plant(DUSK + timedelta(hours=4))
    p.advance(1)
    assert p.stage is Stage.OFF and p.pv_w == 0


def test_absorption_tapers_charge_power(make_plant: Callable[..., Plant]) -> None:
    bulk, absorb = make_plant(NOON), make_plant(NOON)
    bulk.soc_kwh = bulk.site.battery.kwh * 0.5
    absorb.soc_kwh = absorb.site.battery.kwh * 0.99
    bulk.advance(1)
    absorb.advance(1)
    assert absorb.battery_w < 0.5 * bulk.battery_w
    assert absorb.energy.curtailed_kwh > 0


def test_low_voltage_disconnect_of_the_load_output(make_plant: Callable[..., Plant]) -> None:
    p = make_plant(DUSK)
    cc = p.controllers["mppt-1"]
    cc.lvd_v, cc.lvr_v = p.battery_v + 0.5, p.battery_v + 2.0
    p.advance(1)
    assert cc.lvd and not cc.load_output_on
    assert not p.controllers["mppt-2"].lvd
    cc.lvr_v = p.battery_v - 0.1
    p.advance(1)
    assert not cc.lvd


@given(st.sampled_from(["lfp", "lead_acid"]), st.floats(0, 99), st.floats(0.1, 1))
def test_terminal_voltage_rises_with_soc_and_charging(chem: str, soc: float, step: float
                                                      ) -> None:
    v = terminal_v(soc, 0, chem, 48, 10)
    assert terminal_v(soc + step, 0, chem, 48, 10) >= v
    assert terminal_v(soc, 2000, chem, 48, 10) > v > terminal_v(soc, -2000, chem, 48, 10)


def test_pv_follows_sizing_and_the_seed(make_plant: Callable[..., Plant]) -> None:
    hour = hour_of_year(NOON.astimezone(make_plant().site.tz))
    a, b, c = make_plant(NOON, seed=1), make_plant(NOON, seed=1), make_plant(NOON, seed=2)
    series: dict[int, list[float]] = {1: [], 2: [], 3: []}
    for _ in range(600):
        for k, p in ((1, a), (2, b), (3, c)):
            p.advance(1)
            series[k].append(p.pv_avail_w / 1000)
    assert series[1] == series[2]
    assert series[1] != series[3]
    hourly = a.inputs.pv_bus_kw[int(hour)]
    mean = sum(series[1]) / len(series[1])
    assert mean == pytest.approx(hourly, rel=0.35)
    assert max(series[1]) > min(series[1])  # clouds flicker within the hour
