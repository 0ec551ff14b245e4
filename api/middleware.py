"""Pure ASGI middleware: bounds request bodies and records request metrics."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import TooLarge, problem
from api.metrics import RequestMetrics


class BodyLimitAndMetrics:
    """Refuses bodies above ``max_body_bytes`` (413) and times every HTTP request."""

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
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise TooLarge(f"body above the limit of {self.max_body_bytes} bytes")
            return message

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        finally:
            self._observe(scope, status["code"], start)

    def _observe(self, scope: Scope, status: int, start: float) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "(unmatched)"
        self.metrics.observe(scope.get("method", "GET"), template, status,
                             time.perf_counter() - start)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
