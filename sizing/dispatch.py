"""The dispatch: what the site does each time step, written once as a numba kernel.

Rules per step (the same ``[control]`` thresholds as the on-site controller):

1. **Shedding** (hysteresis on the SOC at the start of the step): below ``shed_soc_pct`` every
   non-critical load is shed; it reconnects at ``reconnect_soc_pct``. Loads are served in
   priority order (critical first, then ``priority`` 1, 2, …) whenever supply is short.
2. **Generator** (start and stop SOC, ``quiet_hours`` thresholds inside their window, a minimum
   run time): ``load_following`` covers the net load and charges the battery only with what its
   minimum load forces out; ``cycle_charging`` runs at full power and charges the battery with
   the rest. Without a battery it runs whenever PV falls short.
3. **Order of supply**: PV → loads, generator → loads, battery → loads (critical loads down to
   ``min_soc_pct``, the others down to ``shed_soc_pct``), then PV surplus → deferrable pumps
   (first when the SOC is at or above ``reconnect_soc_pct``) and the battery, generator surplus →
   battery, and the rest of the PV is curtailed.
4. **Deferrable pumps** deliver a daily energy within their window: they take PV surplus, and
   run at the power they still need when the window is about to close. What is left when the
   window closes is unmet.
5. **Topology**: DC coupling puts PV (after its MPPT) on the battery bus, so PV to the loads
   goes through the inverter; AC coupling puts PV on the AC bus, so PV to the battery goes
   through the inverter. The inverter's kW limit bounds its output (and its charger input).

Energy balance per step [kWh]: ``pv + generator + battery_discharge + unmet = load +
battery_charge + curtailed + losses``, where battery energies are SOC changes and losses are
inverter and battery conversion losses.

Entry points: :func:`dispatch` (one design, full time series) and :func:`dispatch_many`
(``prange`` over designs, summary figures). Both run the same kernel :func:`_run`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sizing.battery import BatteryParams, charge_step, max_charge_kw, max_discharge_kw

EPS_KWH = 1e-9
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
    gen_min_load_frac: float
    gen_cycle_charging: bool
    fuel_l_per_kwh: float
    fuel_idle_l_per_h_per_kw: float


class DispatchInputs(NamedTuple):
    """Time series shared by every design (T steps, L continuous loads, P deferrable pumps)."""

    pv_kw_per_kwp: np.ndarray
    """[T] PV power onto the system bus per kWp [kW/kWp]."""
    load_kw: np.ndarray
    """[L, T] continuous loads, rows in serving order (critical first, then priority) [kW]."""
    load_critical: np.ndarray
    """[L] bool: critical loads are served down to ``min_soc`` and never shed."""
    load_counts: np.ndarray
    """[L] bool: an unserved step of this load counts as an interruption (SAIDI/SAIFI)."""
    pump_kw: np.ndarray
    """[P] rated power of each deferrable pump [kW]."""
    pump_daily_kwh: np.ndarray
    """[P] daily energy each pump must deliver within its window [kWh]."""
    pump_steps_left: np.ndarray
    """[P, T] int: steps left in the pump's window including this one (0 outside it)."""
    pump_critical: np.ndarray
    """[P] bool."""
    quiet: np.ndarray
    """[T] bool: the generator's quiet hours."""


# Summary columns of dispatch_many (index → name).
SUMMARY_KEYS = (
    "pv_kwh", "load_kwh", "served_kwh", "unmet_kwh", "critical_load_kwh", "critical_unmet_kwh",
    "loss_of_load_hours", "curtailed_kwh", "battery_charge_kwh", "battery_discharge_kwh",
    "battery_throughput_kwh", "battery_equivalent_cycles", "generator_kwh", "generator_hours",
    "generator_starts", "generator_fuel_l", "losses_kwh", "interruptions", "interruption_minutes",
    "shed_hours", "final_soc_kwh",
)
_S = {name: i for i, name in enumerate(SUMMARY_KEYS)}
_S_PV_KWH = 0
_S_LOAD_KWH = 1
_S_SERVED_KWH = 2
_S_UNMET_KWH = 3
_S_CRITICAL_LOAD_KWH = 4
_S_CRITICAL_UNMET_KWH = 5
_S_LOSS_OF_LOAD_HOURS = 6
_S_CURTAILED_KWH = 7
_S_BATTERY_CHARGE_KWH = 8
_S_BATTERY_DISCHARGE_KWH = 9
_S_BATTERY_THROUGHPUT_KWH = 10
_S_BATTERY_EQUIVALENT_CYCLES = 11
_S_GENERATOR_KWH = 12
_S_GENERATOR_HOURS = 13
_S_GENERATOR_STARTS = 14
_S_GENERATOR_FUEL_L = 15
_S_LOSSES_KWH = 16
_S_INTERRUPTIONS = 17
_S_INTERRUPTION_MINUTES = 18
_S_SHED_HOURS = 19
_S_FINAL_SOC_KWH = 20
N_SUMMARY = len(SUMMARY_KEYS)

