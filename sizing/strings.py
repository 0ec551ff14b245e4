"""PV string sizing: how many modules in series, and how many strings, for an MPPT input.

The open-circuit voltage rises as the module gets colder: at the site's record low temperature
(cell = ambient, at dawn) the string's Voc must stay under the charge controller's maximum input
voltage. The maximum-power voltage falls as the cell heats: at the hot design cell temperature
the string's Vmp must stay above the MPPT window's lower end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sitefile import PV
from sizing.errors import SizingError

STC_CELL_C = 25.0
ISC_OVER_IMP = 1.07
"""A module's short-circuit current over its maximum-power current at STC: the site file gives
Voc, Vmp and the power, not Isc; crystalline modules of 400–600 W have Isc/Imp 1.05–1.08 (a
550 W module: Imp 13.2 A, Isc 14.0 A), so 1.07 errs towards more current."""


class StringSizingError(SizingError):
    """No number of modules in series fits the MPPT's voltage window."""


@dataclass(frozen=True)
class StringDesign:
    """A PV array laid out as ``strings`` parallel strings of ``series`` modules."""

    series: int
    strings: int
    modules: int
    array_kwp: float  # [kWp] installed, ≥ the design's kWp
    voc_cold_v: float  # [V] string Voc at the record low temperature
    vmp_hot_v: float  # [V] string Vmp at the hot design cell temperature
    min_series: int
    max_series: int

    @property
    def string_w(self) -> float:
        """[W] one string at STC."""
        return self.array_kwp * 1000 / self.strings if self.strings else 0.0


def voc_at_v(pv: PV, cell_c: float) -> float:
    """One module's open-circuit voltage at cell temperature ``cell_c`` [V]."""
    return pv.module_voc_v * (1 + pv.module_voc_temp_coeff_pct_per_c / 100 * (cell_c - STC_CELL_C))


def vmp_at_v(pv: PV, cell_c: float) -> float:
    """One module's maximum-power voltage at cell temperature ``cell_c`` [V]."""
    return pv.module_vmp_v * (1 + pv.module_vmp_temp_coeff_pct_per_c / 100 * (cell_c - STC_CELL_C))


def module_imp_a(pv: PV) -> float:
    """One module's maximum-power current at STC [A]: power over Vmp."""
    return pv.module_w / pv.module_vmp_v


def module_isc_a(pv: PV) -> float:
    """One module's short-circuit current at STC [A], estimated as ``ISC_OVER_IMP`` × Imp."""
    return ISC_OVER_IMP * module_imp_a(pv)


def series_range(pv: PV) -> tuple[int, int]:
    """Fewest and most modules in series that keep the string inside the MPPT's limits."""
    voc_cold = voc_at_v(pv, pv.record_low_temp_c)
    vmp_hot = vmp_at_v(pv, pv.max_cell_temp_c)
    most = math.floor(pv.mppt_max_input_v / voc_cold + 1e-9)
    fewest = max(1, math.ceil(pv.mppt_min_v / vmp_hot - 1e-9))
    if most < fewest:
        raise StringSizingError(
            f"no string fits the charge controller: {most} module(s) in series reach "
            f"Voc {most * voc_cold:.0f} V at {pv.record_low_temp_c:g} °C (limit "
            f"{pv.mppt_max_input_v:g} V), but {fewest} are needed to keep Vmp above "
            f"{pv.mppt_min_v:g} V at {pv.max_cell_temp_c:g} °C cell temperature; choose a "
            "controller with a wider input window or other modules"
        )
    return fewest, most


OVERSHOOT_FRAC = 0.10
"""A layout may install up to this fraction more than the design's kWp (at least one module
more, when fewer cannot reach it) to use longer strings."""


def size_strings(pv: PV, kwp: float) -> StringDesign:
    """Lay out at least ``kwp`` [kWp] of modules in equal strings.

    Among the series counts that fit the MPPT's voltage window, the longest string whose
    layout (the fewest parallel strings of that length that reach ``kwp``) installs at most
    :data:`OVERSHOOT_FRAC` more than ``kwp`` (or one module more when that is less than a
    module); when no length keeps the overshoot that small, the least overshoot, longer strings
    breaking ties. Longer strings carry less current for the same power (thinner cables, fewer
    combiner inputs and string fuses, less resistive loss) and keep the MPPT further above its
    lower end on hot afternoons. (The old rule, least overshoot first, chose 2 × 73 for 80 kWp
    of 550 W modules where 4 in series fit a 250 V input: issue #17; longest first alone put
    6 kWp on one string of 15 modules, 8.25 kWp.)
    """
    fewest, most = series_range(pv)
    target_w = max(kwp, 0.0) * 1000
    allowed_w = max(target_w * OVERSHOOT_FRAC, pv.module_w)

    def layout(series: int) -> tuple[int, float]:
        """(strings, overshoot [W]) of strings of ``series`` modules reaching the target."""
        string_w = series * pv.module_w
        strings = max(1, math.ceil(target_w / string_w - 1e-9)) if target_w > 0 else 0
        return strings, strings * string_w - target_w

    lengths = range(most, fewest - 1, -1)
    series = next((n for n in lengths if layout(n)[1] <= allowed_w + 1e-6),
                  min(lengths, key=lambda n: (layout(n)[1], -n)))
    strings, _ = layout(series)
    return StringDesign(
        series=series,
        strings=strings,
        modules=series * strings,
        array_kwp=series * strings * pv.module_w / 1000,
        voc_cold_v=series * voc_at_v(pv, pv.record_low_temp_c),
        vmp_hot_v=series * vmp_at_v(pv, pv.max_cell_temp_c),
        min_series=fewest,
        max_series=most,
    )
