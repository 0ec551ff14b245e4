"""The names and shapes shared by the store's writer (the controller) and its readers (the API,
the CLI, later the hub). One definition of each concept; everybody imports it from here.

Every timestamp (``*_ts``) is UTC epoch seconds (``time.time()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Quality = Literal["good", "stale", "frozen", "invalid", "missing"]
QUALITY_ORDER: tuple[Quality, ...] = ("good", "stale", "frozen", "invalid", "missing")
"""Best first: a combination of values takes the worst quality of its inputs. ``frozen``: a
value that cannot stay still has not changed for too long (the device hung on its last
registers); it keeps its value, and decisions treat it as unknown."""

SITE_SOURCE = "site"
"""The pseudo-device under which the controller publishes the site's own figures."""

SITE_FIGURES: tuple[str, ...] = (
    "soc_pct",            # [%] the state of charge the strategies decide on
    "battery_v",          # [V]
    "battery_w",          # [W] positive = charging, negative = discharging (DESIGN.md §2)
    "pv_w",               # [W] PV power into the site
    "wind_w",             # [W] wind turbines' power into the site
    "load_w",             # [W] power to the loads
    "do_mg_l",            # [mg/L] lowest dissolved oxygen of the pond probes
    "water_temp_c",       # [°C]
    "generator_running",  # 0/1
    "fuel_pct",           # [%]
    "tank_level_pct",     # [%] water tank level, of its inner height (0 empty, 100 full)
    "pump_w",             # [W] the water pump drive's output power
    "water_m3_h",         # [m³/h] water flow, from the flow meter
    "water_today_m3",     # [m³] water pumped since the local day began
)
"""Every figure the controller computes once per cycle and publishes as ``site/<name>``."""

EnergyCategory = Literal["pv", "load", "battery_charge", "battery_discharge", "generator",
                         "wind"]
ENERGY_CATEGORIES: tuple[EnergyCategory, ...] = (
    "pv", "load", "battery_charge", "battery_discharge", "generator", "wind")
EnergyMethod = Literal["counter", "integrated"]
"""``counter``: from a device's own energy counter; ``integrated``: polled power × time."""

PERIODS: dict[str, float] = {"1m": 60.0, "15m": 900.0, "1d": 86400.0}
"""Rollup periods [s]; ``1d`` is the local day in the site's time zone."""

Severity = Literal["info", "warning", "critical"]


@dataclass(frozen=True, slots=True)
class AlarmKind:
    """One kind of alarm: its severity, and how long its condition must hold before it is
    raised and be gone before it is cleared [s, monotonic]."""

    kind: str
    severity: Severity
    raise_after_s: float = 0.0
    clear_after_s: float = 0.0
    text: str = ""


ALARMS: Mapping[str, AlarmKind] = MappingProxyType({a.kind: a for a in (
    AlarmKind("device_offline", "warning", text="a device stopped answering"),
    AlarmKind("low_soc", "warning", 60.0, 300.0, "battery state of charge low"),
    AlarmKind("low_do", "critical", 60.0, 300.0, "dissolved oxygen low"),
    AlarmKind("inverter_trip", "critical", text="the inverter tripped"),
    AlarmKind("generator_failed_to_start", "critical", text="the generator did not start"),
    AlarmKind("strategy_failed", "warning", text="a control strategy failed"),
    AlarmKind("invalid_value", "warning", text="a device returned invalid values"),
    AlarmKind("write_failed", "warning", text="a relay or generator write failed"),
    AlarmKind("frozen_value", "warning",
              text="a device's values stopped changing where they cannot stay still"),
    AlarmKind("sources_disagree", "warning", 60.0, 60.0,
              text="redundant sources of one value disagree"),
    AlarmKind("switch_failed", "critical",
              text="a switched load did not start or stop as commanded"),
    AlarmKind("low_fuel", "warning", 60.0, 300.0, "generator fuel low"),
    AlarmKind("storage_failed", "warning", 30.0, 0.0,
              "the database cannot be written: records wait in memory"),
    AlarmKind("pump_dry_run", "critical",
              text="the pump ran dry: stopped until an operator acknowledges this alarm"),
    AlarmKind("tank_low", "warning", 300.0, 60.0, "water tank below its reserve level"),
)})
"""The one alarm table: the store, the alarm tracker and the cycle all read it."""

EVENT_KINDS: tuple[str, ...] = (
    "alarm_raised", "alarm_cleared",  # written by the store with the alarm
    "generator_start", "generator_stop", "load_switched", "strategy_failed",
    "controller_start", "controller_stop",
    "threshold_dropped",  # a saved threshold that no longer validates at start-up
    "records_dropped",  # what the controller's write queue had to drop while storage failed
    "planned_cut_started", "planned_cut_ended",  # an operator's planned cut (``planned_cut``)
    "pump_start", "pump_stop",  # the water pump's drive commanded to run or to stop
)
"""Every kind of row in ``events``; the writer refuses others."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One point value: ``value`` is None unless quality is good, stale or frozen; ``ts`` is
    the time the value was read."""

    device: str
    point: str
    value: float | None
    quality: Quality
    ts: float


@dataclass(frozen=True, slots=True)
class EnergyStep:
    """Energy of one category that one source moved during one cycle [Wh]."""

    category: EnergyCategory
    wh: float
    method: EnergyMethod


@dataclass(frozen=True, slots=True)
class RollupDelta:
    """What one cycle adds to a source's rollups (None: not measured)."""

    energy: tuple[EnergyStep, ...] = ()
    soc_pct: float | None = None
    aerator_h: float | None = None
    do_mg_l: float | None = None


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """A device as the controller sees it: online while it answers its polls."""

    device: str
    online: bool
    last_poll_ts: float | None  # the last request sent
    last_ok_ts: float | None  # the last answer received
    error: str | None = None


CommandStatus = Literal["pending", "done", "rejected", "failed"]
COMMAND_KINDS = ("override_load", "set_threshold", "generator", "ack_alarm", "planned_cut")

PLANNED_CUT_STATE = "planned_cut"
"""The ``state`` key of the planned cut in progress: ``{"start_ts", "reason", "by"}``, or null
when there is none (written by the controller when it executes a ``planned_cut`` command)."""
PLANNED_CUT_MAX_S = 72 * 3600.0
"""A planned cut that nobody ends is ended by the controller this long after it started [s]:
a forgotten cut must not count against the site for ever."""


@dataclass(frozen=True, slots=True)
class Command:
    """A row of ``commands``."""

    id: int
    created_ts: float
    kind: str
    target: str | None
    value: dict[str, Any] = field(default_factory=dict)
    expires_ts: float | None = None
    requested_by: str = ""
    status: CommandStatus = "pending"
    result: dict[str, Any] | None = None
    acked_ts: float | None = None
