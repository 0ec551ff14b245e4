"""Pure ASGI middleware: bounds request bodies, records request metrics, adds security headers."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import TooLarge, problem
from api.metrics import RequestMetrics

# The dashboard loads only its own files; nothing may frame it or sniff types.
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; "
                                 b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class BodyLimitAndMetrics:
    """Refuses bodies above ``max_body_bytes`` (413), times every HTTP request, and adds the
    security headers."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, metrics: RequestMetrics) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}
        path = scope.get("path", "")
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            response = problem(413, TooLarge.title,
                               f"body of {declared} bytes; the limit is {self.max_body_bytes}",
                               path)
            await response(scope, receive, send)
            self._observe(scope, 413, start)
            return
        if declared is None and scope.get("method") in ("POST", "PUT", "PATCH", "DELETE"):
            # A chunked body: read it (up to the limit) before the app sees it.
            body, more = b"", True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > self.max_body_bytes:
                    response = problem(413, TooLarge.title,
                                       f"body above the limit of {self.max_body_bytes} bytes", path)
                    await response(scope, receive, send)
                    self._observe(scope, 413, start)
                    return
            receive = _replay(body, receive)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []),
                                                  *SECURITY_HEADERS]}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self._observe(scope, status["code"], start)

    def _observe(self, scope: Scope, status: int, start: float) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "(unmatched)"
        self.metrics.observe(scope.get("method", "GET"), template, status,
                             time.perf_counter() - start)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that first hands over ``body``, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
