"""Hourly weather for a site: read a TMY/EPW/PVGIS file, or generate synthetic years.

Every frame has a tz-aware hourly index in the site's time zone, each row labelled at the
*start* of its hour, and the columns ``ghi, dni, dhi`` [W m-2], ``temp_air`` [°C] and
``wind_speed`` [m s-1] at ``[weather] wind_height_m`` (EPW, TMY3, PVGIS and NASA POWER's WS10M:
10 m); a NASA POWER file with WS50M adds ``wind_speed_50m`` [m s-1] at 50 m.

Synthetic years (offline, from 12 monthly means):

1. daily clearness index ``Kt`` from the first-order Markov chain of Aguiar, Collares-Pereira
   & Conde (Solar Energy 40, 1988), with their library of transition matrices;
2. hourly clearness index ``kt`` from the TAG model (Aguiar & Collares-Pereira, Solar Energy 49,
   1992): a time-dependent mean plus a Gaussian AR(1) process, bounded by pvlib's Ineichen clear
   sky with the Linke turbidity climatology shipped in pvlib;
3. each month is rescaled to its input mean (iterating with the clear-sky bound), and GHI is
   split into DNI and DHI with the Erbs model. Transposition (Perez) happens in :mod:`sizing.pv`.

Real years differ: before step 1, each year draws its own 12 monthly means around the given
ones (:func:`draw_monthly_ghi_kwh_m2_day`), a year factor common to its months times a factor
per month, both mean-1 lognormal, so that the annual GHI varies from year to year with the
coefficient of variation ``[weather] interannual_ghi_cv_pct`` (see :class:`sitefile.Weather`
for the literature behind the defaults) and each month's mean over many years is the given one.
"""

from __future__ import annotations

import calendar
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
from scipy.signal import lfilter
from scipy.special import gamma, log_ndtr, ndtri

from sitefile import Site
from sizing.errors import WeatherError
from sizing.weather_nasa import is_nasa_power, parse_nasa_power

COLUMNS = ["ghi", "dni", "dhi", "temp_air", "wind_speed"]
OPTIONAL_COLUMNS = ["wind_speed_50m"]  # kept when the file has them
SYNTHETIC_YEAR = 2025  # a non-leap calendar year carrying every synthetic weather year
WIND_SPEED_M_S = 2.0  # synthetic years without monthly wind: a light breeze cooling the PV
FORMATS = ("offgrid reads EPW, TMY3, PVGIS TMY (CSV or JSON) and NASA POWER hourly CSV "
           "weather files")
_MTM_FILE = Path(__file__).with_name("data") / "aguiar_mtm.json"


# --------------------------------------------------------------------------- files


HOURS_PER_YEAR = 8760
# Plausible values of each column [W m-2, °C, m s-1]: EPW marks a missing value with 9999
# (irradiance), 99.9 (temperature) or 999 (wind speed), which must not pass as weather.
VALUE_RANGES: dict[str, tuple[float, float]] = {
    "ghi": (-100.0, 1500.0), "dni": (-100.0, 1500.0), "dhi": (-100.0, 1500.0),
    "temp_air": (-90.0, 70.0), "wind_speed": (0.0, 100.0), "wind_speed_50m": (0.0, 100.0),
}
# Line of the first data row of each text format (EPW: 8 header lines; TMY3: 2); None where
# rows have no fixed line (PVGIS; NASA POWER's header varies, its parser finds the line).
FIRST_DATA_LINE: dict[str, int | None] = {"epw": 9, "tmy3": 3, "pvgis": None}


def _where(data: pd.DataFrame, row: int, column: str, first_line: int | None,
           ) -> tuple[int | None, int | None]:
    """The line and column of a parsed value in its file (1-based; None when unknown)."""
    if first_line is None:
        return None, None
    return first_line + row, int(data.columns.get_loc(column)) + 1


