"""What the strategies see and say: the snapshot, the controller state and the actions.

All three are immutable. Times named ``*_mono`` are monotonic seconds (``time.monotonic()`` in
production, a virtual clock in tests); they drive every timer, so a wall-clock jump neither
triggers nor skips an action. Only schedules (night, quiet hours, the pump window) use the
site's local time of day, ``Snapshot.local_h``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal

from controller.devices.values import Quality, Reading
from sitefile import AeratorLoad, ApplianceLoad, PumpLoad, Site

GenMode = Literal["auto", "start", "stop"]


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


NO_READING = Reading(None, datetime(1970, 1, 1, tzinfo=UTC), Quality.MISSING)
"""A point the site does not have (a snapshot field's default)."""


@dataclass(frozen=True)
class PumpReadings:
    """The water pump's drive and flow meter as read this cycle, beyond the site figures
    (MISSING when the site has none; :mod:`controller.snapshot` says which devices)."""

    hz: Reading = NO_READING  # [Hz] the drive's output frequency
    running: Reading = NO_READING  # bool: the drive reports the motor running
    run_cmd: Reading = NO_READING  # bool: the run command as read back
    hz_set: Reading = NO_READING  # [Hz] the frequency setpoint as read back
    fault: Reading = NO_READING  # int: the drive's fault code, 0 none
    flow_total_m3: Reading = NO_READING  # [m³] the flow meter's totaliser


@dataclass(frozen=True)
class Snapshot:
    """The site as read this cycle: site-level points, each with its time and quality; every
    name of ``store.contract.SITE_FIGURES`` is a field (see :mod:`controller.snapshot`).

    ``outputs`` gives, per controllable load, the state of each unit's relay as read back
    (None when unknown); ``gen_running``, per generator unit (``[[generators]] name``), whether
    its controller reports it running (None when unknown). ``clearsky_w`` is the clear-sky PV
    forecast of the local day in 15-minute steps [W] (index 0 = local midnight).
    """

    mono_s: float
    wall_ts: float
    local_h: float
    local_day: str
    soc_pct: Reading
    battery_v: Reading
    battery_w: Reading  # [W] + charging, − discharging
    battery_temp_c: Reading
    pv_w: Reading
    wind_w: Reading  # [W] wind turbines' power (≥ 0)
    load_w: Reading
    do_mg_l: Reading
    water_temp_c: Reading
    inverter_fault: Reading
    generator_running: Reading
    fuel_pct: Reading
    outputs: Mapping[str, tuple[bool | None, ...]] = field(default_factory=_empty)
    clearsky_w: tuple[float, ...] = ()
    gen_running: Mapping[str, bool | None] = field(default_factory=_empty)
    tank_level_pct: Reading = NO_READING  # [%] of the tank's height (0 empty, 100 full)
    pump_w: Reading = NO_READING  # [W] the pump drive's output power
    water_m3_h: Reading = NO_READING  # [m³/h] the flow meter's flow
    water_today_m3: Reading = NO_READING  # [m³] pumped since the local day began
    pump: PumpReadings = PumpReadings()

    def value(self, name: str) -> float | None:
        """The value of point ``name`` if good, else None."""
        r: Reading = getattr(self, name)
        return float(r.value) if r.ok and isinstance(r.value, int | float) else None


@dataclass(frozen=True)
class ProtectionMemory:
    """Battery protection's latches, and its inverter-trip recovery timers [s, monotonic]."""

    low_soc: bool = False
    floor: bool = False
    low_v: bool = False
    hot: bool = False
    trip_since_mono: float | None = None
    trip_resets_mono: tuple[float, ...] = ()


@dataclass(frozen=True)
class AerationMemory:
    """Aeration's DO-demand latch of each aerator load."""

    demand: Mapping[str, bool] = field(default_factory=_empty)


@dataclass(frozen=True)
class GeneratorMemory:
    """The generator strategy: whether it asks the generator to run, since when, and since
    when its start and stop conditions have held [s, monotonic]; ``comm_loss``: it runs only
    because the SOC was unknown (``gen_on_comm_loss = "start"``)."""

    on: bool = False
    on_since_mono: float | None = None
    start_cond_since_mono: float | None = None
    stop_cond_since_mono: float | None = None
    comm_loss: bool = False


@dataclass(frozen=True)
class UnitMemory:
    """One unit of several generators: whether the strategy asks it to run and since when
    [s, monotonic]; ``failed``: it was asked and did not start (left off, the next unit takes
    its place, until the set stops)."""

    on: bool = False
    on_since_mono: float | None = None
    failed: bool = False


@dataclass(frozen=True)
class GeneratorSetMemory:
    """Several generators (``[[generators]]``): each unit's memory by name, and since when the
    load has been above the running units' start threshold (``up``) or below the stop threshold
    of the units but the last started (``down``) [s, monotonic]. The set as a whole (whether
    it runs at all) is :class:`GeneratorMemory`'s."""

    units: Mapping[str, UnitMemory] = field(default_factory=_empty)
    up_since_mono: float | None = None
    down_since_mono: float | None = None


@dataclass(frozen=True)
class SheddingMemory:
    """Load shedding's latch of each non-critical load (True: shed)."""

    shed: Mapping[str, bool] = field(default_factory=_empty)


@dataclass(frozen=True)
class PumpDay:
    """A deferrable pump's energy delivered on the local ``day`` [kWh], as of ``t_mono``."""

    day: str
    kwh: float
    t_mono: float


@dataclass(frozen=True)
class DeferrableMemory:
    """The deferrable strategy's account of each pump's day."""

    pumps: Mapping[str, PumpDay] = field(default_factory=_empty)


PumpMode = Literal["off", "surplus", "follow_pv", "fill", "full", "dry_run", "level_unknown",
                   "power_unknown", "no_surplus", "stopped"]


@dataclass(frozen=True)
class PumpingMemory:
    """The pumping strategy (:mod:`controller.pumping`): what it last commanded (``run`` at
    ``hz`` [Hz]) and when the run command last changed [s, monotonic]; its latches: ``full``
    (stopped at the high level until the level is 5 points below it), ``fill`` (filling to the
    reserve before night), ``dry`` (stopped on a dry run until an operator acknowledges the
    ``pump_dry_run`` alarm); since when the dry-run condition has held and since when the
    surplus has been short of the pump's lowest speed [s, monotonic]; ``mode``: what it is
    doing, in one word."""

    run: bool = False
    hz: float = 0.0
    changed_mono: float | None = None
    full: bool = False
    fill: bool = False
    dry: bool = False
    dry_since_mono: float | None = None
    short_since_mono: float | None = None
    mode: PumpMode = "off"


@dataclass(frozen=True)
class WaterDay:
    """Water pumped on the local ``day`` [m³] as of ``t_mono`` [s, monotonic];
    ``total_m3``: the flow meter's totaliser then (None when it had none) [m³]."""

    day: str
    m3: float
    total_m3: float | None
    t_mono: float


Unit = tuple[str, int]
"""A switchable unit: (load name, unit index)."""


@dataclass(frozen=True)
class SwitchCheck:
    """A motor unit switched on at ``since_mono`` [s] when the site's load was ``before_w``
    [W]; its running power ``step_w`` [W] must show (:mod:`controller.switching`)."""

    unit: Unit
    since_mono: float
    before_w: float
    step_w: float


Memory = (ProtectionMemory | AerationMemory | GeneratorMemory | GeneratorSetMemory
          | SheddingMemory | DeferrableMemory | PumpingMemory)
MEMORY_FIELDS: Mapping[type[Any], str] = MappingProxyType({
    ProtectionMemory: "protection", AerationMemory: "aeration", GeneratorMemory: "generator",
    GeneratorSetMemory: "generator_set", SheddingMemory: "shedding",
    DeferrableMemory: "deferrable", PumpingMemory: "pumping"})
"""The :class:`State` field that holds each strategy's memory."""


@dataclass(frozen=True)
class State:
    """The controller's memory between cycles (restored at start where it matters).

    Each strategy's memory is its own typed dataclass (set through :class:`Remember`);
    ``switched_mono`` the last time each (load, unit) was switched; ``overrides`` the operator
    overrides, load → (on, expires_mono); ``switch_checks`` the motor starts not yet seen in
    the load, ``failed_units`` the units whose start was not seen, → since when (the
    strategies leave them off; :mod:`controller.switching`).
    """

    protection: ProtectionMemory = ProtectionMemory()
    aeration: AerationMemory = AerationMemory()
    generator: GeneratorMemory = GeneratorMemory()
    generator_set: GeneratorSetMemory = GeneratorSetMemory()
    shedding: SheddingMemory = SheddingMemory()
    deferrable: DeferrableMemory = DeferrableMemory()
    pumping: PumpingMemory = PumpingMemory()
    switched_mono: Mapping[tuple[str, int], float] = field(default_factory=_empty)
    last_start_mono: float | None = None
    gen_mode: GenMode = "auto"
    overrides: Mapping[str, tuple[bool, float]] = field(default_factory=_empty)
    switch_checks: tuple[SwitchCheck, ...] = ()
    failed_units: Mapping[Unit, float] = field(default_factory=_empty)

    def evolve(self, **changes: Any) -> State:
        """A copy with ``changes``; mappings are frozen."""
        frozen: dict[str, Any] = {
            k: MappingProxyType(dict(v)) if isinstance(v, Mapping) else v
            for k, v in changes.items()}
        return replace(self, **frozen)

    def remember(self, memories: Iterable[Memory]) -> State:
        """A copy with each strategy's memory replaced by the one given."""
        changes: dict[str, Any] = {MEMORY_FIELDS[type(m)]: m for m in memories}
        return replace(self, **changes)


@dataclass(frozen=True)
class Switch:
    """Switch unit ``unit`` of ``load`` on or off. ``hard`` actions cannot be overridden."""

    load: str
    unit: int
    on: bool
    hard: bool = False


@dataclass(frozen=True)
class RunGenerator:
    """Run (True) or stop (False) the generator; with ``unit``, that unit of several
    (``[[generators]] name``), else the generator set as a whole."""

    run: bool
    reason: str = ""
    unit: str = ""


@dataclass(frozen=True)
class RunPump:
    """Run (True) or stop (False) the water pump's drive; ``hz`` the frequency setpoint
    [Hz] (kept as it is when 0)."""

    run: bool
    hz: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class ResetInverter:
    """Reset a tripped inverter (SunSpec model 123 ``Conn`` = 1)."""

    reason: str = ""


@dataclass(frozen=True)
class StartBudget:
    """Motor starts allowed this cycle: at most one, with a surge of at most ``surge_kw``."""

    surge_kw: float
    ready: bool


@dataclass(frozen=True)
class Remember:
    """Replace the deciding strategy's memory in :class:`State` by ``memory``."""

    memory: Memory


@dataclass(frozen=True)
class Condition:
    """An alarm condition observed this cycle (raised and cleared with hysteresis)."""

    kind: str
    source: str
    active: bool
    message: str = ""


Action = Switch | RunGenerator | RunPump | ResetInverter | StartBudget | Remember | Condition


@dataclass(frozen=True)
class Plan:
    """The merged decision of one cycle. ``generator``: run the generator (the set);
    ``generators``: with several units, each unit's (run, reason) by unit name; ``pump``: the
    water pump's drive command, and ``pump_by`` the strategy that gave it."""

    units: Mapping[tuple[str, int], bool] = field(default_factory=_empty)
    generator: bool | None = None
    generator_reason: str = ""
    generators: Mapping[str, tuple[bool, str]] = field(default_factory=_empty)
    reset_inverter: bool = False
    memory: tuple[Memory, ...] = ()
    conditions: tuple[Condition, ...] = ()
    by: Mapping[tuple[str, int], str] = field(default_factory=_empty)
    deferred: tuple[tuple[str, int], ...] = field(default=())
    pump: RunPump | None = None
    pump_by: str = ""


def in_window(h: float, start_h: float, end_h: float) -> bool:
    """True when local hour ``h`` lies in ``[start_h, end_h)``, wrapping past midnight."""
    if start_h <= end_h:
        return start_h <= h < end_h
    return h >= start_h or h < end_h


def motor_surge_kw(site: Site, load_name: str) -> float:
    """Direct-on-line start surge of one unit of ``load_name`` [kW] (0 for non-motors); an
    appliance load switched on starts its largest compressor (``start_multiplier`` > 1)."""
    for load in site.loads:
        if load.name == load_name:
            if isinstance(load, AeratorLoad):
                return load.kw_per_unit * load.start_multiplier
            if isinstance(load, PumpLoad):
                return load.kw * load.start_multiplier
            if isinstance(load, ApplianceLoad):
                return max((a.power_w / 1000.0 * a.start_multiplier for a in load.appliances
                            if a.start_multiplier > 1.0), default=0.0)
    return 0.0


def unit_kw(site: Site, load_name: str) -> float:
    """Nominal running power of one unit [kW] (0 when not known: profile/appliance loads)."""
    for load in site.loads:
        if load.name == load_name:
            if isinstance(load, AeratorLoad):
                return load.kw_per_unit
            if isinstance(load, PumpLoad):
                return load.kw
    return 0.0
