"""Loads: nominal daily energy per load, and reading kW profiles from CSV files."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from datetime import time
from pathlib import Path

import numpy as np
import pandas as pd

from sitefile import (
    MAX_KW,
    AeratorLoad,
    Appliance,
    ApplianceLoad,
    Load,
    ProfileLoad,
    PumpLoad,
)
from sizing.errors import LoadProfileError


def night_hours(night_start: time, night_end: time) -> float:
    """Length of the night window [h], wrapping past midnight."""
    start = night_start.hour + night_start.minute / 60
    end = night_end.hour + night_end.minute / 60
    return (end - start) % 24


PROFILE_ROWS = (8760, 8784, 35040, 35136)  # hourly or 15-minute, common or leap year
PROFILE_SEPARATORS = (";", "\t")  # else ","
DECIMAL_COMMA_HINT = ("a decimal comma? Write 1.5, or quote \"1,5\", or separate the columns "
                      "with ;")


def _profile_text(path: Path) -> str:
    """A profile file's text (UTF-8, with or without Excel's byte-order mark)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise LoadProfileError(f"cannot read: {e.strerror}", file=path) from e
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LoadProfileError("not UTF-8 text (save the CSV as UTF-8)", file=path,
                               line=raw[: e.start].count(b"\n") + 1) from e


def _number(cell: str) -> float | None:
    """A cell as a number (a decimal point, or one decimal comma), or None when it is none.

    A comma inside a cell can only be a decimal comma: the separator would have split it."""
    text = cell.strip()
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def _kw_problem(value: float | None) -> str | None:
    """What makes a profile value unusable, or None when it is a usable power [kW]."""
    if value is None:
        return "not a number"
    if not math.isfinite(value):
        return "not a finite number"
    if value < 0:
        return "load power must not be negative"
    if value > MAX_KW:
        return f"load power must not be above {MAX_KW:,.0f} kW"
    return None


def _is_counter(cells: list[str]) -> bool:
    """Whether ``cells`` count rows (0, 1, 2, … or 1, 2, 3, …)."""
    first = _number(cells[0])
    return first is not None and all(_number(c) == first + k for k, c in enumerate(cells))


def parse_profile_kw(text: str, path: Path) -> np.ndarray:
    """The kW values of a load profile CSV's text (pure; ``path`` only names the file in
    errors) [kW].

    One value per line, in the last column; other columns (time stamps, hour numbers) and one
    header line are allowed, ``#`` starts a comment line. Columns are separated by ``;``, a
    tab or ``,``; decimals are written ``1.5``, or ``1,5`` (as Excel writes them in Vietnamese)
    when the separator is not a comma or the cell is quoted. Every value must be a number from
    0 to :data:`sitefile.MAX_KW`; :class:`LoadProfileError` names the line and column of the first
    that is not, and refuses a comma-separated file whose columns a decimal comma could have
    split.
    """
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise LoadProfileError("no values: expected 8760 hourly or 35040 15-minute rows",
                               file=path)
    sep = next((s for s in PROFILE_SEPARATORS if s in lines[0][1]), ",")
    rows = [(n, next(csv.reader([line], delimiter=sep))) for n, line in lines]
    width = len(rows[0][1])
    for n, cells in rows:
        if len(cells) != width:
            hint = f"; {DECIMAL_COMMA_HINT}" if sep == "," else ""
            raise LoadProfileError(f"{len(cells)} columns where line {rows[0][0]} has "
                                   f"{width}{hint}", file=path, line=n)
    if _number(rows[0][1][-1]) is None:
        rows = rows[1:]  # the header line
    if sep == "," and width == 2 and rows and not _is_counter([c[0] for _, c in rows]) \
            and all(_number(c[0]) is not None for _, c in rows):
        raise LoadProfileError(f"two numbers ({','.join(rows[0][1])}) where one kW value and "
                               f"a row count or time are expected: {DECIMAL_COMMA_HINT}",
                               file=path, line=rows[0][0], column=1)
    values = np.empty(len(rows))
    for k, (n, cells) in enumerate(rows):
        value = _number(cells[-1])
        reason = _kw_problem(value)
        if reason is not None:
            raise LoadProfileError(f"{reason} (got {cells[-1].strip()!r})", file=path, line=n,
                                   column=width)
        values[k] = value
    if len(values) not in PROFILE_ROWS:
        raise LoadProfileError(
            f"expected 8760 hourly or 35040 15-minute rows, got {len(values)}", file=path)
    return values