def _parse_file_frame(data: pd.DataFrame, tz: str, hour_ending: bool, path: Path,
                      first_line: int | None) -> pd.DataFrame:
    """Map a parsed weather frame onto our columns, hour-start labels, site time zone (pure;
    ``path`` and ``first_line``, the line of the first data row, only say where in errors).

    The frame must hold one year of hours, every value a number within
    :data:`VALUE_RANGES`; :class:`WeatherError` names the line and column of the first that
    is not."""
    missing = [c for c in COLUMNS if c not in data.columns]
    if missing:
        raise WeatherError(f"weather file lacks {', '.join(missing)} ({FORMATS})", file=path)
    columns = COLUMNS + [c for c in OPTIONAL_COLUMNS if c in data.columns]
    if len(data) != HOURS_PER_YEAR:
        last = None if first_line is None else first_line + len(data) - 1
        raise WeatherError(f"{len(data)} hourly rows where a year has {HOURS_PER_YEAR}: "
                           "a truncated file?", file=path, line=last)
    for col in columns:
        values = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
        lo, hi = VALUE_RANGES[col]
        bad = ~((values >= lo) & (values <= hi))  # NaN is bad too
        if bad.any():
            row = int(np.argmax(bad))
            hour = "" if first_line is not None else f" at hour {row + 1}"
            got = data[col].iloc[row]
            shown = repr(got) if isinstance(got, str) else f"{float(got):g}"
            line, column = _where(data, row, col, first_line)
            raise WeatherError(f"{col}{hour} must be a number from {lo:g} to {hi:g} "
                               f"(got {shown})", file=path, line=line, column=column)
    frame = data[columns].astype(float).copy()
    index = pd.DatetimeIndex(frame.index)
    if hour_ending:
        index = index - pd.Timedelta(hours=1)
    frame.index = index.tz_convert(tz)
    frame = frame.sort_index()
    frame[["ghi", "dni", "dhi"]] = frame[["ghi", "dni", "dhi"]].clip(lower=0.0)
    return frame


def _detect_format(path: Path) -> str:
    """A weather file's format from its first line (NASA POWER's header, a PVGIS CSV's
    latitude) or else its name."""
    suffix = path.suffix.lower()
    with path.open(encoding="utf-8", errors="replace") as f:
        first = f.readline()
    if is_nasa_power(first):
        return "nasa_power"
    if suffix == ".csv" and first.lower().startswith(("latitude", "lat")):
        return "pvgis"
    return "epw" if suffix == ".epw" else "pvgis" if suffix == ".json" else "tmy3"


def read_weather_file(path: Path, fmt: str, tz: str) -> pd.DataFrame:
    """Read an EPW, TMY3 or PVGIS TMY file with pvlib, or a NASA POWER hourly CSV
    (:mod:`sizing.weather_nasa`); ``fmt``: epw, tmy3, pvgis, nasa_power or auto.

    Raises :class:`WeatherError` naming the file, and the line and column where known; one
    that cannot be read at all also names the formats that can."""
    try:
        if fmt == "auto":
            fmt = _detect_format(path)
        if fmt == "nasa_power":
            data, nasa_line = parse_nasa_power(path, SYNTHETIC_YEAR)
            return _parse_file_frame(data, tz, False, path, nasa_line)
        first_line = FIRST_DATA_LINE[fmt]
        if fmt == "epw":
            data, _ = pvlib.iotools.read_epw(path, coerce_year=SYNTHETIC_YEAR)
            return _parse_file_frame(data, tz, True, path, first_line)
        if fmt == "tmy3":
            data, _ = pvlib.iotools.read_tmy3(path, coerce_year=SYNTHETIC_YEAR,
                                              map_variables=True)
            return _parse_file_frame(data, tz, True, path, first_line)
        result = pvlib.iotools.read_pvgis_tmy(path, map_variables=True)
        data = result[0]
        # A PVGIS TMY stitches months of different years: put them all in one year.
        data.index = pd.DatetimeIndex(
            [t.replace(year=SYNTHETIC_YEAR) for t in pd.DatetimeIndex(data.index)]
        )
        return _parse_file_frame(data, tz, False, path, first_line)
    except WeatherError:
        raise
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        reason = (e.strerror if isinstance(e, OSError) and e.strerror
                  else f"no {e.args[0]!r} field" if isinstance(e, KeyError) else str(e))
        raise WeatherError(f"cannot read as {fmt} weather file: {reason}; {FORMATS} (set "
                           "[weather] format when its name misleads)", file=path) from e


