"""The optimiser: search grid, constraints, Pareto front, edge warnings, and the winner."""

from __future__ import annotations

import itertools
import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from offgrid.cli import app
from sitefile import Site, SiteFileError, load_site, parse_site
from sizing import simulate
from sizing.bom import priced, site_prices
from sizing.economics import Operation, costs, pv_used_kwh
from sizing.inputs import read_inputs
from sizing.optimize import (
    Result,
    SearchError,
    apply_design,
    build_grid,
    design_dict,
    engine_site,
    optimize,
    pareto_front,
    range_edges,
    result_json,
)
from sizing.reliability import motor_start_check
from sizing.simulate import Design, build_loads, simulate_year
from tests.conftest import HOME, SHRIMP


def site_with(path: Path, **search: Any) -> Site:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data["search"] = search
    return parse_site(data, path.parent, path)


def test_grid_is_full_factorial() -> None:
    site = site_with(SHRIMP, kwp={"min": 20, "max": 40, "step": 10},
                     kwh={"min": 0, "max": 100, "step": 50})
    grid = build_grid(site)
    assert len(grid.designs) == 9
    assert sorted(set(grid.designs.kwp)) == [20, 30, 40]
    assert sorted(set(grid.designs.kwh)) == [0, 50, 100]
    # Dimensions without a range keep the site's own size.
    assert site.inverter is not None and site.generator is not None
    assert set(grid.designs.inverter_kw) == {site.inverter.kw}
    assert set(grid.designs.generator_kw) == {site.generator.kw}
    assert grid.searched == {"kwp": True, "kwh": True, "inverter_kw": False,
                             "generator_kw": False, "turbines": False}
    assert set(grid.designs.turbines) == {0.0}  # the farm has no wind


def test_float_steps_hit_max() -> None:
    site = site_with(HOME, kwp={"min": 0.4, "max": 3.2, "step": 0.2})
    assert build_grid(site).axes["kwp"][-1] == pytest.approx(3.2)
    assert len(build_grid(site).axes["kwp"]) == 15


def test_too_many_candidates_are_refused_before_any_allocation() -> None:
    with pytest.raises(SiteFileError, match=r"search: the ranges hold 100,020,001 candidates "
                       r".*max_candidates = 1,000"):
        site_with(SHRIMP, kwp={"min": 0, "max": 1000, "step": 0.1},
                  kwh={"min": 0, "max": 1000, "step": 0.1}, max_candidates=1000)


def test_too_many_for_memory() -> None:
    site = site_with(SHRIMP, kwp={"min": 0, "max": 1000, "step": 1},
                     kwh={"min": 0, "max": 2000, "step": 1}, max_candidates=5_000_000)
    with pytest.raises(SearchError, match=r"2,003,001 candidates .* GB, too much for memory"):
        build_grid(site)


def test_negative_and_reversed_ranges_are_site_errors() -> None:
    with pytest.raises(SiteFileError, match=r"search.kwp.min: .*greater than or equal to 0"):
        site_with(SHRIMP, kwp={"min": -5, "max": 10, "step": 1})
    with pytest.raises(SiteFileError, match=r"search.kwh: max must not be below min"):
        site_with(SHRIMP, kwh={"min": 50, "max": 10, "step": 5})
    with pytest.raises(SiteFileError, match=r"search.kwh.step"):
        site_with(SHRIMP, kwh={"min": 0, "max": 10, "step": 0})


def test_empty_searches() -> None:
    with pytest.raises(SearchError, match="no range"):
        build_grid(site_with(SHRIMP))
    with pytest.raises(SearchError, match="0 kW inverter"):
        build_grid(site_with(SHRIMP, inverter_kw={"min": 0, "max": 0, "step": 1}))
    with pytest.raises(SearchError, match="nothing would produce energy"):
        build_grid(site_with(HOME, kwp={"min": 0, "max": 0, "step": 1}))
    data = tomllib.loads(SHRIMP.read_text(encoding="utf-8"))
    del data["search"]
    with pytest.raises(SearchError, match=r"\[search\] is required"):
        build_grid(parse_site(data, SHRIMP.parent, SHRIMP))


