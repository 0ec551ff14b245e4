"""The site file's model: one pydantic section per TOML table (DESIGN.md §2), and ``Site``.

Pydantic v2 models, one per section. Unknown keys are errors. Units are in key names.
Presets and defaults are filled before validation (:mod:`sitefile.presets`), so a validated
section has no ``Optional`` field that is always filled; the fields left ``Optional`` are truly
optional (``None`` means "not used at this site"). Sections are frozen: a site changes by
building a new one (``Site.with_control``, ``model_copy``), never in place.
``parse_site(data, base_dir)`` validates an already-parsed mapping; it does no I/O.
"""

from __future__ import annotations

import difflib
import math
from datetime import datetime, time
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from fleetwire.errors import WireError
from fleetwire.topics import check_site_id
from ieee1366 import SAIDI_TARGET_MINUTES, SAIFI_TARGET_COUNT
from sitefile.checks import run_checks
from sitefile.errors import Problem, SiteFileError, problems_from
from sitefile.presets import (
    PUMP_CATALOGUE,
    fill_appliances,
    fill_battery,
    fill_device,
    fill_generator,
    fill_households,
    fill_inverter,
    fill_load_priority,
    fill_restart_delay,
    fill_site_priorities,
    fill_water_pump,
)

__all__ = [
    "MAX_APPLIANCES",
    "MAX_APPLIANCE_COUNT",
    "MAX_CANDIDATES",
    "MAX_HOUSEHOLDS",
    "MAX_KW",
    "MAX_LOADS",
    "MAX_PRIORITY",
    "MAX_TURBINES",
    "MAX_VND",
    "PV",
    "SETTABLE_CONTROL_KEYS",
    "SIM_START_YEARS",
    "WEEKDAYS",
    "AeratorLoad",
    "Api",
    "Appliance",
    "ApplianceLoad",
    "Battery",
    "ClosedPeriod",
    "Control",
    "Device",
    "Driver",
    "Economics",
    "Generator",
    "Inverter",
    "Load",
    "LoadBase",
    "Maintenance",
    "NonNeg",
    "Pct",
    "Pipe",
    "Pos",
    "PowerCurve",
    "ProfileLoad",
    "PumpLoad",
    "PumpModel",
    "QuietHours",
    "Range",
    "Reliability",
    "Schedule",
    "Search",
    "Section",
    "Sim",
    "SimFault",
    "Site",
    "SiteInfo",
    "Switch",
    "Tank",
    "TimeWindow",
    "Uplink",
    "WaterPumpLoad",
    "Weather",
    "Wind",
    "Wiring",
    "parse_site",
    "turbine_types",
]

Pct = Annotated[float, Field(ge=0, le=100)]
NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]
MAX_KW = 100_000.0
"""Largest power [kW] or energy [kWh] of one component, load or search value (100 MW): far
above any off-grid site, and low enough that every sum over a year stays finite."""
Kw = Annotated[float, Field(ge=0, le=MAX_KW)]
MAX_VND = 1e12
"""Largest unit cost [VND] (a trillion), so that every cost over a lifetime stays finite."""
Vnd = Annotated[float, Field(ge=0, le=MAX_VND)]
Years = Annotated[float, Field(ge=1, le=100)]


# Limits of what the engines can run, refused at validation rather than failing inside them.
MAX_LOADS = 200
"""Loads per site: the dispatch kernel is compiled per site layout, with the number of loads as
a tuple length (see ``sizing.dispatch``); 200 compile and run, a thousand do not."""
MAX_PRIORITY = 999
"""Largest load priority: room for the defaults 10, 11, … of :data:`MAX_LOADS` loads."""
MAX_APPLIANCES = 100
"""Appliances per appliance load."""
MAX_APPLIANCE_COUNT = 1000
"""Units of one appliance (each unit's year is drawn minute by minute)."""
MAX_CANDIDATES = 5_000_000
"""Candidate designs of one search, and values of one search range (``search.max_candidates``
is at most this)."""
SIM_START_YEARS = range(2000, 2101)
MAX_CUSTOMERS = 100_000
"""Customers of one load (a village feeder at most)."""
"""Years in which the hardware simulator's clock may start (``[sim] start``)."""


class Section(BaseModel):
    """Base of every section: unknown keys are errors, numbers are finite (no ``inf`` or
    ``nan``), and a validated section is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _resolve_file(value: str | Path, info: ValidationInfo) -> Path:
    """Resolve a file named in the site file relative to the site file's folder; it must exist."""
    base = (info.context or {}).get("base_dir")
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if path.is_dir():
        raise ValueError(f"a folder, not a file: {path}")
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    return path.resolve()


# --------------------------------------------------------------------------- site & weather


