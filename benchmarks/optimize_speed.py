"""How fast the optimiser searches: its kernel against the previous kernel, the whole run
against a plain-Python battery loop, and against NREL SAM's battery model.

Prints, each as a ratio measured in the same run (the host is shared: absolute figures move
with the load, ratios much less; best of 3 runs each):
- the dispatch kernel against the previous one (``git show 3b9ccbd:sizing/dispatch.py``, loaded
  as a temporary module; skipped with a message without git history) on 10,000 designs: the
  figures they share must be bit-identical, the speed within noise (the present kernel also
  counts battery wear by rainflow, which the previous one did not);
- ``optimize`` end to end on the shrimp farm (design-years / ``elapsed_s``: 9,555 candidates,
  the sensitivity cases, the baseline, once PV and loads are modelled) against a plain-Python
  hourly battery loop, target ≥ 50× (and ≥ 10,000 design-years/s on 2 cores), and against the
  kernel alone on the same candidates;
- SAM's battery model (PySAM ``Battery``, grid-outage mode so that it serves the load
  off-grid) per design-year on a few of the same designs.

Run: ``.venv/bin/python benchmarks/optimize_speed.py``
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numba
import numpy as np
import PySAM.Battery as SamBattery

from sitefile import load_site
from sizing import dispatch
from sizing.economics import Designs
from sizing.inputs import read_inputs
from sizing.optimize import build_grid, optimize, run_designs, year_inputs

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "examples" / "shrimp-bac-lieu.toml"
PREVIOUS_KERNEL = "3b9ccbd"  # the kernel before it was split into phases


def grid_10k() -> Designs:
    """10,000 designs around the shrimp farm: 20 kWp × 20 kWh × 5 inverter × 5 generator."""
    axes = (np.linspace(40, 230, 20), np.linspace(50, 525, 20), np.linspace(12, 24, 5),
            np.linspace(0, 20, 5))
    mesh = np.meshgrid(*axes, indexing="ij")
    return Designs(*(m.ravel() for m in mesh))


def sam_design_year(pv_ac_kw: np.ndarray, load_kw: np.ndarray, kwh: float, kw: float,
                    min_soc_pct: float) -> tuple[float, float]:
    """One year of SAM's battery model serving ``load_kw`` off-grid; returns (unmet kWh, s)."""
    start = time.perf_counter()
    m = SamBattery.default("CustomGenerationBatteryResidential")
    m.value("system_use_lifetime_output", 0)
    m.value("analysis_period", 1)
    m.value("batt_replacement_option", 0)
    m.value("gen", tuple(pv_ac_kw))
    m.value("load", tuple(load_kw))
    m.value("crit_load", tuple(load_kw))
    m.value("grid_outage", tuple([1] * len(load_kw)))
    m.value("run_resiliency_calcs", 0)
    cell_kwh = m.value("batt_Qfull") * m.value("batt_Vnom_default") / 1000
    m.value("batt_computed_strings", kwh / (cell_kwh * m.value("batt_computed_series")))
    m.value("batt_computed_bank_capacity", kwh)
    for key in ("batt_power_discharge_max_kwac", "batt_power_charge_max_kwac",
                "batt_power_discharge_max_kwdc", "batt_power_charge_max_kwdc"):
        m.value(key, kw)
    m.value("batt_current_charge_max", 1e5)  # let the kW limits bind, not the default amps
    m.value("batt_current_discharge_max", 1e5)
    m.value("batt_minimum_SOC", min_soc_pct)
    m.value("batt_maximum_SOC", 100.0)
    m.execute(0)
    return float(m.value("annual_crit_load_unmet")), time.perf_counter() - start


