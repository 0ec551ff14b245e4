"""Alarms (active and past) and the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api import data
from api.deps import Ctx, Viewer
from api.schemas import AlarmPublic, EventPublic
from api.timerange import to_epoch
from store import readers

router = APIRouter(prefix="/api/v1", tags=["alarms"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Since = Annotated[datetime | None, Query(description="ISO 8601; naive = UTC")]


@router.get("/alarms", response_model=list[AlarmPublic],
            summary="Alarms, newest first; active=true for active ones only")
async def alarms(ctx: Ctx, _: Viewer, active: bool | None = None, since: Since = None,
                 limit: Limit = 200) -> list[dict[str, Any]]:
    since_ts = 0.0 if since is None else to_epoch(since)
    return data.guarded(lambda: readers.read_alarms(ctx.conn, since_ts=since_ts, limit=limit,
                                                   active=active))


@router.get("/events", response_model=list[EventPublic], summary="The event log, newest first")
async def events(ctx: Ctx, _: Viewer, since: Since = None,
                 limit: Limit = 200) -> list[dict[str, Any]]:
    since_ts = 0.0 if since is None else to_epoch(since)
    return data.guarded(lambda: readers.read_events(ctx.conn, since_ts=since_ts, limit=limit))
