"""Request dependencies: the app's context, and authentication with per-key rate limiting.

A key comes as ``X-API-Key: KEY`` or ``Authorization: Bearer KEY``. No key or a bad key is
401, a key whose role is too low is 403, a key over its rate is 429.

A customer key passes only the dependencies that name the customer role (:data:`AnyKey`,
:data:`ViewerOrCustomer`, :data:`OperatorOrCustomer`); the routes that take them apply the
key's scope (:attr:`api.keys.KeyInfo.loads`) themselves.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import Forbidden, RateLimited, Unauthorized
from api.keys import KeyInfo, KeyVerifier
from api.metrics import RequestMetrics
from api.ratelimit import RateLimiter
from api.roles import Role
from api.settings import ApiSettings
from sitefile import Site


@dataclass
class ApiContext:
    """What every route may use: settings, the site, the database and the auth state."""

    settings: ApiSettings
    site: Site
    conn: sqlite3.Connection
    verifier: KeyVerifier
    limiter: RateLimiter
    metrics: RequestMetrics = field(default_factory=RequestMetrics)
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time  # UTC epoch [s]: ages of what the store holds
    streams: dict[str, int] = field(default_factory=dict)  # open event streams per key id


async def get_context(request: Request) -> ApiContext:
    """The app's context (override in tests with ``app.dependency_overrides``)."""
    ctx: ApiContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ApiContext, Depends(get_context)]

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False,
                        description="An API key (`offgrid keys create`)")
_bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token")


async def authenticate(
    ctx: Ctx,
    api_key: Annotated[str | None, Depends(_api_key)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> KeyInfo:
    """The caller's key, checked and rate-limited (async: SQLite reads here take microseconds,
    and staying on the event loop keeps one connection on one thread)."""
    presented = api_key or (bearer.credentials if bearer else None)
    if not presented:
        raise Unauthorized("an API key is required (X-API-Key or Authorization: Bearer)")
    if len(presented) > 200:
        raise Unauthorized("unknown or revoked API key")
    info = ctx.verifier.verify(presented)
    if info is None:
        raise Unauthorized("unknown or revoked API key")
    wait_s = ctx.limiter.take(info.id, ctx.clock())
    if wait_s > 0:
        ctx.metrics.rate_limited += 1
        raise RateLimited(wait_s)
    return info


def require(*roles: Role) -> Callable[[KeyInfo], Awaitable[KeyInfo]]:
    """A dependency that admits keys of any of ``roles`` or above (a customer key only where
    ``roles`` names the customer role: it is below no staff role and above none)."""

    async def check(key: Annotated[KeyInfo, Depends(authenticate)]) -> KeyInfo:
        if not any(key.role.allows(role) for role in roles):
            needed = " or ".join(r.value for r in roles)
            raise Forbidden(f"this needs the {needed} role; the key is a {key.role.value}")
        return key

    check.__name__ = "require_" + "_or_".join(r.value for r in roles)
    return check


Viewer = Annotated[KeyInfo, Depends(require(Role.viewer))]
Operator = Annotated[KeyInfo, Depends(require(Role.operator))]
Admin = Annotated[KeyInfo, Depends(require(Role.admin))]
AnyKey = Annotated[KeyInfo, Depends(require(Role.viewer, Role.customer))]
"""Every valid key, a customer's included (the route scopes what it shows)."""
ViewerOrCustomer = AnyKey
OperatorOrCustomer = Annotated[KeyInfo, Depends(require(Role.operator, Role.customer))]
"""An operator or admin, or a customer (for its own flexible loads only: the route checks)."""
