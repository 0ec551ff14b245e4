"""The design optimiser: every candidate of the ``[search]`` grid, dispatched and costed.

Candidates are kWp × battery kWh × inverter kW × generator kW (0 = none). All of them run
through the sizing engine's compiled dispatch kernel (:func:`sizing.dispatch.dispatch_many`) for
each weather year; the winner is the feasible design of lowest net present cost. Feasible means
every constraint of ``[search]`` holds in every weather year (the worst year decides).

Besides the winner the result explains itself (unlike HOMER): the constraint that binds, the
nearest rivals, the Pareto front of NPC against unmet energy, and a warning when the winner sits
on the edge of a search range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sizing.economics import Designs, Operation
from sizing.errors import SizingError
from sizing.site import Range, Site

DIMENSIONS = ("kwp", "kwh", "inverter_kw", "generator_kw")
LABELS = {"kwp": "PV kWp", "kwh": "battery kWh", "inverter_kw": "inverter kW",
          "generator_kw": "generator kW"}
# Memory per candidate while searching (design arrays, per-year summaries, costs) [bytes].
BYTES_PER_CANDIDATE = 1200
MAX_SEARCH_BYTES = 1_500_000_000


class SearchError(SizingError):
    """A ``[search]`` section that cannot be searched (no range, empty, or too many candidates)."""


# --------------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class Grid:
    """The candidate designs, and the values searched along each dimension."""

    designs: Designs
    axes: dict[str, np.ndarray]
    searched: dict[str, bool]  # True where the dimension comes from a [search] range


def _range_values(r: Range) -> np.ndarray:
    """The values of a search range, rounded to shed float noise."""
    return np.round(r.min + r.step * np.arange(r.count), 9)


def _fixed_value(site: Site, dim: str) -> float | None:
    """The site's own size along ``dim``, used when ``[search]`` has no range for it."""
    if dim == "kwp":
        return site.pv.kwp if site.pv else None
    if dim == "kwh":
        return site.battery.kwh if site.battery else None
    if dim == "inverter_kw":
        return site.inverter.kw if site.inverter else None
    return site.generator.kw if site.generator else 0.0


def build_grid(site: Site) -> Grid:
    """All candidate designs of ``site``'s ``[search]`` ranges (full factorial).

    Raises :class:`SearchError` when there is no ``[search]``, when a dimension has neither a
    range nor a size in the site, when no candidate could supply energy, or when the grid holds
    more candidates than ``search.max_candidates`` or than memory allows.
    """
    search = site.search
    if search is None:
        raise SearchError("section [search] is required: give ranges such as "
                          "kwp = { min = 1, max = 10, step = 1 }")
    axes: dict[str, np.ndarray] = {}
    searched: dict[str, bool] = {}
    for dim in DIMENSIONS:
        rng: Range | None = getattr(search, dim)
        if rng is not None:
            axes[dim] = _range_values(rng)
            searched[dim] = True
            continue
        fixed = _fixed_value(site, dim)
        if fixed is None:
            raise SearchError(f"search.{dim}: no range given and the site has no size for it; "
                              f"add {dim} = {{ min = …, max = …, step = … }} to [search]")
        axes[dim] = np.array([float(fixed)])
        searched[dim] = False
    if not any(searched.values()):
        raise SearchError("[search] has no range: give at least one of "
                          + ", ".join(f"search.{d}" for d in DIMENSIONS))
    if axes["inverter_kw"].max() <= 0:
        raise SearchError("search.inverter_kw: every candidate has a 0 kW inverter, so no load "
                          "can be served; raise its max")
    if axes["kwp"].max() <= 0 and axes["generator_kw"].max() <= 0:
        raise SearchError("search.kwp and search.generator_kw are both 0 for every candidate: "
                          "nothing would produce energy")
    counts = {d: len(v) for d, v in axes.items()}
    total = int(np.prod(list(counts.values())))
    detail = " × ".join(f"{counts[d]} {d}" for d in DIMENSIONS)
    if total > search.max_candidates:
        raise SearchError(
            f"[search] holds {total:,} candidates ({detail}), more than search.max_candidates "
            f"= {search.max_candidates:,}; use larger steps or narrower ranges")
    if total * BYTES_PER_CANDIDATE > MAX_SEARCH_BYTES:
        raise SearchError(
            f"[search] holds {total:,} candidates ({detail}): about "
            f"{total * BYTES_PER_CANDIDATE / 1e9:.1f} GB, too much for memory; use larger steps")
    mesh = np.meshgrid(*(axes[d] for d in DIMENSIONS), indexing="ij")
    designs = Designs(*(m.ravel().astype(float) for m in mesh))
    return Grid(designs, axes, searched)


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Performance:
    """What each design does over the weather years: the worst year and the mean year."""

    unmet_fraction: np.ndarray  # worst year [0-1]
    critical_unmet_fraction: np.ndarray  # worst year [0-1]
    saidi_minutes: np.ndarray  # worst year [min/year]
    unmet_kwh: np.ndarray  # mean year [kWh/year]
    operation: Operation  # mean year, for the economics


