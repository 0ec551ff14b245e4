"""PV string sizing against the MPPT's voltage window."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitefile import PV
from sizing.strings import StringSizingError, size_strings, vmp_at_v, voc_at_v


def test_shrimp_controller_window() -> None:
    pv = PV(kwp=55, module_voc_v=49.5, module_vmp_v=41.6, mppt_max_input_v=250, mppt_min_v=60,
            record_low_temp_c=15)
    s = size_strings(pv, 55)
    # Voc at 15 °C: 49.5 × (1 + 0.0028 × 10) = 50.89 V → at most 4 in series (203.5 V < 250 V).
    assert s.max_series == 4
    assert s.min_series == 2
    # The longest string first: 4 × 550 W = 2.2 kW; 55 / 2.2 = 25 strings, exactly 55 kWp.
    assert (s.series, s.strings) == (4, 25)
    assert s.voc_cold_v == pytest.approx(4 * 49.5 * 1.028)  # 203.5 V < 250 V
    assert s.vmp_hot_v > 60
    assert s.array_kwp == pytest.approx(55)
    assert s.modules == s.series * s.strings
    assert s.string_w == pytest.approx(2200)


def test_shrimp_80_kwp_is_four_in_series_not_two() -> None:
    # Issue #17: the old rule (least overshoot) chose 2 × 73 = 80.3 kWp. Longest first:
    # 80 / 2.2 = 36.4 → 37 strings of 4 = 81.4 kWp (overshoot 1.4 kWp < one string).
    pv = PV(kwp=80, module_voc_v=49.5, module_vmp_v=41.6, mppt_max_input_v=250, mppt_min_v=60,
            record_low_temp_c=15)
    s = size_strings(pv, 80)
    assert (s.series, s.strings, s.modules) == (4, 37, 148)
    assert s.array_kwp == pytest.approx(81.4)


def test_cold_voc_is_above_stc() -> None:
    pv = PV(kwp=1, record_low_temp_c=0)
    assert voc_at_v(pv, 0) > pv.module_voc_v
    assert vmp_at_v(pv, 70) < pv.module_vmp_v


def test_no_fit_is_a_clear_error() -> None:
    pv = PV(kwp=5, module_voc_v=49.5, module_vmp_v=41.6, mppt_max_input_v=45, mppt_min_v=30)
    with pytest.raises(StringSizingError, match="no string fits"):
        size_strings(pv, 5)


@given(kwp=st.floats(0.1, 200), vmax=st.floats(150, 1000), low=st.floats(-20, 30))
def test_strings_respect_window(kwp: float, vmax: float, low: float) -> None:
    pv = PV(kwp=kwp, mppt_max_input_v=vmax, mppt_min_v=60, record_low_temp_c=low)
    s = size_strings(pv, kwp)
    assert s.voc_cold_v <= vmax + 1e-9
    assert s.vmp_hot_v >= 60 - 1e-9
    assert s.array_kwp >= kwp - 1e-9
    # The overshoot is less than one string.
    assert s.array_kwp - kwp < s.series * pv.module_w / 1000 + 1e-9


@given(kwp=st.floats(0.1, 300), vmax=st.floats(150, 1000), low=st.floats(-20, 30),
       vmin=st.floats(20, 120), module_w=st.floats(300, 700))
def test_the_longest_string_within_the_overshoot_wins(kwp: float, vmax: float, low: float,
                                                      vmin: float, module_w: float) -> None:
    pv = PV(kwp=kwp, module_w=module_w, mppt_max_input_v=vmax, mppt_min_v=vmin,
            record_low_temp_c=low)
    try:
        s = size_strings(pv, kwp)
    except StringSizingError:
        return
    assert s.voc_cold_v <= vmax + 1e-9
    assert s.vmp_hot_v >= vmin - 1e-9
    allowed_w = max(0.10 * kwp * 1000, module_w)

    def overshoot_w(series: int) -> float:
        return math.ceil(kwp * 1000 / (series * module_w) - 1e-9) * series * module_w \
            - kwp * 1000

    within = [n for n in range(s.min_series, s.max_series + 1)
              if overshoot_w(n) <= allowed_w + 1e-6]
    if within:  # the longest length within the allowance, and nothing longer is
        assert s.series == max(within)
        assert s.array_kwp * 1000 - kwp * 1000 <= allowed_w + 1e-6
    else:  # else the least overshoot of all lengths
        assert overshoot_w(s.series) == pytest.approx(
            min(overshoot_w(n) for n in range(s.min_series, s.max_series + 1)))
