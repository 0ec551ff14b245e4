"""What the off-grid design is worth against the alternatives: EVN's tariff, a grid extension,
diesel alone. Pure functions of scalars or numpy arrays; no I/O, no state.

1. **The subsidy gap.** EVN sells at a uniform national tariff; what the off-grid design's
   energy costs above it (its LCOE − the tariff [VND/kWh]) is the gap the programme finances,
   and × the energy served [kWh/year] the yearly gap [VND/year]. EVN's average retail tariff
   is 2,204.0655 VND/kWh excluding VAT from 10 May 2025 (MOIT Decision 1279/QĐ-BCT of
   9 May 2025). Households pay the 6-block residential tariff of the same decision
   (:data:`RESIDENTIAL_BLOCKS_2025`, :func:`household_bill_vnd`).
2. **The grid-extension break-even distance** (:func:`grid_breakeven_km`): the length of 22 kV
   line at which extending the grid costs the same net present cost as the off-grid design.
3. **CO₂**: diesel burnt (:func:`diesel_co2_kg`), avoided against a diesel-only supply
   (:func:`co2_avoided_kg`), and what the grid would emit for the same energy
   (:func:`grid_co2_kg`).

Sources are given by each constant. Figures marked "estimate" have their basis stated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

# --------------------------------------------------------------------------- EVN tariff

EVN_AVERAGE_RETAIL_VND_PER_KWH = 2204.0655
"""[VND/kWh] EVN's average retail tariff, VAT excluded, from 10 May 2025 (+4.8 % from
2,103.1159): MOIT Decision 1279/QĐ-BCT, 9 May 2025 (reported e.g. by xe.today 2025-05-11,
"The rising cost of electricity"). Inside the bounds of Prime Minister's Decision
07/2025/QĐ-TTg (1,826.22–2,444.09 VND/kWh, from 31 March 2025; baochinhphu.vn)."""

TARIFF_DECISION = "Quyết định 1279/QĐ-BCT ngày 09/05/2025 (Bộ Công Thương), từ 10/05/2025"
"""The decision that sets :data:`EVN_AVERAGE_RETAIL_VND_PER_KWH` and
:data:`RESIDENTIAL_BLOCKS_2025`."""


@dataclass(frozen=True)
class TariffBlock:
    """One block of the residential tariff: the kWh of the month from ``from_kwh`` (exclusive)
    up to ``to_kwh`` (inclusive; None: no upper bound) cost ``vnd_per_kwh`` (VAT excluded)."""

    number: int
    from_kwh: float
    to_kwh: float | None
    vnd_per_kwh: float


RESIDENTIAL_BLOCKS_2025: tuple[TariffBlock, ...] = (
    TariffBlock(1, 0, 50, 1984),
    TariffBlock(2, 50, 100, 2050),
    TariffBlock(3, 100, 200, 2380),
    TariffBlock(4, 200, 300, 2998),
    TariffBlock(5, 300, 400, 3350),
    TariffBlock(6, 400, None, 3460),
)
"""EVN's residential block tariff [VND/kWh, VAT excluded] from 10 May 2025
(:data:`TARIFF_DECISION`): 0–50, 51–100, 101–200, 201–300, 301–400 and 401+ kWh a month.
Each block is about the previous tariff's (Decision 2699/QĐ-BCT, 11 Oct 2024: 1,893 / 1,956 /
2,271 / 2,860 / 3,197 / 3,302) × 1.048 (the average rise); the top block, 3,460, as reported
for the decision (xe.today 2025-05-13). Check the others against the decision's appendix.
Poor households get 30 kWh a month paid (Decision 28/2014/QĐ-TTg); not modelled here."""

VAT_PCT = 10.0
"""[%] Vietnam's statutory VAT on electricity. A temporary 8 % rate applies to many goods in
2025–26 (Decrees 180/2024 and 174/2025/NĐ-CP); pass ``vat_pct=8`` where it covers the bill."""


def evn_gap_vnd_per_kwh(lcoe_vnd_per_kwh: ArrayLike,
                        tariff_vnd_per_kwh: float = EVN_AVERAGE_RETAIL_VND_PER_KWH
                        ) -> np.ndarray:
    """The subsidy gap per kWh [VND/kWh]: the design's LCOE [VND/kWh] − EVN's tariff
    [VND/kWh]. Positive: the programme pays this on every kWh served to sell it at EVN's
    price; negative: the off-grid supply is cheaper than the tariff."""
    return np.asarray(lcoe_vnd_per_kwh, dtype=float) - tariff_vnd_per_kwh


def annual_gap_vnd(lcoe_vnd_per_kwh: ArrayLike, served_kwh_per_year: ArrayLike,
                   tariff_vnd_per_kwh: float = EVN_AVERAGE_RETAIL_VND_PER_KWH) -> np.ndarray:
    """The yearly subsidy gap [VND/year] = :func:`evn_gap_vnd_per_kwh` × the energy served
    [kWh/year]."""
    return (evn_gap_vnd_per_kwh(lcoe_vnd_per_kwh, tariff_vnd_per_kwh)
            * np.asarray(served_kwh_per_year, dtype=float))


def household_bill_vnd(monthly_kwh: ArrayLike, vat_pct: float = VAT_PCT,
                       blocks: tuple[TariffBlock, ...] = RESIDENTIAL_BLOCKS_2025
                       ) -> np.ndarray:
    """A household's monthly bill [VND] for ``monthly_kwh`` [kWh/month] on the block tariff:
    Σ over blocks of (the month's kWh inside the block) × the block's price, × (1 + VAT).

    E.g. 250 kWh: 50 × 1,984 + 50 × 2,050 + 100 × 2,380 + 50 × 2,998 = 589,600 VND before
    VAT, 648,560 VND with 10 % VAT.
    """
    kwh = np.asarray(monthly_kwh, dtype=float)
    if np.any(kwh < 0):
        raise ValueError("monthly_kwh must be ≥ 0")
    total = np.zeros_like(kwh)
    for b in blocks:
        upper = np.inf if b.to_kwh is None else b.to_kwh
        total = total + np.clip(kwh - b.from_kwh, 0.0, upper - b.from_kwh) * b.vnd_per_kwh
    return total * (1 + vat_pct / 100)


# --------------------------------------------------------------------------- grid extension

LINE_22KV_VND_PER_KM = 1_000_000_000.0
"""[VND/km] a new single-circuit 22 kV overhead line in the rural south (3-phase, ACSR
50–95 mm² on centrifugal concrete poles), built and commissioned. ESTIMATE: no current
per-km unit cost was found in the stored sources. Basis: provincial rural 22 kV projects
are reported at roughly 0.7–1.5 billion VND/km (Mekong soil and canal crossings at the
upper end); an upper bound from EVN's news on SPC's Trà Vinh rural-supply programme
2016–2020: 307 bn VND for 190 km of MV line, 511 km of LV line and 13.31 MVA of stations
(evn.com.vn, "Đầu tư hơn 700 tỷ đồng phát triển lưới điện cho Trà Vinh"), i.e. 1.6 bn VND
per MV km with all the LV and stations charged to it. Islands are another order: the 22 kV
subsea cable to Cù Lao Chàm, 15.48 km, 484 bn VND with its LV grid (Tiền Phong, 2014).
Use the power company's quote for a real site."""

GRID_CONNECTION_VND = 400_000_000.0
"""[VND] the line's end: a 22/0.4 kV pole-mounted transformer station (100–250 kVA), its
protection and metering. ESTIMATE: 300–600 M VND in provincial power companies' quotes seen
2023–25."""

LINE_OM_PCT_PER_YEAR = 1.5
"""[% of the line's and station's capital per year] operation and maintenance of rural MV
lines (1–2 % is the usual planning figure). ESTIMATE."""

GRID_SUPPLY_COST_VND_PER_KWH = EVN_AVERAGE_RETAIL_VND_PER_KWH
"""[VND/kWh] what a kWh delivered at the end of the line costs the grid. Default: EVN's
average retail tariff, the regulated cost-reflective price of generation, transmission and
distribution (EVN's audited cost of supply was about 2,089 VND/kWh for 2023, MOIT's
inspection reported 2024; not re-verified here). Pass a wholesale price (the VWEM's average)
for an energy-only view."""

ADB_DISCOUNT_RATE = 0.12
"""[-] the discount rate of ADB's power-sector appraisals (DESIGN.md §4)."""


def annuity_factor(discount_rate: float, years: int) -> float:
    """Present worth of 1 VND a year at the end of each year for ``years`` years, discounted
    at ``discount_rate`` [-/year]: (1 − (1 + r)^−n) / r, or n when r = 0 [years].

    12 %, 20 years: 1.12^20 = 9.6463, (1 − 1/9.6463) / 0.12 = 7.4694.
    """
    if years < 0:
        raise ValueError("years must be ≥ 0")
    if discount_rate == 0:
        return float(years)
    return float((1 - (1 + discount_rate) ** -years) / discount_rate)


def grid_extension_npc_vnd(km: ArrayLike, annual_grid_energy_kwh: ArrayLike,
                           *,
                           line_vnd_per_km: ArrayLike = LINE_22KV_VND_PER_KM,
                           connection_vnd: float = GRID_CONNECTION_VND,
                           supply_vnd_per_kwh: float = GRID_SUPPLY_COST_VND_PER_KWH,
                           discount_rate: float = ADB_DISCOUNT_RATE, years: int = 20,
                           line_om_pct: float = LINE_OM_PCT_PER_YEAR) -> np.ndarray:
    """Net present cost [VND] of supplying the site from the grid over ``years``:

        NPC = (km × line [VND/km] + connection [VND]) × (1 + O&M [%/100] × A)
              + energy [kWh/year] × supply cost [VND/kWh] × A,

    with A = :func:`annuity_factor` (``discount_rate``, ``years``). The line and the
    station are paid at year 0 and last the project (a 22 kV line lasts 30–40 years: no
    replacement, and no salvage credited: conservative for the grid); O&M and energy are
    paid at the end of each year. Line losses are left out (a few % on a short line).
    """
    a = annuity_factor(discount_rate, years)
    capital = (np.asarray(km, dtype=float) * np.asarray(line_vnd_per_km, dtype=float)
               + connection_vnd)
    return (capital * (1 + line_om_pct / 100 * a)
            + np.asarray(annual_grid_energy_kwh, dtype=float) * supply_vnd_per_kwh * a)


def grid_breakeven_km(offgrid_npc_vnd: ArrayLike, annual_grid_energy_kwh: ArrayLike,
                      *,
                      line_vnd_per_km: ArrayLike = LINE_22KV_VND_PER_KM,
                      connection_vnd: float = GRID_CONNECTION_VND,
                      supply_vnd_per_kwh: float = GRID_SUPPLY_COST_VND_PER_KWH,
                      discount_rate: float = ADB_DISCOUNT_RATE, years: int = 20,
                      line_om_pct: float = LINE_OM_PCT_PER_YEAR) -> np.ndarray:
    """The length of 22 kV line [km] at which the grid extension's NPC
    (:func:`grid_extension_npc_vnd`) equals the off-grid design's NPC [VND]:

        km* = (NPC_offgrid − connection × (1 + om × A) − energy × supply × A)
              / (line [VND/km] × (1 + om × A)).

    A site farther from the line than km* is cheaper off-grid; nearer, the grid is cheaper.
    The result is not clipped: km* ≤ 0 says the grid is cheaper even at the line's start.
    Compare like with like: ``offgrid_npc_vnd`` over the same ``years`` and
    ``discount_rate``, and ``annual_grid_energy_kwh`` the energy the design serves.
    """
    a = annuity_factor(discount_rate, years)
    om = 1 + line_om_pct / 100 * a
    rest = (np.asarray(offgrid_npc_vnd, dtype=float) - connection_vnd * om
            - np.asarray(annual_grid_energy_kwh, dtype=float) * supply_vnd_per_kwh * a)
    return rest / (np.asarray(line_vnd_per_km, dtype=float) * om)


# --------------------------------------------------------------------------- CO2

DIESEL_CO2_KG_PER_L = 2.68
"""[kg CO₂/L] burning diesel (gas/diesel oil). IPCC 2006 Guidelines, Vol. 2 (Energy):
default CO₂ factor 74,100 kg/TJ (Ch. 2, Table 2.2) and net calorific value 43.0 TJ/Gg
(Ch. 1, Table 1.2), so 74,100 × 43.0 / 10⁶ = 3.186 kg CO₂ per kg of fuel; × a density of
0.84 kg/L (0.05S diesel, TCVN 5689: 0.82–0.86 kg/L) = 2.676 ≈ 2.68 kg/L. (With a volumetric
NCV of 0.0358 TJ/kL the same factor gives 74,100 × 0.0358 / 1000 = 2.65 kg/L: the spread
of the density.) CH₄ and N₂O add about 0.3 % CO₂e and are left out."""

GRID_EF_T_PER_MWH = 0.6592
"""[t CO₂/MWh] Vietnam's grid emission factor for 2023, the latest published by the climate
change department of the Ministry of Natural Resources and Environment (now the Ministry of
Agriculture and Environment); the series 2014–2023 (…, 0.7221 for 2021, 0.6766 for 2022,
0.6592 for 2023) as quoted by VietnamPlus, April 2025 ("Lưới điện Việt Nam … xanh hay
nâu?"). A research estimate for 2024 is 0.6811 (HUST and the ministry's staff, same article)
and for 2025 0.6235 (anhsangvacuocsong.vn, 2026): not official."""

GRID_EF_YEAR = 2023


def diesel_co2_kg(litres: ArrayLike, kg_per_l: float = DIESEL_CO2_KG_PER_L) -> np.ndarray:
    """CO₂ from burning ``litres`` [L] of diesel [kg]: litres × 2.68 kg/L
    (:data:`DIESEL_CO2_KG_PER_L`)."""
    return np.asarray(litres, dtype=float) * kg_per_l


def co2_avoided_kg(diesel_only_litres: ArrayLike, design_litres: ArrayLike,
                   kg_per_l: float = DIESEL_CO2_KG_PER_L) -> np.ndarray:
    """CO₂ avoided [kg] by the design against a diesel-only supply of the same load:
    (diesel-only litres − the design's litres) × 2.68 kg/L. Negative if the design burns more
    (it should not). Embodied emissions of the PV and battery are not counted."""
    return diesel_co2_kg(np.asarray(diesel_only_litres, dtype=float)
                         - np.asarray(design_litres, dtype=float), kg_per_l)


def grid_co2_kg(kwh: ArrayLike, ef_t_per_mwh: float = GRID_EF_T_PER_MWH) -> np.ndarray:
    """CO₂ the national grid emits for ``kwh`` [kWh] delivered [kg]: kWh × EF [t/MWh], since
    1 t/MWh = 1 kg/kWh (losses on the line not added)."""
    return np.asarray(kwh, dtype=float) * ef_t_per_mwh