def constraint_values(site: Site, perf: Performance) -> dict[str, tuple[np.ndarray, float]]:
    """Each active constraint: the designs' values and the limit they must not exceed."""
    search = site.search
    assert search is not None
    out = {
        "max_unmet_fraction": (perf.unmet_fraction, search.max_unmet_fraction),
        "max_critical_unmet_fraction": (perf.critical_unmet_fraction,
                                        search.max_critical_unmet_fraction),
    }
    if search.max_saidi_minutes is not None:
        out["max_saidi_minutes"] = (perf.saidi_minutes, search.max_saidi_minutes)
    return out


def feasible_mask(site: Site, perf: Performance) -> np.ndarray:
    """True for the designs that meet every constraint."""
    ok = np.ones(len(perf.unmet_fraction), dtype=bool)
    for values, limit in constraint_values(site, perf).values():
        ok &= values <= limit + 1e-12
    return ok


def pareto_front(npc: np.ndarray, unmet: np.ndarray) -> np.ndarray:
    """Indices of the designs not beaten on both NPC and unmet energy, by rising NPC."""
    order = np.lexsort((unmet, npc))
    best = np.minimum.accumulate(unmet[order])
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = unmet[order][1:] < best[:-1] - 1e-12
    return order[keep]


def edge_warnings(grid: Grid, design: Designs) -> list[str]:
    """Warnings for a winner on the edge of a searched range (the classic HOMER mistake)."""
    warnings = []
    for dim in DIMENSIONS:
        values = grid.axes[dim]
        if not grid.searched[dim] or len(values) < 2:
            continue
        v = float(getattr(design, dim)[0])
        if np.isclose(v, values[-1]):
            warnings.append(f"the best {LABELS[dim]} ({v:g}) is the top of its search range: "
                            f"widen search.{dim}.max, a larger size may be cheaper")
        elif np.isclose(v, values[0]) and values[0] > 0:
            warnings.append(f"the best {LABELS[dim]} ({v:g}) is the bottom of its search range: "
                            f"lower search.{dim}.min, a smaller size may be cheaper")
    return warnings


def design_dict(d: Designs, i: int) -> dict[str, float]:
    """One design as a plain mapping of its sizes."""
    return {dim: float(getattr(d, dim)[i]) for dim in DIMENSIONS}


def explain(site: Site, designs: Designs, perf: Performance, *, npc: np.ndarray,
            ok: np.ndarray, best: int, n_rivals: int = 3) -> dict[str, Any]:
    """Why ``best`` won: its binding constraint, the next feasible designs, and the cheaper
    designs that fail (with the constraint each breaks)."""
    cons = constraint_values(site, perf)
    slack = {}
    for name, (values, limit) in cons.items():
        v = float(values[best])
        slack[name] = (1.0 - v / limit) if limit > 0 else (0.0 if v <= 0 else -1.0)
    binding = min(slack, key=lambda k: slack[k])
    order = np.argsort(npc, kind="stable")
    feasible_after = [int(i) for i in order if ok[i] and i != best and npc[i] >= npc[best]]
    cheaper = [int(i) for i in order[::-1] if not ok[i] and npc[i] < npc[best]]

    def rival(i: int) -> dict[str, Any]:
        broken = [name for name, (values, limit) in cons.items()
                  if values[i] > limit + 1e-12]
        return {"design": design_dict(designs, i), "npc_vnd": float(npc[i]),
                "npc_delta_vnd": float(npc[i] - npc[best]),
                "unmet_fraction": float(perf.unmet_fraction[i]),
                "critical_unmet_fraction": float(perf.critical_unmet_fraction[i]),
                "saidi_minutes": float(perf.saidi_minutes[i]), "violates": broken}

    return {
        "binding_constraint": binding,
        "values": {name: float(values[best]) for name, (values, _) in cons.items()},
        "limits": {name: float(limit) for name, (_, limit) in cons.items()},
        "slack": slack,
        "next_feasible": [rival(i) for i in feasible_after[:n_rivals]],
        "cheaper_infeasible": [rival(i) for i in cheaper[:n_rivals]],
    }
