"""Request and response bodies, in families: ``…Public`` (out), ``…Create`` (in)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.keys import KeyInfo
from api.roles import Role
from sitefile import SETTABLE_CONTROL_KEYS
from store.commands import MAX_REASON_CHARS


def iso(ts_s: float | None) -> datetime | None:
    """UTC epoch [s] → aware datetime."""
    return None if ts_s is None else datetime.fromtimestamp(ts_s, UTC)


class Out(BaseModel):
    """Base of response bodies."""


class In(BaseModel):
    """Base of request bodies: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")


THRESHOLD_KEYS: tuple[str, ...] = SETTABLE_CONTROL_KEYS
"""The thresholds an admin may change: the site file's one list."""
if TYPE_CHECKING:
    ThresholdKey = str
else:  # a Literal of the tuple's values, so the OpenAPI schema lists them
    ThresholdKey = Literal[THRESHOLD_KEYS]
Name = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[\w .\-]+$")]


class KeyCreate(In):
    role: Role
    name: Name = "api"
    loads: list[Name] = Field(default_factory=list, max_length=32, description=(
        "a customer key's loads (required for one, refused for a staff key)"))


class KeyPublic(Out):
    id: str
    name: str
    role: Role
    created: datetime
    revoked: datetime | None
    last_used: datetime | None
    loads: list[str] = Field(default_factory=list,
                             description="a customer key's loads; empty for staff (every load)")

    @classmethod
    def of(cls, k: KeyInfo) -> KeyPublic:
        created = iso(k.created_ts)
        assert created is not None
        return cls(id=k.id, name=k.name, role=k.role, created=created,
                   revoked=iso(k.revoked_ts), last_used=iso(k.last_used_ts),
                   loads=list(k.loads))


class KeyCreated(KeyPublic):
    key: str = Field(description="the key itself; shown once, stored hashed")


class ControllerPublic(Out):
    running: bool = Field(description="the controller's heartbeat is younger than "
                          "`stale_after_s`; false also when it never wrote one")
    heartbeat_ts: float | None = Field(description="UTC epoch [s] of its last cycle")
    age_s: float | None = Field(description="age of the heartbeat when read [s]")
    stale_after_s: float = Field(description="two cycle periods and a margin [s]")


class Health(Out):
    status: str = Field(description="`ok`, `controller not running` or `degraded` (database)")
    database: str
    last_sample: datetime | None
    last_sample_age_s: float | None
    schema_version: str | None = Field(
        default=None, description="the newest schema migration applied to the database")
    controller: ControllerPublic | None = None


class FigurePublic(Out):
    value: float | None
    quality: str
    ts: float | None = Field(description="UTC epoch [s] of the controller's last good value")
    age_s: float | None
    sources: list[str]


class PointPublic(Out):
    device: str
    point: str
    value: float | None
    quality: str
    ts: float = Field(description="UTC epoch [s] of the last good read")
    age_s: float


class LoadStatePublic(Out):
    name: str
    kind: str
    critical: bool
    priority: int
    switchable: bool
    units: int
    units_on: int | None
    on: bool | None
    quality: str
    override: dict[str, Any] | None = None


class AlarmPublic(Out):
    id: int
    key: str
    kind: str
    source: str
    severity: str
    message: str
    raised_ts: float
    cleared_ts: float | None
    acked_ts: float | None
    acked_by: str | None
    active: bool


class StatusPublic(Out):
    now: float = Field(description="server time, UTC epoch [s]")
    site: str
    soc_pct: FigurePublic
    figures: dict[str, FigurePublic]
    loads: list[LoadStatePublic]
    points: list[PointPublic]
    active_alarms: list[AlarmPublic]
    generator_mode: str | None = None
    controller: ControllerPublic


class EventPublic(Out):
    id: int
    ts: float
    kind: str
    source: str
    message: str
    data: Any = None


class HistoryPublic(Out):
    device: str
    point: str
    resolution: str
    from_ts: float
    to_ts: float
    truncated: bool
    t: list[float] = Field(description="bucket start (or sample time), UTC epoch [s]")
    avg: list[float | None]
    min: list[float | None]
    max: list[float | None]


class DailyEnergyPublic(Out):
    date: str = Field(description="local day (site time zone), YYYY-MM-DD")
    start_ts: float
    pv_kwh: float | None
    load_kwh: float | None
    battery_charge_kwh: float | None
    battery_discharge_kwh: float | None
    generator_kwh: float | None
    methods: dict[str, list[str]] = Field(
        description="per category: how the controller measured it, 'counter' (a device's own "
                    "energy counter) and/or 'integrated' (polled power x time)")
    soc_min_pct: float | None
    soc_max_pct: float | None
    aerator_h: float | None
    do_min_mg_l: float | None
    hours: float = Field(description="hours of data in the day")
    sources: dict[str, dict[str, float]] = Field(
        description="detail: each device's energy by category [kWh]")


class LoadEnergyDayPublic(Out):
    """One local day of metered energy per load."""

    date: str = Field(description="local day (site time zone), YYYY-MM-DD")
    start_ts: float
    loads: dict[str, float] = Field(
        description="load name → energy its meter measured that day [kWh]")
    methods: dict[str, list[str]] = Field(
        description="per load: 'counter' (the meter's import counter) and/or 'integrated'")


class LoadsEnergyPublic(Out):
    """Energy of the metered loads per local day, from their meters' import counters."""

    meters: dict[str, str] = Field(
        description="load name → the meter device that measures it (site file ``measures``)")
    days: list[LoadEnergyDayPublic]