class SiteInfo(Section):
    """Where the site is."""

    name: str = Field(min_length=1, max_length=120)
    latitude: float = Field(ge=-90, le=90, description="[deg] north positive")
    longitude: float = Field(ge=-180, le=180, description="[deg] east positive")
    altitude_m: float = Field(default=0.0, ge=-430, le=8900)
    timezone: str = "Asia/Ho_Chi_Minh"
    roughness_length_m: float = Field(default=0.1, gt=0, le=2, description=(
        "[m] surface roughness length z0 of the log-law wind profile (windpowerlib's "
        "logarithmic_profile): about 0.0002 open sea, 0.03 open flat land with low vegetation, "
        "0.1 farmland with scattered hedges, 0.5-1 villages and forest (the Davenport "
        "classification in WMO's guide to instruments)"))
    province: str = Field(default="", max_length=120, description=(
        "the province the site belongs to, for the hub's reports per province (\"\": none)"))

    @field_validator("timezone")
    @classmethod
    def _tz_exists(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError("unknown time zone (use an IANA name such as Asia/Ho_Chi_Minh)") from e
        return v


class Weather(Section):
    """Hourly weather: a TMY/EPW file, or synthetic years from monthly means.

    Synthetic years vary like real years: each draws its monthly mean GHI around the given
    ones (:func:`sizing.weather.draw_monthly_ghi_kwh_m2_day`), so that the annual GHI has the
    coefficient of variation ``interannual_ghi_cv_pct`` [%] from year to year, and single
    months a further independent spread ``monthly_ghi_cv_pct`` [%]; over many years each
    month's mean is the given one. The default 4 % is within the year-to-year variation of
    annual GHI that the literature gives: a few per cent, mostly under about 5 %, at the US
    stations of Gueymard & Wilcox, "Assessment of spatial and temporal variability in the US
    solar resource from radiometric measurements and predictions from models using
    ground-based or satellite data", Solar Energy 85 (2011); about 3-6 % over Vietnam in
    Solargis / World Bank ESMAP, "Solar resource and photovoltaic power potential of Vietnam"
    (2017, Global Solar Atlas). Single months of the monsoon vary more than whole years; the
    default 8 % month spread (about 9 % for a single month with the year factor) is an
    engineering estimate, not a published figure. Both 0 give every year the given means.

    Wind: a file's wind speed (a NASA POWER hourly CSV's WS10M), or with monthly means
    ``monthly_wind_m_s`` hourly speeds drawn from a Weibull distribution of shape
    ``wind_weibull_k`` with hour-to-hour persistence and an afternoon maximum
    (:func:`sizing.weather.synthetic_wind_m_s`); without either, synthetic years carry a
    light constant breeze that only cools the PV cells.
    """

    file: Path | None = None
    format: Literal["auto", "epw", "tmy3", "pvgis", "nasa_power"] = "auto"
    monthly_ghi_kwh_m2_day: list[Annotated[float, Field(ge=0, le=12)]] | None = Field(
        default=None, min_length=12, max_length=12
    )
    monthly_temp_c: list[Annotated[float, Field(ge=-60, le=60)]] | None = Field(
        default=None, min_length=12, max_length=12
    )
    daily_temp_range_c: float = Field(default=8.0, ge=0, le=30)
    years: int = Field(default=1, ge=1, le=100)
    seed: int = Field(default=0, ge=0)
    interannual_ghi_cv_pct: float = Field(
        default=4.0, ge=0, le=20,
        description="year-to-year coefficient of variation of annual GHI [%]")
    monthly_ghi_cv_pct: float = Field(
        default=8.0, ge=0, le=40,
        description="further independent spread of each month's mean GHI [%]")
    step_min: Literal[60, 15] = Field(default=60, description="simulation time step [min]")
    wind_height_m: float = Field(default=10.0, gt=0, le=200, description=(
        "[m] anemometer height of the wind speed: the file's (EPW, TMY3, PVGIS and NASA "
        "POWER's WS10M are at 10 m) or monthly_wind_m_s's"))
    monthly_wind_m_s: list[Annotated[float, Field(ge=0, le=30)]] | None = Field(
        default=None, min_length=12, max_length=12,
        description="[m/s] monthly mean wind speeds at wind_height_m for synthetic years")
    wind_weibull_k: float = Field(default=2.0, ge=1, le=5, description=(
        "Weibull shape factor of the hourly wind speeds of synthetic years (2, the Rayleigh "
        "distribution, for most sites; 3-4 for steady trade winds)"))

    @field_validator("file", mode="before")
    @classmethod
    def _file_exists(cls, v: Any, info: ValidationInfo) -> Path | None:
        return None if v is None else _resolve_file(v, info)

    @model_validator(mode="after")
    def _one_source(self) -> Weather:
        monthly = self.monthly_ghi_kwh_m2_day is not None
        if self.file is None and not monthly:
            raise ValueError("give either file or monthly_ghi_kwh_m2_day with monthly_temp_c")
        if self.file is not None and monthly:
            raise ValueError("give file or monthly_ghi_kwh_m2_day, not both")
        if monthly and self.monthly_temp_c is None:
            raise ValueError("monthly_ghi_kwh_m2_day needs monthly_temp_c")
        if self.monthly_wind_m_s is not None and not monthly:
            raise ValueError("monthly_wind_m_s goes with monthly_ghi_kwh_m2_day; a weather "
                             "file carries its own wind")
        return self


# --------------------------------------------------------------------------- components


# A module's or a PV input's voltage [V], up to the 1500 V DC of utility-scale strings.
Volts = Annotated[float, Field(ge=1, le=1500)]
MAX_MODULE_W = 1000.0  # [W] the largest PV modules made are about 700 W


class PV(Section):
    """The PV array (PVWatts parameters by default)."""

    kwp: Kw
    tilt_deg: float = Field(default=12.0, ge=0, le=90)
    azimuth_deg: float = Field(default=180.0, ge=0, lt=360, description="180 = south")
    losses_pct: float = Field(default=14.0, ge=0, lt=100)
    coupling: Literal["dc", "ac"] = "dc"
    gamma_pdc_pct_per_c: float = Field(default=-0.37, ge=-1, le=0)
    module_w: float = Field(default=550.0, ge=1, le=MAX_MODULE_W)
    module_voc_v: Volts = 49.5
    module_vmp_v: Volts = 41.6
    module_voc_temp_coeff_pct_per_c: float = Field(default=-0.28, ge=-1, le=0)
    mppt_max_input_v: Volts = 150.0
    mppt_min_v: Volts = 60.0
    mppt_efficiency_pct: float = Field(default=98.0, gt=0, le=100)
    record_low_temp_c: float = Field(default=14.0, ge=-60, le=40)
    module_vmp_temp_coeff_pct_per_c: float = Field(default=-0.35, ge=-1, le=0)
    max_cell_temp_c: float = Field(default=70.0, ge=0, le=100, description="hot design cell")
    cec_module: str | None = None
    degradation_pct_per_year: float = Field(default=0.5, ge=0, le=10, description=(
        "[%/year] loss of the array's output each year: project year y delivers "
        "(1 - d)^(y-1) of year 1's energy; 0.5 is the median that NREL's review of field "
        "data found for crystalline silicon (Jordan & Kurtz 2013, Prog. Photovolt. 21:12) "
        "and the usual module warranty figure"))


MAX_GENERATORS = 8
"""Generator units of one site (a village power house)."""
MAX_TURBINES = 200
"""Turbines of one ``[[wind]]`` entry (a village wind farm at most)."""
MAX_CURVE_POINTS = 200


class PowerCurve(Section):
    """A wind turbine's power curve: electrical output [kW] at hub-height wind speed [m/s],
    at the standard air density 1.225 kg/m³, as manufacturers certify it (IEC 61400-12-1; AWEA
    9.1 for small turbines). Output is 0 below the first and above the last speed (the
    cut-out), and linear between points."""

    speed_m_s: list[Annotated[float, Field(ge=0, le=50)]] = Field(
        min_length=3, max_length=MAX_CURVE_POINTS)
    power_kw: list[Annotated[float, Field(ge=0, le=MAX_KW)]] = Field(
        min_length=3, max_length=MAX_CURVE_POINTS)

    @model_validator(mode="after")
    def _a_curve(self) -> PowerCurve:
        if len(self.speed_m_s) != len(self.power_kw):
            raise ValueError(f"speed_m_s has {len(self.speed_m_s)} values and power_kw "
                             f"{len(self.power_kw)}: give one power per speed")
        steps = [b - a for a, b in zip(self.speed_m_s, self.speed_m_s[1:], strict=False)]
        if any(step <= 0 for step in steps):
            raise ValueError("speed_m_s must be strictly increasing")
        if max(self.power_kw) <= 0:
            raise ValueError("power_kw is 0 at every speed")
        return self


@cache
def turbine_types() -> tuple[str, ...]:
    """The turbine types with a power curve in windpowerlib's turbine library (the oedb
    library shipped with windpowerlib, read offline)."""
    from windpowerlib import get_turbine_types  # noqa: PLC0415 (pandas: only when named)

    df = get_turbine_types(print_out=False, filter_=False)
    return tuple(sorted(df.loc[df["has_power_curve"].fillna(False).astype(bool),
                               "turbine_type"]))


class Wind(Section):
    """Identical wind turbines: a type from windpowerlib's turbine library (``turbine``) or
    their own ``power_curve``, ``count`` of them on towers of ``hub_height_m``."""

    name: str = Field(min_length=1, max_length=60)
    turbine: str | None = Field(default=None, description=(
        "a windpowerlib turbine library type, such as 'E-53/800'"))
    power_curve: PowerCurve | None = None
    count: int = Field(default=1, ge=0, le=MAX_TURBINES)
    hub_height_m: float = Field(gt=0, le=200)
    coupling: Literal["ac", "dc"] = "ac"
    availability_pct: Pct = Field(default=97.0, description=(
        "[%] of the time a turbine can run (maintenance and faults); its output is scaled by "
        "it"))

    @field_validator("turbine")
    @classmethod
    def _known_turbine(cls, v: str | None) -> str | None:
        if v is None or v in turbine_types():
            return v
        known = turbine_types()
        close = difflib.get_close_matches(v, known, n=5, cutoff=0.5) or list(known[:5])
        raise ValueError(f"not in windpowerlib's turbine library ({len(known)} types with a "
                         f"power curve; close: {', '.join(close)}); or give power_curve")

    @model_validator(mode="after")
    def _one_curve(self) -> Wind:
        if self.turbine is not None and self.power_curve is not None:
            raise ValueError("give turbine or power_curve, not both")
        if self.turbine is None and self.power_curve is None:
            raise ValueError("give turbine (a windpowerlib library type) or power_curve")
        return self


Efficiency = Annotated[float, Field(gt=0, le=100)]


class Battery(Section):
    """The battery bank. Keys the file leaves out come from the chemistry preset
    (:data:`sitefile.presets.CHEMISTRY_PRESETS`); ``initial_soc_pct`` defaults to
    ``max_soc_pct`` and the power limits to :data:`~sitefile.presets.DEFAULT_C_RATE` × ``kwh``."""

    chemistry: Literal["lfp", "lead_acid"] = "lfp"
    kwh: Kw
    min_soc_pct: Pct
    max_soc_pct: Pct
    initial_soc_pct: Pct
    charge_efficiency_pct: Efficiency
    discharge_efficiency_pct: Efficiency
    max_charge_kw: Kw
    max_discharge_kw: Kw
    cycle_life: float = Field(ge=1, le=1e6,
                              description="cycles to 80 % capacity at cycle_life_dod_pct")
    cycle_life_dod_pct: Annotated[float, Field(gt=0, le=100)]
    cycle_life_exponent: float = Field(gt=0, le=10)
    calendar_life_years: Years
    nominal_v: Pos
    max_temp_c: float = Field(ge=0, le=80)
    end_of_life_capacity_pct: float = Field(gt=0, lt=100, description=(
        "[% of nameplate] the capacity at which the battery is worn out and replaced: it "
        "fades linearly from 100 % to this over its life (cycle_life and "
        "calendar_life_years, whichever ends first; quote them to this capacity); default "
        "from the chemistry preset"))

    @model_validator(mode="before")
    @classmethod
    def _fill_preset(cls, data: Any) -> Any:
        return fill_battery(data) if isinstance(data, dict) else data


class Inverter(Section):
    """The battery inverter (or inverter/charger)."""

    kw: Kw
    surge_kw: float = Field(ge=0, le=MAX_KW, description="[kW] default: SURGE_RATIO x kw")
    surge_s: Pos = 5.0
    efficiency_pct: float = Field(default=95.0, gt=0, le=100)

    @model_validator(mode="before")
    @classmethod
    def _default_surge(cls, data: Any) -> Any:
        return fill_inverter(data) if isinstance(data, dict) else data


class Generator(Section):
    """A diesel generator: one unit of ``[[generators]]`` (or the single ``[generator]``)."""

    name: str = Field(default="generator", min_length=1, max_length=60, description=(
        "default: 'generator', 'generator-2', … in file order"))
    device: str | None = Field(default=None, description=(
        "the [[devices]] entry that starts and stops it; default: the n-th device with driver "
        "'generator'"))
    kw: Kw
    fuel_l_per_kwh: float = Field(default=0.25, ge=0, le=10)
    fuel_l_per_h_idle: float = Field(ge=0, le=MAX_KW,
                                     description="[L/h] default: 0.08 L/h per kW of rating")
    min_load_pct: Pct = 30.0
    min_run_min: float = Field(default=60.0, ge=0, le=1440)
    strategy: Literal["load_following", "cycle_charging"] = "cycle_charging"
    start_delay_s: NonNeg = 10.0
    life_hours: float = Field(default=15000.0, ge=1, le=1e6)
    tank_l: Pos = 200.0
    low_fuel_pct: Pct = Field(default=15.0, description="[%] the controller's low-fuel alarm")

    @model_validator(mode="before")
    @classmethod
    def _default_idle(cls, data: Any) -> Any:
        return fill_generator(data) if isinstance(data, dict) else data


# --------------------------------------------------------------------------- loads


class TimeWindow(Section):
    """A daily window in local time, ``start_h`` to ``end_h`` [h]; wraps past midnight."""

    start_h: float = Field(ge=0, le=24)
    end_h: float = Field(ge=0, le=24)

    @model_validator(mode="after")
    def _not_empty(self) -> TimeWindow:
        if self.start_h == self.end_h:
            raise ValueError("start_h and end_h are equal: the window would be empty "
                             "(0 to 24 is the whole day)")
        return self

    @property
    def hours(self) -> float:
        """Length of the window [h]."""
        return (self.end_h - self.start_h) % 24 or 24.0  # 0 to 24 (or 24 to 0): the whole day


class Appliance(Section):
    """One appliance of a RAMP-style load.

    ``duty_cycle`` < 1 (a thermostat's compressor) runs the appliance on and off while it is in
    use: on at full ``power_w`` for ``duty_cycle`` × ``cycle_min``, then off for the rest of each
    cycle (:func:`sizing.loads.appliance_minutes_kw`), so its peak is ``power_w`` and its mean
    ``power_w`` × ``duty_cycle``.

    ``start_multiplier`` is the locked-rotor start of a motor started direct on line, as a
    multiple of its running power: 1 (the default) for no surge (lights, electronics, an
    inverter-driven "inverter" air conditioner or fridge with a soft start). Typical values, the
    ratio of locked-rotor to rated-load current (LRA/RLA) on the compressor's nameplate or the
    manufacturer's data sheet: about 5–7 for a reciprocating or rotary compressor of a
    non-inverter fridge, freezer or window/split air conditioner (a 1 HP, ~850 W split unit
    draws 4–6 kW for a fraction of a second), 3–5 with a start capacitor or a hard-start kit,
    6–8 for a small induction motor (a pump, a fan) started direct on line. Each start counts in
    the motor-start check against the inverter's surge rating
    (:func:`sizing.reliability.motor_start_check`).
    """

    name: str = Field(min_length=1)
    power_w: float = Field(ge=0, le=MAX_KW * 1000)
    count: int = Field(default=1, ge=1, le=MAX_APPLIANCE_COUNT)
    minutes_per_day: float = Field(ge=0, le=1440)
    windows: list[TimeWindow] = Field(default_factory=list, max_length=3)
    duty_cycle: float = Field(default=1.0, gt=0, le=1)
    cycle_min: float = Field(default=20.0, ge=2, le=240, description=(
        "[min] on/off cycle of a duty-cycled appliance (a fridge or air conditioner "
        "compressor cycles every 15–30 min)"))
    start_multiplier: float = Field(default=1.0, ge=1, le=10, description=(
        "locked-rotor start surge / running power (LRA/RLA): 1 = no surge, 5–7 for a "
        "non-inverter compressor"))
    variability_pct: Pct = 20.0

    @property
    def daily_kwh(self) -> float:
        """Mean daily energy [kWh]."""
        return self.power_w * self.count * self.minutes_per_day / 60.0 * self.duty_cycle / 1000.0


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)
"""Day names of a load's ``schedule.weekdays``, Monday first (Python's ``date.weekday()``)."""
MAX_HOUSEHOLDS = 500
"""Households of one appliance load (``count``): one stochastic profile is drawn for each."""