# --------------------------------------------------------------------------- synthetic years


@lru_cache(maxsize=1)
def _mtm_library() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(class upper bounds, state minima, state maxima, cumulative matrices [class, from, to])."""
    raw = json.loads(_MTM_FILE.read_text())
    mats = np.asarray(raw["matrices"], dtype=float)
    mats /= mats.sum(axis=2, keepdims=True)
    return (np.asarray(raw["class_upper_kt"]), np.asarray(raw["state_min_kt"]),
            np.asarray(raw["state_max_kt"]), np.cumsum(mats, axis=2))


def daily_kt_markov(monthly_kt: np.ndarray, days_in_month: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """Daily clearness indices for one year from the Aguiar (1988) Markov chains [-].

    ``monthly_kt``: 12 monthly mean clearness indices; ``days_in_month``: 12 day counts.
    The chain state carries over from month to month.
    """
    upper, smin, smax, cum = _mtm_library()
    out = np.empty(int(days_in_month.sum()))
    uniforms = rng.random((out.size, 2))
    state = 4
    day = 0
    for month in range(12):
        cls = int(np.searchsorted(upper, monthly_kt[month], side="left"))
        lo, hi = smin[cls], smax[cls]
        width = (hi - lo) / 10.0
        for _ in range(int(days_in_month[month])):
            row = cum[cls, state]
            state = min(int(np.searchsorted(row, uniforms[day, 0], side="right")), 9)
            out[day] = lo + (state + uniforms[day, 1]) * width
            day += 1
    return out


def tag_hourly_kt(daily_kt: np.ndarray, elevation_deg: np.ndarray, kt_clear: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """Hourly clearness index from the TAG model (Aguiar & Collares-Pereira 1992) [-].

    ``daily_kt``: one value per day; ``elevation_deg``, ``kt_clear``: hourly solar elevation
    [deg] and clear-sky clearness index (the upper bound), ``24 × days`` values.
    """
    kt_day = np.repeat(daily_kt, 24)
    sin_h = np.sin(np.radians(np.clip(elevation_deg, 0.5, 90.0)))
    lam = -0.19 + 1.12 * kt_day + 0.24 * np.exp(-8.0 * kt_day)
    eps = 0.32 - 1.6 * (kt_day - 0.5) ** 2
    kap = 0.19 + 2.27 * kt_day**2 - 2.51 * kt_day**3
    kt_mean = lam + eps * np.exp(-kap / sin_h)
    amp = 0.14 * np.exp(-20.0 * (kt_day - 0.35) ** 2)
    bexp = 3.0 * (kt_day - 0.45) ** 2 + 16.0 * kt_day**5
    sigma = amp * np.exp(bexp * (1.0 - sin_h))
    phi = float(np.mean(0.38 + 0.06 * np.cos(7.4 * daily_kt - 2.5)))
    noise = rng.standard_normal(kt_day.size) * np.sqrt(1.0 - phi**2)
    y = lfilter([1.0], [1.0, -phi], noise)  # unit-variance AR(1)
    kt = np.clip(kt_mean + sigma * y, 0.0, kt_clear)
    return np.where(elevation_deg > 0.0, kt, 0.0)


def _site_geometry(site: Site) -> pd.DataFrame:
    """Hourly solar geometry of the synthetic calendar year at mid-hour: zenith and elevation
    [deg], extraterrestrial horizontal ``g0`` and Ineichen clear-sky GHI [W m-2], DNI extra."""
    s = site.site
    index = pd.date_range(f"{SYNTHETIC_YEAR}-01-01", periods=8760, freq="h", tz=s.timezone)
    mid = index + pd.Timedelta(minutes=30)
    loc = pvlib.location.Location(s.latitude, s.longitude, s.timezone, s.altitude_m)
    sp = loc.get_solarposition(mid)
    clear = loc.get_clearsky(mid, model="ineichen", solar_position=sp)
    extra = pvlib.irradiance.get_extra_radiation(mid)
    cosz = np.cos(np.radians(sp["zenith"].to_numpy()))
    g0 = np.where(cosz > 0, extra.to_numpy() * cosz, 0.0)
    return pd.DataFrame({
        "zenith": sp["zenith"].to_numpy(),
        "elevation": sp["apparent_elevation"].to_numpy(),
        "g0": g0,
        "clear_ghi": clear["ghi"].to_numpy(),
        "dni_extra": extra.to_numpy(),
        "doy": mid.day_of_year.to_numpy(),
    }, index=index)


def clear_sky_monthly_kwh_m2_day(geometry: pd.DataFrame) -> np.ndarray:
    """Monthly mean clear-sky GHI [kWh m-2 day-1] (the upper bound of monthly input)."""
    daily = geometry["clear_ghi"].groupby(geometry.index.month).sum() / 1000.0
    days = np.array([calendar.monthrange(SYNTHETIC_YEAR, m)[1] for m in range(1, 13)])
    return daily.to_numpy() / days


def check_monthly_ghi(site: Site, geometry: pd.DataFrame | None = None) -> None:
    """Raise :class:`WeatherError` for the first month whose ``[weather]`` mean GHI is above
    the site's clear-sky bound, or when ``monthly_ghi_cv_pct`` alone spreads the annual GHI
    more than ``interannual_ghi_cv_pct``; ``geometry`` (from :func:`_site_geometry`) is computed
    when not given."""
    w = site.weather
    assert w is not None and w.monthly_ghi_kwh_m2_day is not None
    bound = clear_sky_monthly_kwh_m2_day(_site_geometry(site) if geometry is None else geometry)
    for m, ghi in enumerate(w.monthly_ghi_kwh_m2_day):
        if ghi > bound[m]:
            raise WeatherError(f"{calendar.month_name[m + 1]} {ghi:g} kWh/m²/day is above this "
                               f"site's clear-sky bound {bound[m]:.2f} kWh/m²/day",
                               key="weather.monthly_ghi_kwh_m2_day")
    try:
        year_factor_cv(w.interannual_ghi_cv_pct / 100.0, w.monthly_ghi_cv_pct / 100.0,
                       month_weights(np.asarray(w.monthly_ghi_kwh_m2_day, dtype=float)))
    except ValueError as e:
        raise WeatherError(str(e), key="weather.monthly_ghi_cv_pct") from e


# --------------------------------------------------------------------------- weather years

# A drawn month's mean GHI stays this far below the site's clear-sky monthly mean [%] (a month
# of nothing but cloudless days does not happen, and :func:`synthetic_year` then still has
# cloudy hours to rescale), unless the given mean is itself higher.
CLEAR_SKY_MARGIN_PCT = 5.0
# The least a drawn month's mean GHI may be [kWh m-2 day-1] (unless the given mean is less).
MIN_MONTHLY_GHI_KWH_M2_DAY = 0.1
# The random stream of the monthly means of year k is ``default_rng([seed, k, GHI_STREAM])``,
# apart from the year's daily and hourly stream ``default_rng([seed, k])`` (not 0: numpy's
# SeedSequence reads ``[seed, k, 0]`` as ``[seed, k]``).
GHI_STREAM = 1
YEAR_STRATA_STREAM = (2**32 - 1, 2)  # the year factors' strata: default_rng([seed, *this])
# At most this many rescalings of a month towards its mean under the clear-sky bound (most
# months stop within 0.1 % after a few; a drawn month near the cap needs a few dozen).
RESCALE_ITERATIONS = 50


def month_weights(monthly_ghi_kwh_m2_day: np.ndarray) -> np.ndarray:
    """Each month's share of the annual GHI [-], summing to 1 (equal shares when every month
    is 0), from 12 monthly means [kWh m-2 day-1] over the synthetic calendar year (pure)."""
    days = np.array([calendar.monthrange(SYNTHETIC_YEAR, m)[1] for m in range(1, 13)])
    monthly = np.asarray(monthly_ghi_kwh_m2_day, dtype=float) * days
    total = float(monthly.sum())
    return monthly / total if total > 0 else np.full(12, 1.0 / 12.0)


def year_factor_cv(annual_cv: float, month_cv: float, weights: np.ndarray) -> float:
    """Coefficient of variation [-] of the year factor ``Y`` so that the annual GHI
    ``A = Y · Σ w_m M_m`` has the coefficient of variation ``annual_cv`` [-], where the month
    factors ``M_m`` are independent with coefficient of variation ``month_cv`` [-], ``Y`` and
    ``M_m`` have mean 1, and ``weights`` ``w_m`` are the months' shares of the annual GHI
    (:func:`month_weights`): ``1 + annual_cv² = (1 + cv_Y²)(1 + month_cv² Σ w_m²)`` (pure).

    Raises ValueError when the month factors alone spread the annual GHI more than
    ``annual_cv``."""
    from_months = month_cv**2 * float(np.sum(np.asarray(weights, dtype=float) ** 2))
    if from_months > annual_cv**2 * (1.0 + 1e-9):
        raise ValueError(
            f"monthly_ghi_cv_pct {100 * month_cv:g} alone spreads the annual GHI by "
            f"{100 * np.sqrt(from_months):.1f} %, more than interannual_ghi_cv_pct "
            f"{100 * annual_cv:g}: lower monthly_ghi_cv_pct or raise interannual_ghi_cv_pct")
    return float(np.sqrt(max((annual_cv**2 - from_months) / (1.0 + from_months), 0.0)))


def mean_one_lognormal(cv: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` lognormal factors of mean 1 and coefficient of variation ``cv`` [-] (all
    exactly 1 when ``cv`` is 0)."""
    return lognormal_at(cv, rng.standard_normal(size))