class ReliabilityPeriodPublic(Out):
    """SAIDI, SAIFI and MAIFI of one period (the figures of the period, not per year); an
    interruption belongs whole to the local month it starts in."""

    period: str = Field(description="local month YYYY-MM, or the year YYYY (year to date)")
    from_ts: float = Field(description="UTC epoch [s] of the period's local start")
    to_ts: float = Field(description="UTC epoch [s] of its end, or now")
    saidi_minutes: float = Field(description="customer-minutes of sustained interruptions "
                                             "per customer served, planned included [min]")
    saidi_planned_minutes: float = Field(description="[min]")
    saidi_unplanned_minutes: float = Field(description="[min]")
    saifi_count: float = Field(description="sustained interruptions per customer served")
    saifi_planned_count: float
    saifi_unplanned_count: float
    maifi_count: float = Field(description="momentary interruptions per customer served")
    interruptions: int = Field(description="sustained interruption events (one per load)")
    momentary_interruptions: int
    curtailment_hours: float = Field(description="flexible loads held off (not in SAIDI) [h]")
    curtailments: int


class PlannedCutPublic(Out):
    start_ts: float = Field(description="UTC epoch [s]")
    reason: str
    by: str
    ends_by_ts: float = Field(description="UTC epoch [s] at which the controller ends it if "
                                          "nobody does")


class ReliabilityPublic(Out):
    year: int
    timezone: str
    customers_served: int = Field(description="customers of the loads that are not flexible")
    saidi_target_minutes: float = Field(description="the programme's limit [min/year]")
    saifi_target_count: float = Field(description="the programme's limit [per year]")
    momentary_minutes: float = Field(description="shorter interruptions are momentary [min]")
    months: list[ReliabilityPeriodPublic]
    year_to_date: ReliabilityPeriodPublic
    planned_cut: PlannedCutPublic | None = Field(description="the planned cut in progress")


class DevicePublic(Out):
    name: str
    driver: str
    bus: str
    unit_id: int
    poll_s: float
    health: str = Field(description="online (answered its last poll) | offline (did not) | "
                                    "stale (the controller stopped reporting) | unknown")
    online: bool | None = Field(description="answered its last poll")
    last_poll_ts: float | None = Field(description="UTC epoch [s] of the last request")
    last_ok_ts: float | None = Field(description="UTC epoch [s] of the last answer")
    age_s: float | None = Field(description="[s] since the last answer")
    error: str | None = Field(description="the last poll's error")
    points: int
    points_good: int
    alarm: str | None


class CommandPublic(Out):
    id: int
    created_ts: float
    kind: str
    target: str | None
    value: dict[str, Any]
    expires_ts: float | None
    requested_by: str
    status: str
    result: dict[str, Any] | None
    acked_ts: float | None


class OverrideLoadCreate(In):
    load: Name
    on: bool
    expires_s: float = Field(ge=60, le=7 * 86400, description="[s] the override ends after this")


class GeneratorCreate(In):
    action: Literal["start", "stop", "auto"]


class PlannedCutCreate(In):
    action: Literal["start", "end"]
    reason: str = Field(default="", max_length=MAX_REASON_CHARS,
                        description="why the supply is cut (required to start)")


class ThresholdCreate(In):
    key: ThresholdKey
    value: float = Field(allow_inf_nan=False, ge=-1e6, le=1e6)


class AuditPublic(Out):
    command_id: int
    ts: float
    actor: str
    kind: str
    target: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] = Field(description="what was asked")
    status: str
    result: dict[str, Any] | None
    acked_ts: float | None


class UsagePublic(Out):
    """A figure for today, this month and last month (local calendar, site time zone)."""

    today: float | None
    month: float | None
    last_month: float | None


class MeterPublic(Out):
    device: str = Field(description="a meter whose `measures` names this load")
    points: list[PointPublic]


class CustomerLoadPublic(Out):
    name: str
    kind: str
    critical: bool
    flexible: bool
    priority: int
    switchable: bool
    can_switch: bool = Field(description="this key may switch it (a flexible load with a "
                             "relay: its customer, an operator or an admin)")
    units: int
    units_on: int | None
    on: bool | None
    quality: str
    override: dict[str, Any] | None = None
    shed_rank: int | None = Field(description="1 = the site sheds it first when the battery "
                                  "is low; null: critical, never shed")
    hours_on: UsagePublic = Field(description="hours its relays were closed, integrated from "
                                  "the relay telemetry [h]")
    hours_known: UsagePublic = Field(description="hours of relay telemetry behind `hours_on` "
                                     "(less than the period when the controller was down or "
                                     "old samples were pruned) [h]")
    kwh: UsagePublic | None = Field(description="energy from the meters that measure it "
                                    "[kWh]; null when no meter measures it")
    meters: list[MeterPublic]


class CustomerPublic(Out):
    now: float = Field(description="server time, UTC epoch [s]")
    site: str
    timezone: str
    role: Role
    today: str = Field(description="local day, YYYY-MM-DD")
    month: str = Field(description="local month, YYYY-MM")
    last_month: str
    loads: list[CustomerLoadPublic] = Field(description="the key's loads, in site order")
    shed_first: list[str] = Field(description="the key's loads that the site sheds when the "
                                  "battery is low, first shed first (flexible loads first, "
                                  "then by priority, largest first)")
    sheddable: int = Field(description="loads of the whole site that can be shed")
