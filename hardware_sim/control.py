"""The simulator's control port: a small JSON-over-HTTP server on 127.0.0.1 only.

Routes:

- ``GET /`` or ``GET /state``: plant state, devices, active faults (JSON);
- ``GET /faults``: the fault log (every start and end, with its simulated time);
- ``POST /faults`` ``{"device", "kind", "duration_s"?, "params"?}``: inject a fault now (201);
- ``DELETE /faults/<id>``: clear a fault;
- ``POST /step`` ``{"seconds"}``: advance the plant by that much simulated time;
- ``POST /speed`` ``{"speed"}``: change the speed (0 pauses the clock);
- ``POST /reset`` ``{"what": "inverter"}``: reset a tripped inverter (the operator's button);
- ``POST /load_bank`` ``{"kw"}``: switch a resistive test load bank of that power onto the AC
  bus (0 takes it off): a load step, as generators are commissioned.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from hardware_sim.errors import FaultError, SimError
from hardware_sim.simulator import Simulator

MAX_BODY = 64 * 1024
MAX_STEP_REQUEST_S = 7 * 86400.0
MAX_LOAD_BANK_KW = 1000.0

Json = dict[str, Any]


class HttpError(SimError):
    """A request the control port refuses (carries its HTTP status)."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def _number(body: Json, key: str, lo: float, hi: float) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise HttpError(HTTPStatus.UNPROCESSABLE_ENTITY, f"{key} must be a number in {lo}..{hi}")
    return float(value)


class ControlServer:
    """Serves the control routes for one :class:`Simulator`."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.server: asyncio.Server | None = None
        self.routes: dict[tuple[str, str], Callable[[Json, str], tuple[HTTPStatus, object]]] = {
            ("GET", "/"): self._state, ("GET", "/state"): self._state,
            ("GET", "/faults"): self._faults, ("POST", "/faults"): self._add_fault,
            ("DELETE", "/faults/"): self._clear_fault, ("POST", "/step"): self._step,
            ("POST", "/speed"): self._speed, ("POST", "/reset"): self._reset,
            ("POST", "/load_bank"): self._load_bank,
        }

    async def start(self, port: int) -> int:
        """Listen on 127.0.0.1:``port`` (0: any free port); the port in use."""
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        sock = self.server.sockets[0]
        return int(sock.getsockname()[1])

    async def close(self) -> None:
        """Stop listening."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, payload = await self._respond(reader)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            writer.close()
            return
        body = json.dumps(payload, default=str).encode()
        writer.write(f"HTTP/1.1 {status.value} {status.phrase}\r\n"
                     "Content-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        try:
            await writer.drain()
        finally:
            writer.close()

    async def _respond(self, reader: asyncio.StreamReader) -> tuple[HTTPStatus, object]:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        lines = head.split("\r\n")
        try:
            method, target, _ = lines[0].split(" ", 2)
        except ValueError:
            return HTTPStatus.BAD_REQUEST, {"error": "bad request line"}
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in lines[1:] if line)}
        length = int(headers.get("content-length", "0") or 0)
        if length > MAX_BODY:
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"}
        raw = await reader.readexactly(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            return HTTPStatus.BAD_REQUEST, {"error": "body is not JSON"}
        if not isinstance(body, dict):
            return HTTPStatus.BAD_REQUEST, {"error": "body must be a JSON object"}
        path = target.split("?", 1)[0]
        key = (method, "/faults/" if path.startswith("/faults/") else path)
        handler = self.routes.get(key)
        if handler is None:
            known = any(p == key[1] for _, p in self.routes)
            return (HTTPStatus.METHOD_NOT_ALLOWED if known else HTTPStatus.NOT_FOUND,
                    {"error": f"no route {method} {path}"})
        try:
            return handler(body, path)
        except HttpError as e:
            return e.status, {"error": str(e)}
        except FaultError as e:
            return HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(e)}

    # ------------------------------------------------------------------ routes

    def _state(self, body: Json, path: str) -> tuple[HTTPStatus, object]:
        del body, path
        return HTTPStatus.OK, self.sim.state()

    def _faults(self, body: Json, path: str) -> tuple[HTTPStatus, object]:
        del body, path
        return HTTPStatus.OK, self.sim.fault_log

    def _add_fault(self, body: Json, path: str) -> tuple[HTTPStatus, object]:
        del path
        device, kind = body.get("device"), body.get("kind")
        params = body.get("params", {})
        if not isinstance(device, str) or not isinstance(kind, str):
            raise HttpError(HTTPStatus.UNPROCESSABLE_ENTITY, "device and kind are required")
        if not isinstance(params, dict) or not all(
                isinstance(v, int | float | str) for v in params.values()):
            raise HttpError(HTTPStatus.UNPROCESSABLE_ENTITY, "params must map names to values")
        duration = (_number(body, "duration_s", 1e-3, 1e9)
                    if body.get("duration_s") is not None else None)
        fault = self.sim.add_fault(device, kind, duration_s=duration, params=params)
        return HTTPStatus.CREATED, fault.as_dict()

    def _clear_fault(self, body: Json, path: str) -> tuple[HTTPStatus, object]:
        del body
        try:
            fault_id = int(path.removeprefix("/faults/"))
        except ValueError as e:
            raise HttpError(HTTPStatus.NOT_FOUND, "fault ids are integers") from e
        try:
            return HTTPStatus.OK, self.sim.clear_fault(fault_id).as_dict()
        except FaultError as e:
            raise HttpError(HTTPStatus.NOT_FOUND, str(e)) from e

    def _step(self, body: Json, path: str) -> tuple[HTTPStatus, object]:
        del path
        self.sim.advance(_number(body, "seconds", 0, MAX_STEP_REQUEST_S))
        return HTTPStatus.OK, self.sim.state()

    def _speed(self, body: Json, path: str) -> tuple[HTTPStatus, object]:
        del path
        self.sim.speed = _number(body, "speed", 0, 10_000)
        return HTTPStatus.OK, {"speed": self.sim.speed}

    def _load_bank(self, body: Json, path: str) -> tuple[HTTPStatus, object]:
        del path
        self.sim.plant.load_bank_kw = _number(body, "kw", 0, MAX_LOAD_BANK_KW)
        return HTTPStatus.OK, {"load_bank_kw": self.sim.plant.load_bank_kw}

    def _reset(self, body: Json, path: str) -> tuple[HTTPStatus, object]:
        del path
        if body.get("what") != "inverter":
            raise HttpError(HTTPStatus.UNPROCESSABLE_ENTITY, 'what must be "inverter"')
        self.sim.plant.reset_inverter()
        return HTTPStatus.OK, {"inverter": self.sim.plant.inverter.name.lower()}
