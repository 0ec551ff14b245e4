"""The dispatch: what the site does each time step, written once as a numba kernel.

Rules per step (the same ``[control]`` thresholds as the on-site controller):

1. **Shedding** (hysteresis on the SOC at the start of the step): below ``shed_soc_pct`` every
   non-critical load is shed; it reconnects at ``reconnect_soc_pct``. Loads are served in
   priority order (critical first, then ``priority`` 1, 2, …) whenever supply is short.
2. **Generators** (start and stop SOC, ``quiet_hours`` thresholds inside their window, a
   minimum run time): ``load_following`` covers the net load and charges the battery only with
   what its minimum load forces out; ``cycle_charging`` runs at full power and charges the
   battery with the rest. Without a battery the set runs whenever the renewables fall short.
   Several units run in order: the first unit in service (the lead) follows these rules; each
   further unit starts when the load the set must carry (the connected loads less the
   renewables that reach them) exceeds ``control.gen_next_start_pct`` of the running units
   ahead of it, and stops when it falls below ``gen_next_stop_pct`` of them, after its own
   minimum run (the controller's rule and thresholds). Running units share the load in
   proportion to their ratings, so the set burns one unit's fuel curve scaled by the running kW.
3. **Order of supply**: renewables (PV and wind) → loads, generators → loads, battery → loads
   (critical loads down to ``min_soc_pct``, the others down to ``shed_soc_pct``), then the
   renewables' surplus → deferrable pumps (first when the SOC is at or above
   ``reconnect_soc_pct``) and the battery, generator surplus → battery, and the rest of the
   renewables is curtailed (dumped). On each bus PV and wind are used together; the wind's
   share of what is curtailed is pro rata to its share of that bus's renewables.
4. **Deferrable pumps** deliver a daily energy within their window: they take PV surplus, and
   run at the power they still need when the window is about to close. What is left when the
   window closes is unmet.
5. **Topology**: DC coupling puts PV (after its MPPT) on the battery bus, so PV to the loads
   goes through the inverter; AC coupling puts PV on the AC bus, so PV to the battery goes
   through the inverter. Wind has its own coupling (``wind_dc_coupled``): a DC-coupled turbine
   sits on the battery bus behind its own controller like DC PV, an AC-coupled one feeds the AC
   bus through its own inverter like AC PV. The loads take the AC bus's renewables first, then
   the battery bus's; the battery takes the battery bus's surplus first, then the AC bus's
   through the charger. The inverter's kW limit bounds its output (and its charger input).
6. **Battery wear**: the SOC at the end of each step is rainflow-counted as it goes (ASTM
   E1049, as the ``rainflow`` package counts it; half cycles for what is left at the end), and
   each cycle of depth ``DoD`` uses ``(DoD / DoD_ref)^k / N_ref`` of the battery's cycle life
   (Miner's rule on the chemistry's curve ``N(DoD) = N_ref · (DoD_ref / DoD)^k``), the cycle
   counting of HOMER's and SAM's battery lifetime models. One model of battery life, for the
   simulation, the optimiser's costs and the report.

7. **Interruptions** (IEEE 1366, :mod:`ieee1366`): each load that is not flexible is
   interrupted in every step in which its demand exceeds what it is served (a pump: when its
   window closes owing energy) and in every step of a planned cut; contiguous steps make one
   interruption of its ``customers``, added with :func:`ieee1366.add_interruption` (the very
   function the store uses) as it ends. A flexible load's shortfall is curtailment, booked
   apart. Interruptions that start during a
   planned cut are planned; those that start while a component is failed are also added to the
   forced-outage accumulator.
8. **Outages**: the inputs say, step by step, whether the inverter, the battery and the PV
   converter work (forced outages sampled by :mod:`sizing.outages`) and whether a planned cut
   is on (the loads are then not supplied; PV may still charge the battery). Without the
   inverter neither the battery nor DC-coupled PV or wind reaches the loads, and AC-coupled PV
   and wind have no grid to follow; the generators then run on the shortfall (staff switch the
   loads to them). Each generator unit fails to start, or fails while running, with the
   configured probabilities (its own uniform draw per step from the inputs), and is then out
   for ``repair_steps``; the next unit in service takes the lead. The turbines' own downtime is
   in their series (their availability), not sampled here.

9. **The water pump and its tank** (one at most, its own slot; ``[tank]`` and ``[control]``
   ``pump_start_surplus_w``, ``tank_fill_before_night_h`` and ``night_start``, as the
   controller's ``pumping`` strategy): the field draws its step's water from the tank; what
   the tank lacks is unmet water, an interruption of the pump load's customers unless it is
   flexible (a planned cut does not stop the field drawing; it stops the pump). The pump runs
   on the renewables' surplus once it reaches ``pump_start_surplus_w``, in the deferrable
   pumps' place (before the battery when the SOC is at or above ``reconnect_soc_pct`` or
   there is no battery, else after it), at the flow its power → flow table gives for that
   power (a variable-speed drive follows the power from its lowest speed up; a fixed-speed
   pump runs only at its rated power). It stops at ``max_level_pct`` (no restart
   hysteresis in the model). In the ``tank_fill_before_night_h`` before ``night_start`` a
   tank below ``min_level_pct`` also draws, up to that reserve, on the running generators'
   spare power and the battery (down to the shed floor), before the battery charges; it
   starts no generator. A pump that would overfill the tank in a step runs at the flow that
   fills it (below its lowest point: that point, part of the step). Per step ``tank_end =
   tank_start + pumped - delivered``, and 0 ≤ tank ≤ ``max_level_pct`` of the volume (a
   tank that starts above its high level only falls). The pump's power is load, served
   (its electric unmet is 0).

Energy balance per step [kWh]: ``pv + wind + generator + battery_discharge + unmet +
load_curtailed = load + battery_charge + curtailed + losses``, where battery energies are SOC
changes, ``curtailed`` is PV and wind left unused, losses are inverter and battery
conversion losses, and ``load`` includes the water pump's ``pump_kw``. Water balance per step
[m³]: ``pumped - delivered = Δ tank``, ``delivered + unmet = demand``.

Entry points: :func:`dispatch` (one design, full time series) and :func:`dispatch_many`
(``prange`` over designs, summary figures). Both run the same kernel :func:`_run`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from ieee1366 import ACC_KEYS, ACC_SIZE, add_interruption
from sizing.battery import BatteryParams, charge_step, max_charge_kw, max_discharge_kw

EPS_KWH = 1e-9
MIN_CYCLE_DEPTH_FRAC = 1e-6  # shallower SOC cycles do no wear [0–1]
MIN_BATTERY_KWH = 1e-6  # smaller capacities are treated as no battery [kWh]


class DispatchConfig(NamedTuple):
    """Scalars of the dispatch (all units in the names; fractions are 0–1)."""

    dt_h: float
    dc_coupled: bool
    inverter_eff: float
    min_soc_frac: float
    max_soc_frac: float
    initial_soc_frac: float
    charge_eff: float
    discharge_eff: float
    charge_c_rate: float
    """Charge power limit per kWh of capacity [kW/kWh]."""
    discharge_c_rate: float
    shed_soc_frac: float
    reconnect_soc_frac: float
    gen_start_soc_frac: float
    gen_stop_soc_frac: float
    quiet_start_soc_frac: float
    quiet_stop_soc_frac: float
    gen_min_run_steps: int
    """Minimum run of the plant, and of each further unit once started [steps]."""
    gen_min_load_frac: float
    gen_cycle_charging: bool
    fuel_l_per_kwh: float
    fuel_idle_l_per_h_per_kw: float
    """The fuel curve of every generator unit: ``idle × kW rating + fuel_l_per_kwh × max(out,
    min load)`` [L/h] (one curve per kW of rating, shared by the units)."""
    cycle_life: float
    """Cycles to end of life at ``cycle_life_dod_frac`` [-]."""
    cycle_life_dod_frac: float
    """The depth of discharge of ``cycle_life`` [0–1]."""
    cycle_life_exponent: float
    """``k`` of the cycle-life curve ``N(DoD) = cycle_life · (cycle_life_dod_frac / DoD)^k``."""
    gen_start_fail_prob: float = 0.0
    """Probability that a start attempt fails [0–1]."""
    gen_run_fail_prob: float = 0.0
    """Probability that the running generator fails within one step [0–1]."""
    repair_steps: int = 0
    """Steps a failed generator unit stays out of service."""
    gen_next_start_frac: float = 1.0
    """Several units: the next starts when the load the set must carry exceeds this fraction
    of the running units ahead of it (``control.gen_next_start_pct``) [0–1]."""
    gen_next_stop_frac: float = 1.0
    """… and a further unit stops when that load falls to this fraction of the units ahead of
    it, after its minimum run (``control.gen_next_stop_pct``) [0–1]."""
    wind_dc_coupled: bool = False
    """The turbines feed the battery bus through their own charge controller (else the AC
    bus, through their own grid-following inverter)."""
    tank_min_frac: float = 0.0
    """The water tank's reserve, filled before night from any source (``min_level_pct``)
    [0–1 of its volume]."""
    tank_max_frac: float = 1.0
    """The pump stops at this level (``max_level_pct``) [0–1 of the tank's volume]."""
    tank_initial_frac: float = 0.0
    """The tank's level at the start (``initial_level_pct``) [0–1 of its volume]."""
    pump_start_kw: float = 0.0
    """The surplus the water pump needs to start on it (``control.pump_start_surplus_w``)
    [kW]."""
    water_customers: float = 0.0
    """Customers of the water pump's load (IEEE 1366 weight of unmet water) [-]."""
    water_flexible: bool = False
    """Unmet water is no interruption (a flexible load)."""


class DispatchInputs(NamedTuple):
    """Time series shared by every design (T steps, L continuous loads, P deferrable pumps)."""

    pv_kw_per_kwp: np.ndarray
    """[T] PV power onto the system bus per kWp [kW/kWp]."""
    load_kw: np.ndarray
    """[L, T] continuous loads, rows in serving order (critical first, then priority) [kW]."""
    load_critical: np.ndarray
    """[L] bool: critical loads are served down to ``min_soc`` and never shed."""
    load_customers: np.ndarray
    """[L] customers each load supplies (IEEE 1366 weights) [-]."""
    load_flexible: np.ndarray
    """[L] bool: a shortfall is curtailment, not an interruption."""
    pump_kw: np.ndarray
    """[P] rated power of each deferrable pump [kW]."""
    pump_daily_kwh: np.ndarray
    """[P] daily energy each pump must deliver within its window [kWh]."""
    pump_steps_left: np.ndarray
    """[P, T] int: steps left in the pump's window including this one (0 outside it)."""
    pump_critical: np.ndarray
    """[P] bool."""
    pump_customers: np.ndarray
    """[P] [-]."""
    pump_flexible: np.ndarray
    """[P] bool."""
    quiet: np.ndarray
    """[T] bool: the generator's quiet hours."""
    inverter_ok: np.ndarray
    """[T] bool: the inverter works (not in a forced outage)."""
    battery_ok: np.ndarray
    """[T] bool: the battery (and its BMS) works."""
    pv_ok: np.ndarray
    """[T] bool: the PV converter (charge controller or PV inverter) works."""
    planned_cut: np.ndarray
    """[T] bool: a planned cut of the loads' supply."""
    gen_draw: np.ndarray
    """[G, T] uniform draws in [0, 1) that decide each generator unit's failures ([T] for a
    single unit)."""
    wind_kw_per_turbine: np.ndarray = np.zeros(0)
    """[T] the wind series' power per turbine onto its bus [kW]; empty: no wind."""
    water_demand_m3: np.ndarray = np.zeros(0)
    """[T] the field's draw from the tank in each step [m³]; empty: no water pump."""
    water_fill: np.ndarray = np.zeros(0, dtype=np.bool_)
    """[T] bool: the steps in which a tank below its reserve is filled from any source (the
    ``control.tank_fill_before_night_h`` before ``night_start``)."""
    water_pump_kw: np.ndarray = np.zeros((0, 0))
    """[M, K] each water-pump candidate's electric power at its K operating points, rising
    (:class:`sizing.hydraulics.PowerFlowTable`; shorter tables repeat their last row, a pump
    that cannot lift is a row of zeros) [kW]."""
    water_pump_m3_h: np.ndarray = np.zeros((0, 0))
    """[M, K] the flow at those points [m³/h]."""
    water_pump_hydraulic_kw: np.ndarray = np.zeros((0, 0))
    """[M, K] the hydraulic power ρ·g·Q·H at those points [kW]."""


# The summary figures of one design-year: the columns of :func:`dispatch_many`, in this order.
# ``battery_cycle_damage`` is the fraction of the battery's cycle life used [0–1].
SUMMARY_KEYS: tuple[str, ...] = (
    "pv_kwh", "load_kwh", "served_kwh", "unmet_kwh", "critical_load_kwh", "critical_unmet_kwh",
    "loss_of_load_hours", "curtailed_kwh", "battery_charge_kwh", "battery_discharge_kwh",
    "battery_throughput_kwh", "battery_equivalent_cycles", "generator_kwh", "generator_hours",
    "generator_starts", "generator_fuel_l", "losses_kwh", "shed_hours", "final_soc_kwh",
    "battery_cycle_damage", "load_curtailed_kwh", "load_curtailed_hours", "outage_hours",
    "generator_failures", "wind_kwh", "wind_curtailed_kwh",
    *ACC_KEYS, *(f"forced_{k}" for k in ACC_KEYS),
    "water_demand_m3", "water_delivered_m3", "water_unmet_m3", "water_pumped_m3", "pump_kwh",
    "pump_hours", "hydraulic_kwh", "tank_min_m3",
)
"""``load_curtailed_*``: flexible loads' shortfalls (load-hours); ``outage_hours``: hours with a
component failed; ``generator_hours`` and ``generator_starts`` are summed over the units;
``wind_kwh``: the turbines' output as it reaches their bus (``curtailed_kwh`` includes
``wind_curtailed_kwh``); then the interruptions' accumulator (:data:`ieee1366.ACC_KEYS`, all
of them) and the same for the interruptions that started while a component was failed;
then the water pump's: the field's demand, what the tank delivered and what it could not
[m³], the water pumped [m³], the pump's electric energy [kWh] (part of ``load_kwh`` and
``served_kwh``), its running hours [h], the hydraulic energy ρ·g·H·V it gave the water [kWh]
and the tank's lowest level [m³] (all 0 without a water pump)."""


class Step(NamedTuple):
    """What one step did: the rows of :func:`dispatch`'s series, in this order.

    Each is [kW] averaged over the step, except ``soc_kwh`` (end of step), the 0/1 flags and
    ``generator_on``. A
    pump's energy still owed when its window closes is booked in that step, as load and as
    unmet.
    """

    pv_kw: float
    wind_kw: float
    load_kw: float
    served_kw: float
    unmet_kw: float
    critical_unmet_kw: float
    load_curtailed_kw: float
    generator_kw: float
    battery_kw: float
    soc_kwh: float
    curtailed_kw: float
    """Renewables left unused, PV and wind [kW]."""
    wind_curtailed_kw: float
    """The wind's share of ``curtailed_kw``, pro rata on each bus [kW]."""
    losses_kw: float
    shed: float
    generator_on: float
    """The number of generator units running [-]."""
    interrupted: float
    pump_kw: float
    """The water pump's electric power (part of ``load_kw`` and ``served_kw``) [kW]."""
    tank_m3: float
    """The water in the tank at the end of the step [m³]."""
    water_pumped_m3_h: float
    water_delivered_m3_h: float


SERIES_KEYS: tuple[str, ...] = Step._fields
N_SUMMARY = len(SUMMARY_KEYS)
N_SERIES = len(SERIES_KEYS)
_S = {name: i for i, name in enumerate(SUMMARY_KEYS)}
# Summary columns as compile-time constants of the kernel, derived from the key list.
_S_PV_KWH = _S["pv_kwh"]
_S_WIND_KWH = _S["wind_kwh"]
_S_WIND_CURTAILED_KWH = _S["wind_curtailed_kwh"]
_S_LOAD_KWH = _S["load_kwh"]
_S_SERVED_KWH = _S["served_kwh"]
_S_UNMET_KWH = _S["unmet_kwh"]
_S_CRITICAL_LOAD_KWH = _S["critical_load_kwh"]
_S_CRITICAL_UNMET_KWH = _S["critical_unmet_kwh"]
_S_LOSS_OF_LOAD_HOURS = _S["loss_of_load_hours"]
_S_CURTAILED_KWH = _S["curtailed_kwh"]
_S_BATTERY_CHARGE_KWH = _S["battery_charge_kwh"]
_S_BATTERY_DISCHARGE_KWH = _S["battery_discharge_kwh"]
_S_BATTERY_THROUGHPUT_KWH = _S["battery_throughput_kwh"]
_S_BATTERY_EQUIVALENT_CYCLES = _S["battery_equivalent_cycles"]
_S_GENERATOR_KWH = _S["generator_kwh"]
_S_GENERATOR_HOURS = _S["generator_hours"]
_S_GENERATOR_STARTS = _S["generator_starts"]
_S_GENERATOR_FUEL_L = _S["generator_fuel_l"]
_S_LOSSES_KWH = _S["losses_kwh"]
_S_LOAD_CURTAILED_KWH = _S["load_curtailed_kwh"]
_S_LOAD_CURTAILED_HOURS = _S["load_curtailed_hours"]
_S_OUTAGE_HOURS = _S["outage_hours"]
_S_GENERATOR_FAILURES = _S["generator_failures"]
_S_ACC = _S[ACC_KEYS[0]]
_S_FORCED_ACC = _S["forced_" + ACC_KEYS[0]]
assert _S_FORCED_ACC == _S_ACC + ACC_SIZE
_add_interruption = njit(cache=True, inline="always")(add_interruption)
_S_SHED_HOURS = _S["shed_hours"]
_S_FINAL_SOC_KWH = _S["final_soc_kwh"]
_S_BATTERY_CYCLE_DAMAGE = _S["battery_cycle_damage"]
_S_WATER_DEMAND_M3 = _S["water_demand_m3"]
_S_WATER_DELIVERED_M3 = _S["water_delivered_m3"]
_S_WATER_UNMET_M3 = _S["water_unmet_m3"]
_S_WATER_PUMPED_M3 = _S["water_pumped_m3"]
_S_PUMP_KWH = _S["pump_kwh"]
_S_PUMP_HOURS = _S["pump_hours"]
_S_HYDRAULIC_KWH = _S["hydraulic_kwh"]
_S_TANK_MIN_M3 = _S["tank_min_m3"]
EPS_M3 = 1e-9


class _Served(NamedTuple):
    """The loads' phase of a step (see :func:`_serve_loads`)."""

    ac_used_kw: float
    """AC-bus renewables used by the loads [kW]."""
    dc_ac_used_kw: float
    """Battery-bus renewables used by the loads, at the inverter's AC output [kW]."""
    gen_left_kw: float
    dis_dc_kw: float
    inv_left_kw: float


# The phases of one step. Each is inlined into the kernel (``inline="always"``), so splitting
# costs nothing; ``load_slots``/``pump_slots`` carry L and P as compile-time constants (see
# :func:`_slots`).


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _shed_state(soc_frac: float, shed: bool, cfg: DispatchConfig) -> bool:
    """Shedding hysteresis on the SOC at the start of the step."""
    if soc_frac < cfg.shed_soc_frac - 1e-9:
        return True
    if soc_frac >= cfg.reconnect_soc_frac:
        return False
    return shed


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _pump_needs(  # noqa: PLR0917 (numba kernels take positional arguments)
        steps_left: np.ndarray, pump_kw: np.ndarray, pump_daily_kwh: np.ndarray, t: int,
        dt: float, shed: bool, cut: bool, need: np.ndarray, pump_rem: np.ndarray,
        critical: np.ndarray, load_slots: tuple[int, ...], pump_slots: tuple[int, ...]) -> None:
    """What each pump must run now for its daily energy to fit in what is left of its window
    (``need`` [kW]); a window that opens resets the energy still owed (``pump_rem`` [kWh])."""
    n_loads = len(load_slots)
    for j in range(len(pump_slots)):
        i = n_loads + j
        left = steps_left[j, t]
        need[i] = 0.0
        if left > 0:
            if t == 0 or steps_left[j, t - 1] <= 1:
                pump_rem[j] = pump_daily_kwh[j]
            must_kwh = pump_rem[j] - (left - 1) * pump_kw[j] * dt
            if must_kwh > EPS_KWH and not cut and not (shed and not critical[i]):
                need[i] = min(must_kwh * (1.0 / dt), pump_kw[j])


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _generator_state(  # noqa: PLR0917
        load_kw: np.ndarray, quiet_steps: np.ndarray, cfg: DispatchConfig, t: int,
        soc_frac: float, pv_to_loads: float, on_battery: bool, gen_on: bool, gen_steps: int,
        need: np.ndarray,
        load_slots: tuple[int, ...], pump_slots: tuple[int, ...]) -> tuple[bool, int, bool]:
    """Start or stop the generator: on the SOC thresholds (the quiet-hours pair inside their
    window) when the battery serves the loads, else on their shortfall (``pv_to_loads`` [kW]
    is the PV that can reach them); it runs at least its minimum time.
    Returns ``(gen_on, gen_steps, started)``."""
    n_loads = len(load_slots)
    if on_battery:
        quiet = quiet_steps[t]
        start = cfg.quiet_start_soc_frac if quiet else cfg.gen_start_soc_frac
        stop = cfg.quiet_stop_soc_frac if quiet else cfg.gen_stop_soc_frac
        if not gen_on and soc_frac <= start + 1e-9:  # the shed test's tolerance
            return True, 0, True
        if gen_on and gen_steps >= cfg.gen_min_run_steps and soc_frac >= stop:
            return False, gen_steps, False
        return gen_on, gen_steps, False
    short = -pv_to_loads
    for k in range(n_loads + len(pump_slots)):
        short += load_kw[k, t] if k < n_loads else need[k]
    if short > 0.0 and not gen_on:
        return True, 0, True
    if short <= 0.0 and gen_on and gen_steps >= cfg.gen_min_run_steps:
        return False, gen_steps, False
    return gen_on, gen_steps, False


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _set_kw(  # noqa: PLR0917
        load_kw: np.ndarray, t: int, re_to_loads: float, shed: bool, cut: bool,
        need: np.ndarray, critical: np.ndarray, load_slots: tuple[int, ...],
        pump_slots: tuple[int, ...]) -> float:
    """The load the generator set must carry: what the connected loads (not shed, no planned
    cut) and the pumps need, less the renewables that reach them (``re_to_loads``) [kW]."""
    n_loads = len(load_slots)
    short = -re_to_loads
    for k in range(n_loads + len(pump_slots)):
        if k >= n_loads:
            short += need[k]
        elif not (cut or (shed and not critical[k])):
            short += load_kw[k, t]
    return short


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _generator_units(  # noqa: PLR0917
        load_kw: np.ndarray, quiet: np.ndarray, gen_draw: np.ndarray, cfg: DispatchConfig,
        t: int, unit_kw: np.ndarray, soc_frac: float, re_to_loads: float, on_battery: bool,
        shed: bool, cut: bool, plant_on: bool, plant_steps: int, on: np.ndarray,
        steps: np.ndarray, out_until: np.ndarray, unit_figures: np.ndarray, need: np.ndarray,
        critical: np.ndarray, summary: np.ndarray, load_slots: tuple[int, ...],
        pump_slots: tuple[int, ...]) -> tuple[bool, int, float, bool]:
    """Start and stop the generator units in order (``unit_kw`` [G] kW each).

    The plant runs on :func:`_generator_state`'s rules, which the first unit in service
    (the lead) follows; each further unit starts when the load the set must carry
    (:func:`_set_kw`) exceeds ``gen_next_start_frac`` of the running units ahead of it, and
    stops when it falls to ``gen_next_stop_frac`` of them, after its minimum run (the
    controller's rule, ``control.gen_next_start_pct`` and ``gen_next_stop_pct``). A unit
    fails to start, or fails while running, on its own draw (``gen_draw[j, t]``) and is then out for
    ``repair_steps``; the plant stops when no
    other unit is in service. ``on``, ``steps``, ``out_until`` and ``unit_figures``: the units'
    state (:class:`_Scratch`). Returns ``(plant_on, plant_steps, running_kw, failed)``.
    """
    n_units = unit_kw.size
    lead = -1
    for j in range(n_units):
        if unit_kw[j] > 0.0 and t >= out_until[j]:
            lead = j
            break
    if lead < 0:
        for j in range(n_units):
            on[j] = False
        return False, plant_steps, 0.0, False
    plant_on, plant_steps, _ = _generator_state(
        load_kw, quiet, cfg, t, soc_frac, re_to_loads, on_battery, plant_on, plant_steps,
        need, load_slots, pump_slots)
    set_kw = 0.0
    if n_units > 1 and plant_on:
        set_kw = _set_kw(load_kw, t, re_to_loads, shed, cut, need, critical, load_slots,
                         pump_slots)
    running_kw = 0.0
    in_service = 0  # units up that did not fail this step
    failed = False
    for j in range(n_units):
        was = on[j]
        if unit_kw[j] <= 0.0 or t < out_until[j]:
            on[j] = False
            continue
        if j == lead:
            now = plant_on
        else:
            carry = cfg.gen_next_stop_frac if was else cfg.gen_next_start_frac
            now = (plant_on and set_kw > carry * running_kw) or (
                was and steps[j] < cfg.gen_min_run_steps)
        started = now and not was
        if started:
            steps[j] = 0
        if now:
            fail_prob = cfg.gen_start_fail_prob if started else cfg.gen_run_fail_prob
            if gen_draw[j, t] < fail_prob:
                now = False
                out_until[j] = t + cfg.repair_steps
                failed = True
                summary[_S_GENERATOR_FAILURES] += 1.0
                on[j] = False
                continue
            if started:
                summary[_S_GENERATOR_STARTS] += 1.0
                unit_figures[j, _U_STARTS] += 1.0
            running_kw += unit_kw[j]
        in_service += 1
        on[j] = now
    if running_kw == 0.0 and in_service == 0:
        plant_on = False
    return plant_on, plant_steps, running_kw, failed


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _serve_loads(  # noqa: PLR0917
        load_kw: np.ndarray, cfg: DispatchConfig, bp: BatteryParams, t: int, re_ac: float,
        re_dc: float, soc: float, shed: bool, cut: bool, shed_floor: float, has_batt: bool,
        gen_kw: float, inverter_kw: float, need: np.ndarray, served: np.ndarray,
        demand: np.ndarray, critical: np.ndarray, load_slots: tuple[int, ...],
        pump_slots: tuple[int, ...]) -> _Served:
    """Each load in serving order takes the renewables on the AC bus (``re_ac`` [kW]: AC-coupled
    PV and wind), then those on the battery bus through the inverter (``re_dc`` [kW]), then
    the generators (``gen_kw`` running), then the battery (its floor: min SOC if critical, else
    the shed SOC). Renewables are used up before the generators, and the generators before the
    battery, exactly as if each source served all loads. Writes ``served`` [kW] and, for the
    continuous loads, ``demand`` [kW]; during a planned cut (``cut``) no load is supplied."""
    n_loads = len(load_slots)
    dt = cfg.dt_h
    eta = cfg.inverter_eff
    inv_eta = 1.0 / eta
    inv_left = inverter_kw  # inverter output budget this step [kW]
    dc_ac = re_dc * eta  # the battery bus's renewables as they reach the loads [kW]
    ac_used = 0.0
    dc_ac_used = 0.0
    gen_left = gen_kw
    dis_dc = 0.0
    for k in range(n_loads + len(pump_slots)):
        if k < n_loads:
            d = load_kw[k, t]
            demand[k] = d
            r = 0.0 if (cut or (shed and not critical[k])) else d
        else:
            r = need[k]
        got = 0.0
        if r > 0.0:
            # the AC bus's renewables first, then the battery bus's through the inverter
            ac_take = min(r, re_ac - ac_used)
            take = min(r, ac_take + min(dc_ac - dc_ac_used, inv_left))
            ac_used += ac_take
            dc_ac_used += take - ac_take
            inv_left -= take - ac_take
            r -= take
            got += take
            if r > 0.0 and gen_left > 0.0:
                take = min(r, gen_left)
                gen_left -= take
                r -= take
                got += take
            if r > 0.0 and has_batt and inv_left > 0.0:
                floor = bp.min_soc_kwh if critical[k] else shed_floor
                avail_dc = max_discharge_kw(soc, floor, dt, bp) - dis_dc
                if avail_dc > 0.0:
                    take = min(r, avail_dc * eta, inv_left)
                    r -= take
                    got += take
                    inv_left -= take
                    dis_dc += take * inv_eta
        served[k] = got
    return _Served(ac_used, dc_ac_used, gen_left, dis_dc, inv_left)


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _pumps_on_surplus(  # noqa: PLR0917
        steps_left: np.ndarray, pump_kw: np.ndarray, cfg: DispatchConfig, t: int,
        served: np.ndarray, pump_rem: np.ndarray, critical: np.ndarray, shed: bool, cut: bool,
        ac_left: float, dc_left: float, inv_left: float, loss: float,
        load_slots: tuple[int, ...],
        pump_slots: tuple[int, ...]) -> tuple[float, float, float, float]:
    """Run the pumps in their window on the renewables' surplus: ``ac_left`` [kW] on the AC
    bus first, then ``dc_left`` [kW] on the battery bus through the inverter.

    Returns the AC and battery-bus surplus left, the inverter budget left [kW] and the losses
    so far [kWh].
    """
    n_loads = len(load_slots)
    eta = cfg.inverter_eff
    for j in range(len(pump_slots)):
        i = n_loads + j
        if (steps_left[j, t] == 0 or (ac_left <= 0.0 and dc_left <= 0.0) or cut
                or (shed and not critical[i])):
            continue
        want = min(pump_kw[j] - served[i], max(pump_rem[j] / cfg.dt_h - served[i], 0.0))
        if want <= 0.0:
            continue
        if ac_left > 0.0:
            ac = min(want, ac_left)
            ac_left -= ac
            want -= ac
            served[i] += ac
        if dc_left > 0.0 and want > 0.0:
            ac = min(want, dc_left * eta, inv_left)
            inv_left -= ac
            dc_left -= ac / eta
            loss += (ac / eta - ac) * cfg.dt_h
            served[i] += ac
    return ac_left, dc_left, inv_left, loss


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _flow_at_power(e: np.ndarray, q: np.ndarray, h: np.ndarray, m: int,
                   avail_kw: float) -> tuple[float, float, float]:
    """:func:`sizing.hydraulics.flow_at_power` on row ``m`` of the water pump's tables (``e``
    electric [kW], ``q`` flow [m³/h], ``h`` hydraulic [kW], each [M, K]) with ``avail_kw``
    [kW] available: nothing below the first point, the last point above the last, linear in
    between. Returns the flow [m³/h], the power used [kW] and the hydraulic power [kW]."""
    last = e.shape[1] - 1
    if last < 0 or avail_kw < e[m, 0]:
        return 0.0, 0.0, 0.0
    if avail_kw >= e[m, last]:
        return q[m, last], e[m, last], h[m, last]
    k = 0
    while avail_kw >= e[m, k + 1]:
        k += 1
    f = (avail_kw - e[m, k]) / (e[m, k + 1] - e[m, k])
    return (q[m, k] + f * (q[m, k + 1] - q[m, k]), avail_kw,
            h[m, k] + f * (h[m, k + 1] - h[m, k]))


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _power_for_flow(e: np.ndarray, q: np.ndarray, h: np.ndarray, m: int,
                    flow_m3_h: float) -> tuple[float, float, float]:
    """The inverse of :func:`_flow_at_power`: the electric and hydraulic power [kW] that pump
    ``flow_m3_h`` [m³/h] on average over a step (at most the last point's flow), and the share
    of the step the pump runs: along the table between its first and last flows; below the
    first, the first point for that share of the step (a fixed-speed pump runs part time)."""
    last = e.shape[1] - 1
    if flow_m3_h >= q[m, last]:
        return e[m, last], h[m, last], 1.0
    if flow_m3_h >= q[m, 0]:
        k = 0
        while flow_m3_h >= q[m, k + 1]:
            k += 1
        f = (flow_m3_h - q[m, k]) / (q[m, k + 1] - q[m, k])
        return (e[m, k] + f * (e[m, k + 1] - e[m, k]), h[m, k] + f * (h[m, k + 1] - h[m, k]),
                1.0)
    share = flow_m3_h / q[m, 0]
    return e[m, 0] * share, h[m, 0] * share, share


class _Pumped(NamedTuple):
    """The water pump's step (see :func:`_water_pump`): the power budgets left, and what it
    drew [kW, the step's mean], pumped [m³], gave the water [kW, the step's mean] and ran
    [h]."""

    ac_left: float
    dc_left: float
    inv_left: float
    gen_out: float
    dis_dc: float
    loss: float
    kw: float
    m3: float
    hydraulic_kw: float
    hours: float


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _water_pump(  # noqa: PLR0917
        wp_kw: np.ndarray, wp_m3_h: np.ndarray, wp_hyd_kw: np.ndarray, m: int,
        cfg: DispatchConfig, room_m3: float, fill_m3: float, ac_left: float, dc_left: float,
        inv_left: float, gen_spare: float, batt_dc: float, gen_out: float, dis_dc: float,
        loss: float) -> _Pumped:
    """Run the water pump (tables row ``m``) for one step.

    On the renewables' surplus (``ac_left`` on the AC bus, ``dc_left`` on the battery bus
    through the inverter's budget ``inv_left`` [kW]) once it reaches ``cfg.pump_start_kw``,
    pumping at most ``room_m3`` [m³] (the tank's room to its high level, plus what the field
    draws meanwhile). When ``fill_m3`` [m³] (the water to the reserve) is more than the
    surplus pumps, it also takes the running generators' spare power ``gen_spare`` and the
    battery's ``batt_dc`` [kW at its terminals, down to the shed floor], pumping at most
    ``fill_m3``. The power is drawn in that order."""
    dt = cfg.dt_h
    eta = cfg.inverter_eff
    flow = 0.0
    kw = 0.0
    hyd = 0.0
    surplus = ac_left + min(dc_left * eta, inv_left)
    if room_m3 > EPS_M3 and surplus >= cfg.pump_start_kw:
        flow, kw, hyd = _flow_at_power(wp_kw, wp_m3_h, wp_hyd_kw, m, surplus)
    limit = room_m3
    if fill_m3 > flow * dt + EPS_M3:
        every = ac_left + gen_spare + min((dc_left + batt_dc) * eta, inv_left)
        f2, kw2, hyd2 = _flow_at_power(wp_kw, wp_m3_h, wp_hyd_kw, m, every)
        if f2 > flow:
            flow, kw, hyd = f2, kw2, hyd2
            limit = fill_m3
    if flow <= 0.0:
        return _Pumped(ac_left, dc_left, inv_left, gen_out, dis_dc, loss, 0.0, 0.0, 0.0, 0.0)
    share = 1.0
    if flow * dt > limit:
        flow = limit * (1.0 / dt)
        kw, hyd, share = _power_for_flow(wp_kw, wp_m3_h, wp_hyd_kw, m, flow)
    need = kw
    take = min(need, ac_left)
    ac_left -= take
    need -= take
    if need > 0.0 and dc_left > 0.0:
        ac = min(need, dc_left * eta, inv_left)
        inv_left -= ac
        dc_left -= ac / eta
        loss += (ac / eta - ac) * dt
        need -= ac
    if need > 0.0 and gen_spare > 0.0:
        take = min(need, gen_spare)
        gen_out += take
        need -= take
    if need > 0.0 and batt_dc > 0.0:
        ac = min(need, batt_dc * eta, inv_left)
        inv_left -= ac
        dis_dc += ac / eta
        loss += (ac / eta - ac) * dt
        need -= ac
    if need > 0.0:  # rounding: book only what was drawn
        kw -= need
    return _Pumped(ac_left, dc_left, inv_left, gen_out, dis_dc, loss, kw, flow * dt, hyd,
                   share * dt)


class _Surplus(NamedTuple):
    """The surplus phase of a step (see :func:`_use_surplus`)."""

    ac_left: float
    """AC-bus renewables left to curtail [kW]."""
    dc_left: float
    """Battery-bus renewables left to curtail [kW]."""
    chg_dc: float
    """Battery charge at its terminals [kW]."""
    gen_out: float
    """Generator output [kW]."""
    dis_dc: float
    """Battery discharge at its terminals, the loads' and the water pump's [kW]."""
    loss: float
    """Losses so far [kWh]."""
    water: _Pumped


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _use_surplus(  # noqa: PLR0917
        steps_left: np.ndarray, pump_kw: np.ndarray, cfg: DispatchConfig, bp: BatteryParams,
        t: int, soc: float, soc_frac: float, shed: bool, cut: bool, has_batt: bool,
        gen_on: bool, generator_kw: float, gen_out: float, ac_left: float, dc_left: float,
        inv_left: float, dis_dc: float, loss: float,
        served: np.ndarray, pump_rem: np.ndarray, critical: np.ndarray,
        load_slots: tuple[int, ...], pump_slots: tuple[int, ...], has_water: bool,
        wp: tuple[np.ndarray, np.ndarray, np.ndarray], m: int,
        water_in: tuple[float, float, float]) -> _Surplus:
    """The surplus: renewables to the pumps (first when the SOC is at or above
    ``reconnect_soc``), to the water pump (first also without a battery, and when it fills
    the tank's reserve: :func:`_water_pump`, its tables ``wp`` (electric kW, m³/h,
    hydraulic kW) at row ``m``; ``water_in``: its room and the water to the reserve [m³], and
    the shed floor [kWh]) and the battery (the battery bus's directly, the AC bus's through
    the inverter's charger), the running generators' spare power (``generator_kw`` running;
    all of it when cycle charging, else what their minimum load forces out) to the battery.
    Returns
    :class:`_Surplus`."""
    dt = cfg.dt_h
    eta = cfg.inverter_eff
    inv_eta = 1.0 / eta
    n_pumps = len(pump_slots)
    wp_kw, wp_m3_h, wp_hyd_kw = wp
    room_m3, fill_m3, shed_floor = water_in
    chg_dc = 0.0
    chg_room = max_charge_kw(soc, dt, bp) if (has_batt and dis_dc == 0.0) else 0.0
    pumps_first = soc_frac >= cfg.reconnect_soc_frac
    water = _Pumped(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    water_first = pumps_first or not has_batt or fill_m3 > 0.0
    if n_pumps > 0 and pumps_first:
        ac_left, dc_left, inv_left, loss = _pumps_on_surplus(
            steps_left, pump_kw, cfg, t, served, pump_rem, critical, shed, cut, ac_left,
            dc_left, inv_left, loss, load_slots, pump_slots)
    if has_water and water_first and not cut:
        gen_spare = generator_kw - gen_out if gen_on else 0.0
        batt_dc = 0.0
        if fill_m3 > 0.0 and has_batt:
            batt_dc = max(max_discharge_kw(soc, shed_floor, dt, bp) - dis_dc, 0.0)
        water = _water_pump(wp_kw, wp_m3_h, wp_hyd_kw, m, cfg, room_m3, fill_m3, ac_left,
                            dc_left, inv_left, gen_spare, batt_dc, gen_out, dis_dc, loss)
        ac_left, dc_left, inv_left = water.ac_left, water.dc_left, water.inv_left
        gen_out, loss = water.gen_out, water.loss
        if water.dis_dc > dis_dc:
            dis_dc = water.dis_dc
            chg_room = 0.0
    if chg_room > 0.0 and dc_left > 0.0:
        dc = min(dc_left, chg_room)
        dc_left -= dc
        chg_dc += dc
        chg_room -= dc
    if chg_room > 0.0 and ac_left > 0.0:
        dc = min(ac_left * eta, chg_room, inv_left * eta)
        ac_left -= dc * inv_eta
        inv_left -= dc * inv_eta
        loss += (dc * inv_eta - dc) * dt
        chg_dc += dc
        chg_room -= dc
    if n_pumps > 0 and not pumps_first:
        ac_left, dc_left, inv_left, loss = _pumps_on_surplus(
            steps_left, pump_kw, cfg, t, served, pump_rem, critical, shed, cut, ac_left,
            dc_left, inv_left, loss, load_slots, pump_slots)
    if has_water and not water_first and not cut:
        water = _water_pump(wp_kw, wp_m3_h, wp_hyd_kw, m, cfg, room_m3, 0.0, ac_left,
                            dc_left, inv_left, 0.0, 0.0, gen_out, dis_dc, loss)
        ac_left, dc_left, inv_left, loss = water.ac_left, water.dc_left, water.inv_left, \
            water.loss
    if gen_on:
        spare = generator_kw - gen_out
        if not cfg.gen_cycle_charging:
            spare = min(spare, max(generator_kw * cfg.gen_min_load_frac - gen_out, 0.0))
        if chg_room > 0.0 and spare > 0.0:
            dc = min(spare * eta, chg_room, inv_left * eta)
            gen_out += dc * inv_eta
            loss += (dc * inv_eta - dc) * dt
            chg_dc += dc
    return _Surplus(ac_left, dc_left, chg_dc, gen_out, dis_dc, loss, water)


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _close_pump_windows(  # noqa: PLR0917
        steps_left: np.ndarray, t: int, dt: float, served: np.ndarray, demand: np.ndarray,
        pump_rem: np.ndarray, load_slots: tuple[int, ...],
        pump_slots: tuple[int, ...]) -> None:
    """Book what each pump ran as its demand, plus what it still owes when its window closes
    (``demand`` [kW]; 0 outside its window)."""
    n_loads = len(load_slots)
    for j in range(len(pump_slots)):
        i = n_loads + j
        left = steps_left[j, t]
        demand[i] = served[i]
        if left == 0:
            continue
        pump_rem[j] = max(pump_rem[j] - served[i] * dt, 0.0)
        if left == 1 and pump_rem[j] > EPS_KWH:
            demand[i] += pump_rem[j] * (1.0 / dt)
            pump_rem[j] = 0.0


class _Booked(NamedTuple):
    """The loads' step, booked (see :func:`_book_loads`)."""

    demand_kwh: float
    crit_demand_kwh: float
    served_kw: float
    unmet_kw: float
    crit_unmet_kw: float
    curtailed_kw: float
    cont_unmet: bool
    interrupted: bool


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _book_loads(  # noqa: PLR0917
        summary: np.ndarray, dt: float, demand: np.ndarray, served: np.ndarray,
        critical: np.ndarray, flexible: np.ndarray, customers: np.ndarray,
        unmet_acc: np.ndarray, runs: np.ndarray, run_planned: np.ndarray,
        run_forced: np.ndarray, cut: bool, forced: bool, load_slots: tuple[int, ...],
        pump_slots: tuple[int, ...]) -> _Booked:
    """Each load's shortfall this step: unmet (and an interrupted step) unless the load is
    flexible, curtailed if it is. During a planned cut every load that is not flexible is
    interrupted, drawing or not (its supply is off). An interruption that ends is added to the
    accumulators (:func:`_end_interruption`); ``runs`` [steps] holds each load's ongoing one."""
    n_loads = len(load_slots)
    demand_kwh = 0.0
    crit_demand_kwh = 0.0
    served_kw = 0.0
    unmet_kw = 0.0
    crit_unmet_kw = 0.0
    curtailed_kw = 0.0
    cont_unmet = False
    interrupted = False
    for k in range(n_loads + len(pump_slots)):
        d = demand[k]
        demand_kwh += d * dt
        served_kw += served[k]
        if critical[k]:
            crit_demand_kwh += d * dt
        u = d - served[k]
        short = u * dt > EPS_KWH
        if short:
            unmet_acc[k] += u * dt
        if flexible[k]:
            if short:
                curtailed_kw += u
                summary[_S_LOAD_CURTAILED_HOURS] += dt
            continue
        if not (short or cut):
            if runs[k] > 0:
                _end_interruption(summary, runs, run_planned, run_forced, customers, k, dt)
            continue
        interrupted = True
        if short:
            unmet_kw += u
            if k < n_loads:
                cont_unmet = True
            if critical[k]:
                crit_unmet_kw += u
        if runs[k] == 0:
            run_planned[k] = cut
            run_forced[k] = forced
        runs[k] += 1
    return _Booked(demand_kwh, crit_demand_kwh, served_kw, unmet_kw, crit_unmet_kw,
                   curtailed_kw, cont_unmet, interrupted)


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _end_interruption(  # noqa: PLR0917
        summary: np.ndarray, runs: np.ndarray, run_planned: np.ndarray, run_forced: np.ndarray,
        customers: np.ndarray, k: int, dt: float) -> None:
    """Add load ``k``'s ongoing interruption to the accumulators, and clear it."""
    minutes = runs[k] * dt * 60.0
    _add_interruption(summary, minutes, customers[k], run_planned[k], _S_ACC)
    if run_forced[k]:
        _add_interruption(summary, minutes, customers[k], run_planned[k], _S_FORCED_ACC)
    runs[k] = 0


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _account(  # noqa: PLR0917 (numba kernels take positional arguments)
        summary: np.ndarray, step: Step, dt: float, b: _Booked, gen_fuel_l: float,
        loss_kwh: float, forced: bool, pump_kwh: float) -> None:
    """Add one step to the year's figures ``summary`` [N_SUMMARY] (the battery's energies are
    added where the battery is applied, interruptions as they end; the water pump's
    ``pump_kwh`` [kWh] is load, served)."""
    summary[_S_PV_KWH] += step.pv_kw * dt
    summary[_S_WIND_KWH] += step.wind_kw * dt
    summary[_S_WIND_CURTAILED_KWH] += step.wind_curtailed_kw * dt
    summary[_S_LOAD_KWH] += b.demand_kwh + pump_kwh
    summary[_S_SERVED_KWH] += step.served_kw * dt
    summary[_S_UNMET_KWH] += step.unmet_kw * dt
    summary[_S_CRITICAL_LOAD_KWH] += b.crit_demand_kwh
    summary[_S_CRITICAL_UNMET_KWH] += step.critical_unmet_kw * dt
    summary[_S_LOAD_CURTAILED_KWH] += step.load_curtailed_kw * dt
    summary[_S_CURTAILED_KWH] += step.curtailed_kw * dt
    summary[_S_GENERATOR_KWH] += step.generator_kw * dt
    summary[_S_GENERATOR_FUEL_L] += gen_fuel_l
    summary[_S_LOSSES_KWH] += loss_kwh
    summary[_S_GENERATOR_HOURS] += step.generator_on * dt
    if b.cont_unmet:
        summary[_S_LOSS_OF_LOAD_HOURS] += dt
    if step.shed:
        summary[_S_SHED_HOURS] += dt
    if forced:
        summary[_S_OUTAGE_HOURS] += dt

@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _cycle_damage(depth_frac: float, cfg: DispatchConfig) -> float:
    """Fraction of the cycle life one full cycle of depth ``depth_frac`` [0–1] uses."""
    if depth_frac <= MIN_CYCLE_DEPTH_FRAC:
        return 0.0
    return (depth_frac / cfg.cycle_life_dod_frac) ** cfg.cycle_life_exponent / cfg.cycle_life


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _rainflow_push(  # noqa: PLR0917
        stack: np.ndarray, lo: int, hi: int, x: float, damage: float,
                   cfg: DispatchConfig) -> tuple[int, int, float]:
    """Push the reversal ``x`` onto the rainflow stack ``stack[lo:hi]`` and count the cycles it
    closes (ASTM E1049). Returns the new ``lo``, ``hi`` and damage."""
    stack[hi] = x
    hi += 1
    while hi - lo >= 3:
        x1 = stack[hi - 3]
        x2 = stack[hi - 2]
        x3 = stack[hi - 1]
        y = abs(x2 - x1)
        if abs(x3 - x2) < y:
            break
        if hi - lo == 3:  # the range holds the starting point: a half cycle
            damage += 0.5 * _cycle_damage(y, cfg)
            lo += 1
        else:  # a full cycle: drop its two points
            damage += _cycle_damage(y, cfg)
            stack[hi - 3] = x3
            hi -= 2
    return lo, hi, damage


class _Wear(NamedTuple):
    """The rainflow count so far: the stack ``[lo, hi)``, the reversal detector (values seen,
    capped at 3; the candidate reversal ``x``, the last change ``d`` and the last value) and the
    damage [0–1]."""

    lo: int
    hi: int
    seen: int
    x: float
    d: float
    last: float
    damage: float


_NO_WEAR = _Wear(0, 0, 0, 0.0, 0.0, 0.0, 0.0)


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _wear_step(stack: np.ndarray, w: _Wear, v: float, cfg: DispatchConfig) -> _Wear:
    """Feed the SOC ``v`` [0–1] at the end of a step to the rainflow count (reversals as
    ``rainflow.reversals`` finds them: the first value, each change of direction, the last)."""
    lo, hi, damage = w.lo, w.hi, w.damage
    if w.seen == 0:
        return _Wear(lo, hi, 1, v, 0.0, v, damage)
    if w.seen == 1:
        lo, hi, damage = _rainflow_push(stack, lo, hi, w.x, damage, cfg)
        return _Wear(lo, hi, 2, v, v - w.x, v, damage)
    if v == w.x:
        return _Wear(lo, hi, 3, w.x, w.d, v, damage)
    d = v - w.x
    if w.d * d < 0.0:
        lo, hi, damage = _rainflow_push(stack, lo, hi, w.x, damage, cfg)
    return _Wear(lo, hi, 3, v, d, v, damage)


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _wear_end(stack: np.ndarray, w: _Wear, cfg: DispatchConfig) -> float:
    """The damage of the whole count: the last value, then the residue as half cycles."""
    lo, hi, damage = w.lo, w.hi, w.damage
    if w.seen == 3:
        lo, hi, damage = _rainflow_push(stack, lo, hi, w.last, damage, cfg)
    return _rainflow_residue(stack, lo, hi, damage, cfg)


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _rainflow_residue(stack: np.ndarray, lo: int, hi: int, damage: float,
                      cfg: DispatchConfig) -> float:
    """Count what is left on the stack at the end as half cycles."""
    for k in range(lo, hi - 1):
        damage += 0.5 * _cycle_damage(abs(stack[k + 1] - stack[k]), cfg)
    return damage


class _Scratch(NamedTuple):
    """Working arrays of one run (T steps, L loads, P pumps), allocated by the caller; the
    interruption arrays have one more slot, the water pump's (index L + P)."""

    pump_rem: np.ndarray
    """[P] energy each pump still owes in its window [kWh]."""
    need: np.ndarray
    """[L + P] what each pump must run this step [kW] (0 for continuous loads)."""
    served: np.ndarray
    """[L + P] served power this step [kW]."""
    demand: np.ndarray
    """[L + P] demand this step [kW] (a pump: what it ran, plus what it owes at its close)."""
    critical: np.ndarray
    """[L + P] bool."""
    flexible: np.ndarray
    """[L + P] bool."""
    customers: np.ndarray
    """[L + P + 1] [-]."""
    runs: np.ndarray
    """[L + P + 1] int: steps of each load's ongoing interruption (0: none)."""
    run_planned: np.ndarray
    """[L + P + 1] bool: the ongoing interruption started in a planned cut."""
    run_forced: np.ndarray
    """[L + P + 1] bool: the ongoing interruption started while a component was failed."""
    stack: np.ndarray
    """[T + 2] the rainflow count's stack [0–1]."""
    unit_on: np.ndarray
    """[G] bool: each generator unit runs."""
    unit_steps: np.ndarray
    """[G] int: steps each unit has run since it started."""
    unit_out_until: np.ndarray
    """[G] int: each unit is out of service (failed) before this step."""
    unit_figures: np.ndarray
    """[G, 4] each unit's hours, kWh, fuel [L] and starts (columns :data:`UNIT_KEYS`)."""


UNIT_KEYS: tuple[str, ...] = ("hours", "kwh", "fuel_l", "starts")
"""The per-unit figures of :attr:`DispatchResult.generator_units`."""
_U_HOURS, _U_KWH, _U_FUEL, _U_STARTS = range(4)


@njit(cache=True, error_model="numpy", fastmath=True)
def _scratch(n_steps: int, n_loads: int, n_pumps: int, n_units: int) -> _Scratch:
    """Fresh working arrays for one run (the stack is written before it is read)."""
    n_all = n_loads + n_pumps
    return _Scratch(np.zeros(n_pumps), np.zeros(n_all), np.zeros(n_all), np.zeros(n_all),
                    np.zeros(n_all, dtype=np.bool_), np.zeros(n_all, dtype=np.bool_),
                    np.zeros(n_all + 1), np.zeros(n_all + 1, dtype=np.int64),
                    np.zeros(n_all + 1, dtype=np.bool_), np.zeros(n_all + 1, dtype=np.bool_),
                    np.empty(n_steps + 2), np.zeros(n_units, dtype=np.bool_),
                    np.zeros(n_units, dtype=np.int64), np.zeros(n_units, dtype=np.int64),
                    np.zeros((n_units, len(UNIT_KEYS))))


# Without numba's reference counting (``_nrt=False``): the kernel allocates nothing (its
# working arrays come from the caller), and every array it passes to a phase or reads from
# ``inp`` would otherwise cost an atomic reference count, shared between the threads (the
# split kernel ran at half speed with them).
@njit(cache=True, error_model="numpy", fastmath=True, _nrt=False)  # type: ignore[call-overload,untyped-decorator]
def _run(  # noqa: PLR0917 (numba kernels take positional arguments)
        inp: DispatchInputs, cfg: DispatchConfig, kwp: float, kwh: float, inverter_kw: float,
        unit_kw: np.ndarray, turbines: float, tank_m3: float, pump: int, summary: np.ndarray,
        unmet_by_load: np.ndarray, series: np.ndarray, load_series: np.ndarray,
        demand_series: np.ndarray, record: bool, work: _Scratch, load_slots: tuple[int, ...],
        pump_slots: tuple[int, ...], water_slots: tuple[int, ...]) -> None:
    """Simulate one design over the inputs (``unit_kw`` [G] the generator units' ratings
    [kW], ``turbines`` the count of the wind series' turbines, ``tank_m3`` the water tank's
    volume [m³] and ``pump`` the water pump's row in the tables); writes ``summary``
    [N_SUMMARY], ``unmet_by_load`` [L + P] [kWh], the units' figures into ``work`` and, when
    ``record``, ``series`` [N_SERIES, T], ``load_series`` and ``demand_series`` [L + P, T]
    (served and demanded kW per load). ``work``: fresh working arrays (:func:`_scratch`).

    ``load_slots`` and ``pump_slots`` (see :func:`_slots`) carry L and P in their types, so the
    kernel is compiled once per site layout with L and P as constants: the compiler unrolls the
    per-load loops (a fifth fewer instructions per step).
    """
    n_loads = len(load_slots)
    n_pumps = len(pump_slots)
    n_all = n_loads + n_pumps
    dt = cfg.dt_h
    eta = cfg.inverter_eff
    bp = BatteryParams(kwh, kwh * cfg.min_soc_frac, kwh * cfg.max_soc_frac,
                       kwh * cfg.charge_c_rate, kwh * cfg.discharge_c_rate,
                       cfg.charge_eff, cfg.discharge_eff)
    has_batt = kwh > MIN_BATTERY_KWH
    inv_kwh = 1.0 / kwh if has_batt else 0.0
    shed_floor = kwh * max(cfg.shed_soc_frac, cfg.min_soc_frac)
    has_gen = unit_kw.sum() > 0.0
    has_wind = turbines > 0.0 and inp.wind_kw_per_turbine.size > 0
    n_units = unit_kw.size
    unit_on = work.unit_on
    unit_steps = work.unit_steps
    unit_out_until = work.unit_out_until
    unit_figures = work.unit_figures

    soc = kwh * cfg.initial_soc_frac
    shed = False
    plant_on = False
    plant_steps = 0
    all_back = 0  # every generator unit is in service from this step on
    pump_rem = work.pump_rem
    need = work.need
    served = work.served
    demand = work.demand
    critical = work.critical
    flexible = work.flexible
    customers = work.customers
    runs = work.runs
    run_planned = work.run_planned
    run_forced = work.run_forced
    stack = work.stack
    for k in range(n_loads):
        critical[k] = inp.load_critical[k]
        flexible[k] = inp.load_flexible[k]
        customers[k] = inp.load_customers[k]
    for j in range(n_pumps):
        critical[n_loads + j] = inp.pump_critical[j]
        flexible[n_loads + j] = inp.pump_flexible[j]
        customers[n_loads + j] = inp.pump_customers[j]
    customers[n_all] = cfg.water_customers
    unmet_acc = unmet_by_load
    unmet_acc[:] = 0.0
    summary[:] = 0.0
    charge_kwh = 0.0  # the battery's SOC gains and losses, summed in registers [kWh]
    discharge_kwh = 0.0
    wear = _NO_WEAR

    # The series read every step, as locals: the phases index them without going through
    # ``inp`` (each access to a field of it costs a reference count).
    pv_per_kwp = inp.pv_kw_per_kwp
    load_kw = inp.load_kw
    quiet_steps = inp.quiet
    gen_draw = inp.gen_draw
    steps_left = inp.pump_steps_left
    pump_kw = inp.pump_kw
    pump_daily_kwh = inp.pump_daily_kwh
    inverter_ok = inp.inverter_ok
    battery_ok = inp.battery_ok
    pv_ok = inp.pv_ok
    planned_cut = inp.planned_cut
    wind_per_turbine = inp.wind_kw_per_turbine
    # The water pump and its tank (has_water False: none; every water figure stays 0).
    water_demand = inp.water_demand_m3
    water_fill = inp.water_fill
    wp = (inp.water_pump_kw, inp.water_pump_m3_h, inp.water_pump_hydraulic_kw)
    has_water = len(water_slots) > 0  # a compile-time constant: no water code without one
    tank = tank_m3 * cfg.tank_initial_frac if has_water else 0.0  # water in the tank [m³]
    tank_high = tank_m3 * cfg.tank_max_frac
    tank_reserve = tank_m3 * cfg.tank_min_frac
    tank_min = tank
    w_demand = 0.0
    w_delivered = 0.0
    w_pumped = 0.0
    w_kwh = 0.0
    w_hours = 0.0
    w_hyd_kwh = 0.0
    for t in range(pv_per_kwp.size):
        soc_frac = soc * inv_kwh if has_batt else 1.0
        shed = _shed_state(soc_frac, shed, cfg)
        cut = planned_cut[t]
        inv_up = inverter_ok[t]
        batt_on = has_batt and battery_ok[t]
        pv = kwp * pv_per_kwp[t] if pv_ok[t] and (inv_up or cfg.dc_coupled) else 0.0
        wind = 0.0
        if has_wind and (inv_up or cfg.wind_dc_coupled):
            wind = turbines * wind_per_turbine[t]
        re_ac = (0.0 if cfg.dc_coupled else pv) + (0.0 if cfg.wind_dc_coupled else wind)
        re_dc = (pv if cfg.dc_coupled else 0.0) + (wind if cfg.wind_dc_coupled else 0.0)
        inv_kw = inverter_kw if inv_up else 0.0
        forced = not (inv_up and battery_ok[t] and pv_ok[t] and t >= all_back)
        _pump_needs(steps_left, pump_kw, pump_daily_kwh, t, dt, shed, cut, need, pump_rem,
                    critical, load_slots, pump_slots)
        running_kw = 0.0
        if has_gen:
            re_to_loads = (re_ac + re_dc * eta) if inv_up else 0.0
            plant_on, plant_steps, running_kw, failed = _generator_units(
                load_kw, quiet_steps, gen_draw, cfg, t, unit_kw, soc_frac, re_to_loads,
                batt_on and inv_up, shed, cut, plant_on, plant_steps, unit_on, unit_steps,
                unit_out_until, unit_figures, need, critical, summary, load_slots, pump_slots)
            if failed:
                forced = True
                for j in range(n_units):
                    all_back = max(all_back, unit_out_until[j])
        gen_on = running_kw > 0.0
        s = _serve_loads(load_kw, cfg, bp, t, re_ac, re_dc, soc, shed, cut, shed_floor,
                         batt_on, running_kw, inv_kw, need, served, demand, critical,
                         load_slots, pump_slots)
        gen_out = running_kw - s.gen_left_kw if gen_on else 0.0
        loss = 0.0
        dc_used = s.dc_ac_used_kw * (1.0 / eta)
        loss += (dc_used - s.dc_ac_used_kw) * dt
        loss += s.dis_dc_kw * (1.0 - eta) * dt
        room_m3 = 0.0
        fill_m3 = 0.0
        draw_m3 = 0.0
        if has_water:
            draw_m3 = water_demand[t]
            room_m3 = tank_high - tank + draw_m3
            if water_fill[t] and tank < tank_reserve:
                fill_m3 = tank_reserve - tank + draw_m3
        u = _use_surplus(
            steps_left, pump_kw, cfg, bp, t, soc, soc_frac, shed, cut, batt_on, gen_on,
            running_kw, gen_out, re_ac - s.ac_used_kw, re_dc - dc_used, s.inv_left_kw,
            s.dis_dc_kw, loss, served, pump_rem, critical, load_slots, pump_slots, has_water,
            wp, pump, (room_m3, fill_m3, shed_floor))
        ac_left, dc_left, chg_dc, gen_out, dis_dc, loss = (u.ac_left, u.dc_left, u.chg_dc,
                                                           u.gen_out, u.dis_dc, u.loss)
        # -- the tank: the pump's water in, the field's out (at most what is there)
        pumped_m3 = u.water.m3
        delivered_m3 = 0.0
        water_short = False
        if has_water:
            delivered_m3 = min(draw_m3, tank + pumped_m3)
            tank = max(tank + pumped_m3 - delivered_m3, 0.0)
            tank_min = min(tank_min, tank)
            w_demand += draw_m3
            w_delivered += delivered_m3
            w_pumped += pumped_m3
            w_kwh += u.water.kw * dt
            w_hours += u.water.hours
            w_hyd_kwh += u.water.hydraulic_kw * dt
            water_short = draw_m3 - delivered_m3 > EPS_M3 and not cfg.water_flexible
            if water_short:
                if runs[n_all] == 0:
                    run_planned[n_all] = cut
                    run_forced[n_all] = forced
                runs[n_all] += 1
            elif runs[n_all] > 0:
                _end_interruption(summary, runs, run_planned, run_forced, customers, n_all, dt)
        # -- what is curtailed, and the wind's share of it (pro rata on each bus)
        wind_left = 0.0
        if wind > 0.0:
            wind_left = (ac_left * ((0.0 if cfg.wind_dc_coupled else wind) / re_ac)
                         if ac_left > 0.0 else 0.0) + \
                        (dc_left * ((wind if cfg.wind_dc_coupled else 0.0) / re_dc)
                         if dc_left > 0.0 else 0.0)
        pv_left = ac_left + dc_left
        # -- apply the battery
        batt_kw = 0.0
        if batt_on:
            net = chg_dc - dis_dc
            soc_new, batt_kw, batt_loss = charge_step(soc, net, dt, bp)
            loss += batt_loss
            if net > 0.0 and batt_kw < net:
                pv_left += net - batt_kw  # numerical rejection: curtail it
            if soc_new > soc:
                charge_kwh += soc_new - soc
            else:
                discharge_kwh += soc - soc_new
                summary[_S_BATTERY_THROUGHPUT_KWH] += -batt_kw * dt
            soc = soc_new
        if has_batt:  # every step's end SOC, also while the battery is out (it holds still)
            wear = _wear_step(stack, wear, soc * inv_kwh, cfg)
        _close_pump_windows(steps_left, t, dt, served, demand, pump_rem, load_slots,
                            pump_slots)
        b = _book_loads(summary, dt, demand, served, critical, flexible, customers, unmet_acc,
                        runs, run_planned, run_forced, cut, forced, load_slots, pump_slots)
        # -- accounting
        gen_fuel = 0.0
        n_on = 0.0
        if gen_on:
            # Paralleled units share the load in proportion to their ratings, so the set's
            # fuel is one unit's curve scaled by the running kW.
            gen_fuel = (running_kw * cfg.fuel_idle_l_per_h_per_kw + cfg.fuel_l_per_kwh
                        * max(gen_out, running_kw * cfg.gen_min_load_frac)) * dt
            n_on = 1.0  # one unit: the set's figures are its own (kept when recording)
            if n_units > 1 or record:
                n_on = 0.0
            for j in range(n_units if (n_units > 1 or record) else 0):
                if unit_on[j]:
                    n_on += 1.0
                    unit_steps[j] += 1
                    share = unit_kw[j] / running_kw
                    unit_figures[j, _U_HOURS] += dt
                    unit_figures[j, _U_KWH] += gen_out * share * dt
                    unit_figures[j, _U_FUEL] += gen_fuel * share
        if plant_on:
            plant_steps += 1
        pump_now_kw = u.water.kw
        step = Step(pv, wind, b.demand_kwh * (1.0 / dt) + pump_now_kw,
                    b.served_kw + pump_now_kw, b.unmet_kw, b.crit_unmet_kw, b.curtailed_kw,
                    gen_out, batt_kw, soc, pv_left, wind_left, loss * (1.0 / dt),
                    1.0 if shed else 0.0, n_on, 1.0 if (b.interrupted or water_short) else 0.0,
                    pump_now_kw, tank, pumped_m3 * (1.0 / dt), delivered_m3 * (1.0 / dt))
        _account(summary, step, dt, b, gen_fuel, loss, forced, pump_now_kw * dt)
        if record:
            for i, value in enumerate(step):
                series[i, t] = value
            for k in range(n_all):
                load_series[k, t] = served[k]
                demand_series[k, t] = demand[k]
    for k in range(n_all + 1):
        if runs[k] > 0:
            _end_interruption(summary, runs, run_planned, run_forced, customers, k, dt)
    summary[_S_FINAL_SOC_KWH] = soc
    summary[_S_WATER_DEMAND_M3] = w_demand
    summary[_S_WATER_DELIVERED_M3] = w_delivered
    summary[_S_WATER_UNMET_M3] = w_demand - w_delivered
    summary[_S_WATER_PUMPED_M3] = w_pumped
    summary[_S_PUMP_KWH] = w_kwh
    summary[_S_PUMP_HOURS] = w_hours
    summary[_S_HYDRAULIC_KWH] = w_hyd_kwh
    summary[_S_TANK_MIN_M3] = tank_min
    summary[_S_BATTERY_CHARGE_KWH] = charge_kwh
    summary[_S_BATTERY_DISCHARGE_KWH] = discharge_kwh
    summary[_S_BATTERY_CYCLE_DAMAGE] = _wear_end(stack, wear, cfg)
    if kwh > 0.0:
        summary[_S_BATTERY_EQUIVALENT_CYCLES] = summary[_S_BATTERY_THROUGHPUT_KWH] / kwh


@njit(cache=True, parallel=True, error_model="numpy", fastmath=True)
def _run_many(  # noqa: PLR0917
        inp: DispatchInputs, cfg: DispatchConfig, kwp: np.ndarray, kwh: np.ndarray,
        inverter_kw: np.ndarray, unit_kw: np.ndarray, turbines: np.ndarray,
        tank_m3: np.ndarray, pump: np.ndarray, summary: np.ndarray, unmet_by_load: np.ndarray,
        load_slots: tuple[int, ...], pump_slots: tuple[int, ...],
        water_slots: tuple[int, ...]) -> None:
    empty = np.zeros((0, 0))
    n_steps = inp.pv_kw_per_kwp.size
    for i in prange(kwp.size):
        work = _scratch(n_steps, len(load_slots), len(pump_slots), unit_kw.shape[1])
        _run(inp, cfg, kwp[i], kwh[i], inverter_kw[i], unit_kw[i], turbines[i], tank_m3[i],
             pump[i], summary[i], unmet_by_load[i], empty, empty, empty, False, work,
             load_slots, pump_slots, water_slots)


@dataclass(frozen=True)
class ManyResult:
    """Per-design summaries of :func:`dispatch_many`."""

    summary: np.ndarray
    """[n_designs, N_SUMMARY], columns named by :data:`SUMMARY_KEYS`."""
    unmet_by_load_kwh: np.ndarray
    """[n_designs, L + P] unmet energy per load (continuous loads, then pumps) [kWh]."""

    def column(self, key: str) -> np.ndarray:
        """One summary figure for every design."""
        return self.summary[:, _S[key]]


@dataclass(frozen=True)
class DispatchResult:
    """One design's run: summary figures and step-by-step series."""

    summary: dict[str, float]
    unmet_by_load_kwh: np.ndarray
    """[L + P] [kWh]."""
    series: dict[str, np.ndarray]
    """:data:`SERIES_KEYS` → [T] arrays."""
    served_by_load_kw: np.ndarray
    """[L + P, T] served power per load [kW]."""
    demand_by_load_kw: np.ndarray
    """[L + P, T] demanded power per load [kW] (a pump: what it ran, plus in the step its
    window closes what it still owed)."""
    generator_units: np.ndarray
    """[G, 4] each generator unit's hours [h], energy [kWh], fuel [L] and starts (columns
    :data:`UNIT_KEYS`)."""


def no_outages(n_steps: int, n_units: int = 1) -> dict[str, np.ndarray]:
    """The outage fields of :class:`DispatchInputs` for ``n_steps`` steps in which everything
    works and nothing is planned (``DispatchInputs(..., **no_outages(T))``), for ``n_units``
    generator units."""
    ok = np.ones(n_steps, dtype=np.bool_)
    draw = np.ones(n_steps) if n_units == 1 else np.ones((n_units, n_steps))
    return {"inverter_ok": ok, "battery_ok": ok, "pv_ok": ok,
            "planned_cut": np.zeros(n_steps, dtype=np.bool_), "gen_draw": draw}


def _slots(inp: DispatchInputs
           ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Tuples of L and P zeros, and of one zero with a water pump (else none): numba types a
    tuple by its length, so L, P and the water pump reach the kernel as compile-time
    constants, without ``literally`` (which retypes the kernel on every call); a site without
    a water pump runs a kernel without its code."""
    return ((0,) * inp.load_kw.shape[0], (0,) * inp.pump_kw.size,
            (0,) * min(inp.water_demand_m3.size, 1))


def _as_array(value: float | np.ndarray, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    return np.full(n, float(arr)) if arr.ndim == 0 else np.ascontiguousarray(arr)


def _kernel_inputs(inp: DispatchInputs, n_units: int) -> DispatchInputs:
    """``inp`` with ``gen_draw`` as [G, T] rows, one per unit (a [T] draw serves one unit).

    Raises ValueError when the draws are not one row per unit (units sharing a draw would
    fail together)."""
    draw = np.atleast_2d(np.asarray(inp.gen_draw, dtype=np.float64))
    if draw.shape[0] != n_units:
        raise ValueError(f"gen_draw has {draw.shape[0]} rows for {n_units} generator units: "
                         "give one row of draws per unit")
    n_steps = inp.pv_kw_per_kwp.size
    if inp.wind_kw_per_turbine.size not in {0, n_steps}:
        raise ValueError(f"wind_kw_per_turbine has {inp.wind_kw_per_turbine.size} steps, the "
                         f"PV {n_steps}")
    demand = np.ascontiguousarray(inp.water_demand_m3, dtype=np.float64)
    fill = np.ascontiguousarray(inp.water_fill, dtype=np.bool_)
    tables = [np.ascontiguousarray(np.atleast_2d(a), dtype=np.float64)
              for a in (inp.water_pump_kw, inp.water_pump_m3_h, inp.water_pump_hydraulic_kw)]
    if demand.size not in {0, n_steps}:
        raise ValueError(f"water_demand_m3 has {demand.size} steps, the PV {n_steps}")
    if demand.size:
        if fill.size != n_steps:
            raise ValueError(f"water_fill has {fill.size} steps, the PV {n_steps}")
        if tables[0].shape[0] == 0 or any(a.shape != tables[0].shape for a in tables):
            raise ValueError("the water pump's tables must be [M, K] each, M ≥ 1: "
                             f"{[a.shape for a in tables]}")
    return inp._replace(gen_draw=np.ascontiguousarray(draw),
                        wind_kw_per_turbine=np.ascontiguousarray(inp.wind_kw_per_turbine,
                                                                 dtype=np.float64),
                        water_demand_m3=demand, water_fill=fill, water_pump_kw=tables[0],
                        water_pump_m3_h=tables[1], water_pump_hydraulic_kw=tables[2])


def _water_design(inp: DispatchInputs, tank_m3: np.ndarray, pump: np.ndarray) -> None:
    """Raises ValueError when a design's water pump is not a row of the tables (with a
    water pump), or its tank is negative."""
    if inp.water_demand_m3.size == 0:
        return
    rows = inp.water_pump_kw.shape[0]
    if pump.size and (pump.min() < 0 or pump.max() >= rows):
        raise ValueError(f"water pump index outside the tables' {rows} rows")
    if tank_m3.size and tank_m3.min() < 0:
        raise ValueError("a tank of negative volume")


def dispatch_many(inp: DispatchInputs, cfg: DispatchConfig, kwp: np.ndarray, kwh: np.ndarray,
                  *, inverter_kw: np.ndarray | float,
                  generator_kw: np.ndarray | float = 0.0,
                  turbines: np.ndarray | float = 0.0, tank_m3: np.ndarray | float = 0.0,
                  pump: np.ndarray | int = 0) -> ManyResult:
    """Run many designs (arrays of equal length, scalars broadcast) in parallel.

    ``kwp`` [kWp], ``kwh`` [kWh], ``inverter_kw`` [kW], ``generator_kw`` [kW] (0 = none): one
    unit's rating per design ([n]), or each unit's ([n, G]); ``turbines`` [-] the count of the
    wind series' turbines; ``tank_m3`` [m³] the water tank and ``pump`` the water pump's row
    of the tables (read only with a water pump).
    """
    kwp_a = np.atleast_1d(np.asarray(kwp, dtype=np.float64))
    n = kwp_a.size
    gen = np.asarray(generator_kw, dtype=np.float64)
    units = np.ascontiguousarray(gen if gen.ndim == 2 else _as_array(gen, n)[:, None])
    summary = np.zeros((n, N_SUMMARY))
    unmet = np.zeros((n, inp.load_kw.shape[0] + inp.pump_kw.size))
    kin = _kernel_inputs(inp, units.shape[1])
    tanks = _as_array(tank_m3, n)
    pumps = np.ascontiguousarray(np.broadcast_to(np.asarray(pump, dtype=np.int64), (n,)))
    _water_design(kin, tanks, pumps)
    _run_many(kin, cfg, np.ascontiguousarray(kwp_a), _as_array(kwh, n),
              _as_array(inverter_kw, n), units, _as_array(turbines, n), tanks, pumps,
              summary, unmet, *_slots(inp))
    return ManyResult(summary, unmet)


def dispatch(inp: DispatchInputs, cfg: DispatchConfig, kwp: float, kwh: float, *,
             inverter_kw: float, generator_kw: float | np.ndarray = 0.0,
             turbines: float = 0.0, tank_m3: float = 0.0, pump: int = 0) -> DispatchResult:
    """Run one design and record every step (``generator_kw``: one unit's rating, or each
    unit's [G] [kW], dispatched in this order; ``turbines``: the count of the wind series'
    turbines; ``tank_m3`` [m³] the water tank and ``pump`` the water pump's row of the
    tables)."""
    n_steps = inp.pv_kw_per_kwp.size
    n_all = inp.load_kw.shape[0] + inp.pump_kw.size
    units = np.ascontiguousarray(np.atleast_1d(np.asarray(generator_kw, dtype=np.float64)))
    summary = np.zeros(N_SUMMARY)
    unmet = np.zeros(n_all)
    series = np.zeros((N_SERIES, n_steps))
    per_load = np.zeros((n_all, n_steps))
    demand = np.zeros((n_all, n_steps))
    loads, pumps, water = _slots(inp)
    work = _scratch(n_steps, len(loads), len(pumps), units.size)
    kin = _kernel_inputs(inp, units.size)
    _water_design(kin, np.array([float(tank_m3)]), np.array([int(pump)]))
    _run(kin, cfg, float(kwp), float(kwh), float(inverter_kw), units, float(turbines),
         float(tank_m3), int(pump), summary, unmet, series, per_load, demand, True, work,
         loads, pumps, water)
    return DispatchResult(
        summary=dict(zip(SUMMARY_KEYS, summary.tolist(), strict=True)),
        unmet_by_load_kwh=unmet,
        series={k: series[i] for i, k in enumerate(SERIES_KEYS)},
        served_by_load_kw=per_load,
        demand_by_load_kw=demand,
        generator_units=work.unit_figures.copy(),
    )