def lognormal_at(cv: float, z: np.ndarray | float) -> np.ndarray:
    """The mean-1 lognormal factor of coefficient of variation ``cv`` [-] at standard normal
    score ``z``."""
    var_log = np.log1p(cv**2)
    return np.asarray(np.exp(np.sqrt(var_log) * np.asarray(z, dtype=float) - 0.5 * var_log))


def year_quantiles(years: int, seed: int) -> np.ndarray:
    """Where each of ``years`` years lies in the distribution of year factors [0–1]: one in
    each of ``years`` equal strata, in a seeded random order, jittered within its stratum
    (Latin hypercube sampling, McKay, Beckman & Conover 1979). So that 10 or 20 synthetic
    years span the year-to-year spread as many more random ones would: their P90 is the
    distribution's, not a lucky or unlucky draw's."""
    rng = np.random.default_rng([seed, *YEAR_STRATA_STREAM])
    return (rng.permutation(years) + rng.random(years)) / years


def monthly_ghi_bounds_kwh_m2_day(monthly_ghi_kwh_m2_day: np.ndarray,
                                  clear_sky_kwh_m2_day: np.ndarray,
                                  ) -> tuple[np.ndarray, np.ndarray]:
    """The least and the most a drawn monthly mean GHI may be [kWh m-2 day-1]: at least
    :data:`MIN_MONTHLY_GHI_KWH_M2_DAY`, at most :data:`CLEAR_SKY_MARGIN_PCT` below clear sky,
    and never excluding the given mean itself (pure)."""
    given = np.asarray(monthly_ghi_kwh_m2_day, dtype=float)
    cap = np.asarray(clear_sky_kwh_m2_day, dtype=float) * (1.0 - CLEAR_SKY_MARGIN_PCT / 100.0)
    return np.minimum(given, MIN_MONTHLY_GHI_KWH_M2_DAY), np.maximum(given, cap)