def test_edge_warnings() -> None:
    site = site_with(SHRIMP, kwp={"min": 20, "max": 40, "step": 10},
                     kwh={"min": 0, "max": 100, "step": 50},
                     generator_kw={"min": 0, "max": 10, "step": 5})
    grid = build_grid(site)
    top = grid.designs.take(np.nonzero((grid.designs.kwp == 40) & (grid.designs.kwh == 50)
                                       & (grid.designs.generator_kw == 0))[0])
    warnings = [e.message() for e in range_edges(grid, top)]
    assert len(warnings) == 1 and "PV kWp (40) is the top" in warnings[0]
    bottom = grid.designs.take(np.nonzero((grid.designs.kwp == 20) & (grid.designs.kwh == 0)
                                          & (grid.designs.generator_kw == 10))[0])
    warnings = [e.message() for e in range_edges(grid, bottom)]
    # kWh 0 and generator 0 at the bottom mean "none", not an edge; generator 10 is the top.
    assert any("PV kWp (20) is the bottom" in w for w in warnings)
    assert any("generator kW (10) is the top" in w for w in warnings)
    assert not any("battery" in w for w in warnings)


def test_pareto_front_small() -> None:
    npc = np.array([5.0, 1.0, 3.0, 2.0, 4.0, 3.0])
    unmet = np.array([0.0, 0.5, 0.1, 0.3, 0.05, 0.2])
    assert list(pareto_front(npc, unmet)) == [1, 3, 2, 4, 0]


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=60))
def test_pareto_front_is_non_dominated(points: list[tuple[int, int]]) -> None:
    npc = np.array([p[0] for p in points], float)
    unmet = np.array([p[1] for p in points], float)
    front = set(pareto_front(npc, unmet).tolist())
    for i in range(len(points)):
        dominated = any(
            npc[j] <= npc[i] and unmet[j] <= unmet[i] and (npc[j] < npc[i] or unmet[j] < unmet[i])
            for j in range(len(points)))
        if dominated:
            assert i not in front
        else:
            # Non-dominated points are on the front unless an identical point stands for them.
            assert i in front or any(
                j in front and npc[j] == npc[i] and unmet[j] == unmet[i]
                for j in range(len(points)))


# --------------------------------------------------------------------------- against the engine


def small_home() -> Site:
    return site_with(HOME, kwp={"min": 1.0, "max": 3.0, "step": 0.5},
                     kwh={"min": 2, "max": 8, "step": 2},
                     inverter_kw={"min": 1, "max": 2, "step": 1},
                     max_unmet_fraction=0.01, max_critical_unmet_fraction=0.01,
                     max_saidi_minutes=300)


def small_shrimp() -> Site:
    return site_with(SHRIMP, kwp={"min": 60, "max": 180, "step": 60},
                     kwh={"min": 100, "max": 300, "step": 100},
                     inverter_kw={"min": 12, "max": 18, "step": 6},
                     generator_kw={"min": 0, "max": 15, "step": 15},
                     max_unmet_fraction=0.02, max_critical_unmet_fraction=0.001,
                     max_saidi_minutes=20000)


@pytest.fixture(scope="module", params=["home", "shrimp"])
def searched(request: pytest.FixtureRequest) -> tuple[Site, Result]:
    site = small_home() if request.param == "home" else small_shrimp()
    return site, optimize(site, read_inputs(site, 1))