class ClosedPeriod(Section):
    """Days a scheduled load is closed every year, ``from`` to ``to`` inclusive, as ``MM-DD``
    in the site's time zone; a period whose ``to`` comes before its ``from`` runs over the new
    year (``12-20`` to ``01-05``). ``02-29`` is a day of leap years only."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)

    from_: str = Field(alias="from", pattern=r"^\d\d-\d\d$", description="MM-DD, first day")
    to: str = Field(pattern=r"^\d\d-\d\d$", description="MM-DD, last day")

    @field_validator("from_", "to")
    @classmethod
    def _real_day(cls, v: str) -> str:
        month, day = int(v[:2]), int(v[3:])
        if not 1 <= month <= 12:
            raise ValueError(f"month {month:02d} does not exist (MM-DD, 01..12)")
        if not 1 <= day <= (29 if month == 2 else _DAYS_IN_MONTH[month - 1]):
            raise ValueError(f"month {month:02d} has no day {day:02d}")
        return v

    def covers(self, month: int, day: int) -> bool:
        """Whether the local date ``month``-``day`` lies in this period (inclusive, wrapping
        over the new year)."""
        first = int(self.from_[:2]) * 100 + int(self.from_[3:])
        last = int(self.to[:2]) * 100 + int(self.to[3:])
        md = month * 100 + day
        return first <= md <= last if first <= last else (md >= first or md <= last)


class Schedule(Section):
    """When a load may draw power, by local date: on the ``weekdays`` listed, in the
    ``months`` listed (1 = January), and outside every ``closed`` period. Outside its schedule a
    load draws nothing all day (a school on Sundays and in the summer holiday); inside, it
    draws as its kind says. The per-step mask of sizing and the hardware simulator is
    :func:`sizing.loads.schedule_mask`, built on :meth:`is_open`."""

    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1,
                                    max_length=7)
    closed: list[ClosedPeriod] = Field(default_factory=list, max_length=24)
    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(
        default_factory=lambda: list(range(1, 13)), min_length=1, max_length=12)

    def is_open(self, month: int, day: int, weekday: int) -> bool:
        """Whether the load may draw on the local date ``month``-``day``, a ``weekday`` (0 =
        Monday, as ``date.weekday()``)."""
        return (WEEKDAYS[weekday] in self.weekdays and month in self.months
                and not any(p.covers(month, day) for p in self.closed))


class Switch(Section):
    """Which relay channels switch a load (on a ``relay_board`` device)."""

    device: str
    channels: list[int] = Field(min_length=1)


class LoadBase(Section):
    """What every load has. ``priority`` defaults to 1 for a critical load; at site level the
    others get 10, 11, … in file order (on its own, a load gets 10)."""

    name: str = Field(min_length=1, max_length=60)
    critical: bool = False
    priority: int = Field(ge=1, le=MAX_PRIORITY, description="1 = shed last")
    switch: Switch | None = None
    customers: int = Field(default=1, ge=0, le=MAX_CUSTOMERS, description=(
        "customers this load supplies (households, a school, a farm) for SAIDI/SAIFI; 0 for "
        "a load of a customer already counted by another load"))
    flexible: bool = Field(default=False, description=(
        "demand response (air conditioner, ice maker, deferrable pump): its shedding is "
        "curtailment, not an interruption"))
    min_on_s: float = Field(default=0.0, ge=0, le=86400, description=(
        "[s] a switched load stays on this long before the controller switches it off "
        "voluntarily (battery protection still switches it off at once)"))
    min_off_s: float = Field(default=0.0, ge=0, le=86400, description=(
        "[s] a switched load stays off this long before it is switched on again"))
    restart_delay_s: float = Field(default=0.0, ge=0, le=3600, description=(
        "[s] a compressor's anti-short-cycle delay: after any switch-off, the load is switched "
        "on again only after this long (default 180 s for an appliance load with a compressor "
        "start, else 0)"))
    schedule: Schedule | None = Field(default=None, description=(
        "days the load may draw (weekdays, months, closed periods); none: every day"))
    load_growth_pct_per_year: float = Field(default=0.0, ge=-10, le=20, description=(
        "[%/year] compound growth of the load's demand after the first project year "
        "(sizing.loads.growth_factor)"))

    @model_validator(mode="before")
    @classmethod
    def _default_priority(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return fill_load_priority(data, bool(cls.model_fields["critical"].default))

    @model_validator(mode="after")
    def _flexible_not_critical(self) -> LoadBase:
        if self.flexible and self.critical:
            raise ValueError("a load cannot be both critical and flexible: a critical load is "
                             "never shed, a flexible one is shed first")
        return self


class ProfileLoad(LoadBase):
    """A kW profile from a CSV file: one typical day (24 hourly rows) or a year (8,760 or 8,784
    hourly, 35,040 or 35,136 15-minute rows).

    HOMER-style random variability (:func:`sizing.loads.varied_profile_kw`), seeded by
    ``seed``: each day is scaled by one normal factor of standard deviation ``day_to_day_pct``
    and each row by one of ``timestep_pct`` [%]; a typical day is repeated over the year first.
    Both 0 (the default) use the file as it is."""

    kind: Literal["profile"]
    profile: Path
    scale: float = Field(default=1.0, ge=0, le=1000)
    day_to_day_pct: float = Field(default=0.0, ge=0, le=50, description=(
        "[%] standard deviation of one random factor per day"))
    timestep_pct: float = Field(default=0.0, ge=0, le=50, description=(
        "[%] standard deviation of one random factor per row of the year"))
    seed: int = Field(default=0, ge=0)

    @field_validator("profile", mode="before")
    @classmethod
    def _profile_exists(cls, v: Any, info: ValidationInfo) -> Path:
        return _resolve_file(v, info)


class ApplianceLoad(LoadBase):
    """A load built from appliances (RAMP-style); ``preset`` fills the list.

    ``count`` households of this kind each draw their own stochastic year (seeded from
    ``seed`` and the household's index, :func:`sizing.loads.household_rngs`); the load is
    their sum. ``customers`` defaults to ``count``."""

    kind: Literal["appliance"]
    preset: Literal["vn_rural_home"] | None = None
    appliances: list[Appliance] = Field(default_factory=list, max_length=MAX_APPLIANCES)
    seed: int = Field(default=0, ge=0)
    count: int = Field(default=1, ge=1, le=MAX_HOUSEHOLDS, description=(
        "households of this kind, each with its own stochastic profile"))

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return fill_households(fill_restart_delay(fill_appliances(data)))

    @model_validator(mode="after")
    def _has_appliances(self) -> ApplianceLoad:
        if not self.appliances:
            raise ValueError("an appliance load needs appliances or a preset")
        return self


class AeratorLoad(LoadBase):
    """Paddlewheel aerators: identical units, a fraction running by day and by night."""

    kind: Literal["aerator"]
    critical: bool = True
    kw_per_unit: float = Field(gt=0, le=MAX_KW)
    units: int = Field(ge=1, le=64)
    day_fraction: float = Field(default=0.5, ge=0, le=1)
    night_fraction: float = Field(default=1.0, ge=0, le=1)
    start_multiplier: float = Field(default=7.0, ge=1, le=10, description="DOL start surge")


def _flexible_unless_critical(data: Any) -> Any:
    """A pump's ``flexible`` default: a pump defers its work (a daily energy, or water into a
    tank), so its shortfall is curtailment unless the file calls it critical."""
    if isinstance(data, dict) and "flexible" not in data:
        return {**data, "flexible": not data.get("critical", False)}
    return data


class PumpLoad(LoadBase):
    """A deferrable pump: a daily energy to deliver within a time window. Flexible unless it is
    critical."""

    @model_validator(mode="before")
    @classmethod
    def _flexible_by_default(cls, data: Any) -> Any:
        return _flexible_unless_critical(data)

    kind: Literal["pump"]
    kw: float = Field(gt=0, le=MAX_KW)
    daily_kwh: NonNeg
    window: TimeWindow = Field(default_factory=lambda: TimeWindow(start_h=8, end_h=17))
    start_multiplier: float = Field(default=6.0, ge=1, le=10)

    @model_validator(mode="after")
    def _fits_window(self) -> PumpLoad:
        if self.daily_kwh > self.kw * self.window.hours + 1e-9:
            raise ValueError(
                f"daily_kwh {self.daily_kwh} cannot be delivered at {self.kw} kW "
                f"within a {self.window.hours:g} h window"
            )
        return self


class Pipe(Section):
    """The pipe from the pump to the tank: its friction head comes from Darcy–Weisbach with
    the material's roughness (:mod:`sizing.hydraulics`)."""

    length_m: float = Field(gt=0, le=20_000)
    diameter_mm: float = Field(gt=5, le=1000, description="[mm] inner diameter")
    material: Literal["pvc", "hdpe", "steel", "galvanized"] = "pvc"


