"""The site, its live status, its devices and their points."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api import data
from api.deps import ApiContext, Ctx, Viewer
from api.schemas import (
    AlarmPublic,
    DevicePublic,
    FigurePublic,
    LoadStatePublic,
    PointPublic,
    StatusPublic,
)
from api.summary import FIGURES, SITE, figure_sources, figures, load_states
from controller import store

router = APIRouter(prefix="/api/v1", tags=["site"])

PointsOpt = Annotated[bool, Query(description="include every device point (false: only the "
                                  "site figures, loads and alarms; light on a slow link)")]


@router.get("/site", summary="Site information and a configuration summary")
async def site_info(ctx: Ctx, _: Viewer) -> dict[str, Any]:
    s = ctx.site
    thresholds = data.guarded(lambda: store.read_state(ctx.conn, "thresholds")) or {}
    control = s.control.model_dump(mode="json")
    control.update({k: v for k, v in thresholds.items() if k in control})
    stored = {(r["device"], r["point"]) for r in data.guarded(lambda: store.read_latest(ctx.conn))
              if r["device"] == SITE}
    return {
        "name": s.site.name, "latitude": s.site.latitude, "longitude": s.site.longitude,
        "timezone": s.site.timezone,
        "pv_kwp": s.pv.kwp if s.pv else None,
        "battery_kwh": s.battery.kwh if s.battery else None,
        "battery_chemistry": s.battery.chemistry if s.battery else None,
        "inverter_kw": s.inverter.kw if s.inverter else None,
        "generator_kw": s.generator.kw if s.generator else None,
        "loads": [{"name": ld.name, "kind": ld.kind, "critical": ld.critical,
                   "priority": ld.priority, "switchable": ld.switch is not None}
                  for ld in s.loads],
        "devices": [{"name": d.name, "driver": d.driver, "bus": d.bus, "unit_id": d.unit_id}
                    for d in s.devices],
        "control": control,
        "figures": {name: [f"{dev}/{pt}" for dev, pt, _ in figure_sources(s, name, stored)]
                    for name in FIGURES},
    }


def status_now(ctx: ApiContext) -> StatusPublic:
    """The live status (also what the event stream sends)."""
    now = time.time()
    latest = data.guarded(lambda: store.read_latest(ctx.conn))
    alarms = data.guarded(lambda: store.read_active_alarms(ctx.conn))
    overrides = data.guarded(lambda: store.read_state(ctx.conn, "overrides")) or {}
    gen_state = data.guarded(lambda: store.read_state(ctx.conn, "generator")) or {}
    figs = {k: FigurePublic(**f.public(now)) for k, f in figures(ctx.site, latest).items()}
    loads = []
    for item in load_states(ctx.site, latest):
        ov = overrides.get(item["name"]) if isinstance(overrides, dict) else None
        loads.append(LoadStatePublic(**item, override=ov if isinstance(ov, dict) else None))
    points = [PointPublic(**r, age_s=max(0.0, now - r["ts"])) for r in latest]
    mode = gen_state.get("mode") if isinstance(gen_state, dict) else None
    return StatusPublic(now=now, site=ctx.site.site.name, soc_pct=figs["soc_pct"], figures=figs,
                        loads=loads, points=points,
                        active_alarms=[AlarmPublic(**a, active=True) for a in alarms],
                        generator_mode=mode if isinstance(mode, str) else None)


@router.get("/status", response_model=StatusPublic,
            summary="Live status: site figures, loads, every point with quality and age")
async def status(ctx: Ctx, _: Viewer, points: PointsOpt = True) -> StatusPublic:
    status = status_now(ctx)
    return status if points else status.model_copy(update={"points": []})


@router.get("/devices", response_model=list[DevicePublic],
            summary="Devices and their communication health")
async def devices(ctx: Ctx, _: Viewer) -> list[DevicePublic]:
    now = time.time()
    latest = data.guarded(lambda: store.read_latest(ctx.conn))
    alarms = data.guarded(lambda: store.read_active_alarms(ctx.conn))
    stale_s = ctx.site.control.stale_after_s
    out = []
    for d in ctx.site.devices:
        rows = [r for r in latest if r["device"] == d.name]
        good = [r for r in rows if r["quality"] == "good"]
        last = max((r["ts"] for r in rows), default=None)
        age = None if last is None else max(0.0, now - last)
        alarm = next((a["message"] for a in alarms
                      if a["kind"] == "device_offline" and a["source"] == d.name), None)
        if not rows:
            health = "unknown"
        elif alarm is not None or not good:
            health = "offline"
        elif age is not None and age > stale_s:
            health = "stale"
        else:
            health = "online"
        out.append(DevicePublic(name=d.name, driver=d.driver, bus=d.bus, unit_id=d.unit_id,
                                poll_s=d.poll_s, health=health, last_good_ts=last, age_s=age,
                                points=len(rows), points_good=len(good), alarm=alarm))
    return out


@router.get("/points", response_model=list[PointPublic],
            summary="Every point the controller stores, with its latest value")
async def points(ctx: Ctx, _: Viewer) -> list[PointPublic]:
    return status_now(ctx).points
