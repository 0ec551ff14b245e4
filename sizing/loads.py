"""Loads: nominal daily energy per load, kW profiles from CSV files, RAMP-style appliance
loads of one home or a village of households, schedules, and load growth.

Why not RAMP itself (``rampdemand`` 0.5.2, the field's stochastic demand library): our
:class:`~sitefile.Appliance` already follows RAMP's model (windows, minutes per day with a
random variation, duty cycles, a number of units), and this module draws it the way RAMP does,
but RAMP does not fit three of our needs:

- *Determinism.* RAMP draws from Python's global ``random`` module (``UseCase(random_seed=…)``
  calls ``random.seed`` on the process-wide generator, and only when the seed is truthy, so
  seed 0 is no seed; there is no generator object to pass), so a year depends on every other
  draw made in the process (the optimiser's, another load's, a test's), and two loads cannot
  be drawn independently or in parallel reproducibly. Ours draw from one
  ``numpy.random.Generator`` per household, derived from the load's ``seed`` and the
  household's index (:func:`household_rngs`).
- *Speed.* RAMP builds each day in Python, day by day, user by user and appliance by
  appliance (``UseCase.generate_daily_load_profiles``), with a switch-on loop per event; ours
  places a whole year of each unit's blocks at once (numpy difference arrays), and the
  households of a village share those arrays, so 20 homes cost little more than one.
  Measured on one core for :data:`sitefile.presets.RURAL_HOME_PRESET` (the same six
  appliances written as RAMP appliances), a year at 1-minute resolution: RAMP 1.2 s for one
  home and 21.9 s for 20; this module 0.05 s and 0.14 s.
- *Packaging.* ``rampdemand`` 0.5.2 requires Python < 3.12 (it would pin the project's Python
  at 3.11) and pulls in plotly, matplotlib,
  xlsxwriter, openpyxl, tqdm and multiprocess for its plotting and Excel input; its results
  are per-minute frames of its own calendar, not our step index.

What we do not take from RAMP: its random peak-time window ("peak enlarge") and the
occasional-use and weekday/weekend appliance flags; use a ``schedule`` for the latter.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping, Sequence
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
    Site,
    WaterPumpLoad,
)
from sitefile.model import Schedule
from sizing.errors import LoadProfileError, SizingError
from sizing.hydraulics import operating_point


def night_hours(night_start: time, night_end: time) -> float:
    """Length of the night window [h], wrapping past midnight."""
    start = night_start.hour + night_start.minute / 60
    end = night_end.hour + night_end.minute / 60
    return (end - start) % 24


TYPICAL_DAY_ROWS = 24
"""Rows of a profile file that holds one typical day (hourly kW), repeated over the year."""
PROFILE_ROWS = (TYPICAL_DAY_ROWS, 8760, 8784, 35040, 35136)
"""Accepted rows of a profile file: a typical day, or a year hourly or 15-minute, common or leap
year."""
PROFILE_ROWS_TEXT = ("24 (one typical day, hourly), 8760 or 8784 (a year, hourly) or 35040 or "
                     "35136 (a year, 15-minute) rows")
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
        raise LoadProfileError(f"no values: expected {PROFILE_ROWS_TEXT}", file=path)
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
        raise LoadProfileError(f"{len(values)} rows of values; expected {PROFILE_ROWS_TEXT}",
                               file=path)
    return values


def read_profile_kw(path: Path) -> pd.Series:
    """Read a load profile CSV (see :func:`parse_profile_kw`): a typical day (24 hourly rows)
    or a year, hourly (8760) or 15-minute (35040) [kW]. Raises :class:`LoadProfileError`
    naming the file, line and column."""
    return pd.Series(parse_profile_kw(_profile_text(path), path))


def varied_profile_kw(file_kw: np.ndarray, day_to_day_pct: float, timestep_pct: float,
                      seed: int) -> np.ndarray:
    """A profile file's values as a year with HOMER-style random variability [kW] (pure).

    A typical day (:data:`TYPICAL_DAY_ROWS` rows) is first repeated over 365 days; a year's
    rows are taken as they are. Each day's rows are then multiplied by one factor
    ``1 + N(0, day_to_day_pct/100)`` and each row by one factor ``1 + N(0, timestep_pct/100)``
    (HOMER Pro's "day-to-day" and "timestep" variability), both drawn from ``seed``, day
    factors first. Factors below 0 are set to 0, so that no value is negative, and the year is
    then rescaled to the mean of the unvaried year (clipping would otherwise raise it), so the
    annual energy is exactly the file's. With both percentages 0 the year is the file's.
    """
    values = np.asarray(file_kw, dtype=float)
    if len(values) == TYPICAL_DAY_ROWS:
        values = np.tile(values, 365)
    if day_to_day_pct == 0 and timestep_pct == 0:
        return values
    rng = np.random.default_rng(seed)
    per_day = len(values) // 365 if len(values) % 365 == 0 else len(values) // 366
    days = -(-len(values) // per_day)
    day = 1.0 + rng.standard_normal(days) * day_to_day_pct / 100.0
    step = 1.0 + rng.standard_normal(len(values)) * timestep_pct / 100.0
    varied = values * np.maximum(np.repeat(day, per_day)[: len(values)], 0.0) \
        * np.maximum(step, 0.0)
    total = varied.sum()
    return varied * (values.sum() / total) if total > 0 else varied


def profile_year_kw(load: ProfileLoad) -> np.ndarray:
    """A profile load's year as sizing and the simulator use it: its file read
    (:func:`read_profile_kw`) and varied (:func:`varied_profile_kw`), unscaled [kW]."""
    return varied_profile_kw(read_profile_kw(load.profile).to_numpy(), load.day_to_day_pct,
                             load.timestep_pct, load.seed)


def nominal_daily_kwh(load: Load, night_h: float, profile_kw: pd.Series | None = None) -> float:
    """Mean daily energy of a load [kWh/day]; a profile load needs its ``profile_kw``."""
    if isinstance(load, ProfileLoad):
        if profile_kw is None:
            profile_kw = read_profile_kw(load.profile)
        return float(profile_kw.mean() * 24 * load.scale)
    if isinstance(load, ApplianceLoad):
        return load.count * sum(a.daily_kwh for a in load.appliances)
    if isinstance(load, AeratorLoad):
        hours_on = load.day_fraction * (24 - night_h) + load.night_fraction * night_h
        return load.kw_per_unit * load.units * hours_on
    if isinstance(load, PumpLoad):
        return load.daily_kwh
    if isinstance(load, WaterPumpLoad):
        return float(np.mean(load.flow_m3_per_day)) * pumping_kwh_per_m3(load)
    raise TypeError(f"unknown load kind {type(load).__name__}")


def pumping_kwh_per_m3(load: WaterPumpLoad) -> float:
    """Electrical energy a water pump uses per m³ at its rated speed against its static head
    and pipe [kWh/m³] (:func:`sizing.hydraulics.operating_point`). Raises :class:`SizingError`
    when the pump cannot lift the static head."""
    op = operating_point(load.pump, load.head_m, load.pipe)
    if op is None or op.flow_m3_h <= 0:
        raise SizingError(f"load {load.name!r}: the pump {load.pump.name} cannot lift water "
                          f"{load.head_m:g} m through its pipe (shut-off head "
                          f"{load.pump.head_m[0]:g} m); choose a pump with more head")
    return op.electric_kw / op.flow_m3_h


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
    """A profile load over ``index`` [kW], its CSV file read and varied here
    (:func:`profile_year_kw`; the hardware simulator's edge; the sizing orchestrators take
    profiles read once by :mod:`sizing.inputs`)."""
    return profile_kw(profile_year_kw(load), load.scale, index)


def _blocks_in_use(start: np.ndarray, end: np.ndarray, weight: np.ndarray | float = 1.0
                   ) -> np.ndarray:
    """The sum of the ``weight`` of the blocks on at each minute of a year (length
    ``MINUTES_PER_YEAR``), block ``i`` on from minute ``start[i]`` to ``end[i]`` (exclusive);
    a block running past the year's end continues on 1 January."""
    n = MINUTES_PER_YEAR
    w = np.broadcast_to(np.asarray(weight, dtype=float), start.shape)
    wrap = end > n
    diff = (np.bincount(start, w, minlength=n + 1)
            - np.bincount(np.where(wrap, n, end), w, minlength=n + 1))
    diff[0] += w[wrap].sum()
    diff -= np.bincount(end[wrap] - n, w[wrap], minlength=n + 1)
    return np.cumsum(diff[:n])


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


def household_rngs(load: ApplianceLoad, rng: np.random.Generator) -> list[np.random.Generator]:
    """The random generators of the ``load.count`` households of ``load``: the first is
    ``rng`` itself (a village of one is the home), household ``h`` ≥ 1 draws from
    ``rng.spawn``'s child ``h - 1``, seeded from ``rng``'s seed and the household's index
    (numpy's ``SeedSequence`` spawn key), so each household's year is reproducible on its own
    and independent of the others. Call it on a fresh ``np.random.default_rng(load.seed)``:
    spawning again from the same generator gives other children."""
    return [rng, *rng.spawn(load.count - 1)] if load.count > 1 else [rng]


_Blocks = dict[int, tuple[np.ndarray, np.ndarray]]
"""An appliance's blocks of use (start and end minutes of the year) by the phase of the
units' on/off cycle (all 0 for an appliance that does not cycle)."""


def _appliance_blocks(load: ApplianceLoad, rngs: Sequence[np.random.Generator]
                      ) -> Iterator[tuple[Appliance, _Blocks]]:
    """Each appliance of ``load`` and the blocks of use of all its units in the households
    drawing from ``rngs`` (one generator per household; see :func:`appliance_minutes_kw`).
    Each household's generator is drawn in appliance order, so a household's draws do not
    depend on the others."""
    n = MINUTES_PER_YEAR
    days = np.arange(365) * 1440
    for app in load.appliances:
        windows = [(w.start_h * 60.0, w.hours * 60.0) for w in app.windows]
        windows = windows or [(0.0, 1440.0)]
        total_min = sum(length for _, length in windows)
        cycling = app.duty_cycle < 1.0
        period = cycle_period_min(app) if cycling else 1
        by_phase: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        for rng in rngs:
            for _unit in range(app.count):
                phase = int(rng.integers(period)) if cycling else 0
                blocks = by_phase.setdefault(phase, [])
                factor = 1.0 + rng.standard_normal(365) * app.variability_pct / 100.0
                on_min = np.clip(app.minutes_per_day * factor, 0.0, total_min)
                for w_start, w_len in windows:
                    dur = on_min * (w_len / total_min)
                    offset = rng.random(365) * (w_len - dur)
                    start = (days + w_start + offset).astype(np.int64) % n
                    blocks.append((start, start + np.round(dur).astype(np.int64)))
        yield app, {phase: (np.concatenate([b[0] for b in blocks]),
                            np.concatenate([b[1] for b in blocks]))
                    for phase, blocks in by_phase.items()}


def _cycling_kw(app: Appliance, by_phase: _Blocks) -> np.ndarray:
    """A cycling appliance's year from its blocks by phase, on at ``power_w`` for the
    :func:`on_fraction` of each minute of its units' cycles [kW]."""
    n = MINUTES_PER_YEAR
    period = cycle_period_min(app)
    # the on-fraction of a unit of phase p at minute t is cycle[t - p + period]
    cycle = on_fraction(np.arange(n + period), app.duty_cycle, period, period)
    year = np.zeros(n)
    for phase, (start, end) in by_phase.items():
        year += _blocks_in_use(start, end) * cycle[period - phase:][:n]
    return year * (app.power_w / 1000.0)


def _appliance_years(load: ApplianceLoad, rngs: Sequence[np.random.Generator]
                     ) -> Iterator[tuple[Appliance, np.ndarray]]:
    """Each appliance of ``load`` and its year of all its units in the households drawing
    from ``rngs`` at 1-minute resolution [kW] (see :func:`_appliance_blocks`)."""
    for app, by_phase in _appliance_blocks(load, rngs):
        if app.duty_cycle < 1.0:
            yield app, _cycling_kw(app, by_phase)
        else:
            yield app, _blocks_in_use(*by_phase[0]) * (app.power_w / 1000.0) if by_phase \
                else np.zeros(MINUTES_PER_YEAR)


def _load_minutes_kw(load: ApplianceLoad, rngs: Sequence[np.random.Generator]) -> np.ndarray:
    """The year of ``load``'s households drawing from ``rngs`` at 1-minute resolution [kW]:
    the appliances that do not cycle summed in one difference array weighted by their power in
    whole milliwatts (integers, so the running sum is exact and returns to 0), each cycling one
    by the phases of its units, so a village costs little more than a home."""
    steady: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    year = np.zeros(MINUTES_PER_YEAR)
    for app, by_phase in _appliance_blocks(load, rngs):
        if app.duty_cycle < 1.0:
            year += _cycling_kw(app, by_phase)
        elif by_phase:
            start, end = by_phase[0]
            steady.append((start, end, np.full(len(start), float(round(app.power_w * 1000)))))
    if steady:
        milliwatts = _blocks_in_use(*(np.concatenate(parts)
                                      for parts in zip(*steady, strict=True)))
        year += milliwatts * 1e-6
    return year


def appliance_minutes_kw(load: ApplianceLoad, rng: np.random.Generator) -> np.ndarray:
    """A RAMP-style year of one appliance load, all its ``count`` households summed, at
    1-minute resolution [kW]; household ``h`` draws from :func:`household_rngs` ``(load,
    rng)[h]``, so the year is the sum of :func:`household_minutes_kw`.

    Each unit of each appliance is in use, every day, for its ``minutes_per_day`` (varied by
    ``variability_pct``), split over its windows in proportion to their length, as one block
    at a random start inside each window. While in use, an appliance with ``duty_cycle`` < 1
    cycles on and off (a thermostat's compressor): on at its full ``power_w`` for
    ``duty_cycle`` × :func:`cycle_period_min` minutes, off for the rest of each cycle, each unit
    with its own random phase (:func:`on_fraction`). So the year's peak minute sees the full
    power of every unit on, and its mean is ``power_w`` × ``duty_cycle`` while in use.
    """
    return _load_minutes_kw(load, household_rngs(load, rng))


def household_minutes_kw(load: ApplianceLoad, rng: np.random.Generator
                         ) -> Iterator[np.ndarray]:
    """Each household's year of ``load`` at 1-minute resolution [kW], one at a time, in
    household order (their sum is :func:`appliance_minutes_kw` of the same seed)."""
    for household in household_rngs(load, rng):
        yield _load_minutes_kw(load, [household])


def after_diversity_peak_kw(household_kw: np.ndarray) -> float:
    """The after-diversity peak of a group of households [kW]: the highest value of the sum of
    their demands, ``household_kw`` of shape (households, steps) [kW] (pure)."""
    return float(np.asarray(household_kw, dtype=float).sum(axis=0).max())


def diversity_factor(household_kw: np.ndarray) -> float:
    """The diversity factor of a group of households [-]: the sum of their individual peaks
    over the peak of their sum (:func:`after_diversity_peak_kw`), ``household_kw`` of shape
    (households, steps) [kW]; 1 for one household or households that peak together, larger
    the less their peaks coincide (pure). ``nan`` when nobody ever draws anything."""
    kw = np.asarray(household_kw, dtype=float)
    peak = after_diversity_peak_kw(kw)
    return float(kw.max(axis=1).sum() / peak) if peak > 0 else math.nan


def household_step_kw(load: ApplianceLoad, index: pd.DatetimeIndex) -> np.ndarray:
    """Each household's demand over ``index`` [kW], shape (``load.count``, steps): the minute
    years of :func:`household_minutes_kw` (seeded by ``load.seed``) averaged over each step,
    the basis of :func:`after_diversity_peak_kw` and :func:`diversity_factor` on the
    simulation's step. Costs ``count`` single-home draws (for the summary, not the optimiser)."""
    step = step_minutes(index)
    mask = schedule_mask(load.schedule, index)
    return np.array([step_mean(year, index, step) * mask
                     for year in household_minutes_kw(load, np.random.default_rng(load.seed))])


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
    for app, year in _appliance_years(load, household_rngs(load,
                                                           np.random.default_rng(load.seed))):
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
    """Steps left in the pump's daily window, this step included (0 outside the window, and
    on the days its ``schedule`` closes)."""
    phase = (local_hour_mid(index) - load.window.start_h) % 24.0
    inside = (phase < load.window.hours) & schedule_mask(load.schedule, index)
    left = np.zeros(len(index), dtype=np.int64)
    for t in range(len(index) - 1, -1, -1):
        if inside[t]:
            same = t + 1 < len(index) and inside[t + 1] and phase[t + 1] > phase[t]
            left[t] = left[t + 1] + 1 if same else 1
    return left


# --------------------------------------------------------------------------- schedules

_LONG_RUN_DAYS = pd.date_range("2001-01-01", "2028-12-31", freq="D")
"""28 years: a whole cycle of weekdays and leap years (within 1901–2099), over which the share
of open days of a schedule is its long-run share."""


def schedule_mask(schedule: Schedule | None, index: pd.DatetimeIndex) -> np.ndarray:
    """Whether a load with ``schedule`` may draw in each step of ``index`` (a
    :class:`pandas.DatetimeIndex` in the site's time zone, as the weather frames carry it):
    the local date at each step's start is open by :meth:`sitefile.model.Schedule.is_open`
    (weekday, month, closed periods). All ``True`` without a schedule. The one definition of
    a schedule in time, used by sizing (:func:`load_step_kw`, :func:`pump_steps_left`) and the
    hardware simulator (:class:`hardware_sim.inputs.Inputs`)."""
    if schedule is None:
        return np.ones(len(index), dtype=bool)
    key = ((index.month.to_numpy() * 100 + index.day.to_numpy()) * 10
           + index.day_of_week.to_numpy())
    days, inverse = np.unique(key, return_inverse=True)
    is_open = np.array([schedule.is_open(int(k) // 1000, int(k) // 10 % 100, int(k) % 10)
                        for k in days], dtype=bool)
    return is_open[inverse]


def open_day_fraction(schedule: Schedule | None) -> float:
    """The long-run share of days on which a load with ``schedule`` may draw [0–1]."""
    return float(schedule_mask(schedule, _LONG_RUN_DAYS).mean())


def load_step_kw(load: ProfileLoad | ApplianceLoad | AeratorLoad, index: pd.DatetimeIndex,
                 profiles_kw: Mapping[str, np.ndarray], night_start: time,
                 night_end: time) -> np.ndarray:
    """A continuous load's demand over ``index`` [kW], its schedule applied
    (:func:`schedule_mask`): a profile load from its year in ``profiles_kw`` (by load name,
    :func:`sizing.inputs.read_profiles`), an appliance load (all its households) drawn from
    ``load.seed`` minute by minute and averaged over each step, aerators by day and night
    (``night_start`` to ``night_end``). Raises :class:`SizingError` when a profile load's year
    is missing from ``profiles_kw``."""
    if isinstance(load, ProfileLoad):
        if load.name not in profiles_kw:
            raise SizingError(f"load {load.name!r}: its profile {load.profile} was not read")
        kw = profile_kw(profiles_kw[load.name], load.scale, index)
    elif isinstance(load, ApplianceLoad):
        kw = step_mean(appliance_minutes_kw(load, np.random.default_rng(load.seed)), index,
                       step_minutes(index))
    else:
        kw = aerator_kw(load, index, night_start, night_end)
    return kw * schedule_mask(load.schedule, index)


# --------------------------------------------------------------------------- load growth


def growth_factor(load: Load, year: int) -> float:
    """A load's demand in project ``year`` (1 = the first) relative to year 1 [-]:
    ``(1 + load_growth_pct_per_year / 100) ** (year - 1)``, compound."""
    return float((1.0 + load.load_growth_pct_per_year / 100.0) ** (year - 1))


def scaled_for_year(kw: np.ndarray, load: Load, year: int) -> np.ndarray:
    """A load's series ``kw`` [kW] (or a pump's daily energy [kWh]) as it is in project
    ``year`` (1 = as built): × :func:`growth_factor`. For the design check of the last year,
    scale each load's row of the kernel's ``load_kw`` (and each pump's ``pump_daily_kwh``)
    with its own load and ``year = lifetime_years``."""
    return np.asarray(kw, dtype=float) * growth_factor(load, year)


def annual_energy_kwh(load: Load, night_h: float, profile_kw: pd.Series | None = None
                      ) -> float:
    """A load's nominal energy in its first year [kWh/year]: :func:`nominal_daily_kwh` on the
    long-run share of days its schedule opens (:func:`open_day_fraction`), × 365."""
    return nominal_daily_kwh(load, night_h, profile_kw) * open_day_fraction(load.schedule) * 365


def load_growth_factors(site: Site, years: int,
                        profiles_kw: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """The site's total demand in each project year relative to year 1 [-], shape
    (``years``,), year 1 = 1.0: ``Σ_l E_l g_l(y) / Σ_l E_l``, with ``E_l`` each load's first-year
    energy (:func:`annual_energy_kwh`) and ``g_l(y)`` its :func:`growth_factor`. Economics
    multiplies a year-1 energy (served, fuel-free demand, …) by ``factors[y - 1]``.
    ``profiles_kw``: the profile loads' years by name as :func:`sizing.inputs.read_profiles`
    gives them; a profile load missing from it is read from its file. All ones for a site
    without demand."""
    night_h = night_hours(site.control.night_start, site.control.night_end)
    known = profiles_kw or {}
    energy = np.array([
        annual_energy_kwh(ld, night_h, pd.Series(known[ld.name]) if ld.name in known else None)
        for ld in site.loads])
    growth = np.array([[growth_factor(ld, y) for y in range(1, years + 1)]
                       for ld in site.loads]).reshape(len(site.loads), years)
    total = energy.sum()
    if total <= 0:
        return np.ones(years)
    return np.asarray(energy @ growth / total, dtype=float)
