"""Which loads are cut, and why (:func:`controller.cycle.supply_cuts`), and the planned cut
command's pure part (:func:`controller.commands.planned_cut`)."""

from __future__ import annotations

from typing import Any

import pytest

from controller.commands import PlannedCut, planned_cut
from controller.cycle import SupplyCut, supply_cuts
from controller.errors import CommandError
from controller.model import Plan
from sitefile import Site, load_site, parse_site
from store.contract import Command
from tests.conftest import SHRIMP

BASE = load_site(SHRIMP)


def site_with(**farmhouse: Any) -> Site:
    data = BASE.model_dump()
    data["loads"][1].update(farmhouse)
    return parse_site(data, file=BASE.source)


SITE = site_with(customers=5)
AER = [("aerators", u) for u in range(6)]


def plan(off: dict[tuple[str, int], str]) -> Plan:
    """Every unit on, except ``off`` (unit → the strategy that holds it off)."""
    units = {**dict.fromkeys([*AER, ("farmhouse", 0), ("exchange-pump", 0)], True),
             **dict.fromkeys(off, False)}
    return Plan(units=units, by={k: off.get(k, "aeration") for k in units})


def test_shedding_interrupts_customers_and_curtails_the_flexible_pump() -> None:
    cuts = supply_cuts(SITE, plan({("farmhouse", 0): "load_shedding",
                                   ("exchange-pump", 0): "load_shedding"}),
                       tripped=False, planned=False)
    assert cuts == {"farmhouse": SupplyCut("load_shedding", 5),
                    "exchange-pump": SupplyCut("load_shedding", 1, curtailment=True)}


def test_an_off_by_the_operator_or_the_schedule_is_no_cut() -> None:
    cuts = supply_cuts(SITE, plan({("farmhouse", 0): "overrides",
                                   ("exchange-pump", 0): "deferrable"}),
                       tripped=False, planned=False)
    assert cuts == {}


def test_one_aerator_held_off_by_protection_cuts_the_load() -> None:
    cuts = supply_cuts(SITE, plan({AER[5]: "battery_protection"}), tripped=False,
                       planned=False)
    assert cuts == {"aerators": SupplyCut("battery_protection", 1)}


def test_a_trip_cuts_every_load_and_a_planned_cut_every_customer() -> None:
    tripped = supply_cuts(SITE, plan({}), tripped=True, planned=False)
    assert {n: (c.cause, c.curtailment) for n, c in tripped.items()} == {
        "aerators": ("inverter_trip", False), "farmhouse": ("inverter_trip", False),
        "exchange-pump": ("inverter_trip", True)}
    # During a planned cut, the trip is part of it; the flexible pump is not curtailed by it.
    both = supply_cuts(SITE, plan({}), tripped=True, planned=True)
    assert both["farmhouse"] == SupplyCut("planned", 5, planned=True)
    assert both["aerators"].planned and both["exchange-pump"].cause == "inverter_trip"
    assert set(supply_cuts(SITE, plan({}), tripped=False, planned=True)) == {
        "aerators", "farmhouse"}


def test_a_load_of_nobody_still_records_its_cut() -> None:
    site = site_with(customers=0)
    cuts = supply_cuts(site, plan({("farmhouse", 0): "load_shedding"}), tripped=False,
                       planned=False)
    assert cuts == {"farmhouse": SupplyCut("load_shedding", 0)}


def command(**value: Any) -> Command:
    return Command(id=1, created_ts=0.0, kind="planned_cut", target=None, value=value,
                   requested_by="ops")


def test_planned_cut_start_and_end() -> None:
    cut, result = planned_cut(command(action="start", reason="new battery"), None, 1000.0)
    assert cut == PlannedCut(1000.0, "new battery", "ops")
    assert result["ends_by_ts"] == 1000.0 + 72 * 3600
    assert PlannedCut.restored(cut.saved()) == cut and PlannedCut.restored(None) is None
    with pytest.raises(CommandError, match="in progress"):
        planned_cut(command(action="start", reason="again"), cut, 2000.0)
    gone, result = planned_cut(command(action="end"), cut, 4000.0)
    assert gone is None and result["minutes"] == pytest.approx(50.0)
    with pytest.raises(CommandError, match="no planned cut"):
        planned_cut(command(action="end"), None, 5000.0)
