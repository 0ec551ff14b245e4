"""NREL SAM (PySAM) reference runs on pvlib's bundled TMY3 file, shared by the comparison
tests and ``benchmarks/sizing_sam_compare.py``. Test-only: PySAM is a test dependency."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pvlib

from sitefile import Site, parse_site
from sizing.dispatch import DispatchConfig, DispatchInputs, dispatch, no_outages
from sizing.pv import ALBEDO

TMY3 = Path(pvlib.__path__[0]) / "data" / "723170TYA.CSV"
INVERTER_EFF = 0.96  # SAM's battery AC/DC and DC/AC conversion efficiencies
BATTERY_EFF = 0.95  # charge = discharge efficiency: √ of SAM's ≈ 90 % DC round trip
MIN_SOC = 0.10  # SAM's batt_minimum_outage_SOC default
MAX_SOC = 0.95  # SAM's batt_maximum_SOC default


def tmy3_site(**pv: object) -> Site:
    """A site at the TMY3 station (Greensboro, NC) with the given [pv] keys."""
    return parse_site({
        "site": {"name": "Greensboro", "latitude": 36.1, "longitude": -79.95,
                 "altitude_m": 273, "timezone": "Etc/GMT+5"},
        "weather": {"file": str(TMY3)},
        "pv": {"kwp": 4, "tilt_deg": 30, "azimuth_deg": 180, "losses_pct": 14,
               "coupling": "ac", **pv},
    })


def sam_pvwatts_ac_kw(kwp: float, tilt: float, azimuth: float, losses_pct: float) -> np.ndarray:
    """Hourly AC output of SAM PVWatts v8 on the TMY3 file [kW] (DC/AC ratio 1)."""
    import PySAM.Pvwattsv8 as Pvwatts  # noqa: PLC0415 (test-only dependency)

    model = Pvwatts.default("PVWattsNone")
    model.SolarResource.solar_resource_file = str(TMY3)
    model.SolarResource.use_wf_albedo = 0  # the file's albedo column is empty (zeros)
    model.SolarResource.albedo = [ALBEDO] * 12
    model.SystemDesign.system_capacity = kwp
    model.SystemDesign.tilt = tilt
    model.SystemDesign.azimuth = azimuth
    model.SystemDesign.losses = losses_pct
    model.SystemDesign.array_type = 0  # fixed, open rack
    model.SystemDesign.dc_ac_ratio = 1.0
    model.SystemDesign.gcr = 0.01  # one row, like our model (no row-to-row view factors)
    model.execute()
    return np.asarray(model.Outputs.gen, dtype=float)


def household_load_kw() -> np.ndarray:
    """A simple household: 0.3 kW base, +0.3 kW 6–8 h, +0.7 kW 18–23 h (4.1 MWh/year)."""
    hour = np.arange(8760) % 24
    return 0.3 + 0.7 * ((hour >= 18) & (hour < 23)) + 0.3 * ((hour >= 6) & (hour < 8))


def sam_outage_unmet(pv_ac_kw: np.ndarray, load_kw: np.ndarray,
                     kwh: float) -> tuple[float, float, float]:
    """SAM's battery model in grid-outage mode all year (critical load = load).

    Returns ``(unmet_fraction, bank_kwh, discharge_kw_ac)`` of the sized bank.
    """
    import PySAM.Battery as Battery  # noqa: PLC0415
    import PySAM.BatteryTools as BatteryTools  # noqa: PLC0415

    model = Battery.default("CustomGenerationBatteryResidential")
    BatteryTools.battery_model_sizing(model, kwh / 2, kwh, 48, tol=0.5)
    model.SystemOutput.gen = pv_ac_kw.tolist()
    model.Load.load = load_kw.tolist()
    model.Load.crit_load = load_kw.tolist()
    model.Load.grid_outage = [1] * len(load_kw)
    model.Load.run_resiliency_calcs = 0
    model.BatterySystem.batt_ac_or_dc = 1  # AC-coupled
    model.BatterySystem.batt_replacement_option = 0
    model.BatteryCell.batt_minimum_outage_SOC = MIN_SOC * 100
    model.BatteryCell.batt_maximum_SOC = MAX_SOC * 100
    model.Lifetime.system_use_lifetime_output = 0
    model.Lifetime.analysis_period = 1
    model.execute()
    return (model.Outputs.annual_crit_load_unmet_percentage / 100.0,
            model.BatterySystem.batt_computed_bank_capacity,
            model.BatterySystem.batt_power_discharge_max_kwac)


def our_unmet(pv_ac_kw: np.ndarray, load_kw: np.ndarray, bank_kwh: float,
              discharge_kw_ac: float) -> float:
    """Our dispatch kernel on the same PV and load, SAM's bank and limits: unmet fraction."""
    steps = len(load_kw)
    inp = DispatchInputs(
        pv_kw_per_kwp=np.ascontiguousarray(pv_ac_kw, dtype=float),
        load_kw=np.ascontiguousarray(load_kw.reshape(1, -1), dtype=float),
        load_critical=np.array([True]), load_customers=np.ones(1),
        load_flexible=np.zeros(1, bool),
        pump_kw=np.zeros(0), pump_daily_kwh=np.zeros(0),
        pump_steps_left=np.zeros((0, steps), dtype=np.int64), pump_critical=np.zeros(0, bool),
        pump_customers=np.zeros(0), pump_flexible=np.zeros(0, bool),
        quiet=np.zeros(steps, dtype=bool), **no_outages(steps),
    )
    c_rate = discharge_kw_ac / INVERTER_EFF / bank_kwh
    cfg = DispatchConfig(
        dt_h=1.0, dc_coupled=False, inverter_eff=INVERTER_EFF, min_soc_frac=MIN_SOC,
        max_soc_frac=MAX_SOC, initial_soc_frac=MAX_SOC, charge_eff=BATTERY_EFF,
        discharge_eff=BATTERY_EFF, charge_c_rate=c_rate, discharge_c_rate=c_rate,
        shed_soc_frac=0.0, reconnect_soc_frac=0.0, gen_start_soc_frac=0.0,
        gen_stop_soc_frac=0.0, quiet_start_soc_frac=0.0, quiet_stop_soc_frac=0.0,
        gen_min_run_steps=0, gen_min_load_frac=0.0, gen_cycle_charging=False,
        fuel_l_per_kwh=0.0, fuel_idle_l_per_h_per_kw=0.0,
        cycle_life=6000.0, cycle_life_dod_frac=0.8, cycle_life_exponent=1.3,
    )
    run = dispatch(inp, cfg, 1.0, bank_kwh, inverter_kw=discharge_kw_ac)
    return run.summary["unmet_kwh"] / run.summary["load_kwh"]
