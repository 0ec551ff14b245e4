"""Alarms (active and past) and the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api import data
from api.deps import Ctx, Viewer
from api.schemas import AlarmPublic, EventPublic
from api.timerange import to_epoch
from controller import store

router = APIRouter(prefix="/api/v1", tags=["alarms"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Since = Annotated[datetime | None, Query(description="ISO 8601; naive = UTC")]


@router.get("/alarms", response_model=list[AlarmPublic],
            summary="Alarms, newest first; active=true for active ones only")
async def alarms(ctx: Ctx, _: Viewer, active: bool | None = None, since: Since = None,
                 limit: Limit = 200) -> list[dict[str, Any]]:
    since_ts = 0.0 if since is None else to_epoch(since)
    if active:
        rows = data.guarded(lambda: store.read_active_alarms(ctx.conn))
        rows = [{**r, "active": True} for r in reversed(rows) if r["raised_ts"] >= since_ts]
        return rows[:limit]
    if active is False:
        rows = data.guarded(lambda: data.past_alarms(ctx.conn, since_ts, limit))
    else:
        rows = data.guarded(lambda: store.read_alarms(ctx.conn, since_ts=since_ts, limit=limit))
    return [{**r, "active": bool(r["active"])} for r in rows]


@router.get("/events", response_model=list[EventPublic], summary="The event log, newest first")
async def events(ctx: Ctx, _: Viewer, since: Since = None,
                 limit: Limit = 200) -> list[dict[str, Any]]:
    since_ts = 0.0 if since is None else to_epoch(since)
    return data.guarded(lambda: store.read_events(ctx.conn, since_ts=since_ts, limit=limit))