# Time-series rows recorded by dispatch (index → name), each [kW] averaged over the step
# except soc_kwh (end of step) and the 0/1 flags. A pump's energy still owed when its window
# closes is booked in that step, as load and as unmet.
SERIES_KEYS = (
    "pv_kw", "load_kw", "served_kw", "unmet_kw", "critical_unmet_kw", "generator_kw",
    "battery_kw", "soc_kwh", "curtailed_kw", "losses_kw", "shed", "generator_on", "interrupted",
)
_R_PV_KW = 0
_R_LOAD_KW = 1
_R_SERVED_KW = 2
_R_UNMET_KW = 3
_R_CRITICAL_UNMET_KW = 4
_R_GENERATOR_KW = 5
_R_BATTERY_KW = 6
_R_SOC_KWH = 7
_R_CURTAILED_KW = 8
_R_LOSSES_KW = 9
_R_SHED = 10
_R_GENERATOR_ON = 11
_R_INTERRUPTED = 12
N_SERIES = len(SERIES_KEYS)


@njit(cache=True, inline="always", error_model="numpy", fastmath=True)
def _pumps_on_surplus(  # noqa: PLR0917 (numba kernels take positional arguments)
        inp: DispatchInputs, cfg: DispatchConfig, t: int, n_loads: int, n_pumps: int,
        served: np.ndarray, pump_rem: np.ndarray, critical: np.ndarray, shed: bool,
        pv_left: float, inv_left: float, loss: float) -> tuple[float, float, float]:
    """Run the pumps in their window on PV surplus ``pv_left`` [kW] (on the PV bus).

    Returns the PV left, the inverter budget left [kW] and the losses so far [kWh].
    """
    eta = cfg.inverter_eff
    for j in range(n_pumps):
        i = n_loads + j
        if inp.pump_steps_left[j, t] == 0 or pv_left <= 0.0 or (shed and not critical[i]):
            continue
        want = min(inp.pump_kw[j] - served[i], max(pump_rem[j] / cfg.dt_h - served[i], 0.0))
        if want <= 0.0:
            continue
        if cfg.dc_coupled:
            ac = min(want, pv_left * eta, inv_left)
            inv_left -= ac
            pv_left -= ac / eta
            loss += (ac / eta - ac) * cfg.dt_h
        else:
            ac = min(want, pv_left)
            pv_left -= ac
        served[i] += ac
    return pv_left, inv_left, loss


