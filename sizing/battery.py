"""Battery physics for one time step, shared by the sizing dispatch and the hardware simulator.

Sign convention (DESIGN.md §2): battery power is positive when charging and negative when
discharging, measured at the battery terminals (the DC bus side). Energies are in kWh, powers
in kW, durations in hours. The functions are numba ``@njit`` so the dispatch kernel inlines
them; they are plain callables from Python as well.
"""

from __future__ import annotations

from typing import NamedTuple

from numba import njit

from sitefile import DEFAULT_C_RATE, Battery


class BatteryParams(NamedTuple):
    """Limits and efficiencies of one battery bank (all absolute units)."""

    kwh: float
    """Nominal capacity [kWh]."""
    min_soc_kwh: float
    """Lowest stored energy the battery may reach [kWh]."""
    max_soc_kwh: float
    """Highest stored energy [kWh]."""
    max_charge_kw: float
    """Charge power limit at the terminals [kW]."""
    max_discharge_kw: float
    """Discharge power limit at the terminals [kW]."""
    charge_eff: float
    """Charge efficiency, terminals → stored [0–1]."""
    discharge_eff: float
    """Discharge efficiency, stored → terminals [0–1]."""


def battery_params(battery: Battery, kwh: float | None = None) -> BatteryParams:
    """:class:`BatteryParams` from the site's ``[battery]``, optionally for another ``kwh``.

    Power limits scale with capacity when ``kwh`` differs from the site's (same C-rate).
    """
    size = battery.kwh if kwh is None else kwh
    if battery.kwh > 0:
        charge_kw = battery.max_charge_kw * size / battery.kwh
        discharge_kw = battery.max_discharge_kw * size / battery.kwh
    else:  # no C-rate to keep: the default one
        charge_kw = discharge_kw = DEFAULT_C_RATE * size
    return BatteryParams(
        kwh=size,
        min_soc_kwh=size * battery.min_soc_pct / 100.0,
        max_soc_kwh=size * battery.max_soc_pct / 100.0,
        max_charge_kw=charge_kw,
        max_discharge_kw=discharge_kw,
        charge_eff=battery.charge_efficiency_pct / 100.0,
        discharge_eff=battery.discharge_efficiency_pct / 100.0,
    )


@njit(cache=True, error_model="numpy", fastmath=True)
def max_charge_kw(soc_kwh: float, dt_h: float, p: BatteryParams) -> float:
    """Largest charge power the battery accepts this step at its terminals [kW] (≥ 0)."""
    room_kwh = p.max_soc_kwh - soc_kwh
    if room_kwh <= 0.0 or dt_h <= 0.0:
        return 0.0
    return min(p.max_charge_kw, room_kwh / (p.charge_eff * dt_h))


@njit(cache=True, error_model="numpy", fastmath=True)
def max_discharge_kw(soc_kwh: float, floor_kwh: float, dt_h: float, p: BatteryParams) -> float:
    """Largest discharge power at the terminals down to ``floor_kwh`` this step [kW] (≥ 0)."""
    avail_kwh = soc_kwh - max(floor_kwh, p.min_soc_kwh)
    if avail_kwh <= 0.0 or dt_h <= 0.0:
        return 0.0
    return min(p.max_discharge_kw, avail_kwh * p.discharge_eff / dt_h)


@njit(cache=True, error_model="numpy", fastmath=True)
def charge_step(
    soc_kwh: float, power_kw: float, dt_h: float, p: BatteryParams
) -> tuple[float, float, float]:
    """Apply ``power_kw`` at the terminals for ``dt_h`` hours (positive = charging).

    The request is clipped to the power limits and to the SOC window ``[min_soc_kwh,
    max_soc_kwh]``. Returns ``(new_soc_kwh, accepted_kw, loss_kwh)``, where ``accepted_kw``
    carries the sign of the request and ``loss_kwh`` ≥ 0 is the conversion loss inside the
    battery. Energy balance: ``new_soc - soc = accepted_kw * dt_h - loss_kwh``.
    """
    if power_kw > 0.0:
        accepted = min(power_kw, max_charge_kw(soc_kwh, dt_h, p))
        stored = accepted * dt_h * p.charge_eff
        new_soc = min(soc_kwh + stored, p.max_soc_kwh) if accepted > 0.0 else soc_kwh
        return new_soc, accepted, accepted * dt_h - (new_soc - soc_kwh)
    if power_kw < 0.0:
        delivered = min(-power_kw, max_discharge_kw(soc_kwh, p.min_soc_kwh, dt_h, p))
        drawn = delivered * dt_h / p.discharge_eff
        new_soc = max(soc_kwh - drawn, p.min_soc_kwh) if delivered > 0.0 else soc_kwh
        return new_soc, -delivered, (soc_kwh - new_soc) - delivered * dt_h
    return soc_kwh, 0.0, 0.0
