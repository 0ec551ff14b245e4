"""The EVN tariff and the subsidy gap, the grid-extension break-even distance and CO₂, checked
against hand calculations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sizing.comparisons import (
    DIESEL_CO2_KG_PER_L,
    EVN_AVERAGE_RETAIL_VND_PER_KWH,
    GRID_EF_T_PER_MWH,
    RESIDENTIAL_BLOCKS_2025,
    annual_gap_vnd,
    annuity_factor,
    co2_avoided_kg,
    diesel_co2_kg,
    evn_gap_vnd_per_kwh,
    grid_breakeven_km,
    grid_co2_kg,
    grid_extension_npc_vnd,
    household_bill_vnd,
)

# --------------------------------------------------------------------------- tariff and gap


def test_tariff_constants() -> None:
    assert abs(EVN_AVERAGE_RETAIL_VND_PER_KWH - 2204.0655) < 1e-9
    prices = [b.vnd_per_kwh for b in RESIDENTIAL_BLOCKS_2025]
    assert prices == [1984, 2050, 2380, 2998, 3350, 3460]
    assert [b.number for b in RESIDENTIAL_BLOCKS_2025] == [1, 2, 3, 4, 5, 6]
    # The blocks tile 0..inf without gaps.
    for a, b in itertools.pairwise(RESIDENTIAL_BLOCKS_2025):
        assert a.to_kwh == b.from_kwh
    assert RESIDENTIAL_BLOCKS_2025[-1].to_kwh is None


def test_bill_for_250_kwh_by_hand() -> None:
    # Block 1:  50 kWh × 1,984 =  99,200
    # Block 2:  50 kWh × 2,050 = 102,500
    # Block 3: 100 kWh × 2,380 = 238,000
    # Block 4:  50 kWh × 2,998 = 149,900   (201–250 kWh)
    # Sum                      = 589,600 VND before VAT; × 1.10 = 648,560 VND.
    assert float(household_bill_vnd(250, vat_pct=0)) == pytest.approx(589_600)
    assert float(household_bill_vnd(250)) == pytest.approx(648_560)
    assert float(household_bill_vnd(250, vat_pct=8)) == pytest.approx(589_600 * 1.08)


def test_bill_at_block_edges_and_top() -> None:
    assert float(household_bill_vnd(0)) == 0
    assert float(household_bill_vnd(50, vat_pct=0)) == pytest.approx(50 * 1984)
    # 500 kWh: 99,200 + 102,500 + 238,000 + 299,800 + 335,000 + 100 × 3,460 = 1,420,500.
    assert float(household_bill_vnd(500, vat_pct=0)) == pytest.approx(1_420_500)
    np.testing.assert_allclose(household_bill_vnd([50, 250], vat_pct=0), [99_200, 589_600])
    with pytest.raises(ValueError):
        household_bill_vnd(-1)


@given(st.floats(0, 2000), st.floats(0.01, 50))
def test_bill_rises_at_the_block_s_price(kwh: float, extra: float) -> None:
    a = float(household_bill_vnd(kwh, vat_pct=0))
    b = float(household_bill_vnd(kwh + extra, vat_pct=0))
    assert b > a
    # Each extra kWh costs between the lowest and the highest block price.
    assert 1984 * extra - 1e-6 <= b - a <= 3460 * extra + 1e-6


def test_gap_by_hand() -> None:
    # LCOE 6,000 VND/kWh − 2,204.0655 = 3,795.9345 VND/kWh; × 40,000 kWh = 151,837,380 VND/yr.
    assert float(evn_gap_vnd_per_kwh(6000)) == pytest.approx(3795.9345)
    assert float(annual_gap_vnd(6000, 40_000)) == pytest.approx(151_837_380)
    assert float(evn_gap_vnd_per_kwh(3000, tariff_vnd_per_kwh=2500)) == 500


@given(st.floats(0, 1e5), st.floats(1, 1e4))
def test_gap_sign_follows_lcoe_against_tariff(lcoe: float, tariff: float) -> None:
    gap = float(evn_gap_vnd_per_kwh(lcoe, tariff))
    assert np.sign(gap) == np.sign(lcoe - tariff)


# --------------------------------------------------------------------------- grid extension


def test_annuity_factor_by_hand() -> None:
    # 1.12^20 = 9.646293; 1 / 9.646293 = 0.1036668; (1 − 0.1036668) / 0.12 = 7.469444.
    assert annuity_factor(0.12, 20) == pytest.approx(7.469444, abs=1e-6)
    assert annuity_factor(0.0, 20) == 20
    # One year at 10 %: 1 / 1.1 = 0.909091.
    assert annuity_factor(0.10, 1) == pytest.approx(0.909091, abs=1e-6)


def test_breakeven_without_om_by_hand() -> None:
    # Off-grid NPC 3,000 M VND; grid: 50,000 kWh/yr × 2,000 VND/kWh = 100 M VND/yr,
    # × A(12 %, 20 y) 7.469444 = 746.9444 M; station 400 M; line 1,000 M/km; no O&M.
    # km* = (3,000 − 400 − 746.9444) / 1,000 = 1.853056 km.
    km = float(grid_breakeven_km(3e9, 50_000, line_vnd_per_km=1e9, connection_vnd=4e8,
                                 supply_vnd_per_kwh=2000, discount_rate=0.12, years=20,
                                 line_om_pct=0))
    assert km == pytest.approx(1.853056, abs=1e-5)


def test_breakeven_with_om_by_hand() -> None:
    # Same, with O&M 1.5 %/yr of the capital: factor 1 + 0.015 × 7.469444 = 1.112042.
    # km* = (3,000 − 400 × 1.112042 − 746.9444) / (1,000 × 1.112042)
    #     = (3,000 − 444.8167 − 746.9444) / 1,112.042 = 1,808.2389 / 1,112.042 = 1.626053 km.
    km = float(grid_breakeven_km(3e9, 50_000, line_vnd_per_km=1e9, connection_vnd=4e8,
                                 supply_vnd_per_kwh=2000, discount_rate=0.12, years=20,
                                 line_om_pct=1.5))
    assert km == pytest.approx(1.626053, abs=1e-5)


def test_breakeven_is_where_the_npcs_meet() -> None:
    km = grid_breakeven_km(5e9, 80_000)
    npc = grid_extension_npc_vnd(km, 80_000)
    assert float(npc) == pytest.approx(5e9)
    # Arrays broadcast.
    kms = grid_breakeven_km(np.array([3e9, 5e9]), 80_000)
    assert kms.shape == (2,) and kms[1] > kms[0]


def test_negative_breakeven_means_the_grid_wins_at_zero_km() -> None:
    # Off-grid NPC below the station and the energy alone.
    assert float(grid_breakeven_km(1e8, 50_000)) < 0


@given(st.floats(1e8, 1e11), st.floats(1e8, 1e11), st.floats(0, 2e5))
def test_breakeven_rises_with_offgrid_npc(a: float, b: float, kwh: float) -> None:
    lo, hi = sorted((a, b))
    assert grid_breakeven_km(lo, kwh) <= grid_breakeven_km(hi, kwh)


@given(st.floats(2e8, 5e9), st.floats(2e8, 5e9), st.floats(1e9, 1e11))
def test_breakeven_falls_with_line_cost_when_positive(c1: float, c2: float, npc: float) -> None:
    lo, hi = sorted((c1, c2))
    near = float(grid_breakeven_km(npc, 10_000, line_vnd_per_km=lo))
    far = float(grid_breakeven_km(npc, 10_000, line_vnd_per_km=hi))
    if near > 0:  # a dearer line shortens the distance at which off-grid wins
        assert far <= near


# --------------------------------------------------------------------------- CO2


def test_diesel_co2_arithmetic() -> None:
    # IPCC 2006: 74,100 kg CO2/TJ × 43.0 TJ/Gg = 3.1863 kg CO2 per kg; × 0.84 kg/L = 2.676.
    assert abs(74_100 * 43.0 / 1e6 * 0.84 - DIESEL_CO2_KG_PER_L) < 0.005
    assert float(diesel_co2_kg(1000)) == pytest.approx(2680)


def test_co2_avoided_by_hand() -> None:
    # Diesel alone 10,000 L/yr, the design 2,500 L/yr: 7,500 L × 2.68 = 20,100 kg.
    assert float(co2_avoided_kg(10_000, 2_500)) == pytest.approx(20_100)
    np.testing.assert_allclose(co2_avoided_kg([10_000, 0], [2_500, 0]), [20_100, 0])


def test_grid_co2_by_hand() -> None:
    # 10,000 kWh × 0.6592 t/MWh = 10 MWh × 0.6592 t = 6.592 t = 6,592 kg.
    assert GRID_EF_T_PER_MWH == 0.6592
    assert float(grid_co2_kg(10_000)) == pytest.approx(6_592)
