"""The site, its live status, its devices and their points."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api import data
from api.deps import ApiContext, Ctx, Viewer
from api.schemas import (
    AlarmPublic,
    ControllerPublic,
    DevicePublic,
    FigurePublic,
    LoadStatePublic,
    PointPublic,
    StatusPublic,
)
from api.summary import controller_liveness, figure_source, figures, load_states, tank_info
from store import readers
from store.contract import SITE_FIGURES

router = APIRouter(prefix="/api/v1", tags=["site"])

PointsOpt = Annotated[bool, Query(description="include every device point (false: only the "
                                  "site figures, loads and alarms; light on a slow link)")]


@router.get("/site", summary="Site information and a configuration summary")
async def site_info(ctx: Ctx, _: Viewer) -> dict[str, Any]:
    s = ctx.site
    thresholds = data.guarded(lambda: readers.read_state(ctx.conn, "thresholds")) or {}
    control = s.control.model_dump(mode="json")
    control.update({k: v for k, v in thresholds.items() if k in control})
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
        "tank": tank_info(s),
        "figures": {name: [figure_source(name)] for name in SITE_FIGURES},
    }


def status_now(ctx: ApiContext) -> StatusPublic:
    """The live status (also what the event stream sends); ages are ages when read."""
    now = ctx.wall()
    latest = data.guarded(lambda: readers.read_latest(ctx.conn))
    alarms = data.guarded(lambda: readers.read_active_alarms(ctx.conn))
    overrides = data.guarded(lambda: readers.read_state(ctx.conn, "overrides")) or {}
    gen_state = data.guarded(lambda: readers.read_state(ctx.conn, "generator")) or {}
    beat = data.guarded(lambda: readers.read_state(ctx.conn, "heartbeat"))
    figs = {k: FigurePublic(**f.public(now)) for k, f in figures(latest).items()}
    loads = []
    for item in load_states(ctx.site, latest):
        ov = overrides.get(item["name"]) if isinstance(overrides, dict) else None
        loads.append(LoadStatePublic(**item, override=ov if isinstance(ov, dict) else None))
    points = [PointPublic(**r, age_s=max(0.0, now - r["ts"])) for r in latest]
    mode = gen_state.get("mode") if isinstance(gen_state, dict) else None
    return StatusPublic(now=now, site=ctx.site.site.name, soc_pct=figs["soc_pct"], figures=figs,
                        loads=loads, points=points,
                        active_alarms=[AlarmPublic(**a, active=True) for a in alarms],
                        generator_mode=mode if isinstance(mode, str) else None,
                        controller=ControllerPublic(**controller_liveness(
                            beat, ctx.site.control.cycle_s, now)))


@router.get("/status", response_model=StatusPublic,
            summary="Live status: site figures, loads, every point with quality and age")
async def status(ctx: Ctx, _: Viewer, points: PointsOpt = True) -> StatusPublic:
    status = status_now(ctx)
    return status if points else status.model_copy(update={"points": []})


@router.get("/devices", response_model=list[DevicePublic],
            summary="Devices and their communication health, as the controller last saw it")
async def devices(ctx: Ctx, _: Viewer) -> list[DevicePublic]:
    now = time.time()
    latest = data.guarded(lambda: readers.read_latest(ctx.conn))
    alarms = data.guarded(lambda: readers.read_active_alarms(ctx.conn))
    health = {h["device"]: h for h in data.guarded(lambda: readers.read_devices(ctx.conn))}
    out = []
    for d in ctx.site.devices:
        rows = [r for r in latest if r["device"] == d.name]
        h = health.get(d.name)
        alarm = next((a["message"] for a in alarms
                      if a["kind"] == "device_offline" and a["source"] == d.name), None)
        last_ok = None if h is None else h["last_ok_ts"]
        out.append(DevicePublic(
            name=d.name, driver=d.driver, bus=d.bus, unit_id=d.unit_id, poll_s=d.poll_s,
            health=device_health(h, now, ctx.site.control.stale_after_s),
            online=None if h is None else h["online"],
            last_poll_ts=None if h is None else h["last_poll_ts"], last_ok_ts=last_ok,
            age_s=None if last_ok is None else max(0.0, now - last_ok),
            error=None if h is None else h["error"], points=len(rows),
            points_good=sum(1 for r in rows if r["quality"] == "good"), alarm=alarm))
    return out


def device_health(row: Mapping[str, Any] | None, now_s: float, stale_after_s: float) -> str:
    """``unknown`` (the controller never polled it), ``stale`` (the controller has not
    reported on it for ``stale_after_s``: its health is not known now), ``online`` (it answered
    its last poll) or ``offline`` (it did not)."""
    if row is None:
        return "unknown"
    if now_s - row["updated_ts"] > stale_after_s:
        return "stale"
    return "online" if row["online"] else "offline"


@router.get("/points", response_model=list[PointPublic],
            summary="Every point the controller stores, with its latest value")
async def points(ctx: Ctx, _: Viewer) -> list[PointPublic]:
    return status_now(ctx).points
