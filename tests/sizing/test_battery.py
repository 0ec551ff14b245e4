"""Per-step battery physics (shared with the hardware simulator's plant)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitefile import Battery
from sizing.battery import BatteryParams, battery_params, charge_step


@st.composite
def batteries(draw: st.DrawFn) -> BatteryParams:
    kwh = draw(st.floats(0.1, 500))
    lo = draw(st.floats(0, 0.9))
    hi = draw(st.floats(lo + 0.05, 1.0))
    return BatteryParams(kwh, kwh * lo, kwh * hi, draw(st.floats(0, 2)) * kwh,
                         draw(st.floats(0, 2)) * kwh, draw(st.floats(0.5, 1)),
                         draw(st.floats(0.5, 1)))


@settings(deadline=None)  # the first call compiles the kernel
@given(batteries(), st.floats(0, 1), st.floats(-1000, 1000),
       st.sampled_from([1.0, 0.25, 1 / 720]))
def test_step_respects_limits_and_balances_energy(p: BatteryParams, where: float, power_kw: float,
                                                  dt_h: float) -> None:
    soc = p.min_soc_kwh + where * (p.max_soc_kwh - p.min_soc_kwh)
    new, accepted, loss = charge_step(soc, power_kw, dt_h, p)
    assert p.min_soc_kwh - 1e-9 <= new <= p.max_soc_kwh + 1e-9
    assert loss >= -1e-9
    assert new - soc == pytest.approx(accepted * dt_h - loss, abs=1e-9)
    assert abs(accepted) <= abs(power_kw) + 1e-12
    assert accepted * power_kw >= 0  # same sign as the request
    if power_kw > 0:
        assert accepted <= p.max_charge_kw + 1e-9
    else:
        assert -accepted <= p.max_discharge_kw + 1e-9


def test_efficiencies_and_sign() -> None:
    p = BatteryParams(10, 1, 10, 5, 5, 0.9, 0.8)
    new, accepted, loss = charge_step(5.0, 2.0, 1.0, p)
    assert (new, accepted, loss) == pytest.approx((6.8, 2.0, 0.2))
    new, accepted, loss = charge_step(5.0, -2.0, 1.0, p)
    assert (new, accepted, loss) == pytest.approx((2.5, -2.0, 0.5))
    new, accepted, _ = charge_step(1.5, -2.0, 1.0, p)  # only 0.5 kWh above the floor
    assert new == pytest.approx(1.0) and accepted == pytest.approx(-0.4)


def test_params_from_site_scale_power_with_capacity() -> None:
    b = Battery(chemistry="lfp", kwh=100, max_charge_kw=40, max_discharge_kw=30)
    p = battery_params(b, kwh=200)
    assert p.kwh == 200 and p.max_charge_kw == 80 and p.max_discharge_kw == 60
    assert p.min_soc_kwh == 20 and p.charge_eff == pytest.approx(0.97)
