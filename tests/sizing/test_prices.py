"""The price table: its data are dated and sourced, lookups round up, overrides apply."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitefile import load_site
from sizing.bom import ECONOMICS_PRICES, priced, site_prices
from sizing.electrical import load_catalogue
from sizing.optimize import apply_design
from sizing.prices import PRICES_FILE, PriceError, load_prices, parse_prices
from tests.conftest import SHRIMP

TABLE = load_prices()


def test_every_item_has_value_unit_date_and_source() -> None:
    assert TABLE.items, "the table is empty"
    for key, e in TABLE.items.items():
        assert e.key == key
        assert e.value >= 0
        assert e.unit and e.source
        assert len(e.date) == 7 and e.date[4] == "-", f"{key}: date {e.date!r} is not YYYY-MM"
        # A source is a URL, a document, or an estimate that states its basis.
        assert e.source.startswith(("http", "estimate: ")) or len(e.source) > 20


def test_the_issue_s_items_are_priced() -> None:
    for key in ("pv_module", "mounting_roof", "mounting_ground", "lfp_battery",
                "hybrid_inverter", "diesel_genset", "genset_controller", "controller_box",
                "relay_board", "do_probe", "energy_meter_1ph", "energy_meter_3ph", "labour",
                "transport"):
        assert key in TABLE.items
    assert TABLE.entry("pv_module").unit == "VND/Wp"
    assert TABLE.entry("lfp_battery").unit == "VND/kWh"
    assert TABLE.entry("labour").unit.startswith("%")


def test_module_price_is_the_module_only_not_the_all_in_system_price() -> None:
    # The all-in rooftop price is 7.5–8 M VND/kWp (DESIGN.md §4); the module alone is well
    # under half of it: 3,000 VND/Wp × 1,000 Wp/kWp = 3.0 M VND/kWp.
    assert TABLE.price("pv_module") * 1000 < 0.5 * 8_000_000


def test_charge_controllers_come_from_their_catalogue() -> None:
    assert not any("controller" in k and "charge" in k for k in TABLE.items)
    cat = load_catalogue()
    for model_id, model in cat.items():
        assert TABLE.charge_controller_vnd(model_id) == model.price_vnd
    with pytest.raises(PriceError):
        TABLE.charge_controller_vnd("no-such-controller")


def test_cable_lookup_rounds_up_to_the_next_section() -> None:
    # Listed: 10, 16, 25 mm². 12 mm² → the 16 mm² price; 16 → itself; 16.0000000001 → itself.
    assert TABLE.cable_section_mm2(12) == 16
    assert TABLE.cable_vnd_per_m(12) == TABLE.cable_vnd_per_m(16) == 52_000
    assert TABLE.cable_vnd_per_m(10) == 33_000
    assert TABLE.cable_vnd_per_m(4, "solar") == 16_000
    with pytest.raises(PriceError):
        TABLE.cable_vnd_per_m(300)
    with pytest.raises(PriceError):
        TABLE.cable_vnd_per_m(4, "aluminium")  # type: ignore[arg-type]


def test_breaker_lookup_rounds_up_to_the_next_rating() -> None:
    # mcb_ac lists 25 and 32 A: 30 A → the 32 A price 280,000 VND.
    assert TABLE.breaker_rating_a(30, "mcb_ac") == 32
    assert TABLE.breaker_vnd(30, "mcb_ac") == 280_000
    # A 48 V battery bus at 180 A → the 200 A DC MCCB (2.8 M VND) and fuse (1.3 M VND).
    assert TABLE.breaker_vnd(180, "mccb_dc") == 2_800_000
    assert TABLE.breaker_vnd(180, "fuse_battery") == 1_300_000
    assert TABLE.breaker_vnd(999, "spd_dc") == 450_000  # one size for any rating
    with pytest.raises(PriceError):
        TABLE.breaker_vnd(1000, "mccb_ac")


def test_ladders_cost_more_for_bigger_sizes() -> None:
    for ladders in (TABLE.cables, TABLE.breakers):
        for kind, lad in ladders.items():
            assert list(lad.sizes) == sorted(lad.sizes), kind
            assert all(b >= a for a, b in zip(lad.vnd, lad.vnd[1:], strict=False)), kind


@given(st.floats(0.5, 240), st.floats(0.5, 240))
def test_cable_price_never_falls_with_section(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert TABLE.cable_vnd_per_m(lo) <= TABLE.cable_vnd_per_m(hi)


def test_overrides_replace_values_and_say_so() -> None:
    t = load_prices({"pv_module": 2800, "cable": {"copper": {"16": 50_000, "300": 900_000}},
                     "breakers": {"mccb_dc": {"250": 3_000_000}}})
    assert t.price("pv_module") == 2800
    assert t.entry("pv_module").source == "site file"
    assert t.entry("pv_module").unit == "VND/Wp"  # the unit stays the table's
    assert t.cable_vnd_per_m(16) == 50_000
    assert t.cable_vnd_per_m(300) == 900_000  # a new section
    assert t.breaker_vnd(250, "mccb_dc") == 3_000_000
    assert "site file" in t.cables["copper"].source
    # The package's table is untouched.
    assert load_prices().price("pv_module") == 3000


@pytest.mark.parametrize(("over", "key"), [
    ({"pv_modules": 1}, "economics.prices.pv_modules"),
    ({"pv_module": -1}, "economics.prices.pv_module"),
    ({"pv_module": "cheap"}, "economics.prices.pv_module"),
    ({"cable": {"aluminium": {"16": 1}}}, "economics.prices.cable.aluminium"),
    ({"breakers": {"mcb_ac": {"x": 1}}}, "economics.prices.breakers.mcb_ac.x"),
])
def test_bad_overrides_name_their_key(over: dict[str, Any], key: str) -> None:
    with pytest.raises(PriceError) as e:
        load_prices(over)
    assert e.value.key == key


def test_the_table_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        TABLE.vnd_per_usd = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        TABLE.items["pv_module"] = TABLE.items["labour"]  # type: ignore[index]


def test_parse_is_pure_over_the_document() -> None:
    data = tomllib.loads(PRICES_FILE.read_text(encoding="utf-8"))
    assert parse_prices(data) == load_prices()


def test_estimates_are_listed_for_the_assumptions_page() -> None:
    est = TABLE.estimates()
    assert "pv_module" in est
    assert all(TABLE.entry(k).source.startswith("estimate") for k in est)
    assert "pv_module" not in load_prices({"pv_module": 2800}).estimates()


def test_the_site_files_own_prices_replace_the_tables() -> None:
    """The shrimp example gives its battery, inverter and generator prices and its
    installation share: the bill of materials uses them (source "site file"); a key the site
    file leaves out keeps the table's dated price."""
    site = load_site(SHRIMP)
    econ = site.economics
    table = site_prices(site)
    for key, item in ECONOMICS_PRICES.items():
        assert key in econ.model_fields_set  # the example sets them all
        assert table.price(item) == getattr(econ, key)
        assert table.items[item].source == "site file"
    assert table.price("pv_module") == TABLE.price("pv_module")
    bare = site.model_copy(update={"economics": type(econ)()})
    assert site_prices(bare).price("lfp_battery") == TABLE.price("lfp_battery")


def test_a_design_that_cannot_be_built_costs_infinity() -> None:
    """150 kW on the shrimp farm's 48 V bus is about 3,100 A from the battery: beyond four
    300 mm² cables in parallel. The search prices it at infinity (never chosen); 27 kW is
    priced."""
    site = load_site(SHRIMP)
    cost = {}
    for kw in (27.0, 150.0):
        design = {"kwp": 100.0, "kwh": 250.0, "inverter_kw": kw, "generator_kw": 10.0,
                  "turbines": 0.0, "tank_m3": 0.0, "pump": -1.0}
        bill = priced([(apply_design(site, design), design, None)], site_prices(site))
        cost[kw] = float(bill.capital_vnd[0])
    assert math.isfinite(cost[27.0]) and cost[27.0] > 0
    assert math.isinf(cost[150.0])
