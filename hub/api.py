"""The fleet API and dashboard: every site in a key's scope, its figures, its reliability, and
commands to it.

A key comes as ``Authorization: Bearer KEY`` or ``X-API-Key: KEY`` (made by
``offgrid hub keys create``, see :mod:`hub.keys`). The roles are the site API's: a viewer reads,
an operator also sends commands, an admin also manages keys. A key sees only the sites of its
scope: any other site is 404, as if it did not exist. No key or a bad key is 401, a role too low
403, bad input 422; every error is JSON ``{"type", "title", "status", "detail", "instance"}``
(RFC 9457), as the site API answers.

Routes are thin: they read through :mod:`hub.fleet` and send through :mod:`hub.commands`. They
are plain functions, run in FastAPI's thread pool, each on a connection of the pool.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, ConfigDict, Field

import api.tokens
from api.errors import (
    ApiError,
    BadInput,
    Forbidden,
    NotFound,
    Unauthorized,
    install_handlers,
    problem,
)
from api.roles import Role
from fleetwire import topics
from fleetwire.messages import COMMAND_NAMES
from hub import commands as fleet_commands
from hub import fleet
from hub import keys as hub_keys
from hub.errors import HubError
from hub.keys import HubKey, KeyScope
from hub.schema import Conn

log = logging.getLogger("hub.api")

STATIC: Final = Path(__file__).parent / "static"
SITE_STATIC: Final = Path(api.tokens.__file__).parent / "static"
"""The site dashboard's files."""
SHARED_FILES: Final = frozenset({"charts.js", "http.js", "i18n.js", "style.css"})
"""The site dashboard's files the fleet dashboard serves as they are (its SVG charts, its
API call, its words and number formats, its style), under ``/site-static/``."""
SITE_PATTERN: Final = f"^{topics.SITE_ID.pattern}$"
"""A site id in a path (the wire's :data:`fleetwire.topics.SITE_ID`)."""
DEFAULT_CHANNELS: Final = ("soc_pct", "pv_w", "load_w", "do_mg_l")
SITE_FIGURE_PREFIX: Final = "site/"
"""A site figure's channel (the controller's ``site`` source; light simulated sites name
theirs the same way)."""
CHANNEL_PATTERN: Final = r"^[A-Za-z0-9_./-]{1,80}(,[A-Za-z0-9_./-]{1,80}){0,15}$"
MAX_SERIES_H: Final = 24 * 31
"""The longest window of one series request [h]."""


class BrokerUnavailable(ApiError):
    """This hub has no broker to send through, or cannot publish."""

    status = 503
    title = "Unavailable"


@dataclass(frozen=True, slots=True)
class HubApiSettings:
    """The fleet API's settings: its database, when a site counts as silent [s], the
    programme's time zone (months of reliability and energy), how long one keep-alive asks a
    site to send live values [s], and the connection pool's size."""

    dsn: str
    silent_after_s: float = 1800.0
    tz: str = "Asia/Ho_Chi_Minh"
    live_for_s: float = 60.0
    pool_size: int = 4


@dataclass
class HubContext:
    """What every route uses: the settings, the pool, the MQTT client that sends commands and
    keep-alives (None: this hub only reads), and the clock."""

    settings: HubApiSettings
    pool: ConnectionPool[Conn]
    sender: mqtt.Client | None = None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    @contextmanager
    def conn(self) -> Iterator[Conn]:
        """A connection of the pool."""
        with self.pool.connection() as c:
            yield c


def _jsonable(value: Any) -> Any:
    """``value`` as JSON: dataclasses as objects, datetimes as ISO 8601 (UTC), tuples and sets
    as lists, enums as their value, NaN and infinities as null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


class Json(JSONResponse):
    """JSON that also takes the readers' dataclasses and datetimes."""

    def render(self, content: Any) -> bytes:
        return super().render(_jsonable(content))


def get_context(request: Request) -> HubContext:
    """The app's context."""
    ctx: HubContext = request.app.state.ctx
    return ctx


Ctx = Annotated[HubContext, Depends(get_context)]