def draw_monthly_ghi_kwh_m2_day(monthly_ghi_kwh_m2_day: np.ndarray,
                                clear_sky_kwh_m2_day: np.ndarray, interannual_ghi_cv_pct: float,
                                monthly_ghi_cv_pct: float, rng: np.random.Generator, *,
                                year_quantile: float | None = None) -> np.ndarray:
    """One year's 12 monthly mean GHI [kWh m-2 day-1] drawn around the given ones.

    Given mean × a year factor common to the 12 months × a factor per month, both mean-1
    lognormal: the month factors with ``monthly_ghi_cv_pct`` [%], the year factor with the
    spread (:func:`year_factor_cv`) that gives the annual GHI the coefficient of variation
    ``interannual_ghi_cv_pct`` [%]. Each draw is then held within
    :func:`monthly_ghi_bounds_kwh_m2_day` of ``clear_sky_kwh_m2_day`` [kWh m-2 day-1]; the
    years are unbiased but for months whose given mean lies near that cap. With both spreads
    0 the given means come back unchanged. ``year_quantile`` [0–1] places the year factor at
    that quantile instead of drawing it (:func:`year_quantiles`). Raises ValueError as
    :func:`year_factor_cv`.
    """
    given = np.asarray(monthly_ghi_kwh_m2_day, dtype=float)
    month_cv = monthly_ghi_cv_pct / 100.0
    year_cv = year_factor_cv(interannual_ghi_cv_pct / 100.0, month_cv, month_weights(given))
    year = (mean_one_lognormal(year_cv, 1, rng)[0] if year_quantile is None
            else float(lognormal_at(year_cv, float(ndtri(year_quantile)))))
    months = mean_one_lognormal(month_cv, 12, rng)
    lo, hi = monthly_ghi_bounds_kwh_m2_day(given, clear_sky_kwh_m2_day)
    return np.clip(given * year * months, lo, hi)


