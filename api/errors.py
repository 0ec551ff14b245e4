"""The API's exception tree and its translation into RFC 9457 problem details (JSON).

Only this package turns errors into HTTP responses. Every error body is
``{"type", "title", "status", "detail", "instance"}`` with ``application/problem+json``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ApiError(Exception):
    """Base of every error the API raises on purpose; carries its HTTP status."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class Unauthorized(ApiError):
    """No key, an unknown key or a revoked key."""

    status = 401
    title = "Unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, {"WWW-Authenticate": 'Bearer realm="offgrid"'})


class Forbidden(ApiError):
    """A valid key whose role is too low."""

    status = 403
    title = "Forbidden"


class NotFound(ApiError):
    """An unknown point, alarm, load or key."""

    status = 404
    title = "Not found"


class BadInput(ApiError):
    """Input that is well-formed but out of its limits."""

    status = 422
    title = "Invalid input"


class Conflict(ApiError):
    """A request that does not fit the current state (an alarm already acknowledged, …)."""

    status = 409
    title = "Conflict"


class TooLarge(ApiError):
    """A request body above the limit."""

    status = 413
    title = "Request body too large"


class RateLimited(ApiError):
    """Too many requests for this key."""

    status = 429
    title = "Too many requests"

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"rate limit exceeded; retry in {retry_after_s:.0f} s",
                         {"Retry-After": str(max(1, round(retry_after_s)))})


class StoreUnavailable(ApiError):
    """The controller's database cannot be read."""

    status = 503
    title = "Database unavailable"


def problem(status: int, title: str, detail: str, instance: str,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """A problem-details response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "instance": instance, **extra}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def install_handlers(app: FastAPI) -> None:
    """Turn every error, including unexpected ones, into problem details."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, request.url.path, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
                  for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
        return problem(422, "Invalid input", detail, request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        return problem(exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail),
                       request.url.path, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return problem(500, "Internal error", "unexpected error; see the server log",
                       request.url.path)


_TITLES = {404: "Not found", 405: "Method not allowed", 413: "Request body too large",
           400: "Bad request"}