def authenticate(ctx: Ctx, authorization: Annotated[str | None, Header()] = None,
                 x_api_key: Annotated[str | None, Header()] = None) -> HubKey:
    """The caller's key, checked against ``hub_keys``."""
    presented = x_api_key
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            presented = token.strip()
    if not presented:
        raise Unauthorized("an API key is required (Authorization: Bearer KEY, or X-API-Key)")
    with ctx.conn() as conn:
        key = hub_keys.verify(conn, presented, ctx.now())
    if key is None:
        raise Unauthorized("unknown or revoked API key")
    return key


def require(role: Role) -> Callable[[HubKey], HubKey]:
    """A dependency that admits keys of ``role`` or above."""

    def check(key: Annotated[HubKey, Depends(authenticate)]) -> HubKey:
        if not key.role.allows(role):
            raise Forbidden(f"this needs the {role.value} role; the key is a {key.role.value}")
        return key

    check.__name__ = f"require_{role.value}"
    return check


Viewer = Annotated[HubKey, Depends(require(Role.viewer))]
Operator = Annotated[HubKey, Depends(require(Role.operator))]
Admin = Annotated[HubKey, Depends(require(Role.admin))]
SiteId = Annotated[str, PathParam(pattern=SITE_PATTERN, description="a site's id")]
Year = Annotated[int | None, Query(ge=2000, le=2100, description="the year (default: this "
                                   "year in the programme's time zone)")]


def scope_of(key: HubKey) -> fleet.Scope:
    """The readers' scope for ``key``'s scope."""
    return fleet_scope(key.scope)


def fleet_scope(scope: KeyScope) -> fleet.Scope:
    """A key's scope as :class:`hub.fleet.Scope`."""
    if scope.kind == "province":
        return fleet.Scope(provinces=frozenset(scope.names))
    if scope.kind == "group":
        return fleet.Scope(groups=frozenset(scope.names))
    return fleet.Scope()


def _site_or_404(ctx: HubContext, conn: Conn, site: str, key: HubKey) -> fleet.SiteRow:
    row = fleet.site_detail(conn, site, scope_of(key), ctx.now(), ctx.settings.silent_after_s)
    if row is None:
        raise NotFound(f"no site {site!r} in this key's scope")
    return row


class CommandCreate(BaseModel):
    """A command to a site: one of the site's command kinds with its value map, and how long
    it may wait for the site [s]: arriving later, it is never executed."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z_]{1,40}$", description="a site command kind, e.g. "
                      "override_load, set_threshold, generator, planned_cut")
    args: dict[str, Any] = Field(default_factory=dict, description="the command's value map")
    expiry_s: int = Field(default=int(fleet_commands.DEFAULT_TTL_S), ge=5,
                          le=int(fleet_commands.MAX_TTL_S), description="[s] from now")


class KeyCreate(BaseModel):
    """A new fleet key."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=hub_keys.MAX_NAME_CHARS)
    role: Role
    provinces: list[str] = Field(default_factory=list, max_length=hub_keys.MAX_SCOPE_NAMES)
    groups: list[str] = Field(default_factory=list, max_length=hub_keys.MAX_SCOPE_NAMES)


def _source(channel: str) -> str:
    """The channel that holds ``channel``: a bare site figure (``soc_pct``) is the site's
    own, ``site/soc_pct``; a full name is itself."""
    return channel if "/" in channel else SITE_FIGURE_PREFIX + channel


def _plain(series: list[tuple[datetime, float | None]]) -> dict[str, list[Any]]:
    """A series as two lists: times [s since the Unix epoch] and values."""
    return {"t": [t.timestamp() for t, _ in series], "v": [v for _, v in series]}


def _ms(t: datetime) -> int:
    """``t`` as [ms since the Unix epoch]."""
    return round(t.timestamp() * 1000)


def command_public(row: fleet_commands.CommandRow, now: datetime) -> dict[str, Any]:
    """A command as the API shows it: the row, its outcome now, the time that outcome's
    text names and that text in each language (``{at}`` for the caller to fill)."""
    shown = fleet_commands.outcome(row, now)
    return {**_jsonable(row), "outcome": shown,
            "outcome_at": _jsonable(fleet_commands.outcome_time(row, now)),
            "outcome_text": dict(fleet_commands.OUTCOME_TEXT[shown])}


def _this_year(ctx: HubContext) -> int:
    return ctx.now().astimezone(ZoneInfo(ctx.settings.tz)).year


