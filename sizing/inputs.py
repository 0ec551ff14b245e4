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
from sizing.loads import read_profile_kw
from sizing.weather import check_monthly_ghi, load_weather


@dataclass(frozen=True)
class SiteInputs:
    """Weather years and load profiles of one site, read once."""

    weather: list[pd.DataFrame]
    """One frame per weather year (columns of :mod:`sizing.weather`)."""
    profiles_kw: dict[str, np.ndarray]
    """Each profile load's CSV year, by load name (hourly or 15-minute rows, unscaled) [kW]."""
    p90_weather: list[pd.DataFrame] = field(default_factory=list)
    """Weather years for the optimiser's P90 case (empty with a weather file)."""
    warnings: list[str] = field(default_factory=list)
    """What could not be given as asked (e.g. several years from a one-year weather file)."""


def _read_profile(site: Site, i: int) -> np.ndarray:
    """The CSV year of ``site.loads[i]``, a profile load [kW]; errors name its key."""
    load = site.loads[i]
    assert isinstance(load, ProfileLoad)
    try:
        return read_profile_kw(load.profile).to_numpy()
    except LoadProfileError as e:
        raise e.at_key(f"loads[{i}].profile") from e


def _profile_indices(site: Site) -> list[int]:
    return [i for i, load in enumerate(site.loads) if isinstance(load, ProfileLoad)]


def read_profiles(site: Site) -> dict[str, np.ndarray]:
    """The CSV year of each profile load [kW], by load name (see
    :func:`sizing.loads.read_profile_kw`)."""
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


def read_inputs(site: Site, years: int | None = None, p90_years: int = 0) -> SiteInputs:
    """Read the site's weather and load profiles.

    ``years`` weather years (default ``[weather].years``; a weather file gives one). With
    monthly weather and ``p90_years`` > 0, the optimiser's P90 case gets ``max(years,
    p90_years)`` synthetic years, the first of which are the design years themselves (same
    seed, so they are generated once).
    Raises :class:`sizing.errors.WeatherError` or :class:`sizing.errors.LoadProfileError`.
    """
    synthetic = site.weather is not None and site.weather.file is None
    wanted = years or (site.weather.years if site.weather is not None else 1)
    frames = load_weather(site, max(wanted, p90_years) if synthetic else wanted)
    warnings = []
    if not synthetic and wanted > 1:
        warnings.append(f"a weather file holds one year: simulated 1 year, not {wanted}")
    return SiteInputs(
        weather=frames[:wanted],
        profiles_kw=read_profiles(site),
        p90_weather=frames if synthetic and p90_years > 0 else [],
        warnings=warnings,
    )
