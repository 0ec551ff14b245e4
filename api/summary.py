"""The site as the API shows it: pure functions over the ``latest`` rows.

Site figures are computed once, by the controller, and published under the pseudo-device
``site`` (:data:`store.contract.SITE_FIGURES`); here they are only looked up. Load states come
from the relay channels the site file names for each switchable load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sitefile import AeratorLoad, Load, Site
from store.contract import QUALITY_ORDER, SITE_FIGURES, SITE_SOURCE, Quality


@dataclass(frozen=True)
class Figure:
    """A site figure now: value, quality, time of the controller's last good value."""

    value: float | None
    quality: str
    ts: float | None
    sources: tuple[str, ...]

    def public(self, now_s: float) -> dict[str, Any]:
        """As JSON: value, quality, ts and age [s]."""
        age = None if self.ts is None else max(0.0, now_s - self.ts)
        return {"value": self.value, "quality": self.quality, "ts": self.ts, "age_s": age,
                "sources": list(self.sources)}


def worst(qualities: Iterable[str]) -> Quality:
    """The worst of some qualities (``missing`` when there are none)."""
    missing = QUALITY_ORDER.index("missing")
    ranks = [QUALITY_ORDER.index(q) if q in QUALITY_ORDER else missing for q in qualities]
    return QUALITY_ORDER[max(ranks, default=missing)]


def figure_source(name: str) -> str:
    """Where a site figure is stored: ``site/<name>``."""
    return f"{SITE_SOURCE}/{name}"


def figures(latest: Iterable[Mapping[str, Any]]) -> dict[str, Figure]:
    """Every site figure from the ``latest`` rows of device ``site`` (missing when the
    controller has not published it)."""
    rows = {str(r["point"]): r for r in latest if r["device"] == SITE_SOURCE}
    out = {}
    for name in SITE_FIGURES:
        row = rows.get(name)
        out[name] = (Figure(None, "missing", None, ()) if row is None else
                     Figure(None if row["value"] is None else float(row["value"]),
                            str(row["quality"]), float(row["ts"]), (figure_source(name),)))
    return out


def tank_info(site: Site) -> dict[str, float] | None:
    """The site's water tank for the dashboard's gauge (``/api/v1/site`` ``tank``): volume
    ``m3`` [m³] from empty to full, ``height_m`` [m], the reserve ``min_level_pct`` and the
    high-level stop ``max_level_pct`` [%]; None when the site has no tank."""
    t = site.tank
    if t is None:
        return None
    return {"m3": t.m3, "height_m": t.height_m, "min_level_pct": t.min_level_pct,
            "max_level_pct": t.max_level_pct}


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


HEARTBEAT_MARGIN_S = 1.0
"""Slack on top of two cycle periods before a heartbeat counts as old [s]: a cycle's own
duration (RS485 polls) delays the write of its heartbeat."""


def controller_liveness(heartbeat: Any, cycle_s: float, now_s: float) -> dict[str, Any]:
    """Whether the controller runs, from its ``heartbeat`` state (``{"ts", "cycle_s"}``, or
    None): running while the heartbeat is younger than two cycle periods and
    :data:`HEARTBEAT_MARGIN_S`. The heartbeat's own ``cycle_s`` wins over the site file's."""
    beat = heartbeat if isinstance(heartbeat, dict) else {}
    ts = beat.get("ts")
    period = beat.get("cycle_s")
    period_s = float(period) if isinstance(period, int | float) else cycle_s
    stale_after = 2 * period_s + HEARTBEAT_MARGIN_S
    beat_ts = float(ts) if isinstance(ts, int | float) else None
    age = None if beat_ts is None else max(0.0, now_s - beat_ts)
    return {"running": age is not None and age < stale_after, "heartbeat_ts": beat_ts,
            "age_s": age, "stale_after_s": stale_after}
