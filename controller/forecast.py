"""Clear-sky PV forecast for the deferrable loads.

The sun's position comes from astral (NOAA's algorithm, pure Python), not pvlib: pvlib brings
pandas and scipy, about 110 MB, into a process that must stay under 150 MB on the site's box.
The clear-sky model is pvlib's Haurwitz (1945) formula; tests check the result against pvlib.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from astral import Observer
from astral.sun import zenith

from sitefile import Site

STEPS_PER_DAY = 96
STEP_MIN = 24 * 60 // STEPS_PER_DAY


def haurwitz_ghi_w_m2(zenith_deg: float) -> float:
    """Clear-sky global horizontal irradiance of the Haurwitz model [W/m²] (0 below the
    horizon), for the apparent solar zenith [degrees]."""
    cos_z = math.cos(math.radians(zenith_deg))
    return 1098.0 * cos_z * math.exp(-0.059 / cos_z) if cos_z > 0.0 else 0.0


def clearsky_pv_w(site: Site, day: date) -> tuple[float, ...]:
    """Clear-sky AC-side PV power of the local ``day`` in 15-minute steps [W] (index 0 =
    local midnight), at each step's middle: Haurwitz GHI on the horizontal × kWp × (1 −
    losses)."""
    if site.pv is None or site.pv.kwp == 0:
        return (0.0,) * STEPS_PER_DAY
    where = Observer(site.site.latitude, site.site.longitude, site.site.altitude_m)
    midnight = datetime.combine(day, time(), ZoneInfo(site.site.timezone))
    scale = site.pv.kwp * (1 - site.pv.losses_pct / 100)  # [W per W m-2] = kWp/1000 W m-2 × 1000
    return tuple(
        haurwitz_ghi_w_m2(zenith(where, midnight + timedelta(minutes=(i + 0.5) * STEP_MIN)))
        * scale
        for i in range(STEPS_PER_DAY))
