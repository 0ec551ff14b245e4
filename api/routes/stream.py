"""Server-Sent Events: the live status, sent when it changes (and a heartbeat otherwise)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import Ctx, Viewer
from api.errors import RateLimited, StoreUnavailable
from api.routes.site import PointsOpt, status_now

router = APIRouter(prefix="/api/v1", tags=["stream"])

HEARTBEAT_S = 15.0
MAX_STREAMS_PER_KEY = 4
# Ages grow by themselves; a status is new when a value, quality or time stamp is.
UNCHANGING: Any = {"now": True, "soc_pct": {"age_s"}, "figures": {"__all__": {"age_s"}},
                   "points": {"__all__": {"age_s"}},
                   "controller": {"age_s", "heartbeat_ts"}}  # its `running` flipping is news


@router.get("/stream", summary="Live status as Server-Sent Events (event: status)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def stream(request: Request, ctx: Ctx, key: Viewer,
                 max_events: Annotated[int | None, Query(ge=1, le=100_000)] = None,
                 points: PointsOpt = True) -> StreamingResponse:
    """Sends ``event: status`` with the status JSON whenever it changes, checked every
    ``stream_interval_s``; the stream ends after ``stream_max_s`` or ``max_events`` events.
    A key may hold at most ``MAX_STREAMS_PER_KEY`` streams open at once (429 beyond)."""

    key_id = key.id
    if ctx.streams.get(key_id, 0) >= MAX_STREAMS_PER_KEY:
        raise RateLimited(ctx.settings.stream_interval_s * 5)
    ctx.streams[key_id] = ctx.streams.get(key_id, 0) + 1

    async def events() -> AsyncIterator[str]:
        try:
            async for chunk in _events():
                yield chunk
        finally:
            ctx.streams[key_id] -= 1

    async def _events() -> AsyncIterator[str]:
        yield f"retry: {int(ctx.settings.stream_interval_s * 2000)}\n\n"
        sent = 0
        last_body = ""
        last_sent = time.monotonic()
        end = last_sent + ctx.settings.stream_max_s
        while time.monotonic() < end:
            try:
                status = status_now(ctx)
            except StoreUnavailable as e:
                yield f"event: error\ndata: {e.detail}\n\n"
                status = None
            if status is not None:
                body = status.model_dump_json(exclude=UNCHANGING)
                if body != last_body:
                    last_body = body
                    sent += 1
                    last_sent = time.monotonic()
                    data = status.model_dump_json(exclude=None if points else {"points"})
                    yield f"id: {sent}\nevent: status\ndata: {data}\n\n"
                    if max_events is not None and sent >= max_events:
                        return
                elif time.monotonic() - last_sent >= HEARTBEAT_S:
                    last_sent = time.monotonic()
                    yield ": heartbeat\n\n"
            if await request.is_disconnected():
                return
            await asyncio.sleep(ctx.settings.stream_interval_s)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