def test_kernel_equals_engine_and_winner_equals_exhaustive(searched: tuple[Site, Result]
                                                           ) -> None:
    """Every candidate simulated one by one with the sizing engine's orchestrator gives the
    kernel's figures, and the cheapest feasible of them is the optimiser's winner."""
    site, result = searched
    weather = read_inputs(site, 1).weather
    engine = engine_site(site)
    loads = build_loads(engine, pd.DatetimeIndex(weather[0].index), {})
    d = result.grid.designs
    npc = np.empty(len(d))
    ok = np.empty(len(d), dtype=bool)
    search = site.search
    assert search is not None and site.battery is not None
    others = simulate.start_others_kw(engine, [loads], weather[:1])
    for i in range(len(d)):
        x = design_dict(d, i)
        year = simulate_year(engine, weather[0], loads, 0, Design(**x))
        f = year.figures
        assert f["unmet_load_fraction"] == pytest.approx(result.perf.unmet_fraction[i], abs=1e-12)
        assert f["critical_unmet_fraction"] == pytest.approx(
            result.perf.critical_unmet_fraction[i], abs=1e-12)
        assert f["saidi_minutes"] == pytest.approx(result.perf.saidi_minutes[i], abs=1e-9)
        assert f["generator_fuel_l"] == pytest.approx(result.perf.operation.fuel_l[i], abs=1e-9)
        life = f["battery_life_years"] if x["kwh"] > 0 else np.inf  # the engine's own figure
        op = Operation(np.array([f["served_kwh"]]), np.array([f["generator_fuel_l"]]),
                       np.array([f["generator_hours"]]), np.array([life], dtype=float),
                       pv_used_kwh(np.array([f["pv_ac_kwh"]]), f["curtailed_kwh"],
                                   f["wind_curtailed_kwh"]))
        sized = apply_design(site, x)
        bill = priced([(sized, x, None)], site_prices(site),
                      generator_units=result.plant.generator_units,
                      turbine_kw=result.plant.turbine_kw)
        npc[i] = costs(site.economics, d.take(i), op, site.generator, plant=result.plant,
                       priced=bill).npc_vnd[0]
        start = motor_start_check(sized, others)
        ok[i] = (f["unmet_load_fraction"] <= search.max_unmet_fraction
                 and f["critical_unmet_fraction"] <= search.max_critical_unmet_fraction
                 and f["saidi_minutes"] <= search.max_saidi_minutes
                 and f["saifi_count"] <= search.max_saifi_count
                 and (start is None or start.ok))
    assert ok.any() and not ok.all()  # the constraints bite: the test means something
    assert result.best == int(np.argmin(np.where(ok, npc, np.inf)))
    np.testing.assert_allclose(result.costs.npc_vnd, npc, rtol=1e-9)
    assert list(result.feasible) == list(ok)


def test_result_explains_itself(searched: tuple[Site, Result]) -> None:
    _, result = searched
    assert result.best is not None and result.explanation is not None
    data = result_json(result)
    best = data["best"]
    # Design-years: every candidate, the load-growth case and the baseline, in one year.
    growth = data["sensitivity"]["load_growth"]["20"]["designs_simulated"]
    assert 0 < growth <= len(result.grid.designs)
    assert data["years"] == 1 and data["reliability_level"] == "p90"
    assert data["evaluated"] == len(result.grid.designs) + growth + 1
    assert data["candidates"] == len(result.grid.designs)
    # The winner is on the Pareto front of NPC against unmet energy, unless a cheaper design
    # with less unmet energy exists (which must then be infeasible on another constraint).
    front = data["pareto"]
    assert [p["npc_vnd"] for p in front] == sorted(p["npc_vnd"] for p in front)
    assert all(a["unmet_fraction"] > b["unmet_fraction"] for a, b in itertools.pairwise(front))
    why = data["why"]
    assert why["binding_constraint"] in why["limits"]
    assert min(why["slack"].values()) == why["slack"][why["binding_constraint"]]
    for rival in why["cheaper_infeasible"]:
        assert rival["npc_vnd"] < best["npc_vnd"] and rival["violates"]
    for rival in why["next_feasible"]:
        assert rival["npc_vnd"] >= best["npc_vnd"] and not rival["violates"]
    assert best["saving_vs_diesel_vnd"] == pytest.approx(
        data["diesel_only"]["npc_vnd"] - best["npc_vnd"])
    sens = data["sensitivity"]
    assert set(sens["fuel_price"]) == {"0.75", "1.25"}
    # the winner against the programme's targets, at P50 and P90 (one year: the same)
    for name in ("saidi_minutes", "saifi_count"):
        row = best["targets"][name]
        assert row["p50"] == row["p90"] == pytest.approx(best[name])
        assert row["meets_p90"] == (row["p90"] <= row["target"])
    json.dumps(data)  # plain JSON


def test_apply_design_keeps_ratios() -> None:
    site = parse_site(tomllib.loads(SHRIMP.read_text(encoding="utf-8")), SHRIMP.parent, SHRIMP)
    assert site.pv is not None and site.battery is not None and site.inverter is not None
    old_kwp, b, inv = site.pv.kwp, site.battery.model_copy(), site.inverter.model_copy()
    assert (old_kwp, b.kwh, inv.kw) != (100, 320, 30)  # the design below changes every size
    new = apply_design(site, {"kwp": 100, "kwh": 320, "inverter_kw": 30, "generator_kw": 0})
    assert new.pv is not None and new.battery is not None and new.inverter is not None
    assert new.pv.kwp == 100 and new.battery.kwh == 320
    assert new.battery.max_charge_kw == pytest.approx(320 * b.max_charge_kw / b.kwh)
    assert new.battery.max_discharge_kw == pytest.approx(320 * b.max_discharge_kw / b.kwh)
    assert new.inverter.surge_kw == pytest.approx(30 * inv.surge_kw / inv.kw)
    assert new.generator is None
    # The site itself is unchanged.
    assert site.generator is not None and site.pv.kwp == old_kwp
    assert site.battery == b and site.inverter == inv


