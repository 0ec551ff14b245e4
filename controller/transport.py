"""Modbus transport: one pymodbus async client and one lock per bus, devices with back-off.

* A :class:`Bus` (a TCP endpoint or a serial port) serialises every request behind one lock
  and keeps ``gap_s`` between requests (``request_gap_s``: 50 ms on RS485 by default, 0 on
  TCP). Its response timeout adapts to the measured latency (smoothed RTT + 4 × deviation, as
  TCP does), between ``MIN_TIMEOUT_S`` and the device's ``timeout_s``; a failed request is
  retried once with the full ``timeout_s``. A bus that cannot connect (port refused, adapter
  unplugged) retries after 2 s × n failures, at most 5 min, and fails fast in between.
* A :class:`DeviceLink` polls one device every ``poll_s`` with the block reads planned from its
  register map, and keeps the last :class:`Reading` of each point. A silent device on a working
  bus is retried at its poll period, so it is back within a cycle of its return; its readings
  turn stale after ``stale_after_s`` (see :meth:`DeviceLink.readings`), never frozen as good.
* Values outside the site's plausible ranges (:mod:`controller.plausibility`) are INVALID,
  like the devices' own sentinels; both are listed in :attr:`DeviceLink.garbage` (an
  alarm) unless the point never had a value (a register the device does not implement).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from controller.devices.codec import (
    MAX_BLOCK_WORDS,
    Block,
    RegisterMap,
    Table,
    Write,
    decode,
    plan_blocks,
)
from controller.devices.errors import DeviceError
from controller.devices.registry import DRIVERS
from controller.devices.values import Quality, Reading, Value
from controller.errors import TransportError
from controller.plausibility import Limits, plausible_range_of, within
from sitefile import Device

MIN_TIMEOUT_S = 0.2
BACKOFF_STEP_S = 2.0
BACKOFF_MAX_S = 300.0

PYMODBUS_LOGGER = "pymodbus"


def quiet_pymodbus_logs() -> None:
    """Keep pymodbus's own logs out of the controller's ERROR level.

    pymodbus logs every broken frame (a bad CRC on a noisy RS485 line, garbage, a reply from
    another unit) at ERROR, with a hex dump of its last 20 frames appended: on a noisy bus that
    is several lines a second. The controller reports each failure itself, once, as the
    device's error (``devices``), ``device_offline`` and ``invalid_value`` alarms; so pymodbus
    is left to speak only at CRITICAL.
    """
    logging.getLogger(PYMODBUS_LOGGER).setLevel(logging.CRITICAL)


def backoff_s(failures: int) -> float:
    """Wait before retrying a device after ``failures`` consecutive failures [s]."""
    return min(BACKOFF_STEP_S * failures, BACKOFF_MAX_S)


def checked(point: str, value: Value | None, ts: datetime, limits: Mapping[str, Limits]
            ) -> Reading:
    """A decoded value as a Reading: INVALID when a sentinel (None) or outside the site's
    plausible range (``limits``: :func:`controller.plausibility.site_limits`)."""
    if value is not None and not isinstance(value, bool | str) and not within(
            plausible_range_of(point, limits), float(value)):
        return Reading(None, ts, Quality.INVALID)
    return Reading.of(value, ts)


@dataclass
class Latency:
    """Smoothed round-trip time and its deviation [s]."""

    srtt_s: float | None = None
    rttvar_s: float = 0.0

    def add(self, rtt_s: float) -> None:
        """Fold in one measured round trip."""
        if self.srtt_s is None:
            self.srtt_s, self.rttvar_s = rtt_s, rtt_s / 2
        else:
            self.rttvar_s = 0.75 * self.rttvar_s + 0.25 * abs(self.srtt_s - rtt_s)
            self.srtt_s = 0.875 * self.srtt_s + 0.125 * rtt_s

    def timeout_s(self, max_s: float) -> float:
        """The response timeout to use next [s]."""
        if self.srtt_s is None:
            return max_s
        return min(max(self.srtt_s + 4 * self.rttvar_s, MIN_TIMEOUT_S), max_s)


Client = AsyncModbusTcpClient | AsyncModbusSerialClient
Request = Callable[[Client], Awaitable[Any]]


class Bus:
    """One Modbus client and one lock: requests on a bus are strictly sequential."""

    def __init__(self, key: str, client: Client, gap_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.key = key
        self.client = client
        self.gap_s = gap_s
        self.lock = asyncio.Lock()
        self.latency = Latency()
        self._clock = clock
        self._last_end = -float("inf")
        self.connect_failures = 0
        self.next_connect_mono = -float("inf")

    @classmethod
    def for_device(cls, dev: Device, serial_port: str | None = None,
                   clock: Callable[[], float] = time.monotonic) -> Bus:
        """The bus a device sits on (``serial_port`` overrides the site file's, for a pty)."""
        if dev.transport == "tcp":
            assert dev.host is not None and dev.port is not None
            client: Client = AsyncModbusTcpClient(dev.host, port=dev.port, timeout=dev.timeout_s,
                                                  retries=0, reconnect_delay=0)
            return cls(dev.bus, client, dev.request_gap_s, clock)
        port = serial_port or dev.serial_port
        assert port is not None
        client = AsyncModbusSerialClient(port, baudrate=dev.baudrate, bytesize=dev.bytesize,
                                         parity=dev.parity, stopbits=dev.stopbits,
                                         timeout=dev.timeout_s, retries=0, reconnect_delay=0)
        return cls(dev.bus, client, dev.request_gap_s, clock)

    async def request(self, call: Request, max_timeout_s: float, retries: int = 1) -> Any:
        """Run one request under the lock, after the inter-request gap; retry on failure.

        Raises :class:`TransportError` when every attempt fails or the device answers with a
        Modbus exception.
        """
        async with self.lock:
            await self._connect()
            last: Exception | None = None
            for attempt in range(retries + 1):
                wait = self._last_end + self.gap_s - self._clock()
                if wait > 0:
                    await asyncio.sleep(wait)
                timeout = self.latency.timeout_s(max_timeout_s) if attempt == 0 else max_timeout_s
                self.client.comm_params.timeout_connect = timeout
                start = self._clock()
                try:
                    resp = await call(self.client)
                except (TimeoutError, ModbusException, OSError) as e:
                    last = e
                    continue
                finally:
                    self._last_end = self._clock()
                self.latency.add(self._last_end - start)
                if resp.isError():
                    raise TransportError(f"{self.key}: exception response {resp}")
                return resp
            raise TransportError(f"{self.key}: no answer: {last}") from last

    async def _connect(self) -> None:
        """Connect if needed, with back-off; raises TransportError while the bus is down."""
        if self.client.connected:
            return
        now = self._clock()
        if now < self.next_connect_mono:
            raise TransportError(f"{self.key}: down, retrying in "
                                 f"{self.next_connect_mono - now:.0f} s")
        why = "no connection"
        try:
            ok = await self.client.connect()
        except (ModbusException, OSError) as e:
            ok, why = False, str(e)
        if not ok or not self.client.connected:
            self.connect_failures += 1
            self.next_connect_mono = now + backoff_s(self.connect_failures)
            raise TransportError(f"{self.key}: cannot connect: {why}")
        self.connect_failures = 0

    def close(self) -> None:
        """Close the client."""
        self.client.close()


@dataclass
class DeviceLink:
    """One device on a bus: its map, its last readings, and its back-off state."""

    device: Device
    bus: Bus
    stale_after_s: float
    limits: Mapping[str, Limits] = field(default_factory=dict)  # the site's plausible ranges
    rmap: RegisterMap | None = None
    blocks: list[Block] = field(default_factory=list)
    last: dict[str, Reading] = field(default_factory=dict)
    failures: int = 0
    next_poll_mono: float = 0.0
    online: bool = False
    error: str = ""
    down_since_mono: float | None = None
    garbage: list[str] = field(default_factory=list)
    last_poll_ts: float | None = None  # [UTC epoch s] the last poll sent (set by the cycle)
    last_ok_ts: float | None = None  # [UTC epoch s] the last poll answered
    _seen_good: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        """The device's name."""
        return self.device.name

    async def _read(self, table: Table, address: int, count: int) -> list[int]:
        uid = self.device.unit_id
        calls: dict[Table, Request] = {
            Table.HOLDING: lambda c: c.read_holding_registers(address, count=count,
                                                              device_id=uid),
            Table.INPUT: lambda c: c.read_input_registers(address, count=count, device_id=uid),
            Table.COIL: lambda c: c.read_coils(address, count=count, device_id=uid),
            Table.DISCRETE: lambda c: c.read_discrete_inputs(address, count=count,
                                                             device_id=uid),
        }
        resp = await self.bus.request(calls[table], self.device.timeout_s)
        if table.is_bit:
            return [int(b) for b in resp.bits[:count]]
        return list(resp.registers)

    async def _discover(self) -> None:
        driver = DRIVERS[self.device.driver]

        async def read(address: int, count: int) -> list[int]:
            return await self._read(Table.HOLDING, address, count)

        try:
            self.rmap = await driver.discover(read)
        except DeviceError as e:
            raise TransportError(f"{self.name}: {e}") from e
        planning = self.rmap
        if self.device.driver == "sunspec":
            # Every register of a SunSpec model chain is readable (the spec), so unused
            # registers between points may be spanned: a few full blocks instead of many.
            planning = replace(self.rmap, max_gap=MAX_BLOCK_WORDS)
        self.blocks = plan_blocks(planning)

    def due(self, now_mono: float) -> bool:
        """True when the device's poll period has passed."""
        return now_mono >= self.next_poll_mono

    async def fetch(self, now_mono: float) -> dict[Block, list[int]] | None:
        """Read every block once (the I/O); None when the device fails to answer."""
        self.next_poll_mono = now_mono + self.device.poll_s
        try:
            if self.rmap is None:
                await self._discover()
            return {b: await self._read(b.table, b.address, b.count) for b in self.blocks}
        except TransportError as e:
            self.failures += 1
            self.online = False
            self.error = str(e)
            if self.down_since_mono is None:
                self.down_since_mono = now_mono
            return None

    def accept(self, data: dict[Block, list[int]], now_utc: datetime) -> None:
        """Decode what :meth:`fetch` read into checked readings; flag garbage."""
        assert self.rmap is not None
        self.failures = 0
        self.down_since_mono = None
        self.online = True
        self.error = ""
        bad = []
        for p, v in decode(self.rmap, data).items():
            r = checked(p, v, now_utc, self.limits)
            if r.ok:
                self._seen_good.add(p)
            elif v is not None or p in self._seen_good:
                bad.append(p)  # implausible, or a sentinel where a value used to be
            self.last[p] = r
        self.garbage = sorted(bad)

    def silent(self, now_mono: float) -> bool:
        """True when the device has not answered for ``stale_after_s``."""
        return (self.down_since_mono is not None
                and now_mono - self.down_since_mono >= self.stale_after_s)

    def readings(self, now_utc: datetime) -> dict[str, Reading]:
        """Every point as seen at ``now_utc``: good values older than ``stale_after_s`` stale."""
        return {p: r.aged(now_utc, self.stale_after_s) for p, r in self.last.items()}

    async def write(self, values: Mapping[str, Value], writes: list[Write],
                    now_utc: datetime) -> None:
        """Send ``writes`` (from ``encode``); EEPROM blocks only when a value differs from the
        last read. The written values become the points' readings. Raises TransportError."""
        for w in writes:
            if w.eeprom and all(self.last.get(p) is not None and self.last[p].ok
                                and self.last[p].value == values[p] for p in w.points):
                continue
            await self.bus.request(self._write_call(w), self.device.timeout_s)
            for p in w.points:
                self.last[p] = Reading(values[p], now_utc, Quality.GOOD)

    def _write_call(self, w: Write) -> Request:
        """FC05 for a single coil, FC15 for several, FC16 for registers."""
        uid = self.device.unit_id

        async def call(c: Client) -> Any:
            if w.table is Table.COIL and len(w.values) == 1:
                return await c.write_coil(w.address, bool(w.values[0]), device_id=uid)
            if w.table is Table.COIL:
                return await c.write_coils(w.address, [bool(b) for b in w.values],
                                           device_id=uid)
            return await c.write_registers(w.address, list(w.values), device_id=uid)

        return call