def monthly_ghi_years_kwh_m2_day(site: Site, years: int, seed: int,
                                 geometry: pd.DataFrame | None = None) -> np.ndarray:
    """The drawn monthly mean GHI of weather years ``0 … years-1`` [kWh m-2 day-1], shape
    ``(years, 12)``: the year factors stratified over the years (:func:`year_quantiles`), the
    month factors of year ``k`` from ``default_rng([seed, k, GHI_STREAM])``. ``geometry`` (from
    :func:`_site_geometry`) is computed when not given."""
    w = site.weather
    assert w is not None and w.monthly_ghi_kwh_m2_day is not None
    given = np.asarray(w.monthly_ghi_kwh_m2_day, dtype=float)
    clear = clear_sky_monthly_kwh_m2_day(_site_geometry(site) if geometry is None else geometry)
    where = year_quantiles(years, seed)
    return np.array([
        draw_monthly_ghi_kwh_m2_day(given, clear, w.interannual_ghi_cv_pct, w.monthly_ghi_cv_pct,
                                    np.random.default_rng([seed, k, GHI_STREAM]),
                                    year_quantile=where[k])
        for k in range(years)
    ]).reshape(years, 12)


def synthetic_year(geometry: pd.DataFrame, monthly_ghi: np.ndarray, monthly_temp: np.ndarray,
                   temp_range_c: float, rng: np.random.Generator) -> pd.DataFrame:
    """One synthetic hourly year over ``geometry`` (from :func:`_site_geometry`).

    ``monthly_ghi`` [kWh m-2 day-1], ``monthly_temp`` [°C], ``temp_range_c`` mean daily
    temperature swing [°C]. Each month's mean GHI comes out within about 0.1 % of
    ``monthly_ghi`` (for means up to about 95 % of clear sky), its temperature exactly.
    """
    index = geometry.index
    month = index.month.to_numpy() - 1
    days = np.array([calendar.monthrange(SYNTHETIC_YEAR, m)[1] for m in range(1, 13)])
    g0 = geometry["g0"].to_numpy()
    h0_month = np.bincount(month, weights=g0, minlength=12) / 1000.0 / days
    monthly_kt = np.clip(monthly_ghi / h0_month, 0.05, 0.85)
    kt_clear = np.divide(geometry["clear_ghi"].to_numpy(), g0, out=np.zeros_like(g0),
                         where=g0 > 1.0)
    kt_clear = np.minimum(kt_clear, 1.0)
    daily_kt = daily_kt_markov(monthly_kt, days, rng)
    kt = tag_hourly_kt(daily_kt, geometry["elevation"].to_numpy(), kt_clear, rng)
    ghi = kt * g0
    clear = geometry["clear_ghi"].to_numpy()
    target = monthly_ghi * days * 1000.0  # [Wh m-2 month-1]
    for _ in range(RESCALE_ITERATIONS):
        got = np.bincount(month, weights=ghi, minlength=12)
        factor = np.divide(target, got, out=np.ones(12), where=got > 0)
        ghi = np.minimum(ghi * factor[month], clear)
        if np.all(np.abs(factor - 1.0) < 1e-3):
            break

    zenith = geometry["zenith"].to_numpy()
    split = pvlib.irradiance.erbs(ghi, zenith, geometry["doy"].to_numpy())
    dni = np.nan_to_num(np.asarray(split["dni"], dtype=float))
    dhi = np.nan_to_num(np.asarray(split["dhi"], dtype=float))

    # Temperature: monthly mean, a daily cycle (minimum near dawn, maximum mid-afternoon)
    # whose swing follows the day's clearness, and a day-to-day AR(1) anomaly.
    kt_day = np.repeat(daily_kt, 24)
    mean_kt = monthly_kt[month]
    swing = temp_range_c * np.clip(kt_day / mean_kt, 0.4, 1.6)
    hour = index.hour.to_numpy() + 0.5
    cycle = 0.5 * swing * np.cos(2.0 * np.pi * (hour - 15.0) / 24.0)
    anomaly = np.repeat(lfilter([1.0], [1.0, -0.7], rng.standard_normal(daily_kt.size) * 0.7),
                        24)
    temp = monthly_temp[month] + cycle + anomaly
    offset = monthly_temp - np.bincount(month, weights=temp, minlength=12) / (days * 24)
    temp = temp + offset[month]
    return pd.DataFrame({
        "ghi": ghi, "dni": dni, "dhi": dhi, "temp_air": temp,
        "wind_speed": np.full(ghi.size, WIND_SPEED_M_S),
    }, index=index)