def read_profile_kw(path: Path) -> pd.Series:
    """Read a load profile CSV (see :func:`parse_profile_kw`): hourly (8760) or 15-minute
    (35040) rows [kW]. Raises :class:`LoadProfileError` naming the file, line and column."""
    return pd.Series(parse_profile_kw(_profile_text(path), path))


def nominal_daily_kwh(load: Load, night_h: float, profile_kw: pd.Series | None = None) -> float:
    """Mean daily energy of a load [kWh/day]; a profile load needs its ``profile_kw``."""
    if isinstance(load, ProfileLoad):
        if profile_kw is None:
            profile_kw = read_profile_kw(load.profile)
        return float(profile_kw.mean() * 24 * load.scale)
    if isinstance(load, ApplianceLoad):
        return sum(a.daily_kwh for a in load.appliances)
    if isinstance(load, AeratorLoad):
        hours_on = load.day_fraction * (24 - night_h) + load.night_fraction * night_h
        return load.kw_per_unit * load.units * hours_on
    if isinstance(load, PumpLoad):
        return load.daily_kwh
    raise TypeError(f"unknown load kind {type(load).__name__}")


# --------------------------------------------------------------------------- hourly series

MINUTES_PER_YEAR = 525_600


def _minute_of_year(index: pd.DatetimeIndex) -> np.ndarray:
    """Local minute of the (non-leap) year at which each step starts [min]."""
    doy = np.minimum(index.day_of_year.to_numpy(), 365) - 1
    return doy * 1440 + index.hour.to_numpy() * 60 + index.minute.to_numpy()


def step_mean(per_minute_kw: np.ndarray, index: pd.DatetimeIndex, step_min: int) -> np.ndarray:
    """Mean of a per-minute year of power over each step of ``index`` [kW] (wraps at year end)."""
    csum = np.concatenate(([0.0], np.cumsum(np.concatenate((per_minute_kw,
                                                             per_minute_kw[:step_min])))))
    start = _minute_of_year(index)
    return (csum[start + step_min] - csum[start]) / step_min


def step_minutes(index: pd.DatetimeIndex) -> int:
    """Length of one step of a regular index [min]."""
    if len(index) < 2:
        return 60
    return int((index[1] - index[0]) / pd.Timedelta(minutes=1))


def local_hour_mid(index: pd.DatetimeIndex) -> np.ndarray:
    """Local clock hour at the middle of each step [h]."""
    half_h = step_minutes(index) / 120.0
    return index.hour.to_numpy() + index.minute.to_numpy() / 60.0 + half_h


def in_window(hour: np.ndarray, start_h: float, length_h: float) -> np.ndarray:
    """Whether each local ``hour`` [h] falls in the daily window ``start_h`` + ``length_h``."""
    return ((hour - start_h) % 24.0) < length_h


