"""Clear-sky PV forecast for the deferrable loads (pvlib)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pvlib

from sizing.site import Site

STEPS_PER_DAY = 96


def clearsky_pv_w(site: Site, day: date) -> tuple[float, ...]:
    """Clear-sky AC-side PV power of the local ``day`` in 15-minute steps [W] (index 0 =
    local midnight): Haurwitz GHI on the horizontal × kWp × (1 − losses)."""
    if site.pv is None or site.pv.kwp == 0:
        return (0.0,) * STEPS_PER_DAY
    loc = pvlib.location.Location(site.site.latitude, site.site.longitude, site.site.timezone,
                                  site.site.altitude_m)
    times = pd.date_range(pd.Timestamp(day, tz=site.site.timezone), periods=STEPS_PER_DAY,
                          freq="15min") + pd.Timedelta(minutes=7.5)
    ghi = loc.get_clearsky(times, model="haurwitz")["ghi"].to_numpy()
    scale = site.pv.kwp * (1 - site.pv.losses_pct / 100)  # [W per W m-2] = kWp/1000 W m-2 × 1000
    return tuple(float(g) * scale for g in ghi)