@njit(cache=True, error_model="numpy", fastmath=True)
def _run(  # noqa: PLR0917 (numba kernels take positional arguments)
        inp: DispatchInputs, cfg: DispatchConfig, kwp: float, kwh: float, inverter_kw: float,
         generator_kw: float, summary: np.ndarray, unmet_by_load: np.ndarray,
         series: np.ndarray, load_series: np.ndarray, record: bool,
         load_slots: tuple[int, ...], pump_slots: tuple[int, ...]) -> None:
    """Simulate one design over the inputs; writes ``summary`` [N_SUMMARY], ``unmet_by_load``
    [L + P] [kWh] and, when ``record``, ``series`` [N_SERIES, T] and ``load_series``
    [L + P, T] (served kW per load).

    ``load_slots`` and ``pump_slots`` (see :func:`_slots`) carry L and P in their types, so the
    kernel is compiled once per site layout with L and P as constants: the compiler unrolls the
    per-load loops (a fifth fewer instructions per step).
    """
    n_loads = len(load_slots)
    n_pumps = len(pump_slots)
    dt = cfg.dt_h
    # Arrays and flags read every step, as locals so that the compiler keeps them in registers.
    pv_arr = inp.pv_kw_per_kwp
    load_arr = inp.load_kw
    steps_left_arr = inp.pump_steps_left
    quiet_arr = inp.quiet
    pump_kw_arr = inp.pump_kw
    pump_daily_arr = inp.pump_daily_kwh
    dc_coupled = cfg.dc_coupled
    shed_soc_frac = cfg.shed_soc_frac
    reconnect_soc_frac = cfg.reconnect_soc_frac
    n_steps = inp.pv_kw_per_kwp.size
    n_all = n_loads + n_pumps
    eta = cfg.inverter_eff
    inv_eta = 1.0 / eta
    inv_dt = 1.0 / dt
    bp = BatteryParams(kwh, kwh * cfg.min_soc_frac, kwh * cfg.max_soc_frac,
                       kwh * cfg.charge_c_rate, kwh * cfg.discharge_c_rate,
                       cfg.charge_eff, cfg.discharge_eff)
    has_batt = kwh > MIN_BATTERY_KWH
    inv_kwh = 1.0 / kwh if has_batt else 0.0
    shed_floor = kwh * max(cfg.shed_soc_frac, cfg.min_soc_frac)
    gen_min_kw = generator_kw * cfg.gen_min_load_frac
    gen_idle_l_per_h = generator_kw * cfg.fuel_idle_l_per_h_per_kw

    soc = kwh * cfg.initial_soc_frac
    shed = False
    gen_on = False
    gen_steps = 0
    interrupted_prev = False
    pump_rem = np.zeros(n_pumps)
    need = np.zeros(n_all)
    served = np.zeros(n_all)
    critical = np.zeros(n_all, dtype=np.bool_)
    counts = np.zeros(n_all, dtype=np.bool_)
    for k in range(n_loads):
        critical[k] = inp.load_critical[k]
        counts[k] = inp.load_counts[k]
    for j in range(n_pumps):
        critical[n_loads + j] = inp.pump_critical[j]
        counts[n_loads + j] = inp.pump_critical[j]
    a_battery_charge_kwh = 0.0
    a_battery_discharge_kwh = 0.0
    a_battery_equivalent_cycles = 0.0
    a_battery_throughput_kwh = 0.0
    a_critical_load_kwh = 0.0
    a_critical_unmet_kwh = 0.0
    a_curtailed_kwh = 0.0
    a_final_soc_kwh = 0.0
    a_generator_fuel_l = 0.0
    a_generator_hours = 0.0
    a_generator_kwh = 0.0
    a_generator_starts = 0.0
    a_interruptions = 0.0
    a_interruption_minutes = 0.0
    a_load_kwh = 0.0
    a_losses_kwh = 0.0
    a_loss_of_load_hours = 0.0
    a_pv_kwh = 0.0
    a_served_kwh = 0.0
    a_shed_hours = 0.0
    a_unmet_kwh = 0.0
    unmet_acc = np.zeros(n_all)

    for t in range(n_steps):
        soc_frac = soc * inv_kwh if has_batt else 1.0
        # -- shedding and generator state, from the SOC at the start of the step
        if soc_frac < shed_soc_frac - 1e-9:
            shed = True
        elif soc_frac >= reconnect_soc_frac:
            shed = False
        pv = kwp * pv_arr[t]

        # -- pumps: what must run now for the daily energy to fit in what is left of the window
        for j in range(n_pumps):
            i = n_loads + j
            left = steps_left_arr[j, t]
            need[i] = 0.0
            if left > 0:
                if t == 0 or steps_left_arr[j, t - 1] <= 1:
                    pump_rem[j] = pump_daily_arr[j]
                must_kwh = pump_rem[j] - (left - 1) * pump_kw_arr[j] * dt
                if must_kwh > EPS_KWH and not (shed and not critical[i]):
                    need[i] = min(must_kwh * inv_dt, pump_kw_arr[j])

        if generator_kw > 0.0:
            if has_batt:
                start = cfg.quiet_start_soc_frac if quiet_arr[t] else cfg.gen_start_soc_frac
                stop = cfg.quiet_stop_soc_frac if quiet_arr[t] else cfg.gen_stop_soc_frac
                if not gen_on and soc_frac <= start:
                    gen_on = True
                    gen_steps = 0
                    a_generator_starts += 1.0
                elif gen_on and gen_steps >= cfg.gen_min_run_steps and soc_frac >= stop:
                    gen_on = False
            else:
                short = -(pv * eta if dc_coupled else pv)
                for k in range(n_all):
                    short += load_arr[k, t] if k < n_loads else need[k]
                if short > 0.0 and not gen_on:
                    gen_on = True
                    gen_steps = 0
                    a_generator_starts += 1.0
                elif short <= 0.0 and gen_on and gen_steps >= cfg.gen_min_run_steps:
                    gen_on = False

        # -- each load in serving order takes PV, then the generator, then the battery (its
        #    floor: min SOC if critical, else the shed SOC). PV is used up before the generator,
        #    and the generator before the battery, exactly as if each source served all loads.
        loss = 0.0
        inv_left = inverter_kw  # inverter output budget this step [kW]
        pv_ac = pv * eta if dc_coupled else pv
        pv_ac_used = 0.0
        gen_left = generator_kw if gen_on else 0.0
        dis_dc = 0.0
        demand_kwh = 0.0
        crit_demand_kwh = 0.0
        served_kw = 0.0
        unmet_kw = 0.0
        crit_unmet_kw = 0.0
        cont_unmet = False
        interrupted = False
        for k in range(n_all):
            if k < n_loads:
                d = load_arr[k, t]
                demand_kwh += d * dt
                if critical[k]:
                    crit_demand_kwh += d * dt
                r = 0.0 if (shed and not critical[k]) else d
            else:
                d = 0.0
                r = need[k]
            got = 0.0
            if r > 0.0:
                take = min(r, pv_ac - pv_ac_used)
                if dc_coupled:
                    take = min(take, inv_left)
                    inv_left -= take
                pv_ac_used += take
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
            if k < n_loads:
                served_kw += got
                u = d - got
                if u * dt > EPS_KWH:
                    cont_unmet = True
                    unmet_kw += u
                    unmet_acc[k] += u * dt
                    if critical[k]:
                        crit_unmet_kw += u
                    if counts[k]:
                        interrupted = True
        gen_out = generator_kw - gen_left if gen_on else 0.0
        if dc_coupled:
            pv_used = pv_ac_used * inv_eta
            loss += (pv_used - pv_ac_used) * dt
        else:
            pv_used = pv_ac_used
        loss += dis_dc * (1.0 - eta) * dt

        # -- surplus: pumps, battery, curtailment
        pv_left = pv - pv_used
        chg_dc = 0.0
        chg_room = max_charge_kw(soc, dt, bp) if (has_batt and dis_dc == 0.0) else 0.0
        pumps_first = soc_frac >= reconnect_soc_frac
        if n_pumps > 0 and pumps_first:
            pv_left, inv_left, loss = _pumps_on_surplus(inp, cfg, t, n_loads, n_pumps, served,
                                                        pump_rem, critical, shed, pv_left,
                                                        inv_left, loss)
        if chg_room > 0.0 and pv_left > 0.0:
            if dc_coupled:
                dc = min(pv_left, chg_room)
                pv_left -= dc
            else:
                dc = min(pv_left * eta, chg_room, inv_left * eta)
                pv_left -= dc * inv_eta
                inv_left -= dc * inv_eta
                loss += (dc * inv_eta - dc) * dt
            chg_dc += dc
            chg_room -= dc
        if n_pumps > 0 and not pumps_first:
            pv_left, inv_left, loss = _pumps_on_surplus(inp, cfg, t, n_loads, n_pumps, served,
                                                        pump_rem, critical, shed, pv_left,
                                                        inv_left, loss)
        if gen_on:
            spare = generator_kw - gen_out
            if not cfg.gen_cycle_charging:
                spare = min(spare, max(gen_min_kw - gen_out, 0.0))
            if chg_room > 0.0 and spare > 0.0:
                dc = min(spare * eta, chg_room, inv_left * eta)
                gen_out += dc * inv_eta
                loss += (dc * inv_eta - dc) * dt
                chg_dc += dc
        # -- apply the battery
        batt_kw = 0.0
        if has_batt:
            soc_new, batt_kw, batt_loss = charge_step(soc, chg_dc - dis_dc, dt, bp)
            loss += batt_loss
            if chg_dc - dis_dc > 0.0 and batt_kw < chg_dc - dis_dc:
                pv_left += chg_dc - dis_dc - batt_kw  # numerical rejection: curtail it
            if soc_new > soc:
                a_battery_charge_kwh += soc_new - soc
            else:
                a_battery_discharge_kwh += soc - soc_new
                a_battery_throughput_kwh += -batt_kw * dt
            soc = soc_new
        # -- pumps: window bookkeeping; what is left when the window closes is unmet
        for j in range(n_pumps):
            i = n_loads + j
            left = steps_left_arr[j, t]
            if left == 0:
                continue
            served_kw += served[i]
            pump_rem[j] = max(pump_rem[j] - served[i] * dt, 0.0)
            demand_kwh += served[i] * dt
            if critical[i]:
                crit_demand_kwh += served[i] * dt
            if left == 1 and pump_rem[j] > EPS_KWH:
                rem = pump_rem[j]
                demand_kwh += rem
                unmet_kw += rem * inv_dt
                unmet_acc[i] += rem
                if critical[i]:
                    crit_demand_kwh += rem
                    crit_unmet_kw += rem * inv_dt
                    interrupted = True
                pump_rem[j] = 0.0

        # -- accounting
        gen_fuel = 0.0
        if gen_on:
            gen_fuel = (gen_idle_l_per_h + cfg.fuel_l_per_kwh * max(gen_out, gen_min_kw)) * dt
            gen_steps += 1
            a_generator_hours += dt
        a_pv_kwh += pv * dt
        a_load_kwh += demand_kwh
        a_served_kwh += served_kw * dt
        a_unmet_kwh += unmet_kw * dt
        a_critical_load_kwh += crit_demand_kwh
        a_critical_unmet_kwh += crit_unmet_kw * dt
        a_curtailed_kwh += pv_left * dt
        a_generator_kwh += gen_out * dt
        a_generator_fuel_l += gen_fuel
        a_losses_kwh += loss
        if cont_unmet:
            a_loss_of_load_hours += dt
        if shed:
            a_shed_hours += dt
        if interrupted:
            a_interruption_minutes += dt * 60.0
            if not interrupted_prev:
                a_interruptions += 1.0
        interrupted_prev = interrupted
        if record:
            series[_R_PV_KW, t] = pv
            series[_R_LOAD_KW, t] = demand_kwh * inv_dt
            series[_R_SERVED_KW, t] = served_kw
            series[_R_UNMET_KW, t] = unmet_kw
            series[_R_CRITICAL_UNMET_KW, t] = crit_unmet_kw
            series[_R_GENERATOR_KW, t] = gen_out
            series[_R_BATTERY_KW, t] = batt_kw
            series[_R_SOC_KWH, t] = soc
            series[_R_CURTAILED_KW, t] = pv_left
            series[_R_LOSSES_KW, t] = loss * inv_dt
            series[_R_SHED, t] = 1.0 if shed else 0.0
            series[_R_GENERATOR_ON, t] = 1.0 if gen_on else 0.0
            series[_R_INTERRUPTED, t] = 1.0 if interrupted else 0.0
            for k in range(n_all):
                load_series[k, t] = served[k]
    a_final_soc_kwh = soc
    if kwh > 0.0:
        a_battery_equivalent_cycles = a_battery_throughput_kwh / kwh
    summary[_S_BATTERY_CHARGE_KWH] = a_battery_charge_kwh
    summary[_S_BATTERY_DISCHARGE_KWH] = a_battery_discharge_kwh
    summary[_S_BATTERY_EQUIVALENT_CYCLES] = a_battery_equivalent_cycles
    summary[_S_BATTERY_THROUGHPUT_KWH] = a_battery_throughput_kwh
    summary[_S_CRITICAL_LOAD_KWH] = a_critical_load_kwh
    summary[_S_CRITICAL_UNMET_KWH] = a_critical_unmet_kwh
    summary[_S_CURTAILED_KWH] = a_curtailed_kwh
    summary[_S_FINAL_SOC_KWH] = a_final_soc_kwh
    summary[_S_GENERATOR_FUEL_L] = a_generator_fuel_l
    summary[_S_GENERATOR_HOURS] = a_generator_hours
    summary[_S_GENERATOR_KWH] = a_generator_kwh
    summary[_S_GENERATOR_STARTS] = a_generator_starts
    summary[_S_INTERRUPTIONS] = a_interruptions
    summary[_S_INTERRUPTION_MINUTES] = a_interruption_minutes
    summary[_S_LOAD_KWH] = a_load_kwh
    summary[_S_LOSSES_KWH] = a_losses_kwh
    summary[_S_LOSS_OF_LOAD_HOURS] = a_loss_of_load_hours
    summary[_S_PV_KWH] = a_pv_kwh
    summary[_S_SERVED_KWH] = a_served_kwh
    summary[_S_SHED_HOURS] = a_shed_hours
    summary[_S_UNMET_KWH] = a_unmet_kwh
    unmet_by_load[:] = unmet_acc


