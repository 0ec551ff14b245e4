"""The optimiser: search grid, constraints, Pareto front, edge warnings, and the winner."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sizing.errors import SiteFileError
from sizing.optimize import SearchError, build_grid, edge_warnings, pareto_front
from sizing.site import Site, parse_site
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
    assert set(grid.designs.inverter_kw) == {15}
    assert set(grid.designs.generator_kw) == {15}
    assert grid.searched == {"kwp": True, "kwh": True, "inverter_kw": False,
                             "generator_kw": False}


def test_float_steps_hit_max() -> None:
    site = site_with(HOME, kwp={"min": 0.4, "max": 3.2, "step": 0.2})
    assert build_grid(site).axes["kwp"][-1] == pytest.approx(3.2)
    assert len(build_grid(site).axes["kwp"]) == 15


def test_too_many_candidates() -> None:
    site = site_with(SHRIMP, kwp={"min": 0, "max": 1000, "step": 0.1},
                     kwh={"min": 0, "max": 1000, "step": 0.1}, max_candidates=1000)
    with pytest.raises(SearchError, match=r"100,020,001 candidates .*max_candidates = 1,000"):
        build_grid(site)


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
    warnings = edge_warnings(grid, top)
    assert len(warnings) == 1 and "PV kWp (40) is the top" in warnings[0]
    bottom = grid.designs.take(np.nonzero((grid.designs.kwp == 20) & (grid.designs.kwh == 0)
                                          & (grid.designs.generator_kw == 10))[0])
    warnings = edge_warnings(grid, bottom)
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
