"""The optimiser with a water pump and its tank (issue 16): tank against battery, a site
without ``[battery]``, the water constraint, and the costs of the tank, the pump and the
water, by hand."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sitefile import Site, parse_site
from sizing.bom import site_prices
from sizing.economics import capital_recovery_factor
from sizing.inputs import read_inputs
from sizing.optimize import apply_design, build_grid, design_dict, optimize, result_json
from sizing.simulate import simulate

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "irrigation-ninh-thuan.toml"


def vineyard(search: dict[str, Any], **sections: dict[str, Any]) -> Site:
    """The example vineyard, one simulated year, with ``search`` and sections replaced."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["search"] = search
    data["reliability"] = {"years": 1}
    for name, section in sections.items():
        data[name] = {**data.get(name, {}), **section}
    return parse_site(data, EXAMPLE.parent, EXAMPLE)


def test_with_cheap_tanks_and_dear_batteries_the_optimiser_stores_water_not_energy() -> None:
    site = vineyard(
        {"kwh": {"min": 0, "max": 10, "step": 5}, "tank_m3": {"min": 0, "max": 80, "step": 40},
         "kwp": {"min": 4, "max": 6, "step": 2}},
        battery={"chemistry": "lfp", "kwh": 5.0},
        economics={"tank_vnd_per_m3": 100_000, "battery_vnd_per_kwh": 40_000_000})
    result = optimize(site, read_inputs(site, 1))
    assert result.best is not None
    best = result_json(result)["best"]
    assert best["design"]["kwh"] == 0.0
    assert best["design"]["tank_m3"] > 0.0
    assert best["water"]["unmet_fraction"] <= site.search.max_unmet_water_fraction  # type: ignore[union-attr]
    # without a tank the morning's water cannot be met whatever the battery: the water
    # constraint is what rules those designs out
    d = result.grid.designs
    no_tank = d.tank_m3 == 0
    assert np.all(result.perf.unmet_water_fraction[no_tank] > 0.02)
    assert not result.feasible[no_tank].any()


def test_a_site_without_battery_optimises_pv_tank_and_pump() -> None:
    site = vineyard({"kwp": {"min": 3, "max": 7, "step": 2},
                     "tank_m3": {"min": 40, "max": 80, "step": 40},
                     "pumps": ["grundfos-sp-9-8", "lorentz-ps2-1800-c-sj8-7"]})
    assert site.battery is None
    grid = build_grid(site)
    assert len(grid.designs) == 3 * 2 * 2
    assert np.all(grid.designs.kwh == 0)
    result = optimize(site, read_inputs(site, 1))
    out = result_json(result)
    assert out["best"] is not None
    assert out["best"]["design"]["pump"] in {"grundfos-sp-9-8", "lorentz-ps2-1800-c-sj8-7"}
    assert "max_unmet_water_fraction" in out["why"]["limits"]
    # the chosen design, applied to the site and simulated, gives the search's water figures
    i = result.best
    assert i is not None
    designed = apply_design(site, design_dict(result.grid.designs, i))
    assert designed.tank is not None and designed.tank.m3 == out["best"]["design"]["tank_m3"]
    assert designed.water_pumps[0].pump.id == out["best"]["design"]["pump"]
    assert designed.battery is None
    sim = simulate(designed, result.inputs).to_json()
    assert sim["water"]["delivered_m3"] == pytest.approx(
        out["best"]["water"]["delivered_m3"], rel=1e-9)
    assert sim["water"]["vnd_per_m3"] == pytest.approx(out["best"]["water"]["vnd_per_m3"],
                                                       rel=1e-9)
    assert sum(m["demand_m3"] for m in sim["water"]["monthly"]) == pytest.approx(
        sim["water"]["demand_m3"])


def test_tank_and_pump_costs_and_the_cost_of_water_by_hand() -> None:
    """A site that only pumps water: its capital holds the tank (m³ × price) and the pump's
    price, with the bill of materials' labour, transport and design; its cost of water is its
    whole NPC, annualised, per m³ delivered."""
    site = vineyard({"tank_m3": {"min": 20, "max": 60, "step": 40}})
    result = optimize(site, read_inputs(site, 1))
    econ = site.economics
    pump = site.water_pumps[0].pump
    d = result.grid.designs
    assert list(d.tank_m3) == [20, 60]
    extra = 1 + sum(site_prices(site).price(k) for k in ("labour", "transport",
                                                         "design_and_permits")) / 100
    assert result.costs.capital_vnd[1] - result.costs.capital_vnd[0] == pytest.approx(
        40 * econ.tank_vnd_per_m3 * extra, rel=1e-9)
    # the tank and the pump are parts of their own (replaced at their lives)
    assert result.priced is not None
    assert result.priced.parts["tank"] == pytest.approx(d.tank_m3 * econ.tank_vnd_per_m3 * extra)
    assert result.priced.parts["pump"] == pytest.approx([pump.price_vnd * extra] * 2)
    assert result.water_vnd_per_m3 is not None
    delivered = result.perf.water["water_delivered_m3"]
    assert result.water_vnd_per_m3 == pytest.approx(
        result.costs.npc_vnd * capital_recovery_factor(econ) / delivered, rel=1e-9)
    # the bigger tank delivers more water
    assert delivered[1] > delivered[0]
