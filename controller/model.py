"""What the strategies see and say: the snapshot, the controller state and the actions.

All three are immutable. Times named ``*_mono`` are monotonic seconds (``time.monotonic()`` in
production, a virtual clock in tests); they drive every timer, so a wall-clock jump neither
triggers nor skips an action. Only schedules (night, quiet hours, the pump window) use the
site's local time of day, ``Snapshot.local_h``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

from controller.devices.values import Reading
from sitefile import AeratorLoad, ApplianceLoad, PumpLoad, Site

GenMode = Literal["auto", "start", "stop"]


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


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
          | SheddingMemory | DeferrableMemory)
MEMORY_FIELDS: Mapping[type[Any], str] = MappingProxyType({
    ProtectionMemory: "protection", AerationMemory: "aeration", GeneratorMemory: "generator",
    GeneratorSetMemory: "generator_set", SheddingMemory: "shedding",
    DeferrableMemory: "deferrable"})
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


Action = Switch | RunGenerator | ResetInverter | StartBudget | Remember | Condition


@dataclass(frozen=True)
class Plan:
    """The merged decision of one cycle. ``generator``: run the generator (the set);
    ``generators``: with several units, each unit's (run, reason) by unit name."""

    units: Mapping[tuple[str, int], bool] = field(default_factory=_empty)
    generator: bool | None = None
    generator_reason: str = ""
    generators: Mapping[str, tuple[bool, str]] = field(default_factory=_empty)
    reset_inverter: bool = False
    memory: tuple[Memory, ...] = ()
    conditions: tuple[Condition, ...] = ()
    by: Mapping[tuple[str, int], str] = field(default_factory=_empty)
    deferred: tuple[tuple[str, int], ...] = field(default=())


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
