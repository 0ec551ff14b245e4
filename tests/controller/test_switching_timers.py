"""Switching timers on a relay-switched load (virtual time, cycle by cycle): minimum on and
off times and a compressor's restart delay; battery protection still switches off at once."""

from __future__ import annotations

from typing import Any

from controller import switching
from controller.model import Plan, State
from sitefile import Site
from tests.controller.test_strategies import SITE, all_outputs, run_cycles, snap

HOUSE = ("farmhouse", 0)
STEP_S = 5.0


def timed(**timers: float) -> Site:
    loads: list[Any] = [ld.model_copy(update=timers) if ld.name == "farmhouse" else ld
                        for ld in SITE.loads]
    return SITE.model_copy(update={"loads": loads})


def house_on(site: Site, socs: list[float]) -> tuple[list[bool], list[Plan]]:
    """The farmhouse relay after each cycle, 5 s apart, by day with these SOCs."""
    plans, _ = run_cycles(site, [snap(h=12.0, soc=s, load_w=1000.0) for s in socs],
                          outputs={**all_outputs(False), "aerators": (True,) * 6},
                          step_s=STEP_S)
    out, on = [], False
    for p in plans:
        on = p.units.get(HOUSE, on)
        out.append(on)
    return out, plans


def at(t: float) -> int:
    return round(t / STEP_S)


def test_shedding_waits_for_min_on_and_reconnection_for_the_restart_delay() -> None:
    site = timed(min_on_s=600.0, min_off_s=60.0, restart_delay_s=180.0)
    # on at 0 s (SOC 70 %); from 60 s SOC 20 % sheds it: held on until 0 + 600 s;
    # from 605 s SOC 70 % reconnects it: held off until 600 + max(60, 180) = 780 s.
    socs = [70.0] * at(60) + [20.0] * (at(605) - at(60)) + [70.0] * (at(900) - at(605))
    on, plans = house_on(site, socs)
    assert on[at(0)]
    assert on[at(595)] and plans[at(595)].by[HOUSE] == switching.TIMERS_BY
    assert not on[at(600)]
    assert not on[at(775)] and plans[at(775)].by[HOUSE] == switching.TIMERS_BY
    assert on[at(780)]


def test_without_timers_it_follows_at_once() -> None:
    socs = [70.0] * at(60) + [20.0] * (at(605) - at(60)) + [70.0] * (at(700) - at(605))
    on, _ = house_on(SITE, socs)
    assert on[at(55)] and not on[at(60)] and on[at(605)]


def test_battery_protection_switches_off_at_once_and_the_restart_delay_still_holds() -> None:
    site = timed(min_on_s=600.0, restart_delay_s=180.0)
    # on at 0 s; SOC 5 % at 30 s (below the 10 % minimum): off at once, whatever min_on_s;
    # SOC back to 70 % from 35 s: on again only 180 s after the switch-off, at 210 s.
    socs = [70.0] * at(30) + [5.0] + [70.0] * (at(400) - at(35))
    on, plans = house_on(site, socs)
    assert on[at(25)] and not on[at(30)]
    assert plans[at(30)].by[HOUSE] == "battery_protection"
    assert not on[at(205)] and on[at(210)]


def test_min_off_alone_delays_switching_on() -> None:
    site = timed(min_off_s=100.0)
    socs = [70.0] * at(30) + [5.0] + [70.0] * (at(300) - at(35))
    on, _ = house_on(site, socs)
    assert not on[at(125)] and on[at(130)]


def test_hold_s_is_the_longer_of_min_off_and_the_restart_delay() -> None:
    load = timed(min_on_s=10.0, min_off_s=60.0, restart_delay_s=180.0).loads[1]
    assert load.name == "farmhouse"
    assert switching.hold_s(load, True) == 10.0
    assert switching.hold_s(load, False) == 180.0


def test_an_unknown_relay_or_a_unit_never_switched_is_not_held() -> None:
    site = timed(min_on_s=600.0)
    plan = Plan(units={HOUSE: False}, by={HOUSE: "load_shedding"})
    never = switching.hold_timers(plan, snap(outputs=all_outputs(True)), State(), site, 10.0)
    assert never.units[HOUSE] is False
    state = State(switched_mono={HOUSE: 0.0})
    unknown = {**all_outputs(True), "farmhouse": (None,)}
    assert switching.hold_timers(plan, snap(outputs=unknown), state, site, 10.0) is plan
    held = switching.hold_timers(plan, snap(outputs=all_outputs(True)), state, site, 10.0)
    assert held.units[HOUSE] is True
