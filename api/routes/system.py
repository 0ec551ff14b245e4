"""Outside ``/api/v1``: ``/healthz`` (no key) and ``/metrics`` (Prometheus text, any key)."""

from __future__ import annotations

import sqlite3
import time

from fastapi import APIRouter, Response

from api import data, metrics
from api.deps import Ctx, Viewer
from api.schemas import ControllerPublic, Health, iso
from api.summary import controller_liveness, figures
from store import commands, readers
from store.errors import StoreError

router = APIRouter(tags=["system"])


@router.get("/healthz", response_model=Health, summary="Liveness and database health (no key)")
async def healthz(ctx: Ctx, response: Response) -> Health:
    """200 ``ok`` while the database reads and the controller's heartbeat is fresh; 503
    ``controller not running`` when the heartbeat is old (or was never written), 503
    ``degraded`` when the database cannot be read."""
    try:
        last = readers.read_last_sample_ts(ctx.conn)
        version = readers.applied_migrations(ctx.conn)[-1:]
        beat = readers.read_state(ctx.conn, "heartbeat")
    except (sqlite3.Error, StoreError):
        response.status_code = 503
        return Health(status="degraded", database="unavailable", last_sample=None,
                      last_sample_age_s=None)
    now = ctx.wall()
    age = None if last is None else max(0.0, now - last)
    controller = ControllerPublic(**controller_liveness(beat, ctx.site.control.cycle_s, now))
    if not controller.running:
        response.status_code = 503
    return Health(status="ok" if controller.running else "controller not running",
                  database="ok", last_sample=iso(last), last_sample_age_s=age,
                  schema_version=version[0] if version else None, controller=controller)


@router.get("/metrics", summary="Prometheus metrics (text format 0.0.4)",
            response_class=Response, responses={200: {"content": {metrics.CONTENT_TYPE: {}}}})
async def prometheus(ctx: Ctx, _: Viewer) -> Response:
    now = time.time()
    latest = data.guarded(lambda: readers.read_latest(ctx.conn))
    alarms = data.guarded(lambda: readers.read_active_alarms(ctx.conn))
    devices = data.guarded(lambda: readers.read_devices(ctx.conn))
    pending = data.guarded(lambda: commands.read_commands(ctx.conn, status="pending",
                                                          limit=1000))
    text = ctx.metrics.render()
    text += metrics.family(
        "offgrid_point_value", "gauge", "latest value of each device point",
        (({"device": r["device"], "point": r["point"], "quality": r["quality"]}, r["value"])
         for r in latest if r["value"] is not None))
    text += metrics.family(
        "offgrid_point_age_seconds", "gauge", "age of each point's last good read",
        (({"device": r["device"], "point": r["point"]}, max(0.0, now - r["ts"])) for r in latest))
    figs = figures(latest)
    text += metrics.family(
        "offgrid_site_value", "gauge", "site-wide figures (pv_w, load_w, soc_pct, do_mg_l, ...)",
        (({"figure": k}, float(f.value)) for k, f in figs.items() if f.value is not None))
    text += metrics.family(
        "offgrid_device_online", "gauge", "1 if the device answered its last poll",
        (({"device": d["device"]}, float(d["online"])) for d in devices))
    text += metrics.family("offgrid_alarms_active", "gauge", "active alarms",
                           [({}, len(alarms))])
    text += metrics.family("offgrid_commands_pending", "gauge", "commands not yet acknowledged",
                           [({}, len(pending))])
    return Response(text, media_type=metrics.CONTENT_TYPE)