def _increasing(values: list[float], name: str) -> None:
    if any(b <= a for a, b in pairwise(values)):
        raise ValueError(f"{name} must increase point by point")


LIFT_MARGIN = 1.05
"""A variable-speed pump runs at least this × the speed at which it just lifts the static
head (:meth:`PumpModel.lowest_hz`)."""


class PumpModel(Section):
    """A pump and its motor: the curve at rated speed (flow against head, with the pump's
    efficiency at each point), from the catalogue (:data:`sitefile.presets.PUMP_CATALOGUE`)
    or given inline."""

    id: str = Field(default="custom", min_length=1, max_length=80,
                    description="the catalogue id, or 'custom' for an inline curve")
    name: str = Field(min_length=1, max_length=120)
    kind: Literal["submersible", "surface"] = "submersible"
    rated_kw: float = Field(gt=0, le=500, description="[kW] motor input at the rated point")
    rated_hz: float = Field(default=50.0, gt=0, le=400)
    flow_m3_h: list[float] = Field(min_length=3, max_length=30)
    head_m: list[float] = Field(min_length=3, max_length=30)
    efficiency_pct: list[Annotated[float, Field(ge=0, le=95)]] = Field(min_length=3,
                                                                       max_length=30)
    motor_efficiency_pct: Efficiency = 85.0
    drive: Literal["vfd", "fixed"] = "vfd"
    min_frequency_hz: float = Field(default=25.0, gt=0, le=400, description=(
        "[Hz] the variable-speed drive's lowest frequency (a fixed-speed pump: unused)"))
    price_vnd: Vnd = 0.0
    life_years: Years = 10.0
    source: str = ""

    @model_validator(mode="after")
    def _curve(self) -> PumpModel:
        n = len(self.flow_m3_h)
        if len(self.head_m) != n or len(self.efficiency_pct) != n:
            raise ValueError(f"flow_m3_h, head_m and efficiency_pct need the same number of "
                             f"points (now {n}, {len(self.head_m)}, {len(self.efficiency_pct)})")
        if min(self.flow_m3_h) < 0 or min(self.head_m) < 0:
            raise ValueError("flow_m3_h and head_m cannot be negative")
        _increasing(self.flow_m3_h, "flow_m3_h")
        _increasing([-h for h in self.head_m], "head_m (falling from shut-off)")
        if max(self.efficiency_pct) <= 0:
            raise ValueError("efficiency_pct needs at least one point above 0")
        if self.min_frequency_hz >= self.rated_hz:
            raise ValueError(f"min_frequency_hz {self.min_frequency_hz:g} must be below "
                             f"rated_hz {self.rated_hz:g}")
        return self

    @property
    def rated_flow_m3_h(self) -> float:
        """The rated point's flow: that of the curve point with the highest efficiency (the
        best-efficiency point) [m³/h]."""
        best = max(range(len(self.efficiency_pct)), key=self.efficiency_pct.__getitem__)
        return self.flow_m3_h[best]

    def affinity_kw(self, hz: float) -> float:
        """The affinity law's power at frequency ``hz`` [Hz]: ``rated_kw · (hz/rated_hz)³``
        [kW] (the controller's expectation of a healthy pump at that speed)."""
        return self.rated_kw * (max(hz, 0.0) / self.rated_hz) ** 3

    def lowest_hz(self, static_head_m: float) -> float:
        """The lowest frequency worth running at against ``static_head_m`` [m]: the drive's
        ``min_frequency_hz``, or, when higher, :data:`LIFT_MARGIN` × the speed whose shut-off
        head equals the static head (affinity: H ∝ n²), below which the pump lifts nothing and
        would look dry; ``rated_hz`` for a fixed-speed pump, and never above it [Hz]."""
        if self.drive == "fixed":
            return self.rated_hz
        lift_hz = self.rated_hz * math.sqrt(static_head_m / self.head_m[0])
        return min(max(self.min_frequency_hz, LIFT_MARGIN * lift_hz), self.rated_hz)

    def affinity_hz(self, kw: float) -> float:
        """The inverse of :meth:`affinity_kw`: the frequency at which the pump draws ``kw``
        [kW] by the affinity law [Hz]."""
        return self.rated_hz * math.cbrt(max(kw, 0.0) / self.rated_kw)