# --------------------------------------------------------------------------- the command


SMALL_SEARCH = """[search]
kwp = { min = 1.0, max = 3.0, step = 0.5 }
kwh = { min = 2, max = 10, step = 2 }
inverter_kw = { min = 1, max = 2, step = 0.5 }
max_unmet_fraction = 0.01
max_critical_unmet_fraction = 0.01
max_saidi_minutes = 300
"""


def home_with_search(tmp_path: Path, search: str = SMALL_SEARCH) -> Path:
    text = HOME.read_text(encoding="utf-8")
    start, end = text.index("[search]"), text.index("[api]")
    path = tmp_path / "home.toml"
    path.write_text(text[:start] + search + "\n" + text[end:], encoding="utf-8")
    return path


def test_optimize_json_and_write_site(tmp_path: Path) -> None:
    site_file = home_with_search(tmp_path)
    (tmp_path / "out").mkdir()
    out_file = tmp_path / "out" / "chosen.toml"
    res = CliRunner().invoke(app, ["size", "optimize", str(site_file), "--json",
                                   "--write-site", str(out_file)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {"best", "pareto", "evaluated", "elapsed_s"} <= set(data)
    growth = data["sensitivity"]["load_growth"]["20"]["designs_simulated"]
    assert data["years"] == 10  # [reliability] years by default
    assert data["evaluated"] == (5 * 5 * 3 + growth + 1) * 10
    assert data["candidates"] == 5 * 5 * 3
    best = data["best"]["design"]
    # The written file holds the chosen sizes, validates, and keeps every comment of the
    # original (and the rest of its text).
    chosen = load_site(out_file)
    assert chosen.pv is not None and chosen.battery is not None and chosen.inverter is not None
    assert (chosen.pv.kwp, chosen.battery.kwh, chosen.inverter.kw) == (
        best["kwp"], best["kwh"], best["inverter_kw"])
    assert chosen.inverter.surge_kw == pytest.approx(2 * best["inverter_kw"])
    original = site_file.read_text(encoding="utf-8")
    written = out_file.read_text(encoding="utf-8")
    comments = [line.strip() for line in original.splitlines() if line.strip().startswith("#")]
    assert comments and all(c in written for c in comments)
    # Everything else is the same site (the database stays next to the site file it serves).
    sizes = {"pv", "battery", "inverter", "api"}
    assert chosen.model_dump(exclude=sizes) == load_site(site_file).model_dump(exclude=sizes)


def test_optimize_bad_search_is_a_clear_error(tmp_path: Path) -> None:
    huge = SMALL_SEARCH.replace("step = 0.5 }", "step = 0.001 }").replace(
        "max_saidi_minutes = 300", "max_saidi_minutes = 300\nmax_candidates = 10000")
    res = CliRunner().invoke(app, ["size", "optimize", str(home_with_search(tmp_path, huge))])
    assert res.exit_code == 2
    assert "candidates" in res.stderr and "max_candidates = 10,000" in res.stderr
    assert "Traceback" not in res.output
    negative = SMALL_SEARCH.replace("min = 1.0", "min = -1.0")
    res = CliRunner().invoke(app, ["size", "optimize", str(home_with_search(tmp_path, negative))])
    assert res.exit_code == 2
    assert "search.kwp.min" in res.stderr


def test_optimize_infeasible_reports_why(tmp_path: Path) -> None:
    strict = SMALL_SEARCH.replace("max_unmet_fraction = 0.01", "max_unmet_fraction = 0").replace(
        "kwp = { min = 1.0, max = 3.0, step = 0.5 }", "kwp = { min = 0.2, max = 0.4, step = 0.2 }")
    res = CliRunner().invoke(app, ["size", "optimize", str(home_with_search(tmp_path, strict)),
                                   "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["best"] is None
    message = next(w for w in data["warnings"] if "no design in the search" in w)
    # it says which constraint no design meets, and the best any design reaches
    assert "max_unmet_fraction: 0 of 30 designs meet 0 at P90" in message


def test_write_site_moves_relative_files(tmp_path: Path) -> None:
    """A site file written to another folder still finds its load profile."""
    src = tmp_path / "a"
    src.mkdir()
    (src / "pump.csv").write_text("kw\n" + "0.01\n" * 8760, encoding="utf-8")
    site_file = home_with_search(src)
    text = site_file.read_text(encoding="utf-8")
    text = text.replace('[[loads]]\nname = "water-pump"',
                        '[[loads]]\nname = "well"\nkind = "profile"\nprofile = "pump.csv"\n\n'
                        '[[loads]]\nname = "water-pump"', 1)
    site_file.write_text(text, encoding="utf-8")
    target = tmp_path / "b" / "c" / "chosen.toml"
    target.parent.mkdir(parents=True)
    res = CliRunner().invoke(app, ["size", "optimize", str(site_file), "--json",
                                   "--write-site", str(target)])
    assert res.exit_code == 0, res.output
    assert 'profile = "../../a/pump.csv"' in target.read_text(encoding="utf-8")
    chosen = load_site(target)
    assert any(getattr(load, "profile", None) == (src / "pump.csv").resolve()
               for load in chosen.loads)


def test_progress_reaches_its_total() -> None:
    calls: list[tuple[int, int]] = []
    site = small_home()
    result = optimize(site, read_inputs(site, 2),
                      progress=lambda done, total: calls.append((done, total)))
    done = [c[0] for c in calls]
    assert done == sorted(done) and calls[-1][0] == calls[-1][1]
    assert calls[0][1] == 2 * len(result.grid.designs)  # the search first, then the what-ifs
    assert calls[-1][1] == result.evaluated - 2  # all but the baseline's two years


def test_a_motor_that_cannot_start_rules_a_design_out(searched: tuple[Site, Result]) -> None:
    site, result = searched
    d, ratio = result.grid.designs, result.perf.motor_start_ratio
    weather = read_inputs(site, 1).weather[0]
    index = pd.DatetimeIndex(weather.index)
    loads = build_loads(engine_site(site), index, {})
    hour = index.hour + index.minute / 60

    def highest_kw(load: str, start_h: float, end_h: float) -> float:
        """``load``'s highest step in the daily window [start_h, end_h)."""
        window = (hour >= start_h) & (hour < end_h)
        return float(loads.load_kw[loads.names.index(load)][window].max())

    if site.site.name == "Con Dao household":
        # The 0.37 kW well pump starts direct on line at 6 × = 2.22 kW, in its 08–16 h window,
        # beside the house (fans and the fridge then: a few hundred watts at most); a 1 kW
        # inverter surges 2 kW: the pump could never start, whatever else is off.
        house_kw = highest_kw("house", 8, 16)
        assert 0 < house_kw < 0.3
        small = d.inverter_kw == 1
        assert np.allclose(ratio[small], (2.22 + house_kw) / 2.0)
        assert not result.feasible[small].any()
        assert result.best is not None and d.inverter_kw[result.best] == 2
        assert "motor_start_surge" in result_json(result)["why"]["limits"]
    else:
        # The farm's largest start is the 3 kW exchange pump (3 × 6 = 18 kW), in its 09–16 h
        # window, on top of what runs then: half of the 6 × 1.5 kW aerators (4.5 kW) and the
        # farmhouse at its highest hour in that window; the inverters surge 2 ×.
        farmhouse_kw = highest_kw("farmhouse", 9, 16)
        assert 0 < farmhouse_kw < 3  # a rural home
        for kw in (12, 18):
            assert np.allclose(ratio[d.inverter_kw == kw], (18 + 4.5 + farmhouse_kw) / (2 * kw))


def test_the_optimiser_and_the_engine_make_one_motor_start_check(
        searched: tuple[Site, Result]) -> None:
    """The winner's start ratio in the search is the engine's check of the same design over the
    same years: the report's "why" and its warnings cannot disagree."""
    site, result = searched
    assert result.best is not None
    design = design_dict(result.grid.designs, result.best)
    sim = simulate.simulate(apply_design(site, design), read_inputs(site, 1))
    m = sim.motor_start
    assert m is not None
    assert result.perf.motor_start_ratio[result.best] == pytest.approx(
        (m["start_kw"] + m["running_kw"]) / m["surge_kw"], rel=1e-3)
    assert m["ok"] is bool(result.perf.motor_start_ratio[result.best] <= 1)