# --------------------------------------------------------------------------- synthetic wind

# The random stream of the wind of year k: ``default_rng([seed, k, WIND_STREAM])``, apart from
# the GHI and temperature streams, so that giving monthly wind changes no sunshine.
WIND_STREAM = 2
WIND_LAG1_AUTOCORRELATION = 0.9
"""Hour-to-hour autocorrelation of the Gaussian process under the wind speeds [-]: measured
hourly wind speeds have lag-1 autocorrelations of about 0.85-0.95. A Gaussian autoregressive
process transformed to the wind speeds' distribution is the model of Brown, Katz & Murphy,
"Time series models to simulate and forecast wind speed and wind power", J. Climate Appl.
Meteor. 23 (1984); HOMER's synthetic wind works alike (default autocorrelation factor 0.85)."""
WIND_DIURNAL_AMPLITUDE = 0.15
"""Half the day's swing of the mean wind speed, as a fraction of the mean [-]: near the ground
the wind is strongest in the afternoon, when the sun mixes the boundary layer, and on coasts the
sea breeze adds to it (HOMER's default diurnal pattern strength is 0.25, its hour of peak wind
15; 0.15 is our milder choice for monsoon coasts, an engineering estimate). Peak at
:data:`WIND_PEAK_HOUR`."""
WIND_PEAK_HOUR = 15.0  # [h] local time of the strongest mean wind


