"""PV string sizing against the MPPT's voltage window."""

from __future__ import annotations

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
    assert s.voc_cold_v < 250
    assert s.vmp_hot_v > 60
    assert s.array_kwp >= 55
    assert s.modules == s.series * s.strings


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
    # No smaller layout with a legal series count reaches kwp.
    assert s.array_kwp - kwp < s.series * pv.module_w / 1000 + 1e-9