def profile_kw(year_kw: np.ndarray, scale: float, index: pd.DatetimeIndex) -> np.ndarray:
    """A profile load over ``index`` [kW]: its hourly or 15-minute year ``year_kw`` [kW] (as
    :func:`read_profile_kw` reads it) × ``scale``, step-averaged (pure)."""
    values = np.asarray(year_kw, dtype=float) * scale
    per_hour = 4 if len(values) >= 35040 else 1
    year = values[: 8760 * per_hour]
    return step_mean(np.repeat(year, 60 // per_hour), index, step_minutes(index))


def profile_load_kw(load: ProfileLoad, index: pd.DatetimeIndex) -> np.ndarray:
    """A profile load over ``index`` [kW], its CSV file read here (the hardware simulator's
    edge; the sizing orchestrators take profiles read once by :mod:`sizing.inputs`)."""
    return profile_kw(read_profile_kw(load.profile).to_numpy(), load.scale, index)


def _add_blocks(diff: np.ndarray, start: np.ndarray, end: np.ndarray, kw: float) -> None:
    """Add ``kw`` from each minute ``start`` to ``end`` (exclusive) into the difference array
    ``diff`` of a year (length ``MINUTES_PER_YEAR`` + 1); a block running past the year's end
    continues on 1 January."""
    n = MINUTES_PER_YEAR
    wrap = end > n
    np.add.at(diff, start, kw)
    np.add.at(diff, np.where(wrap, n, end), -kw)
    diff[0] += kw * int(wrap.sum())
    np.add.at(diff, end[wrap] - n, -kw)


def cycle_period_min(app: Appliance) -> int:
    """On/off cycle of a duty-cycled appliance [min]: its ``cycle_min``, lengthened when needed
    so that each cycle is on for at least one whole minute."""
    return max(round(app.cycle_min), math.ceil(1.0 / app.duty_cycle - 1e-9))


def on_fraction(minute: np.ndarray, duty_cycle: float, period_min: int,
                phase_min: int = 0) -> np.ndarray:
    """Fraction of each minute of the year a cycling appliance is on [0–1]: on for the first
    ``duty_cycle`` × ``period_min`` minutes of each cycle (the last one in part), cycles
    starting at minute ``phase_min``; its mean over a cycle is ``duty_cycle`` exactly."""
    into = (minute - phase_min) % period_min
    return np.clip(duty_cycle * period_min - into, 0.0, 1.0)


def _appliance_years(load: ApplianceLoad, rng: np.random.Generator
                     ) -> Iterator[tuple[Appliance, np.ndarray]]:
    """Each appliance of ``load`` and its year of all its units at 1-minute resolution [kW]
    (see :func:`appliance_minutes_kw`), drawn from ``rng`` in appliance order."""
    n = MINUTES_PER_YEAR
    days = np.arange(365) * 1440
    minute = np.arange(n)
    for app in load.appliances:
        windows = [(w.start_h * 60.0, w.hours * 60.0) for w in app.windows]
        windows = windows or [(0.0, 1440.0)]
        total_min = sum(length for _, length in windows)
        kw = app.power_w / 1000.0
        cycling = app.duty_cycle < 1.0
        period = cycle_period_min(app) if cycling else 1
        by_phase: dict[int, np.ndarray] = {}  # units in use, by the phase of their cycle
        for _unit in range(app.count):
            phase = int(rng.integers(period)) if cycling else 0
            if phase not in by_phase:
                by_phase[phase] = np.zeros(n + 1)
            diff = by_phase[phase]
            factor = 1.0 + rng.standard_normal(365) * app.variability_pct / 100.0
            on_min = np.clip(app.minutes_per_day * factor, 0.0, total_min)
            for w_start, w_len in windows:
                dur = on_min * (w_len / total_min)
                offset = rng.random(365) * (w_len - dur)
                start = (days + w_start + offset).astype(np.int64) % n
                end = start + np.round(dur).astype(np.int64)
                _add_blocks(diff, start, end, 1.0)
        year = np.zeros(n)
        for phase, diff in by_phase.items():
            in_use = np.cumsum(diff[:n])
            year += in_use * (on_fraction(minute, app.duty_cycle, period, phase)
                              if cycling else 1.0)
        yield app, year * kw


def appliance_minutes_kw(load: ApplianceLoad, rng: np.random.Generator) -> np.ndarray:
    """A RAMP-style year of one appliance load at 1-minute resolution [kW].

    Each unit of each appliance is in use, every day, for its ``minutes_per_day`` (varied by
    ``variability_pct``), split over its windows in proportion to their length, as one block
    at a random start inside each window. While in use, an appliance with ``duty_cycle`` < 1
    cycles on and off (a thermostat's compressor): on at its full ``power_w`` for
    ``duty_cycle`` × :func:`cycle_period_min` minutes, off for the rest of each cycle, each unit
    with its own random phase (:func:`on_fraction`). So the year's peak minute sees the full
    power of every unit on, and its mean is ``power_w`` × ``duty_cycle`` while in use.
    """
    total = np.zeros(MINUTES_PER_YEAR)
    for _app, year in _appliance_years(load, rng):
        total += year
    return total


def appliance_starts(load: ApplianceLoad) -> list[tuple[str, float, float]]:
    """The motor starts of an appliance load: for each appliance with ``start_multiplier`` > 1,
    its motor name ``<load>/<appliance>``, one unit's running power [kW] and its start
    multiplier [-]."""
    return [(f"{load.name}/{a.name}", a.power_w / 1000.0, a.start_multiplier)
            for a in load.appliances if a.start_multiplier > 1.0 and a.power_w > 0]


def appliance_start_others_kw(load: ApplianceLoad, others_kw: np.ndarray | float = 0.0
                              ) -> dict[str, float]:
    """For each motor start of ``load`` (:func:`appliance_starts`), the highest load of
    everything else running while one of its units is on [kW]: the load's other appliances and
    the appliance's other units at the minute (its year as :func:`appliance_minutes_kw` draws
    it from ``load.seed``), plus ``others_kw``, the site's other loads at each minute of the
    year (an array of ``MINUTES_PER_YEAR``) or a constant [kW]. Minute peaks are kept, not
    hourly means: a cycling compressor starts at its full power."""
    starts = {name: kw for name, kw, _ in appliance_starts(load)}
    if not starts:
        return {}
    total = appliance_minutes_kw(load, np.random.default_rng(load.seed)) + others_kw
    out: dict[str, float] = {}
    for app, year in _appliance_years(load, np.random.default_rng(load.seed)):
        name = f"{load.name}/{app.name}"
        if name in starts:
            on = year > 1e-12
            if on.any():
                out[name] = max(float(total[on].max()) - starts[name], 0.0)
    return out


def per_minute(step_kw: np.ndarray, index: pd.DatetimeIndex) -> np.ndarray:
    """A stepped series over ``index`` [kW] as a year of minutes [kW] (each step's value over
    its minutes; minutes ``index`` does not cover are 0)."""
    step = step_minutes(index)
    out = np.zeros(MINUTES_PER_YEAR)
    where = (_minute_of_year(index)[:, None] + np.arange(step)).ravel() % MINUTES_PER_YEAR
    out[where] = np.repeat(np.asarray(step_kw, dtype=float), step)
    return out


def aerator_kw(load: AeratorLoad, index: pd.DatetimeIndex, night_start: time,
               night_end: time) -> np.ndarray:
    """Aerators over ``index`` [kW]: ``night_fraction`` of the units run at night, else
    ``day_fraction`` (night: ``night_start`` to ``night_end``, local time, step midpoints)."""
    start_h = night_start.hour + night_start.minute / 60.0
    night = in_window(local_hour_mid(index), start_h, night_hours(night_start, night_end))
    frac = np.where(night, load.night_fraction, load.day_fraction)
    return load.kw_per_unit * load.units * frac


def pump_steps_left(load: PumpLoad, index: pd.DatetimeIndex) -> np.ndarray:
    """Steps left in the pump's daily window, this step included (0 outside the window)."""
    phase = (local_hour_mid(index) - load.window.start_h) % 24.0
    inside = phase < load.window.hours
    left = np.zeros(len(index), dtype=np.int64)
    for t in range(len(index) - 1, -1, -1):
        if inside[t]:
            same = t + 1 < len(index) and inside[t + 1] and phase[t + 1] > phase[t]
            left[t] = left[t + 1] + 1 if same else 1
    return left


def appliance_start_others_nominal_kw(loads: Sequence[Load]) -> dict[str, float]:
    """:func:`appliance_start_others_kw` for every appliance load of ``loads`` without a
    simulation (the optimiser's design-time figure) [kW]: the other appliance loads at the
    minute (their years drawn from their seeds, so coincidence is kept), the aerators at their
    larger running fraction and the pumps at their power all the time (an upper bound). Profile
    loads are not counted: their files are read at the sizing edge, and the simulation's check
    (:func:`sizing.simulate.simulate`) counts them."""
    apps = [ld for ld in loads if isinstance(ld, ApplianceLoad)]
    if not any(appliance_starts(ld) for ld in apps):
        return {}
    steady = sum(ld.kw_per_unit * ld.units * max(ld.day_fraction, ld.night_fraction)
                 for ld in loads if isinstance(ld, AeratorLoad))
    steady += sum(ld.kw for ld in loads if isinstance(ld, PumpLoad))
    years = {ld.name: appliance_minutes_kw(ld, np.random.default_rng(ld.seed))
             for ld in apps if len(apps) > 1}
    out: dict[str, float] = {}
    for ld in apps:
        if not appliance_starts(ld):
            continue
        others: np.ndarray | float = steady
        for name, year in years.items():
            if name != ld.name:
                others = others + year
        out.update(appliance_start_others_kw(ld, others))
    return out