def _monthly(v: Any) -> Any:
    """One number → the same for each of the 12 months."""
    return [v] * 12 if isinstance(v, int | float) and not isinstance(v, bool) else v


class WaterPumpLoad(LoadBase):
    """A pump that lifts water into the site's ``[tank]``: the field's daily water need by
    month, drawn from the tank evenly over the ``irrigation`` window, the static head and the
    pipe, and the pump (a catalogue id or an inline :class:`PumpModel`). Flexible unless it is
    critical: water the tank cannot deliver is judged by ``search.max_unmet_water_fraction``,
    not as an interruption of electricity (SAIDI/SAIFI)."""

    kind: Literal["water_pump"]
    flow_m3_per_day: list[Annotated[float, Field(ge=0, le=100_000)]] = Field(
        min_length=12, max_length=12, description=(
            "[m³/day] the field's water need, January to December (one number: every month)"))
    head_m: float = Field(gt=0, le=1000, description=(
        "[m] static head, from the water source's level to the tank's inlet"))
    irrigation: TimeWindow = Field(default_factory=lambda: TimeWindow(start_h=6, end_h=9),
                                   description="the daily window in which the field draws")
    pipe: Pipe
    pump: PumpModel
    drive: Literal["vfd", "fixed"] = Field(default="vfd", description=(
        "variable-speed drive or fixed speed (direct on line); overrides the pump model's"))
    start_multiplier: float = Field(ge=1, le=10, description=(
        "starting current / running current: 1 on a variable-speed drive, 6 direct on line"))

    @model_validator(mode="before")
    @classmethod
    def _resolve_pump(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = _flexible_unless_critical(data)
        if "flow_m3_per_day" in data:
            data = {**data, "flow_m3_per_day": _monthly(data["flow_m3_per_day"])}
        return fill_water_pump(data)

    @field_validator("pump", mode="before")
    @classmethod
    def _known_pump(cls, v: Any) -> Any:
        if isinstance(v, str):  # the fill resolved every id the catalogue holds
            close = difflib.get_close_matches(v, list(PUMP_CATALOGUE), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"not in the pump catalogue (ids: {', '.join(PUMP_CATALOGUE)})"
                             f"{hint}")
        return v


class Tank(Section):
    """The water tank between the pump and the field: the site's water storage."""

    m3: float = Field(gt=0, le=100_000, description="[m³] volume from empty to full")
    height_m: float = Field(default=2.0, gt=0, le=50, description=(
        "[m] inner height: a level transmitter's 0..height_m is 0..100 %"))
    min_level_pct: Pct = Field(default=30.0, description=(
        "[%] the reserve filled before night from any source (the controller and the sizing "
        "dispatch)"))
    max_level_pct: Pct = Field(default=95.0, description="[%] the high-level stop of the pump")
    initial_level_pct: Pct = 50.0

    @model_validator(mode="after")
    def _levels(self) -> Tank:
        if not self.min_level_pct < self.max_level_pct:
            raise ValueError(f"min_level_pct {self.min_level_pct:g} must be below "
                             f"max_level_pct {self.max_level_pct:g}")
        if self.initial_level_pct > self.max_level_pct:
            raise ValueError(f"initial_level_pct {self.initial_level_pct:g} is above "
                             f"max_level_pct {self.max_level_pct:g}")
        return self


Load = Annotated[
    ProfileLoad | ApplianceLoad | AeratorLoad | PumpLoad | WaterPumpLoad,
    Field(discriminator="kind")
]


# --------------------------------------------------------------------------- devices

Driver = Literal["epever_tracer", "sunspec", "relay_board", "do_sensor", "generator", "sdm120",
                 "sdm630", "deye_hybrid", "growatt_spf", "srne_hybrid", "victron_gx",
                 "victron_battery", "sunspec_wind", "tank_level", "pump_drive", "flow_meter"]


class Device(Section):
    """A Modbus device on a bus: TCP (host, port) or RTU (serial_port, baudrate)."""

    name: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_\-]+$")
    driver: Driver
    transport: Literal["tcp", "rtu"]
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    serial_port: str | None = None
    baudrate: int = Field(default=9600)
    parity: Literal["N", "E", "O"] = "N"
    bytesize: Literal[7, 8] = 8
    stopbits: Literal[1, 2] = 1
    unit_id: int = Field(default=1, ge=1, le=247, description="0 is Modbus broadcast")
    poll_s: Pos = 5.0
    timeout_s: Pos = 1.0
    request_gap_s: NonNeg = Field(description="[s] between requests; default 0.05 RTU, 0 TCP")
    measures: str | None = Field(
        default=None, min_length=1,
        description="an energy meter (sdm120, sdm630): the name of the load whose circuit it "
                    "measures; its import kWh becomes that load's metered energy")

    @model_validator(mode="before")
    @classmethod
    def _default_gap(cls, data: Any) -> Any:
        return fill_device(data) if isinstance(data, dict) else data

    @field_validator("baudrate")
    @classmethod
    def _std_baud(cls, v: int) -> int:
        allowed = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
        if v not in allowed:
            raise ValueError(f"baudrate must be one of {', '.join(map(str, allowed))}")
        return v

    @model_validator(mode="after")
    def _transport_keys(self) -> Device:
        if self.transport == "tcp":
            if not self.host or self.port is None:
                raise ValueError("a tcp device needs host and port")
            if self.serial_port is not None:
                raise ValueError("serial_port is for rtu devices")
        else:
            if not self.serial_port:
                raise ValueError("an rtu device needs serial_port")
            if self.host is not None or self.port is not None:
                raise ValueError("host and port are for tcp devices")
        return self

    @property
    def bus(self) -> str:
        """The bus this device sits on: ``tcp://host:port`` or ``rtu://serial_port``."""
        if self.transport == "tcp":
            return f"tcp://{self.host}:{self.port}"
        return f"rtu://{self.serial_port}"


