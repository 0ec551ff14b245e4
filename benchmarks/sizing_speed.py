"""Sizing engine speed: one site-year, 20 synthetic years, and the batch dispatch kernel.

Targets (issue 3): one site-year with the weather loaded ≤ 20 ms; 20 synthetic years generated
and simulated ≤ 2 s; ``dispatch_many`` ≥ 10,000 design-years/s on 2 cores. The baseline,
measured in the same run, is the same dispatch kernel on one thread, one design at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np

from sitefile import load_site
from sizing.dispatch import dispatch, dispatch_many
from sizing.inputs import read_inputs
from sizing.simulate import build_loads, dispatch_setup, simulate, simulate_year, site_design

SHRIMP = Path(__file__).resolve().parent.parent / "examples" / "shrimp-bac-lieu.toml"


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    """Best wall time of ``repeat`` runs [s] (the least disturbed by other processes)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    site = load_site(SHRIMP)
    inputs = read_inputs(site, 1)
    weather = inputs.weather[0]
    loads = build_loads(site, weather.index, inputs.profiles_kw)
    inp, cfg = dispatch_setup(site, weather, loads, 0)
    design = site_design(site)
    simulate_year(site, weather, loads, 0, design)  # compile / warm the caches
    simulate(site, read_inputs(site, 2))

    one_kernel = best_of(lambda: dispatch(inp, cfg, design.kwp, design.kwh,
                                          inverter_kw=design.inverter_kw,
                                          generator_kw=design.generator_kw), 20)
    one_year = best_of(lambda: simulate_year(site, weather, loads, 0, design), 10)
    twenty = best_of(lambda: simulate(site, read_inputs(site, 20)), 3)
    print(f"one site-year, dispatch kernel with time series: {one_kernel * 1e3:8.2f} ms")
    print(f"one site-year, PV + dispatch + reliability:      {one_year * 1e3:8.2f} ms"
          "   (target ≤ 20 ms)")
    print(f"20 synthetic years generated and simulated:      {twenty:8.2f} s "
          "   (target ≤ 2 s)")

    rng = np.random.default_rng(0)
    n = 10_000
    kwp = rng.uniform(20, 80, n)
    kwh = rng.uniform(40, 300, n)
    inv = rng.uniform(12, 24, n)
    gen = rng.choice([0.0, 5.0, 10.0, 15.0, 20.0], n)
    dispatch_many(inp, cfg, kwp[:4], kwh[:4], inverter_kw=inv[:4], generator_kw=gen[:4])
    many = best_of(lambda: dispatch_many(inp, cfg, kwp, kwh, inverter_kw=inv,
                                         generator_kw=gen), 3)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    single = best_of(lambda: dispatch_many(inp, cfg, kwp[:2000], kwh[:2000],
                                           inverter_kw=inv[:2000], generator_kw=gen[:2000]), 3)
    numba.set_num_threads(threads)
    rate = n / many
    base = 2000 / single
    print(f"dispatch_many, {threads} threads: {rate:10,.0f} design-years/s"
          "   (target ≥ 10,000 on 2 cores)")
    print(f"baseline, 1 thread:          {base:10,.0f} design-years/s"
          f"   (speed-up {rate / base:.2f}×, {1e9 / base / len(weather):.0f} ns per step)")


if __name__ == "__main__":
    main()