def create_app(settings: HubApiSettings, sender: mqtt.Client | None = None,
               pool: ConnectionPool[Conn] | None = None) -> FastAPI:
    """The fleet API and dashboard over the hub database at ``settings.dsn``; ``sender`` is
    the MQTT client that publishes commands and keep-alives (None: commands answer 503)."""
    own_pool = pool is None
    the_pool: ConnectionPool[Conn] = pool or ConnectionPool(
        settings.dsn, min_size=1, max_size=settings.pool_size, open=False,
        kwargs={"autocommit": True})
    ctx = HubContext(settings=settings, pool=the_pool, sender=sender)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if own_pool:
            the_pool.open(wait=True, timeout=30)
        yield
        if own_pool:
            the_pool.close()

    app = FastAPI(title="offgrid fleet API", version="1", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None, default_response_class=Json)
    app.state.ctx = ctx

    install_handlers(app)

    @app.exception_handler(HubError)
    async def _hub_error(request: Request, exc: HubError) -> JSONResponse:
        return problem(422, "Invalid input", str(exc), request.url.path)

    v1 = "/api/v1"

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_: Viewer) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/healthz", include_in_schema=False)
    def healthz(c: Ctx) -> dict[str, Any]:
        with c.conn() as conn:
            conn.execute("SELECT 1")
        return {"ok": True}

    @app.get(f"{v1}/me", summary="The caller's key (role, scope)")
    def me(key: Viewer, c: Ctx) -> dict[str, Any]:
        return {**key.as_dict(), "silent_after_s": c.settings.silent_after_s,
                "tz": c.settings.tz, "live_for_s": c.settings.live_for_s,
                "commands": list(COMMAND_NAMES), "can_send": c.sender is not None}

    @app.get(f"{v1}/sites", summary="Every site in scope, with its latest figures")
    def sites(key: Viewer, c: Ctx) -> list[Any]:
        with c.conn() as conn:
            return list(fleet.sites_overview(conn, c.now(), scope_of(key),
                                             c.settings.silent_after_s))

    @app.get(f"{v1}/sites/{{site}}", summary="One site")
    def site_detail(site: SiteId, key: Viewer, c: Ctx) -> Any:
        with c.conn() as conn:
            return _site_or_404(c, conn, site, key)

    @app.get(f"{v1}/sites/{{site}}/series", summary="A site's channels over time")
    def series(site: SiteId, key: Viewer, c: Ctx, *,
               channels: Annotated[str, Query(pattern=CHANNEL_PATTERN, description=(
                   "channels, comma-separated; a bare site figure (soc_pct) is read from "
                   "site/soc_pct"))]
               = ",".join(DEFAULT_CHANNELS),
               hours: Annotated[float, Query(gt=0, le=MAX_SERIES_H)] = 24.0,
               step_s: Annotated[int, Query(ge=60, le=86400)] = 300) -> dict[str, Any]:
        until = c.now()
        since = until - timedelta(hours=hours)
        with c.conn() as conn:
            _site_or_404(c, conn, site, key)
            wanted = list(dict.fromkeys(channels.split(",")))
            data = fleet.site_series(conn, site, [_source(c) for c in wanted], since, until,
                                     step_s, scope_of(key))
        return {"site": site, "since": since, "until": until, "step_s": step_s,
                "series": {c: _plain(data.get(_source(c), [])) for c in wanted}}

    @app.get(f"{v1}/reliability", summary="Monthly SAIDI and SAIFI per site and province")
    def reliability(key: Viewer, c: Ctx, year: Year = None) -> dict[str, Any]:
        y = year or _this_year(c)
        with c.conn() as conn:
            rows = fleet.monthly_reliability(conn, y, scope_of(key), c.settings.tz, c.now())
        return {"year": y, "tz": c.settings.tz, "rows": rows}

    @app.get(f"{v1}/energy", summary="Monthly energy per source and generator hours")
    def energy(key: Viewer, c: Ctx, year: Year = None) -> dict[str, Any]:
        y = year or _this_year(c)
        with c.conn() as conn:
            rows = fleet.monthly_energy(conn, y, scope_of(key), c.settings.tz)
        return {"year": y, "tz": c.settings.tz, "rows": rows}

    @app.get(f"{v1}/alarms", summary="Active alarms of the sites in scope")
    def alarms(key: Viewer, c: Ctx) -> list[Any]:
        with c.conn() as conn:
            return list(fleet.active_alarms(conn, scope_of(key), c.now(),
                                            c.settings.silent_after_s))

    def _sender(c: HubContext) -> mqtt.Client:
        if c.sender is None:
            raise BrokerUnavailable("this hub has no broker to send through (start it with "
                              "--broker and --password-file)")
        return c.sender

    @app.post(f"{v1}/sites/{{site}}/commands", status_code=202,
              summary="Send a command; the site answers within its expiry")
    def send_command(site: SiteId, body: CommandCreate, key: Operator, c: Ctx) -> Any:
        sender = _sender(c)
        now = c.now()
        with c.conn() as conn:
            _site_or_404(c, conn, site, key)
            try:
                row = fleet_commands.issue_command(
                    conn, sender, site, body.name, body.args, by=hub_keys.requester(key),
                    now=now, ttl_s=float(body.expiry_s), scope=scope_of(key))
            except fleet_commands.CommandRefused as e:
                raise BadInput(str(e)) from e
            except HubError as e:  # the client cannot publish at all: the row is failed
                raise BrokerUnavailable(str(e)) from e
        return command_public(row, now)

    @app.get(f"{v1}/commands/{{command_id}}", summary="A command and the site's answer")
    def command(command_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")],
                key: Viewer, c: Ctx) -> Any:
        with c.conn() as conn:
            row = fleet_commands.command_status(conn, command_id, scope_of(key))
        if row is None:
            raise NotFound(f"no command {command_id!r} in this key's scope")
        return command_public(row, c.now())

    @app.get(f"{v1}/sites/{{site}}/commands", summary="A site's latest commands")
    def site_commands(site: SiteId, key: Viewer, c: Ctx,
                      limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[dict[str, Any]]:
        now = c.now()
        with c.conn() as conn:
            _site_or_404(c, conn, site, key)
            rows = fleet_commands.site_commands(conn, site, limit)
        return [command_public(r, now) for r in rows]

    @app.post(f"{v1}/sites/{{site}}/live", summary="Ask a site to send live values for a while")
    def live(site: SiteId, key: Viewer, c: Ctx) -> dict[str, Any]:
        sender = _sender(c)
        now = c.now()
        until = now + timedelta(seconds=c.settings.live_for_s)
        with c.conn() as conn:
            _site_or_404(c, conn, site, key)
        fleet_commands.send_live(sender, site, _ms(until), _ms(now))
        return {"site": site, "until": until}

    @app.get(f"{v1}/keys", summary="Every fleet key (admin)")
    def list_keys(_: Admin, c: Ctx) -> list[dict[str, Any]]:
        with c.conn() as conn:
            return [k.as_dict() for k in hub_keys.list_keys(conn)]

    @app.post(f"{v1}/keys", status_code=201, summary="Create a key; the answer holds it once")
    def create_key(body: KeyCreate, _: Admin, c: Ctx) -> dict[str, Any]:
        try:
            scope = hub_keys.scope_of(body.provinces, body.groups)
            with c.conn() as conn:
                secret, info = hub_keys.create_key(conn, body.role, body.name, scope, c.now())
        except hub_keys.KeyProblem as e:
            raise BadInput(str(e)) from e
        return {**info.as_dict(), "key": secret}

    @app.delete(f"{v1}/keys/{{key_id}}", summary="Revoke a key (admin)")
    def revoke_key(key_id: Annotated[str, PathParam(pattern=api.tokens.KEY_ID_PATTERN)],
                   _: Admin, c: Ctx) -> dict[str, Any]:
        try:
            with c.conn() as conn:
                return hub_keys.revoke_key(conn, key_id, c.now()).as_dict()
        except hub_keys.UnknownKey as e:
            raise NotFound(str(e)) from e

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/site-static/{name}", include_in_schema=False)
    def site_static(name: str) -> FileResponse:
        if name not in SHARED_FILES:
            raise NotFound(f"no shared file {name!r}")
        return FileResponse(SITE_STATIC / name, headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app

