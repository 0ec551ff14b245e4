"""The plant behind the simulated devices: PV, wind turbines, battery, charge controllers,
inverter, loads, relays, generators and the pond's dissolved oxygen, stepped in virtual time.

:meth:`Plant.step` advances the plant by ``dt_s`` seconds of simulated time (no wall clock):
tests step it directly. PV power comes from :mod:`sizing.pv` (pvlib), each turbine's output
from :mod:`sizing.wind` (windpowerlib) and battery energy from
:func:`sizing.battery.charge_step`, through :class:`hardware_sim.inputs.Inputs`; this module
adds what the hourly sizing model does not have: cloud flicker within the hour, charge stages,
terminal voltage, motor starts and the inverter's surge trip, the generator's start delay and
the pond's oxygen.

Wind turbines: an AC-coupled turbine's inverter follows the AC bus (it produces only while
the battery inverter or a generator holds the bus up) and serves the loads first, its surplus
charging the battery through the inverter/charger; a DC-coupled turbine's controller feeds the
battery bus beside the PV. Whatever the battery cannot take is dumped (curtailed). Generators
(``[[generators]]``, each its own unit with its own controller) share the load in proportion
to their ratings while they run in parallel; their spare power charges the battery.

A water pump (``kind = "water_pump"``, :mod:`hardware_sim.water`) is a load on the AC bus
like the others, except that its drive limits itself: each step it is offered what the AC bus
can still give after the other loads (:meth:`Plant._pump_available_kw`) and lowers its
frequency (or, at fixed speed, stops) to fit. The battery may supply it (the controller decides
when the pump runs, as for any load it switches on). The pump's energy is served load.
A site without ``[battery]`` (a PV-direct solar pump inverter) runs with :data:`NO_BATTERY`:
the inverter carries only what the PV gives, shuts down when the loads need more, and wakes
when the PV returns.

Energy balance (all kWh, checked in tests)::

    pv + wind + generator = Δstored + battery_loss + inverter_loss + charger_loss + served
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum

import numpy as np

from hardware_sim.inputs import Inputs
from hardware_sim.water import WaterPlant
from sitefile import AeratorLoad, Generator, PumpLoad, Site
from sitefile.model import WaterPumpLoad
from sizing.battery import BatteryParams, battery_params, charge_step, max_discharge_kw

MOTOR_START_S = 1.0  # a direct-on-line start draws its surge for about a second
ABSORPTION_SOC_FRACTION = 0.95  # charge stage: bulk below 95 % of max SOC, absorption above
FLOAT_MARGIN_PCT = 0.5  # within 0.5 % of max SOC the charge controllers float
INVERTER_RESTART_SOC_PCT = 5.0  # after a low-battery shutdown, restart 5 % above min SOC
AC_V = 230.0
AC_HZ = 50.0
CLOUD_TAU_S = 300.0  # correlation time of the cloud flicker [s]
CLOUD_SIGMA = 0.15  # its standard deviation, relative to the hourly PV power


class InverterState(IntEnum):
    """Inverter states, numbered as SunSpec model 103 ``St``."""

    OFF = 1  # low-battery shutdown: restarts by itself once the battery has recovered
    ON = 4
    FAULT = 7  # surge or overload trip: needs a reset
    STANDBY = 8  # disconnected by command (SunSpec model 123 Conn = 0)


class GenState(IntEnum):
    """Generator controller engine states (SmartGen HGM4000 numbering)."""

    STANDBY = 0
    CRANKING = 2
    RUNNING = 9


class Stage(IntEnum):
    """Charge stages, coded as EPEver's charging status (0x3201 D3-2).

    EPEver codes 2 "boost" and 3 "equalize"; the simulator reports bulk as 2 and absorption as 3.
    """

    OFF = 0
    FLOAT = 1
    BULK = 2
    ABSORPTION = 3


@dataclass(frozen=True)
class Pond:
    """A shrimp pond's oxygen budget; defaults describe 1 ha of intensive white-leg shrimp.

    Rates in [mg L-1 h-1] at 28 °C; aerator transfer in [kg O2 kWh-1] at standard conditions.
    """

    area_m2: float = 10_000.0
    depth_m: float = 1.0
    salinity_ppt: float = 15.0
    respiration_mg_l_h: float = 1.0  # shrimp, plankton and sediment, at saturation
    photosynthesis_mg_l_h: float = 1.6  # at 1000 W m-2
    aerator_sotr_kg_kwh: float = 2.0  # paddlewheel standard oxygen transfer
    alpha: float = 0.85  # pond water / clean water transfer ratio
    surface_k_per_h: float = 0.03  # still-surface re-aeration
    water_tau_h: float = 6.0  # water temperature follows the air with this lag

    @property
    def volume_l(self) -> float:
        """Water volume [L]."""
        return self.area_m2 * self.depth_m * 1000.0


def do_saturation_mg_l(temp_c: float, salinity_ppt: float) -> float:
    """Oxygen saturation of water [mg/L] (Benson–Krause fit, salinity correction ≈ 0.04 per ‰)."""
    t = temp_c
    fresh = 14.652 - 0.41022 * t + 0.007991 * t**2 - 0.000077774 * t**3
    return max(0.5, fresh - 0.04 * salinity_ppt)


def do_rate_mg_l_h(do_mg_l: float, temp_c: float, ghi_w_m2: float, aerator_kw: float,
                   pond: Pond) -> float:
    """d(DO)/dt [mg L-1 h-1]: photosynthesis − respiration + aeration + surface transfer."""
    sat = do_saturation_mg_l(temp_c, pond.salinity_ppt)
    sat20 = do_saturation_mg_l(20.0, 0.0)
    deficit = sat - do_mg_l
    theta = 1.024 ** float(temp_c - 20.0)
    aer_mg_h = aerator_kw * pond.aerator_sotr_kg_kwh * 1e6 * pond.alpha * theta * deficit / sat20
    respiration = (pond.respiration_mg_l_h * 1.07 ** float(temp_c - 28.0)
                   * do_mg_l / (do_mg_l + 1.0))
    photo = pond.photosynthesis_mg_l_h * max(ghi_w_m2, 0.0) / 1000.0
    return float(photo - respiration + aer_mg_h / pond.volume_l
                 + pond.surface_k_per_h * deficit)


OCV_SOC = np.array([0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100], dtype=float)
OCV_CELL_V = {
    "lfp": np.array([2.80, 3.05, 3.15, 3.21, 3.25, 3.27, 3.29, 3.30, 3.31, 3.33, 3.35, 3.38,
                     3.45]),
    "lead_acid": np.array([1.93, 1.95, 1.96, 1.98, 2.00, 2.02, 2.04, 2.05, 2.07, 2.09, 2.10,
                           2.11, 2.12]),
}
CELL_NOMINAL_V = {"lfp": 3.2, "lead_acid": 2.0}
RESISTANCE_DROP_AT_1C = 0.03  # terminal voltage moves 3 % at a 1 C current
NO_BATTERY = BatteryParams(kwh=0.0, min_soc_kwh=0.0, max_soc_kwh=0.0, max_charge_kw=0.0,
                           max_discharge_kw=0.0, charge_eff=1.0, discharge_eff=1.0)
"""A site without ``[battery]`` (a PV-direct solar pump inverter): nothing stored, the AC bus
carries only what the PV gives at each instant."""


def terminal_v(soc_pct: float, power_w: float, chemistry: str, nominal_v: float,
               kwh: float) -> float:
    """Battery terminal voltage [V]: OCV(SOC) of the chemistry plus I × R (charging raises it)."""
    cells = round(nominal_v / CELL_NOMINAL_V[chemistry])
    ocv = cells * float(np.interp(soc_pct, OCV_SOC, OCV_CELL_V[chemistry]))
    r_ohm = RESISTANCE_DROP_AT_1C * nominal_v**2 / max(kwh * 1000.0, 1.0)
    return ocv + power_w / ocv * r_ohm


@dataclass
class Motor:
    """One motor on a relay channel: its running power and start multiplier."""

    kw: float
    start_multiplier: float
    aerator: bool
    spinning: bool = False
    start_left_s: float = 0.0


@dataclass
class ChargeControllerState:
    """One MPPT charge controller: its settings and its load output (low-voltage disconnect)."""

    lvd_v: float
    lvr_v: float
    load_on_cmd: bool = True
    lvd: bool = False

    @property
    def load_output_on(self) -> bool:
        """True when the load output is switched on and not disconnected by LVD."""
        return self.load_on_cmd and not self.lvd


@dataclass
class Energy:
    """Energy counters since start [kWh]."""

    pv_kwh: float = 0.0  # delivered onto the DC bus by the charge controllers
    pv_array_kwh: float = 0.0  # produced by the array (before the MPPT)
    curtailed_kwh: float = 0.0
    wind_kwh: float = 0.0  # delivered by the turbines (AC and DC coupled)
    wind_curtailed_kwh: float = 0.0  # available from the turbines but dumped
    generator_kwh: float = 0.0
    served_kwh: float = 0.0
    unserved_kwh: float = 0.0
    inverter_ac_kwh: float = 0.0
    battery_charge_kwh: float = 0.0
    battery_discharge_kwh: float = 0.0
    battery_loss_kwh: float = 0.0
    inverter_loss_kwh: float = 0.0
    charger_loss_kwh: float = 0.0
    fuel_l: float = 0.0


@dataclass
class GenUnit:
    """One generator of ``[[generators]]`` behind its own controller."""

    spec: Generator
    fuel_l: float
    state: GenState = GenState.STANDBY
    cmd: bool = False
    state_s: float = 0.0
    run_s: float = 0.0
    w: float = 0.0
    kwh: float = 0.0

    @property
    def running(self) -> bool:
        """True when running and able to take load."""
        return self.state is GenState.RUNNING


@dataclass
class Plant:
    """The whole plant at one instant; :meth:`step` moves it on."""

    site: Site
    inputs: Inputs
    t: datetime
    seed: int = 0
    pond: Pond = field(default_factory=Pond)
    # state
    soc_kwh: float = 0.0
    battery_w: float = 0.0
    pv_w: float = 0.0
    pv_array_w: float = 0.0
    pv_avail_w: float = 0.0
    load_w: float = 0.0
    demand_w: float = 0.0
    surge_w: float = 0.0
    inverter_dc_w: float = 0.0
    inverter: InverterState = InverterState.ON
    overload_s: float = 0.0
    gens: list[GenUnit] = field(default_factory=list)
    wind_w: float = 0.0
    wind_avail_w: float = 0.0
    wind_w_by_entry: list[float] = field(default_factory=list)  # each [[wind]] entry's output
    wind_kwh_by_entry: list[float] = field(default_factory=list)  # …integrated [kWh]
    load_bank_kw: float = 0.0  # a resistive test load bank on the AC bus (commissioning) [kW]
    stage: Stage = Stage.OFF
    do_mg_l: float = 6.0
    water_temp_c: float = 28.0
    cloud: float = 0.0
    relays: dict[str, list[bool]] = field(default_factory=dict)
    stuck: dict[tuple[str, int], bool] = field(default_factory=dict)
    motors: dict[tuple[str, int], Motor] = field(default_factory=dict)
    motor_load: dict[tuple[str, int], str] = field(default_factory=dict)  # (dev, ch) → load
    load_w_by_name: dict[str, float] = field(default_factory=dict)  # each load's served power
    load_kwh_by_name: dict[str, float] = field(default_factory=dict)  # …integrated [kWh]
    _demand_by_load: dict[str, float] = field(init=False, default_factory=dict)  # [kW]
    controllers: dict[str, ChargeControllerState] = field(default_factory=dict)
    energy: Energy = field(default_factory=Energy)
    events: list[tuple[datetime, str]] = field(default_factory=list)
    pv_kwh_at_midnight: float = 0.0
    steps: int = 0
    water: WaterPlant | None = field(init=False, default=None)  # the site's water pump and tank
    _rng: np.random.Generator = field(init=False, repr=False)
    _params: BatteryParams = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.t.tzinfo is None:
            raise ValueError("Plant.t must be timezone-aware")
        self.t = self.t.astimezone(UTC)
        b = self.site.battery
        if self.site.inverter is None:
            raise ValueError("the plant needs [inverter]")
        self._params = battery_params(b) if b is not None else NO_BATTERY
        self._rng = np.random.default_rng(self.seed)
        self.soc_kwh = b.kwh * b.initial_soc_pct / 100.0 if b is not None else 0.0
        for dev in self.site.devices:
            if dev.driver == "relay_board":
                self.relays[dev.name] = [False] * 8
            elif dev.driver == "epever_tracer" and b is not None:
                # EPEver defaults for a 12 V battery (11.1 V disconnect, 12.6 V reconnect),
                # scaled to the bank's nominal voltage.
                k = b.nominal_v / 12.8 if b.chemistry == "lfp" else b.nominal_v / 12.0
                self.controllers[dev.name] = ChargeControllerState(11.1 * k, 12.6 * k)
        for load in self.site.loads:
            self.load_w_by_name[load.name] = 0.0
            self.load_kwh_by_name[load.name] = 0.0
            if load.switch is None:
                continue
            for ch in load.switch.channels:
                self.motor_load[load.switch.device, ch] = load.name
                if isinstance(load, AeratorLoad):
                    self.motors[load.switch.device, ch] = Motor(
                        load.kw_per_unit, load.start_multiplier, aerator=True)
                elif isinstance(load, PumpLoad):
                    self.motors[load.switch.device, ch] = Motor(
                        load.kw / len(load.switch.channels), load.start_multiplier,
                        aerator=False)
        self.gens = [GenUnit(g, g.tank_l) for g in self.site.generators]
        self.wind_w_by_entry = [0.0] * len(self.site.wind)
        self.wind_kwh_by_entry = [0.0] * len(self.site.wind)
        self.water_temp_c = self.inputs.at(self.local).temp_air_c
        if self.site.water_pumps:
            if self.site.tank is None:
                raise ValueError("a water pump needs [tank]")
            self.water = WaterPlant(self.site.water_pumps[0], self.site.tank)
        self.do_mg_l = do_saturation_mg_l(self.water_temp_c, self.pond.salinity_ppt)

    # ------------------------------------------------------------------ derived readings

    @property
    def local(self) -> datetime:
        """The plant time in the site's time zone."""
        return self.t.astimezone(self.site.tz)

    @property
    def soc_pct(self) -> float:
        """State of charge [%]."""
        kwh = self._params.kwh
        return 100.0 * self.soc_kwh / kwh if kwh > 0 else 0.0

    @property
    def battery_v(self) -> float:
        """Terminal voltage [V] (0 on a site without ``[battery]``)."""
        b = self.site.battery
        if b is None:
            return 0.0
        return terminal_v(self.soc_pct, self.battery_w, b.chemistry, b.nominal_v, b.kwh)

    @property
    def battery_a(self) -> float:
        """Battery current [A], positive = charging (0 without a battery)."""
        v = self.battery_v
        return self.battery_w / v if v > 0 else 0.0

    @property
    def battery_temp_c(self) -> float:
        """Battery temperature [°C]: the air in a shaded, ventilated box."""
        return self.inputs.at(self.local).temp_air_c + 3.0

    @property
    def do_sat_pct(self) -> float:
        """Dissolved oxygen as a percentage of saturation [%]."""
        return 100.0 * self.do_mg_l / do_saturation_mg_l(self.water_temp_c,
                                                           self.pond.salinity_ppt)

    @property
    def contacts(self) -> dict[str, list[bool]]:
        """Each relay's actual contact state (a stuck relay ignores its command)."""
        return {dev: [self.stuck.get((dev, ch), cmd) for ch, cmd in enumerate(chs)]
                for dev, chs in self.relays.items()}

    @property
    def gen(self) -> GenState:
        """The generators as one: RUNNING when any runs, else CRANKING when any cranks."""
        states = {u.state for u in self.gens}
        return next((st for st in (GenState.RUNNING, GenState.CRANKING) if st in states),
                    GenState.STANDBY)

    @property
    def gen_w(self) -> float:
        """The generators' total output [W]."""
        return sum(u.w for u in self.gens)

    @property
    def fuel_l(self) -> float:
        """Fuel left in all the generators' tanks [L]."""
        return sum(u.fuel_l for u in self.gens)

    def unit_of(self, device: str) -> GenUnit | None:
        """The generator unit that ``device`` (a generator controller) starts and stops."""
        return next((u for u in self.gens if u.spec.device == device), None)

    @property
    def aerator_kw(self) -> float:
        """Aerator power actually running [kW]."""
        return sum(m.kw for m in self.motors.values() if m.spinning and m.aerator)

    def log(self, message: str) -> None:
        """Record a plant event at the current time."""
        self.events.append((self.t, message))

    # ------------------------------------------------------------------ commands

    def set_relay(self, device: str, channel: int, on: bool) -> None:
        """Command relay ``channel`` of ``device``."""
        self.relays[device][channel] = on

    def reset_inverter(self) -> None:
        """Clear a trip; motors on closed relays start again at the next step."""
        if self.inverter is InverterState.FAULT:
            self.inverter = InverterState.ON
            self.overload_s = 0.0
            self.log("inverter reset")

    def connect_inverter(self, on: bool) -> None:
        """Remote connect (clears a trip too) or disconnect of the inverter's output."""
        if not on and self.inverter is not InverterState.STANDBY:
            self.inverter = InverterState.STANDBY
            self.log("inverter disconnected by command")
        elif on and self.inverter in (InverterState.FAULT, InverterState.STANDBY):
            self.inverter = InverterState.ON
            self.overload_s = 0.0
            self.log("inverter connected by command")

    def generator_command(self, start: bool, unit: GenUnit | None = None) -> None:
        """Remote start (True) or stop (False) of generator ``unit`` (default: the first)."""
        unit = unit or next(iter(self.gens), None)
        if unit is None:
            return
        unit.cmd = start
        if not start and unit.state is not GenState.STANDBY:
            unit.state, unit.state_s = GenState.STANDBY, 0.0
            self.log(f"{unit.spec.name} stopped")

    # ------------------------------------------------------------------ stepping

    def advance(self, seconds: float, max_step_s: float = 1.0) -> int:
        """Step the plant through ``seconds`` in steps of at most ``max_step_s``; step count."""
        n = max(1, math.ceil(seconds / max_step_s - 1e-9)) if seconds > 0 else 0
        for _ in range(n):
            self.step(seconds / n)
        return n

    def step(self, dt_s: float) -> None:
        """Advance the plant by ``dt_s`` seconds of simulated time."""
        dt_h = dt_s / 3600.0
        local = self.local
        weather = self.inputs.at(local)
        self._cloud(dt_s)
        factor = max(0.0, 1.0 + CLOUD_SIGMA * self.cloud)
        pv_avail_kw = weather.pv_bus_kw * factor
        pv_array_kw = weather.pv_array_kw * factor
        self._generator(dt_s)
        running = [u for u in self.gens if u.running]
        gen_on = bool(running)
        powered = gen_on or self.inverter is InverterState.ON
        demand_kw, surge_kw = self._loads(local, dt_s, powered)
        inv = self.site.inverter
        assert inv is not None
        eff = inv.efficiency_pct / 100.0
        # Wind: each entry's turbines; AC-coupled ones only while the AC bus is up.
        entry_kw = [w.count * kw for w, kw in zip(self.site.wind, weather.wind_kw_per_turbine,
                                                   strict=True)]
        ac_entry = [w.coupling == "ac" for w in self.site.wind]
        wind_avail_kw = sum(entry_kw)
        wind_ac_kw = sum(kw for kw, ac in zip(entry_kw, ac_entry, strict=True) if ac) if (
            powered) else 0.0
        wind_dc_kw = sum(kw for kw, ac in zip(entry_kw, ac_entry, strict=True) if not ac)
        pump_kw = 0.0
        if self.water is not None:
            was_running = self.water.running
            pump_kw = self.water.drive(dt_s, self._pump_available_kw(
                demand_kw, pv_avail_kw, wind_ac_kw, wind_dc_kw, powered=powered, gen_on=gen_on,
                dt_h=dt_h))
            pump = self.water.load
            demand_kw += pump_kw
            surge_kw += pump_kw * (pump.start_multiplier if self.water.started else 1.0)
            self._demand_by_load[pump.name] = pump_kw
            if self.water.running != was_running:
                self.log(f"{pump.name} {'started' if self.water.running else 'stopped'}")
        self.demand_w, self.surge_w = demand_kw * 1000, surge_kw * 1000
        if not gen_on and self.inverter is InverterState.ON:
            self._surge_check(demand_kw, surge_kw, dt_s)
            if self.inverter is not InverterState.ON:
                demand_kw = 0.0
                self._stop_motors()
        if not powered:
            demand_kw = 0.0
        wind_direct_kw = min(wind_ac_kw, demand_kw)  # AC wind serves the loads first
        wind_charge_kw = (wind_ac_kw - wind_direct_kw) * eff  # its surplus through the charger
        rest_kw = demand_kw - wind_direct_kw
        cap_kw = sum(u.spec.kw for u in running)
        gen_kw = gen_charge_kw = 0.0
        if gen_on:
            gen_kw = min(rest_kw, cap_kw)
            gen_charge_kw = (cap_kw - gen_kw) * eff  # spare generator power through the charger
            inverter_dc_kw = 0.0
            served_kw = wind_direct_kw + gen_kw
        else:
            inverter_dc_kw = rest_kw / eff
            served_kw = demand_kw
        # Charge stages limit what the battery takes from PV and wind.
        room_frac = (self._params.max_soc_kwh - self.soc_kwh) / max(
            self._params.max_soc_kwh * (1 - ABSORPTION_SOC_FRACTION), 1e-9)
        charge_cap_kw = self._params.max_charge_kw * min(1.0, max(0.05, room_frac))
        request = pv_avail_kw + wind_dc_kw + wind_charge_kw + gen_charge_kw - inverter_dc_kw
        request = min(request, charge_cap_kw)
        soc0 = self.soc_kwh
        new_soc, accepted, loss = charge_step(self.soc_kwh, request, dt_h, self._params)
        if request < 0 and accepted > request + 1e-12 and not gen_on:
            # The battery cannot carry the loads: the inverter shuts down on low battery,
            # and the AC-coupled turbines with it.
            self.inverter = InverterState.OFF
            self.log("inverter off: low battery" if self.site.battery is not None
                     else "inverter off: PV too weak for the loads")
            self._stop_motors()
            served_kw = inverter_dc_kw = wind_direct_kw = wind_charge_kw = rest_kw = 0.0
            request = min(pv_avail_kw + wind_dc_kw, charge_cap_kw)
            new_soc, accepted, loss = charge_step(soc0, request, dt_h, self._params)
        unserved_kw = max(demand_kw - served_kw, 0.0) if powered else self._unpowered_demand(
            local)
        # Whatever the battery did not take comes off the PV first, then the DC-coupled wind,
        # then the AC-coupled wind's surplus, then the generators (the rest is dumped).
        supply_kw = max(accepted + inverter_dc_kw, 0.0)  # power fed onto the DC bus
        pv_used_kw = min(pv_avail_kw, supply_kw)
        wind_dc_used_kw = min(wind_dc_kw, supply_kw - pv_used_kw)
        wind_charge_used_kw = min(wind_charge_kw, supply_kw - pv_used_kw - wind_dc_used_kw)
        gen_charge_used_kw = max(supply_kw - pv_used_kw - wind_dc_used_kw
                                 - wind_charge_used_kw, 0.0)
        gen_out_kw = gen_kw + gen_charge_used_kw / eff if gen_on else 0.0
        wind_ac_out_kw = wind_direct_kw + wind_charge_used_kw / eff
        wind_out_kw = wind_ac_out_kw + wind_dc_used_kw
        self.soc_kwh = new_soc
        self.battery_w = accepted * 1000.0
        self.pv_avail_w = pv_avail_kw * 1000.0
        self.pv_w = pv_used_kw * 1000.0
        self.pv_array_w = pv_array_kw * 1000.0 * (pv_used_kw / pv_avail_kw if pv_avail_kw else 0)
        self.wind_avail_w = wind_avail_kw * 1000.0
        self.wind_w = wind_out_kw * 1000.0
        # Each entry delivers its share of its coupling's output.
        wind_ac_all = sum(kw for kw, ac in zip(entry_kw, ac_entry, strict=True) if ac)
        for k, (kw, ac) in enumerate(zip(entry_kw, ac_entry, strict=True)):
            share_kw = (kw / wind_ac_all * wind_ac_out_kw if ac and wind_ac_all > 0 else
                        kw / wind_dc_kw * wind_dc_used_kw if not ac and wind_dc_kw > 0 else 0.0)
            self.wind_w_by_entry[k] = share_kw * 1000.0
            self.wind_kwh_by_entry[k] += share_kw * dt_h
        self.load_w = served_kw * 1000.0
        # Each load gets its share of what was served (a generator short of the demand
        # serves every load in proportion; nothing when the AC bus is dead).
        share = served_kw / demand_kw if demand_kw > 0 else 0.0
        for name, kw in self._demand_by_load.items():
            self.load_w_by_name[name] = kw * share * 1000.0
            self.load_kwh_by_name[name] += kw * share * dt_h
        if self.water is not None:
            if pump_kw > 0 and share < 1.0 - 1e-9:  # the bus failed in this step
                self.water.cut()
                self.log(f"{self.water.load.name} stopped: no power")
            overflow0 = self.water.overflow_m3
            self.water.flow(dt_s, local.hour + local.minute / 60 + (
                local.second + local.microsecond / 1e6) / 3600, local.month)
            if self.water.overflow_m3 > overflow0 and overflow0 == 0.0:
                self.log("tank overflowing")
        self.inverter_dc_w = (inverter_dc_kw - gen_charge_used_kw
                              - wind_charge_used_kw) * 1000.0
        for u in self.gens:  # paralleled units share the load in proportion to their ratings
            u.w = gen_out_kw * u.spec.kw / cap_kw * 1000.0 if u.running else 0.0
            u.kwh += u.w / 1000.0 * dt_h
        e = self.energy
        e.pv_kwh += pv_used_kw * dt_h
        e.pv_array_kwh += self.pv_array_w / 1000 * dt_h
        e.curtailed_kwh += (pv_avail_kw - pv_used_kw) * dt_h
        e.wind_kwh += wind_out_kw * dt_h
        e.wind_curtailed_kwh += (wind_avail_kw - wind_out_kw) * dt_h
        e.generator_kwh += gen_out_kw * dt_h
        e.served_kwh += served_kw * dt_h
        e.unserved_kwh += unserved_kw * dt_h
        e.inverter_ac_kwh += (served_kw - wind_direct_kw if not gen_on else 0.0) * dt_h
        e.battery_charge_kwh += max(accepted, 0.0) * dt_h
        e.battery_discharge_kwh += max(-accepted, 0.0) * dt_h
        e.battery_loss_kwh += loss
        e.inverter_loss_kwh += (inverter_dc_kw - (0.0 if gen_on else rest_kw)) * dt_h
        e.charger_loss_kwh += (gen_charge_used_kw + wind_charge_used_kw) * (1 / eff - 1) * dt_h
        self._fuel(dt_h)
        self._stage(pv_avail_kw + wind_dc_kw + wind_charge_kw)
        self._restart_after_low_battery()
        self._charge_controllers()
        self._pond(dt_h, weather.ghi_w_m2, weather.temp_air_c)
        self.t += timedelta(seconds=dt_s)
        self.steps += 1
        if self.local.date() != local.date():
            self.pv_kwh_at_midnight = e.pv_kwh

    def _cloud(self, dt_s: float) -> None:
        """Advance the cloud flicker: an AR(1) process, reproducible from the seed."""
        a = math.exp(-dt_s / CLOUD_TAU_S)
        self.cloud = a * self.cloud + math.sqrt(1 - a * a) * float(self._rng.standard_normal())

    def _loads(self, local: datetime, dt_s: float, powered: bool) -> tuple[float, float]:
        """AC demand and the instantaneous demand with motor starts [kW]."""
        contacts = self.contacts
        demand = surge = 0.0
        by_load = dict.fromkeys(self.load_w_by_name, 0.0)
        for (dev, ch), m in self.motors.items():
            on = powered and contacts[dev][ch]
            if on and not m.spinning:
                m.start_left_s = MOTOR_START_S
            m.spinning = on
            if on:
                demand += m.kw
                name = self.motor_load[dev, ch]
                by_load[name] += m.kw
                surge += m.kw * (m.start_multiplier if m.start_left_s > 0 else 1.0)
                m.start_left_s = max(0.0, m.start_left_s - dt_s)
        others = self._other_loads(local, contacts)
        for name, kw in others.items():
            by_load[name] += kw
        self._demand_by_load = by_load
        other = sum(others.values()) + (self.load_bank_kw if powered else 0.0)
        return demand + other, surge + other

    def _pump_available_kw(self, other_kw: float, pv_avail_kw: float, wind_ac_kw: float,
                           wind_dc_kw: float, *, powered: bool, gen_on: bool, dt_h: float
                           ) -> float:
        """What the AC bus can give the water pump after ``other_kw`` of other loads [kW].

        With generators running: their ratings plus the AC wind (the plant's generators carry
        the loads alone). On the inverter: the AC wind plus what the DC bus can feed through
        the inverter — PV, DC wind and the battery's discharge limit this step
        (:func:`sizing.battery.max_discharge_kw` down to min SOC) — within the inverter's
        continuous rating, so that the pump alone never trips or shuts the inverter down.
        Nothing while the AC bus is down.
        """
        if not powered:
            return 0.0
        if gen_on:
            cap_kw = sum(u.spec.kw for u in self.gens if u.running)
            return max(0.0, cap_kw + wind_ac_kw - other_kw)
        inv = self.site.inverter
        assert inv is not None
        eff = inv.efficiency_pct / 100.0
        dc_kw = pv_avail_kw + wind_dc_kw + max_discharge_kw(
            self.soc_kwh, self._params.min_soc_kwh, dt_h, self._params)
        return max(0.0, min(inv.kw, wind_ac_kw + dc_kw * eff) - other_kw)

    def _other_loads(self, local: datetime, contacts: dict[str, list[bool]]
                     ) -> dict[str, float]:
        """Loads without motors on relays: profiles, appliances, and unswitched loads [kW]."""
        out: dict[str, float] = {}
        for load in self.site.loads:
            if isinstance(load, WaterPumpLoad):
                continue  # its drive is stepped by Plant.step
            sw = load.switch
            if sw is not None and (isinstance(load, AeratorLoad | PumpLoad)):
                continue
            if sw is None or any(contacts[sw.device][c] for c in sw.channels):
                out[load.name] = self.inputs.load_kw(load.name, local)
        return out

    def _other_loads_kw(self, local: datetime, contacts: dict[str, list[bool]]) -> float:
        """Loads without motors on relays: profiles, appliances, and unswitched loads."""
        return sum(self._other_loads(local, contacts).values())

    def _unpowered_demand(self, local: datetime) -> float:
        contacts = self.contacts
        motors = sum(m.kw for (dev, ch), m in self.motors.items() if contacts[dev][ch])
        return motors + self._other_loads_kw(local, contacts) + self.load_bank_kw

    def _surge_check(self, demand_kw: float, surge_kw: float, dt_s: float) -> None:
        inv = self.site.inverter
        assert inv is not None
        if surge_kw > inv.surge_kw:
            self.inverter = InverterState.FAULT
            self.log(f"inverter trip: surge {surge_kw:.1f} kW > {inv.surge_kw:g} kW")
            return
        self.overload_s = self.overload_s + dt_s if demand_kw > inv.kw else 0.0
        if self.overload_s > inv.surge_s:
            self.inverter = InverterState.FAULT
            self.log(f"inverter trip: overload {demand_kw:.1f} kW > {inv.kw:g} kW "
                     f"for {self.overload_s:.0f} s")

    def _stop_motors(self) -> None:
        for m in self.motors.values():
            m.spinning = False
            m.start_left_s = 0.0

    def _restart_after_low_battery(self) -> None:
        b = self.site.battery
        if self.inverter is not InverterState.OFF:
            return
        if b is None:  # a PV-direct inverter (a solar pump drive) wakes with the sun
            if self.pv_avail_w > 0:
                self.inverter = InverterState.ON
                self.log("inverter on: PV back")
        elif self.soc_pct >= b.min_soc_pct + INVERTER_RESTART_SOC_PCT:
            self.inverter = InverterState.ON
            self.log("inverter on: battery recovered")

    def _generator(self, dt_s: float) -> None:
        for u in self.gens:
            name = u.spec.name
            u.state_s += dt_s
            if u.cmd and u.state is GenState.STANDBY and u.fuel_l > 0:
                u.state, u.state_s = GenState.CRANKING, 0.0
                self.log(f"{name} cranking")
            elif u.state is GenState.CRANKING and u.state_s >= u.spec.start_delay_s:
                u.state, u.state_s = GenState.RUNNING, 0.0
                self.log(f"{name} running")
            elif u.state is GenState.RUNNING and u.fuel_l <= 0:
                u.state, u.cmd = GenState.STANDBY, False
                self.log(f"{name} stopped: out of fuel")
            if u.running:
                u.run_s += dt_s

    def _fuel(self, dt_h: float) -> None:
        for u in self.gens:
            if not u.running:
                continue
            g = u.spec
            used = (g.fuel_l_per_h_idle + g.fuel_l_per_kwh * u.w / 1000.0) * dt_h
            u.fuel_l = max(0.0, u.fuel_l - used)
            self.energy.fuel_l += used

    def _stage(self, charge_avail_kw: float) -> None:
        """The charge stage, from what PV and wind offer the battery [kW]."""
        p = self._params
        if charge_avail_kw <= 0:
            self.stage = Stage.OFF
        elif self.soc_kwh >= p.max_soc_kwh - FLOAT_MARGIN_PCT / 100 * p.kwh:
            self.stage = Stage.FLOAT
        elif self.soc_kwh >= ABSORPTION_SOC_FRACTION * p.max_soc_kwh:
            self.stage = Stage.ABSORPTION
        else:
            self.stage = Stage.BULK

    def _charge_controllers(self) -> None:
        if not self.controllers:
            return
        v = self.battery_v
        for cc in self.controllers.values():
            if not cc.lvd and v < cc.lvd_v:
                cc.lvd = True
            elif cc.lvd and v >= cc.lvr_v:
                cc.lvd = False

    def _pond(self, dt_h: float, ghi: float, air_c: float) -> None:
        self.water_temp_c += (air_c - self.water_temp_c) * min(1.0, dt_h / self.pond.water_tau_h)
        rate = do_rate_mg_l_h(self.do_mg_l, self.water_temp_c, ghi, self.aerator_kw, self.pond)
        self.do_mg_l = min(20.0, max(0.0, self.do_mg_l + rate * dt_h))

    # ------------------------------------------------------------------ reporting

    def state(self) -> dict[str, object]:
        """The plant state as JSON-ready values (SI units in the names)."""
        e = self.energy
        return {
            "t": self.t.isoformat(),
            "local": self.local.isoformat(),
            "soc_pct": round(self.soc_pct, 4),
            "battery_v": round(self.battery_v, 3),
            "battery_w": round(self.battery_w, 1),
            "pv_kw": round(self.pv_w / 1000, 4),
            "pv_available_kw": round(self.pv_avail_w / 1000, 4),
            "load_kw": round(self.load_w / 1000, 4),
            "loads_kw": {k: round(v / 1000, 4) for k, v in self.load_w_by_name.items()},
            "loads_kwh": {k: round(v, 6) for k, v in self.load_kwh_by_name.items()},
            "demand_kw": round(self.demand_w / 1000, 4),
            "load_bank_kw": self.load_bank_kw,
            "charge_stage": self.stage.name.lower(),
            "inverter": self.inverter.name.lower(),
            "inverter_tripped": self.inverter is InverterState.FAULT,
            "wind_kw": round(self.wind_w / 1000, 4),
            "wind_available_kw": round(self.wind_avail_w / 1000, 4),
            "generator": self.gen.name.lower(),
            "generator_kw": round(self.gen_w / 1000, 4),
            "fuel_l": round(self.fuel_l, 3),
            "generators": {u.spec.name: {"state": u.state.name.lower(),
                                         "kw": round(u.w / 1000, 4),
                                         "fuel_l": round(u.fuel_l, 3)} for u in self.gens},
            "relays": self.relays,
            "contacts": self.contacts,
            "aerator_kw": round(self.aerator_kw, 3),
            "do_mg_l": round(self.do_mg_l, 4),
            "water_temp_c": round(self.water_temp_c, 3),
            "load_lvd": {k: c.lvd for k, c in self.controllers.items()},
            "energy_kwh": {k: round(v, 6) for k, v in vars(e).items()},
            "stored_kwh": round(self.soc_kwh, 6),
            "water": self.water.state() if self.water is not None else None,
        }