def previous_kernel() -> ModuleType | None:
    """The previous dispatch kernel from git history as a module, or None without git."""
    try:
        source = subprocess.run(["git", "show", f"{PREVIOUS_KERNEL}:sizing/dispatch.py"],
                                cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "previous_dispatch.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("previous_dispatch", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["previous_dispatch"] = module
    spec.loader.exec_module(module)
    return module


def best_rate(n: int, fn: Callable[[], object], repeat: int = 3) -> float:
    """Best of ``repeat`` runs of ``fn``, as ``n`` per second."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return n / best


def python_battery_year(pv_kw: list[float], load_kw: list[float], kwh: float, kw: float,
                        min_soc_frac: float, eff: float) -> float:
    """The baseline: one design-year of the simplest hourly battery loop in plain Python
    (PV to the load, the surplus into the battery, the shortfall from it); unmet [kWh]."""
    soc = kwh
    floor = kwh * min_soc_frac
    unmet = 0.0
    for pv, load in zip(pv_kw, load_kw, strict=True):
        net = pv - load
        if net >= 0.0:
            soc = min(kwh, soc + min(net, kw) * eff)
        else:
            out = min(-net, kw, (soc - floor) * eff)
            soc -= out / eff
            unmet += -net - out
    return unmet


def compare_kernels(inp: dispatch.DispatchInputs, cfg: dispatch.DispatchConfig,
                    designs: Designs) -> None:
    """The kernel against the previous one: identical figures, and the speed ratio."""
    previous = previous_kernel()
    if previous is None:
        print("previous kernel: skipped (no git history to load it from)")
        return
    if previous.DispatchInputs._fields != dispatch.DispatchInputs._fields:
        print("previous kernel: skipped (it takes other inputs; compare ratios to the Python "
              "loop instead)")
        return
    old_cfg = previous.DispatchConfig(*cfg[:len(previous.DispatchConfig._fields)])

    def run_new() -> dispatch.ManyResult:
        return run_designs(inp, cfg, designs)

    def run_old() -> dispatch.ManyResult:
        return previous.dispatch_many(inp, old_cfg, designs.kwp, designs.kwh,  # type: ignore[no-any-return]
                                      inverter_kw=designs.inverter_kw,
                                      generator_kw=designs.generator_kw)

    new, old = run_new(), run_old()  # compile (or load the caches) first
    shared = [dispatch.SUMMARY_KEYS.index(k) for k in previous.SUMMARY_KEYS]
    same = (np.array_equal(new.summary[:, shared], old.summary)
            and np.array_equal(new.unmet_by_load_kwh, old.unmet_by_load_kwh))
    rates = {"new": 0.0, "old": 0.0}
    for _ in range(3):  # interleaved, so that both see the same load
        rates["old"] = max(rates["old"], best_rate(len(designs), run_old, 1))
        rates["new"] = max(rates["new"], best_rate(len(designs), run_new, 1))
    print(f"kernel: {rates['new']:,.0f} design-years/s, previous kernel {rates['old']:,.0f}: "
          f"ratio {rates['new'] / rates['old']:.2f} (the present one also counts battery wear); "
          f"shared figures bit-identical: {same}")


def main() -> None:
    site = load_site(SITE)
    inputs = read_inputs(site)
    start = time.perf_counter()
    years = year_inputs(site, inputs.weather, inputs.profiles_kw)
    modelled_s = time.perf_counter() - start
    inp, cfg = years[0]
    load1, _, _ = os.getloadavg()
    print(f"cores: {os.cpu_count()}, numba threads: {numba.get_num_threads()}, "
          f"load average {load1:.1f} (other jobs slow these figures down; compare ratios)")

    compare_kernels(inp, cfg, grid_10k())

    # The plain-Python baseline: three designs of the same site, PV and summed load.
    load_kw = inp.load_kw.sum(axis=0).tolist()
    picks = [(60.0, 150.0, 15.0), (120.0, 300.0, 21.0), (200.0, 400.0, 27.0)]
    python_rate = best_rate(len(picks), lambda: [
        python_battery_year((kwp * inp.pv_kw_per_kwp).tolist(), load_kw, kwh, kw, 0.1, 0.95)
        for kwp, kwh, kw in picks])
    search = build_grid(site).designs
    kernel_rate = best_rate(len(search), lambda: run_designs(inp, cfg, search))
    optimize(site, inputs)  # compile (or load the cache) for this layout first
    end_to_end = 0.0
    for _ in range(3):
        result = optimize(site, inputs)
        end_to_end = max(end_to_end, result.evaluated / result.elapsed_s)
    print(f"plain-Python hourly battery loop: {python_rate:,.0f} design-years/s")
    print(f"the kernel alone on the shrimp search ({len(search):,} designs): "
          f"{kernel_rate:,.0f} design-years/s")
    print(f"optimize end to end ({result.evaluated:,} design-years: search, sensitivity, "
          f"baseline): "
          f"{end_to_end:,.0f} design-years/s = {end_to_end / python_rate:,.0f}× the Python "
          f"loop (target ≥ 50×), {end_to_end / kernel_rate:.2f} of the kernel alone")
    print(f"(before that: PV, loads and outages of the {len(inputs.weather)} years modelled in "
          f"{modelled_s:.2f} s, outside elapsed_s)")

    # SAM: AC-coupled battery serving the same load from the same PV, a few designs.
    designs = grid_10k()
    load = inp.load_kw.sum(axis=0)
    assert site.battery is not None
    sam_s = []
    print("design                   SAM unmet kWh   ours unmet kWh")
    for i in [0, 2525, 5050, 7575, 9999]:
        kwp, kwh = float(designs.kwp[i]), float(designs.kwh[i])
        kw = float(designs.inverter_kw[i])
        unmet, seconds = sam_design_year(kwp * inp.pv_kw_per_kwp, load, kwh, kw,
                                         site.battery.min_soc_pct)
        sam_s.append(seconds)
        ours = Designs(np.array([kwp]), np.array([kwh]), np.array([kw]), np.zeros(1))
        mine = run_designs(inp, cfg, ours).column("unmet_kwh")[0]
        print(f"{kwp:5.0f} kWp {kwh:5.0f} kWh {kw:4.0f} kW  {unmet:12,.0f}   {mine:14,.0f}")
    sam_rate = 1 / float(np.mean(sam_s))
    print(f"SAM battery model: {sam_rate:,.1f} design-years/s ({np.mean(sam_s) * 1000:.0f} ms "
          f"each); the kernel is {kernel_rate / sam_rate:,.0f}× faster")
    print("(SAM serves the summed load with no generator, no shedding and no deferrable pumps, "
          "through its own battery model: its unmet energy is close to ours, not equal.)")


if __name__ == "__main__":
    main()
