"""The sizing engine's edge: everything it reads besides the site file.

``read_inputs(site, years)`` reads (or, from monthly means, generates) the weather years and
reads each profile load's CSV file, once. The orchestrators (:func:`sizing.simulate.simulate`,
:func:`sizing.optimize.optimize`) take the result as an argument, as pvlib's
``ModelChain.run_model(weather)`` takes its weather, and read no file themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from sitefile import ProfileLoad, Site
from sizing.errors import InputError, LoadProfileError
from sizing.loads import profile_year_kw
from sizing.weather import check_monthly_ghi, load_weather


@dataclass(frozen=True)
class SiteInputs:
    """Weather years and load profiles of one site, read once."""

    weather: list[pd.DataFrame]
    """One frame per simulated year (columns of :mod:`sizing.weather`); a weather file's one
    year is the same frame in every simulated year (its outages differ)."""
    profiles_kw: dict[str, np.ndarray]
    """Each profile load's year, by load name (hourly or 15-minute rows, a typical day repeated
    over 365 days, with the load's random variability; unscaled) [kW]:
    :func:`sizing.loads.profile_year_kw`."""
    warnings: list[str] = field(default_factory=list)
    """What could not be given as asked."""


def _read_profile(site: Site, i: int) -> np.ndarray:
    """The year of ``site.loads[i]``, a profile load, from its CSV file
    (:func:`sizing.loads.profile_year_kw`) [kW]; errors name its key."""
    load = site.loads[i]
    assert isinstance(load, ProfileLoad)
    try:
        return profile_year_kw(load)
    except LoadProfileError as e:
        raise e.at_key(f"loads[{i}].profile") from e


def _profile_indices(site: Site) -> list[int]:
    return [i for i, load in enumerate(site.loads) if isinstance(load, ProfileLoad)]


def read_profiles(site: Site) -> dict[str, np.ndarray]:
    """The year of each profile load [kW], by load name (see
    :func:`sizing.loads.profile_year_kw`)."""
    return {site.loads[i].name: _read_profile(site, i) for i in _profile_indices(site)}


def input_errors(site: Site) -> list[InputError]:
    """What makes the site's weather (its file, or its monthly GHI against clear sky) or a
    load profile unusable, found with the readers above; empty when all can be used."""
    reads: list[Callable[[], object]] = [partial(_read_profile, site, i)
                                         for i in _profile_indices(site)]
    if site.weather is not None:
        reads.insert(0, partial(load_weather, site) if site.weather.file is not None
                     else partial(check_monthly_ghi, site))
    errors = []
    for read in reads:
        try:
            read()
        except InputError as e:
            errors.append(e)
    return errors


def simulated_years(site: Site) -> int:
    """Years simulated for P50/P90 unless asked otherwise: ``[reliability] years``, at least
    the weather's ``years``."""
    return max(site.reliability.years, site.weather.years if site.weather is not None else 1)


def read_inputs(site: Site, years: int | None = None) -> SiteInputs:
    """Read the site's weather and load profiles for ``years`` simulated years (default
    :func:`simulated_years`).

    Monthly weather gives that many synthetic years (``[weather] seed``); a weather file holds
    one year, simulated again in each year with that year's own forced outages.
    Raises :class:`sizing.errors.WeatherError` or :class:`sizing.errors.LoadProfileError`.
    """
    wanted = years or simulated_years(site)
    synthetic = site.weather is not None and site.weather.file is None
    frames = load_weather(site, wanted) if synthetic else load_weather(site)[:1] * wanted
    warnings = []
    if not synthetic and wanted > 1:
        warnings.append(f"a weather file holds one year: its weather is the same in all {wanted} "
                        f"simulated years (only the outages differ); give monthly means for "
                        f"year-to-year weather")
    return SiteInputs(weather=frames, profiles_kw=read_profiles(site), warnings=warnings)