# --------------------------------------------------------------------------- control


class QuietHours(Section):
    """Hours when the generator should stay off unless the battery is very low."""

    window: TimeWindow
    gen_start_soc_pct: Pct = 20.0
    gen_stop_soc_pct: Pct = 50.0


class Control(Section):
    """Thresholds shared by the sizing dispatch and the on-site controller's strategies."""

    cycle_s: float = Field(default=5.0, ge=0.2, le=600)
    stale_after_s: float = Field(default=60.0, gt=0)
    shed_soc_pct: Pct = 30.0
    reconnect_soc_pct: Pct = 45.0
    hard_floor_soc_pct: Pct = 5.0
    low_battery_v: Pos | None = None
    reconnect_battery_v: Pos | None = None
    max_battery_temp_c: float | None = Field(default=None, ge=0, le=80)
    gen_start_soc_pct: Pct = 30.0
    gen_stop_soc_pct: Pct = 80.0
    gen_start_delay_s: NonNeg = 120.0
    gen_stop_delay_s: NonNeg = 300.0
    gen_start_load_kw: NonNeg | None = None
    gen_on_comm_loss: Literal["keep", "start", "stop"] = "keep"
    gen_start_timeout_s: Pos = 120.0
    gen_next_start_pct: Pct = Field(default=85.0, description=(
        "[%] several generators: the next unit starts when the load exceeds this share of "
        "the running units' rating (sizing and the controller)"))
    gen_next_stop_pct: Pct = Field(default=60.0, description=(
        "[%] the last unit started stops when the load falls below this share of the other "
        "running units' rating (after its min_run_min)"))
    quiet_hours: QuietHours | None = None
    night_start: time = time(18, 0)
    night_end: time = time(6, 0)
    do_on_mg_l: float = Field(default=4.0, ge=0, le=20)
    do_off_mg_l: float = Field(default=6.0, ge=0, le=20)
    do_low_alarm_mg_l: float = Field(default=3.0, ge=0, le=20)
    aerator_min_on_s: NonNeg = 900.0
    aerator_min_off_s: NonNeg = 600.0
    motor_start_spacing_s: NonNeg = 5.0
    retention_days: int = Field(default=30, ge=1, le=3650)
    shed_step_pct: NonNeg = Field(default=5.0, description="[%] SOC between priority sheds")
    protect_hysteresis_pct: Pos = Field(default=5.0, description="[%] above min_soc to recover")
    inverter_reset_delay_s: NonNeg = 10.0
    inverter_max_resets_per_h: int = Field(default=3, ge=0, le=60)
    pump_start_surplus_w: NonNeg = Field(default=200.0, description=(
        "[W] a water pump on a battery site starts when the PV surplus exceeds this"))
    dry_run_s: NonNeg = Field(default=30.0, description=(
        "[s] a pump running at or above its minimum frequency with no flow this long is "
        "running dry: it is stopped and the alarm raised"))
    dry_run_flow_pct: Pct = Field(default=10.0, description=(
        "[%] of the pump's rated-point flow: below it, a running pump has no flow"))
    tank_fill_before_night_h: float = Field(default=3.0, ge=0, le=12, description=(
        "[h] before night_start, a tank below min_level_pct is filled from any source"))



# The [control] keys that remote staff may change at run time (``Site.with_control``): the
# thresholds and timers the strategies read every cycle. The rest (cycle period, schedules,
# retention, …) take effect only at a restart, so they change in the site file.
SETTABLE_CONTROL_KEYS: tuple[str, ...] = (
    "shed_soc_pct", "reconnect_soc_pct", "gen_start_soc_pct", "gen_stop_soc_pct",
    "do_on_mg_l", "do_off_mg_l", "do_low_alarm_mg_l", "gen_start_delay_s", "gen_stop_delay_s",
    "aerator_min_on_s", "aerator_min_off_s",
)


# --------------------------------------------------------------------------- reliability


class Maintenance(Section):
    """A planned cut of the whole site's supply, every year on the same local date and hour
    (sizing counts it in SAIDI/SAIFI, flagged planned, as the programme counts planned cuts)."""

    name: str = Field(min_length=1, max_length=60)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    start_h: float = Field(ge=0, lt=24, description="[h] local time")
    hours: float = Field(gt=0, le=72, description="[h] length of the cut")

    @model_validator(mode="after")
    def _real_date(self) -> Maintenance:
        if self.day > _DAYS_IN_MONTH[self.month - 1]:
            raise ValueError(f"month {self.month} has no day {self.day}")
        return self


_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Reliability(Section):
    """Forced outages for sizing: failure rates of the components and the time a repair takes
    at this site (an island waits for the boat with the spare part). Defaults and their sources
    are in the README ("Reliability figures"); 0 turns a failure mode off."""

    years: int = Field(default=10, ge=1, le=200, description=(
        "simulated years (weather and outages) for P50/P90; at least the weather's years"))
    seed: int = Field(default=0, ge=0)
    repair_days: float = Field(default=2.0, ge=0, le=90, description=(
        "[d] from a failure to the component working again, travel and parts included"))
    inverter_failures_per_year: float = Field(default=0.05, ge=0, le=50)
    charge_controller_failures_per_year: float = Field(default=0.03, ge=0, le=50, description=(
        "the PV converter (charge controller, or PV inverter when AC-coupled)"))
    battery_failures_per_year: float = Field(default=0.03, ge=0, le=50, description=(
        "battery or BMS faults that take the battery out of service"))
    generator_start_failure_pct: Pct = Field(default=1.0, description=(
        "[%] of start attempts that fail (the set then waits for repair)"))
    generator_failures_per_1000_h: float = Field(default=1.0, ge=0, le=1000, description=(
        "failures while running, per 1000 running hours"))


# --------------------------------------------------------------------------- wiring


