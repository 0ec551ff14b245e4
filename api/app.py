"""The FastAPI application: ``create_app(settings, site)`` wires routes, auth and the dashboard.

Configuration is passed in (no environment reads); tests override :func:`api.deps.get_context`
or build the app with their own settings.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import GZipMiddleware

from api import keys
from api.deps import ApiContext, Viewer
from api.errors import install_handlers
from api.middleware import BodyLimitAndMetrics
from api.ratelimit import RateLimiter
from api.routes import alarms, commands, customer, history, site, stream, system
from api.routes import keys as key_routes
from api.settings import ApiSettings
from sitefile import Site

STATIC = Path(__file__).parent / "static"


def _finite(value: Any) -> Any:
    """``value`` with every infinite or NaN float replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


class FiniteJSONResponse(JSONResponse):
    """JSON responses in which a non-finite number from the store is null (JSON has no
    infinities, and refusing them would be a server error)."""

    def render(self, content: Any) -> bytes:
        return super().render(_finite(content))


def create_app(settings: ApiSettings, site_: Site) -> FastAPI:
    """The app for one site; opens (and if needed creates) the site database."""
    conn = keys.connect(settings.database)
    ctx = ApiContext(settings=settings, site=site_, conn=conn,
                     verifier=keys.KeyVerifier(conn, settings.database),
                     limiter=RateLimiter(settings.rate_limit_per_min, settings.rate_burst),
                     clock=time.monotonic)

    async def write_last_used() -> None:
        v = ctx.verifier
        v.keep_last_used(await run_in_threadpool(v.write_last_used, v.take_last_used()))

    async def write_last_used_forever() -> None:
        while True:
            await asyncio.sleep(keys.LAST_USED_EVERY_S)
            await write_last_used()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(write_last_used_forever())
        yield
        task.cancel()
        await write_last_used()
        conn.close()

    app = FastAPI(title="offgrid monitoring API", version="1",
                  summary=f"Live status, history, alarms and commands for {site_.site.name}",
                  lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None,
                  default_response_class=FiniteJSONResponse)
    app.state.ctx = ctx
    install_handlers(app)
    for module in (system, site, history, alarms, commands, stream, key_routes, customer):
        app.include_router(module.router)
    app.include_router(key_routes.me_router)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(_: Viewer) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(BodyLimitAndMetrics, max_body_bytes=settings.max_body_bytes,
                       metrics=ctx.metrics)
    return app
