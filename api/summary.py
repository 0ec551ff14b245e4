"""Site-wide figures from per-device points: pure functions over the ``latest`` rows.

The controller stores points per device (``mppt-1/pv_w``, ``inverter/ac_w``, ``relays/relay_0``)
and its own site-wide view under the pseudo-device ``site`` (``site/soc_pct``: what it decides
on). A figure the controller publishes under ``site`` is taken from there; the others are made
here from device points, by driver, and their qualities combine (the worst one wins).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sitefile import AeratorLoad, Load, Site

QUALITY_ORDER = ("good", "stale", "invalid", "missing")
SITE = "site"

# Each site figure: (point name, drivers to take it from, how to combine, sign)
FIGURES: dict[str, tuple[tuple[str, tuple[str, ...], str, float], ...]] = {
    "pv_w": (("pv_w", ("epever_tracer",), "sum", 1.0),),
    "load_w": (("ac_w", ("sunspec",), "sum", 1.0), ("load_w", ("epever_tracer",), "sum", 1.0)),
    "battery_w": (("charge_w", ("epever_tracer",), "sum", 1.0),
                  ("dc_w", ("sunspec",), "sum", -1.0)),
    "soc_pct": (("soc_pct", ("sunspec",), "first", 1.0),),
    "do_mg_l": (("do_mg_l", ("do_sensor",), "min", 1.0),),
    "water_temp_c": (("water_temp_c", ("do_sensor",), "first", 1.0),),
    "generator_running": (("generator_running", ("generator",), "first", 1.0),),
    "fuel_pct": (("fuel_pct", ("generator",), "first", 1.0),),
}
# When the preferred source has no such point (a site without a SunSpec inverter), fall back.
FALLBACK: dict[str, tuple[str, tuple[str, ...], str, float]] = {
    "soc_pct": ("soc_pct", ("epever_tracer",), "first", 1.0),
}


@dataclass(frozen=True)
class Figure:
    """A site figure now: value, combined quality, time of its oldest input [UTC epoch s]."""

    value: float | None
    quality: str
    ts: float | None
    sources: tuple[str, ...]

    def public(self, now_s: float) -> dict[str, Any]:
        """As JSON: value, quality, ts and age [s]."""
        age = None if self.ts is None else max(0.0, now_s - self.ts)
        return {"value": self.value, "quality": self.quality, "ts": self.ts, "age_s": age,
                "sources": list(self.sources)}


def worst(qualities: Iterable[str]) -> str:
    """The worst of some qualities (``missing`` when there are none)."""
    ranks = [QUALITY_ORDER.index(q) if q in QUALITY_ORDER else 3 for q in qualities]
    return QUALITY_ORDER[max(ranks, default=3)]


def figure_sources(site: Site, name: str, stored: Container[tuple[str, str]] = ()
                   ) -> list[tuple[str, str, float]]:
    """The ``(device, point, sign)`` terms of a site figure: the controller's own ``site``
    point when ``stored`` has it, else the site's device points by driver."""
    if (SITE, name) in stored:
        return [(SITE, name, 1.0)]
    out: list[tuple[str, str, float]] = []
    for point, drivers, mode, sign in FIGURES[name]:
        terms = [(d.name, point, sign) for d in site.devices if d.driver in drivers]
        out += terms[:1] if mode == "first" else terms
    return out


def _combine(rows: Mapping[tuple[str, str], Mapping[str, Any]],
             terms: tuple[tuple[str, tuple[str, ...], str, float], ...], site: Site) -> Figure:
    values: list[float] = []
    quals: list[str] = []
    stamps: list[float] = []
    used: list[str] = []
    how = terms[0][2]
    for point, drivers, mode, sign in terms:
        for dev in (d for d in site.devices if d.driver in drivers):
            row = rows.get((dev.name, point))
            if row is None:
                if mode != "first":
                    quals.append("missing")
                continue
            used.append(f"{dev.name}/{point}")
            quals.append(str(row["quality"]))
            stamps.append(float(row["ts"]))
            if row["value"] is not None:
                values.append(sign * float(row["value"]))
            if mode == "first":
                break
    if not used:
        return Figure(None, "missing", None, ())
    if how == "min":
        value = min(values) if values else None
    elif how == "first":
        value = values[0] if values else None
    else:
        value = sum(values) if values else None
    return Figure(value, worst(quals), min(stamps) if stamps else None, tuple(used))


def figures(site: Site, latest: Iterable[Mapping[str, Any]]) -> dict[str, Figure]:
    """Every site figure from the ``latest`` rows."""
    rows = {(str(r["device"]), str(r["point"])): r for r in latest}
    out = {}
    for name, terms in FIGURES.items():
        own = rows.get((SITE, name))
        if own is not None:
            out[name] = Figure(None if own["value"] is None else float(own["value"]),
                               str(own["quality"]), float(own["ts"]), (f"{SITE}/{name}",))
            continue
        fig = _combine(rows, terms, site)
        if fig.quality == "missing" and name in FALLBACK:
            fig = _combine(rows, (FALLBACK[name],), site)
        out[name] = fig
    return out


def _units(load: Load) -> int:
    if load.switch is not None:
        return len(load.switch.channels)
    return load.units if isinstance(load, AeratorLoad) else 1


def load_states(site: Site, latest: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each switchable load: how many of its relay channels are closed, from the relay board."""
    rows = {(str(r["device"]), str(r["point"])): r for r in latest}
    out = []
    for load in site.loads:
        item: dict[str, Any] = {"name": load.name, "kind": load.kind, "critical": load.critical,
                                "priority": load.priority, "switchable": load.switch is not None,
                                "units": _units(load),
                                "units_on": None, "on": None, "quality": "missing"}
        if load.switch is not None:
            chans = [rows.get((load.switch.device, f"relay_{c}")) for c in load.switch.channels]
            known = [r for r in chans if r is not None and r["value"] is not None]
            item["quality"] = worst(str(r["quality"]) if r else "missing" for r in chans)
            if len(known) == len(chans):
                item["units_on"] = sum(1 for r in known if r["value"])
                item["on"] = item["units_on"] > 0
        out.append(item)
    return out