class Wiring(Section):
    """The main cable runs of the plant, for cable and protection sizing
    (:mod:`sizing.electrical`). Lengths are one way, from the first device to the second; the
    defaults are a compact plant with the power room beside the battery and the array nearby."""

    pv_to_controller_m: float = Field(default=30.0, gt=0, le=2000, description=(
        "[m] PV array (combiner) to the charge controllers; default 30 m"))
    controller_to_battery_m: float = Field(default=3.0, gt=0, le=100, description=(
        "[m] each charge controller to the battery's DC busbar; default 3 m"))
    battery_to_inverter_m: float = Field(default=3.0, gt=0, le=100, description=(
        "[m] battery to the inverter/charger; default 3 m"))
    inverter_to_loads_m: float = Field(default=30.0, gt=0, le=5000, description=(
        "[m] inverter AC output to the main load distribution board; default 30 m"))
    max_drop_dc_pct: float = Field(default=3.0, gt=0, le=10, description=(
        "[%] largest voltage drop on each DC run at its design current; default 3 %"))
    max_drop_ac_pct: float = Field(default=3.0, gt=0, le=10, description=(
        "[%] largest voltage drop on the inverter-to-loads feeder; default 3 %, leaving 2 % "
        "for the final circuits within the 5 % of IEC 60364-5-52 Annex G"))
    conductor: Literal["cu"] = Field(default="cu", description="conductor metal: copper")


# --------------------------------------------------------------------------- economics & search


class Economics(Section):
    """Costs in VND (Vietnam 2025–26 market; see the example files for the basis)."""

    currency: Literal["VND"] = "VND"
    discount_rate_pct: float = Field(default=12.0, ge=0, le=50)
    lifetime_years: int = Field(default=20, ge=1, le=50)
    pv_vnd_per_kwp: Vnd = 8_000_000
    battery_vnd_per_kwh: Vnd = 8_000_000
    inverter_vnd_per_kw: Vnd = 4_000_000
    generator_vnd_per_kw: Vnd = 5_000_000
    bos_pct: Pct = 10.0
    installation_pct: Pct = 8.0
    om_pct_per_year: Pct = 1.5
    inverter_life_years: Years = 10.0
    pv_life_years: Years = 25.0
    fuel_vnd_per_l: Vnd = 19_000
    fuel_escalation_pct: float = Field(default=2.0, ge=-20, le=50)
    generator_om_vnd_per_h: Vnd = 15_000
    salvage: bool = True
    wind_vnd_per_kw: Vnd = Field(default=60_000_000, description=(
        "[VND/kW of rated power] a small turbine (1-50 kW) installed with its tower, "
        "foundation and inverter: about USD 2,400/kW at 25,000 VND/USD, within the installed "
        "costs of small wind that IRENA's cost analyses report (roughly USD 1,500-6,000/kW, "
        "the low end for Chinese-made turbines); replace with a quote"))
    wind_life_years: Years = 20.0
    wind_om_pct_per_year: Pct = Field(default=2.0, description=(
        "[% of the turbines' capital cost per year] service, bearings, blades"))
    tank_vnd_per_m3: Vnd = Field(default=2_000_000, description=(
        "[VND/m³] a water tank installed (HDPE, ferro-cement or steel on a stand); replace "
        "with a quote"))
    tank_life_years: Years = 20.0


class Range(Section):
    """A search range ``min..max`` in steps of ``step``."""

    min: Kw
    max: Kw
    step: Pos

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.max < self.min:
            raise ValueError("max must not be below min")
        if (self.max - self.min) / self.step >= MAX_CANDIDATES:
            raise ValueError(f"step {self.step:g} gives more than {MAX_CANDIDATES:,} values "
                             f"from {self.min:g} to {self.max:g}; use a larger step")
        return self

    @property
    def count(self) -> int:
        """Number of values in the range."""
        return math.floor((self.max - self.min) / self.step + 1e-9) + 1


class Search(Section):
    """The optimizer's search space and constraints."""

    kwp: Range | None = None
    kwh: Range | None = None
    inverter_kw: Range | None = None
    generator_kw: Range | None = Field(default=None, description=(
        "[kW] of each generator unit (identical units); absent: the units' own sizes"))
    turbines: Range | None = Field(default=None, description=(
        "the count of the single [[wind]] entry's turbines"))
    tank_m3: Range | None = Field(default=None, description="[m³] the [tank]'s volume")
    pumps: list[str] | None = Field(default=None, min_length=1, max_length=20, description=(
        "catalogue ids the optimiser tries for the site's water pump"))
    max_unmet_fraction: float = Field(default=0.02, ge=0, le=1)
    max_unmet_water_fraction: float = Field(default=0.02, ge=0, le=1, description=(
        "the share of the field's water need the tank may fail to deliver"))
    max_critical_unmet_fraction: float = Field(default=0.001, ge=0, le=1)
    max_saidi_minutes: NonNeg = Field(default=SAIDI_TARGET_MINUTES,
                                      description="[min/year] default: the programme's target")
    max_saifi_count: NonNeg = Field(default=SAIFI_TARGET_COUNT,
                                    description="[1/year] default: the programme's target")
    reliability_level: Literal["p50", "p90"] = Field(default="p90", description=(
        "the year the constraints are judged on, over the simulated weather and outage years"))
    max_candidates: int = Field(default=200_000, ge=1, le=MAX_CANDIDATES)


class Api(Section):
    """The monitoring API and the controller's database (relative to the site file, like
    every file the site file names; also when the file has no ``[api]``)."""

    database: Path = Field(default=Path("offgrid.db"), validate_default=True)
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    rate_limit_per_min: int = Field(default=600, ge=1)

    @field_validator("database", mode="after")
    @classmethod
    def _relative_to_site(cls, v: Path, info: ValidationInfo) -> Path:
        base = (info.context or {}).get("base_dir")
        return v if v.is_absolute() or base is None else Path(base) / v


# --------------------------------------------------------------------------- uplink