def synthetic_wind_m_s(index: pd.DatetimeIndex, monthly_wind_m_s: np.ndarray, weibull_k: float,
                       rng: np.random.Generator) -> np.ndarray:
    """Hourly wind speeds [m s-1] over ``index`` (hour-start labels, local time).

    A stationary Gaussian AR(1) process (lag-1 autocorrelation
    :data:`WIND_LAG1_AUTOCORRELATION`) mapped through the Weibull quantile of shape
    ``weibull_k`` [-], times a diurnal cycle (:data:`WIND_DIURNAL_AMPLITUDE`, peak at
    :data:`WIND_PEAK_HOUR`), each month then scaled to its mean ``monthly_wind_m_s``
    [m s-1] (12 values) exactly."""
    phi = WIND_LAG1_AUTOCORRELATION
    shocks = rng.standard_normal(len(index))
    shocks[1:] *= np.sqrt(1.0 - phi**2)  # the first value already has the stationary variance
    z = lfilter([1.0], [1.0, -phi], shocks)
    # Weibull quantile of Φ(z), with 1 - Φ(z) = Φ(-z) kept accurate in the upper tail
    unit = (-log_ndtr(-z)) ** (1.0 / weibull_k) / gamma(1.0 + 1.0 / weibull_k)
    hour = index.hour.to_numpy() + index.minute.to_numpy() / 60.0 + 0.5
    speed = unit * (1.0 + WIND_DIURNAL_AMPLITUDE
                    * np.cos(2.0 * np.pi * (hour - WIND_PEAK_HOUR) / 24.0))
    month = index.month.to_numpy() - 1
    drawn = np.bincount(month, weights=speed, minlength=12) / np.bincount(month, minlength=12)
    factor = np.divide(np.asarray(monthly_wind_m_s, dtype=float), drawn, out=np.zeros(12),
                       where=drawn > 0)
    return np.asarray(speed * factor[month])


def synthetic_years(site: Site, years: int, seed: int) -> list[pd.DataFrame]:
    """``years`` synthetic hourly years for the site's monthly weather; same seed, same years.

    Year ``k`` reproduces its own drawn monthly GHI (:func:`monthly_ghi_years_kwh_m2_day`),
    its days and hours come from ``default_rng([seed, k])``; with ``monthly_wind_m_s`` its wind
    from ``default_rng([seed, k, WIND_STREAM])`` (:func:`synthetic_wind_m_s`), else the
    constant breeze :data:`WIND_SPEED_M_S`."""
    w = site.weather
    assert w is not None and w.monthly_ghi_kwh_m2_day is not None
    assert w.monthly_temp_c is not None
    geometry = _site_geometry(site)
    check_monthly_ghi(site, geometry)
    monthly_ghi = monthly_ghi_years_kwh_m2_day(site, years, seed, geometry)
    monthly_temp = np.asarray(w.monthly_temp_c, dtype=float)
    frames = []
    for k in range(years):
        frame = synthetic_year(geometry, monthly_ghi[k], monthly_temp, w.daily_temp_range_c,
                               np.random.default_rng([seed, k]))
        if w.monthly_wind_m_s is not None:
            frame["wind_speed"] = synthetic_wind_m_s(
                pd.DatetimeIndex(frame.index), np.asarray(w.monthly_wind_m_s, dtype=float),
                w.wind_weibull_k, np.random.default_rng([seed, k, WIND_STREAM]))
        frames.append(frame)
    return frames


def to_step(hourly: pd.DataFrame, step_min: int) -> pd.DataFrame:
    """An hourly frame at a shorter step: irradiance and wind keep their hourly mean,
    temperature is interpolated between hour midpoints (pure)."""
    if step_min == 60:
        return hourly
    per_hour = 60 // step_min
    index = pd.date_range(hourly.index[0], periods=len(hourly) * per_hour,
                          freq=f"{step_min}min")
    out = pd.DataFrame({c: np.repeat(hourly[c].to_numpy(), per_hour) for c in hourly.columns},
                       index=index)
    mid_h = (np.arange(len(index)) + 0.5) / per_hour - 0.5
    out["temp_air"] = np.interp(mid_h, np.arange(len(hourly)), hourly["temp_air"].to_numpy())
    return out


def load_weather(site: Site, years: int | None = None) -> list[pd.DataFrame]:
    """One frame per weather year at ``[weather].step_min`` (see the module docstring for the
    columns).

    A weather file gives one year; monthly means give ``years`` (default
    ``[weather].years``) synthetic years from ``[weather].seed``. Raises :class:`WeatherError`.
    """
    w = site.weather
    if w is None:
        raise WeatherError("the site has no [weather] section")
    if w.file is not None:
        try:
            frames = [read_weather_file(w.file, w.format, site.site.timezone)]
        except WeatherError as e:
            raise e.at_key("weather.file") from e
    else:
        frames = synthetic_years(site, years or w.years, w.seed)
    return [to_step(f, w.step_min) for f in frames]