@njit(cache=True, parallel=True, error_model="numpy", fastmath=True)
def _run_many(  # noqa: PLR0917
        inp: DispatchInputs, cfg: DispatchConfig, kwp: np.ndarray, kwh: np.ndarray,
              inverter_kw: np.ndarray, generator_kw: np.ndarray, summary: np.ndarray,
              unmet_by_load: np.ndarray, load_slots: tuple[int, ...],
              pump_slots: tuple[int, ...]) -> None:
    empty = np.zeros((0, 0))
    for i in prange(kwp.size):
        _run(inp, cfg, kwp[i], kwh[i], inverter_kw[i], generator_kw[i], summary[i],
             unmet_by_load[i], empty, empty, False, load_slots, pump_slots)


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


def _slots(inp: DispatchInputs) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Tuples of L and P zeros: numba types a tuple by its length, so L and P reach the kernel
    as compile-time constants, without ``literally`` (which retypes the kernel on every call)."""
    return (0,) * inp.load_kw.shape[0], (0,) * inp.pump_kw.size


def _as_array(value: float | np.ndarray, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    return np.full(n, float(arr)) if arr.ndim == 0 else np.ascontiguousarray(arr)


def dispatch_many(inp: DispatchInputs, cfg: DispatchConfig, kwp: np.ndarray, kwh: np.ndarray,
                  *, inverter_kw: np.ndarray | float,
                  generator_kw: np.ndarray | float = 0.0) -> ManyResult:
    """Run many designs (arrays of equal length, scalars broadcast) in parallel.

    ``kwp`` [kWp], ``kwh`` [kWh], ``inverter_kw`` [kW], ``generator_kw`` [kW] (0 = none).
    """
    kwp_a = np.atleast_1d(np.asarray(kwp, dtype=np.float64))
    n = kwp_a.size
    summary = np.zeros((n, N_SUMMARY))
    unmet = np.zeros((n, inp.load_kw.shape[0] + inp.pump_kw.size))
    _run_many(inp, cfg, np.ascontiguousarray(kwp_a), _as_array(kwh, n), _as_array(inverter_kw, n),
              _as_array(generator_kw, n), summary, unmet, *_slots(inp))
    return ManyResult(summary, unmet)


def dispatch(inp: DispatchInputs, cfg: DispatchConfig, kwp: float, kwh: float, *,
             inverter_kw: float, generator_kw: float = 0.0) -> DispatchResult:
    """Run one design and record every step."""
    n_steps = inp.pv_kw_per_kwp.size
    n_all = inp.load_kw.shape[0] + inp.pump_kw.size
    summary = np.zeros(N_SUMMARY)
    unmet = np.zeros(n_all)
    series = np.zeros((N_SERIES, n_steps))
    per_load = np.zeros((n_all, n_steps))
    _run(inp, cfg, float(kwp), float(kwh), float(inverter_kw), float(generator_kw), summary,
         unmet, series, per_load, True, *_slots(inp))
    return DispatchResult(
        summary=dict(zip(SUMMARY_KEYS, summary.tolist(), strict=True)),
        unmet_by_load_kwh=unmet,
        series={k: series[i] for i, k in enumerate(SERIES_KEYS)},
        served_by_load_kw=per_load,
    )