class Uplink(Section):
    """The site's uplink to the fleet's hub through an MQTT broker (``controller.uplink``); off
    unless ``enabled``. Files are relative to the site file and read when the uplink starts.
    ``site_id`` must be a fleet site id (lower-case letters, digits, hyphens: the wire's one
    definition, :func:`fleetwire.topics.check_site_id`)."""

    enabled: bool = False
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=8883, ge=1, le=65535)
    site_id: str = Field(min_length=1, max_length=63)
    username: str = Field(min_length=1, max_length=120, description="default: site_id")
    password_file: Path = Field(description="a file holding the broker password")
    ca_file: Path | None = Field(default=None, description=(
        "the CA certificate that signed the broker's (None: no TLS, for a local broker)"))
    batch_interval_s: int = Field(default=900, ge=10, le=86_400, description=(
        "[s] how often the samples since the last batch are packed and sent"))
    resolution_s: int = Field(default=60, ge=1, le=3600, description=(
        "[s] one record per interval: each channel's mean of its good samples"))
    max_in_flight: int = Field(default=4, ge=1, le=100)
    ack_timeout_s: float = Field(default=60.0, gt=0, le=3600, description=(
        "[s] a message not acknowledged in this time is sent again"))
    live_interval_s: float = Field(default=5.0, gt=0, le=3600, description=(
        "[s] State interval while the hub says someone watches"))
    keepalive_s: int = Field(default=300, ge=10, le=3600, description=(
        "[s] MQTT keep-alive: a ping after this long without traffic (cellular NATs forget "
        "an idle connection)"))
    reconnect_min_s: float = Field(default=1.0, gt=0, le=3600)
    reconnect_max_s: float = Field(default=300.0, gt=0, le=86_400)
    coarse_step_s: int = Field(default=900, ge=1, le=86_400, description=(
        "[s] after an outage the backlog goes first at this resolution, then in full"))
    clock: Literal["rtc", "ntp"] = Field(default="rtc", description=(
        "rtc: the wall clock is trusted from boot; ntp: once the kernel says it is "
        "synchronised"))
    groups: tuple[Annotated[str, Field(min_length=1, max_length=60)], ...] = Field(
        default=(), max_length=20)
    outbox_max_mb: float = Field(default=100.0, gt=0, le=100_000, description=(
        "[MB] beyond this the oldest full-detail rows are dropped (an event says so)"))

    @model_validator(mode="before")
    @classmethod
    def _username_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and "username" not in data and "site_id" in data:
            return {**data, "username": data["site_id"]}
        return data

    @field_validator("password_file", "ca_file", mode="after")
    @classmethod
    def _relative_to_site(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        base = (info.context or {}).get("base_dir")
        return v if v is None or v.is_absolute() or base is None else Path(base) / v

    @field_validator("site_id", mode="after")
    @classmethod
    def _fleet_site_id(cls, v: str) -> str:
        try:
            return check_site_id(v)
        except WireError as e:
            raise ValueError(str(e).removeprefix(f"site id {v!r}: ")) from e


# --------------------------------------------------------------------------- simulator


class SimFault(Section):
    """A fault the hardware simulator injects on schedule (see ``hardware_sim.faults``)."""

    device: str
    kind: Literal["silent", "slow", "exception", "garbage", "frozen", "relay_stuck", "reboot",
                  "drift", "noise", "dry_run"]
    at_s: NonNeg = Field(default=0.0, description="[s] of simulated time after the start")
    duration_s: Pos | None = None
    params: dict[str, float | int | str] = Field(default_factory=dict)


class Sim(Section):
    """The hardware simulator (``offgrid sim``): simulated start time and scheduled faults."""

    start: datetime | None = None
    faults: list[SimFault] = Field(default_factory=list)

    @field_validator("start")
    @classmethod
    def _start_in_range(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.year not in SIM_START_YEARS:
            raise ValueError(f"the simulated start must lie in the years "
                             f"{SIM_START_YEARS.start}–{SIM_START_YEARS.stop - 1}")
        return v


# --------------------------------------------------------------------------- the site


# The discriminator tag of each load kind → its default for ``critical``.
_CRITICAL_DEFAULT: dict[str, bool] = {
    get_args(cls.model_fields["kind"].annotation)[0]: bool(cls.model_fields["critical"].default)
    for cls in (ProfileLoad, ApplianceLoad, AeratorLoad, PumpLoad, WaterPumpLoad)
}


class Site(Section):
    """A whole site file, fully resolved."""

    site: SiteInfo
    weather: Weather | None = None
    pv: PV | None = None
    wind: list[Wind] = Field(default_factory=list, max_length=20)
    battery: Battery | None = None
    inverter: Inverter | None = None
    tank: Tank | None = None
    generators: list[Generator] = Field(default_factory=list, max_length=MAX_GENERATORS)
    loads: list[Load] = Field(default_factory=list, max_length=MAX_LOADS)
    devices: list[Device] = Field(default_factory=list)
    control: Control = Field(default_factory=Control)
    economics: Economics = Field(default_factory=Economics)
    search: Search | None = None
    maintenance: list[Maintenance] = Field(default_factory=list, max_length=52)
    reliability: Reliability = Field(default_factory=Reliability)
    wiring: Wiring = Field(default_factory=Wiring)
    api: Api = Field(default_factory=Api)
    sim: Sim = Field(default_factory=Sim)
    uplink: Uplink | None = None
    _source: Path | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _site_defaults(cls, data: Any) -> Any:
        """Number the loads without a priority in file order (critical ones get 1), and
        validate ``[api]`` when absent too, so its database is found beside the site file."""
        if not isinstance(data, dict):
            return data
        out = {"api": {}, **data}
        if isinstance(out.get("loads"), list):
            out["loads"] = fill_site_priorities(out["loads"], _CRITICAL_DEFAULT)
        return out

    @model_validator(mode="before")
    @classmethod
    def _generator_units(cls, data: Any) -> Any:
        """The single ``[generator]`` becomes ``generators = [it]``; each unit gets its default
        ``name`` (``generator``, ``generator-2``, … in order) and ``device`` (the n-th device
        with driver ``generator``)."""
        if not isinstance(data, dict) or not isinstance(data.get("generators", []), list):
            return data
        out = dict(data)
        if "generator" in out:
            if out.get("generators"):
                raise ValueError("give [generator] (one unit) or [[generators]], not both")
            single = out.pop("generator")
            out["generators"] = [] if single is None else [single]
        controllers = [d.get("name") for d in out.get("devices") or []
                       if isinstance(d, dict) and d.get("driver") == "generator"]
        units = []
        for n, given in enumerate(out.get("generators") or []):
            unit = dict(given) if isinstance(given, dict) else given
            if isinstance(unit, dict):
                unit.setdefault("name", "generator" if n == 0 else f"generator-{n + 1}")
                if n < len(controllers):
                    unit.setdefault("device", controllers[n])
            units.append(unit)
        out["generators"] = units
        names = [u.get("name") for u in units if isinstance(u, dict)]
        twice = sorted({str(n) for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"generators: the name {', '.join(twice)} is used more than "
                             f"once; give each unit its own name")
        return out

    @property
    def generator(self) -> Generator | None:
        """The first generator unit, or None (the callers that know one unit only)."""
        return self.generators[0] if self.generators else None

    @property
    def water_pumps(self) -> list[WaterPumpLoad]:
        """The loads that lift water into the ``[tank]`` (at most one)."""
        return [ld for ld in self.loads if isinstance(ld, WaterPumpLoad)]

    @property
    def source(self) -> Path | str:
        """The file this site was read from (``<site>`` when built in memory)."""
        return self._source or "<site>"

    def device(self, name: str) -> Device:
        """The device called ``name``."""
        for dev in self.devices:
            if dev.name == name:
                return dev
        raise KeyError(name)

    @property
    def shedding_order(self) -> list[Load]:
        """The loads shed when the battery runs low, first shed first: every load that is not
        critical, by ``priority``, largest number first (1 = shed last). The controller sheds
        in this order and sizing serves in the reverse; give flexible loads the largest
        numbers to shed them first."""
        return sorted((ld for ld in self.loads if not ld.critical), key=lambda ld: -ld.priority)

    @property
    def customers_served(self) -> int:
        """Customers for SAIDI/SAIFI: the ``customers`` of every load that is not flexible."""
        return sum(load.customers for load in self.loads if not load.flexible)

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone."""
        return ZoneInfo(self.site.timezone)

    def with_control(self, **changes: Any) -> Site:
        """A new site with ``[control]`` keys changed, the whole site validated again.

        Only :data:`SETTABLE_CONTROL_KEYS` may change at run time. Raises
        :class:`SiteFileError` naming the key, the value and the reason; ``self`` is unchanged.
        """
        refused = [Problem(f"control.{key}", "not a settable threshold (settable: "
                           + ", ".join(SETTABLE_CONTROL_KEYS) + ")", value)
                   for key, value in changes.items() if key not in SETTABLE_CONTROL_KEYS]
        if refused:
            raise SiteFileError(self.source, refused)
        data = self.model_dump()
        data["control"].update(changes)
        return parse_site(data, file=self.source)


def parse_site(data: dict[str, Any], base_dir: Path | str | None = None,
               file: Path | str = "<site>") -> Site:
    """Validate a parsed site mapping and run the cross-checks (:mod:`sitefile.checks`);
    relative file names resolve against ``base_dir``.

    Raises :class:`SiteFileError` listing every problem found.
    """
    try:
        site = Site.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as e:
        raise SiteFileError(file, problems_from(e)) from e
    problems = run_checks(site)
    if problems:
        raise SiteFileError(file, problems)
    site._source = Path(file) if file != "<site>" else None
    return site
