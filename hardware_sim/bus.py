"""Modbus buses: one pymodbus server per TCP endpoint or RTU serial line, answering each
simulated device by its unit id (requests for other unit ids get no reply, as on RS485).

RTU lines are pseudo-terminal pairs made with socat: the server opens one end, and the other
end is linked where the controller expects its serial port.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import shutil
import signal
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

from hardware_sim.devices import Silent, SimDevice
from hardware_sim.errors import SetupError
from sitefile import Device

PTY_WAIT_S = 5.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class BusContext(ModbusServerContext):
    """The datastore of one bus: dispatches each request to the device with that unit id."""

    def __init__(self, units: dict[int, SimDevice]) -> None:
        # The base class builds pymodbus' own simulator; this context answers by itself.
        self.units = units
        self.old_simulator = True
        self.simdevices = []

    def _device(self, unit: int) -> SimDevice:
        dev = self.units.get(unit)
        if dev is None:
            raise NoSuchIdException(f"no device with unit id {unit}")
        return dev

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        """Answer a read; a silent device raises NoSuchIdException (no reply)."""
        try:
            return await self._device(device_id).read(func_code, address, count)
        except Silent as e:
            raise NoSuchIdException(f"unit {device_id} is silent") from e

    async def async_setValues(
        self, device_id: int, func_code: int, address: int,
        values: Sequence[int] | Sequence[bool],
    ) -> ExcCodes | None:
        """Apply a write."""
        try:
            return await self._device(device_id).write(func_code, address, list(values))
        except Silent as e:
            raise NoSuchIdException(f"unit {device_id} is silent") from e

    def device_ids(self) -> list[int]:
        """The unit ids on this bus."""
        return list(self.units)


class Noise:
    """Corrupts the CRC of replies from devices with a ``noise`` fault (RTU only)."""

    def __init__(self, units: dict[int, SimDevice], seed: int) -> None:
        self.units = units
        self.rng = np.random.default_rng(seed)
        self.corrupted = 0

    def __call__(self, sending: bool, data: bytes) -> bytes:
        """pymodbus ``trace_packet`` hook: ``data`` is a whole RTU frame when sending."""
        if not sending or len(data) < 4:
            return data
        dev = self.units.get(data[0])
        if dev is None or self.rng.random() >= dev.noise_probability():
            return data
        self.corrupted += 1
        return data[:-1] + bytes([data[-1] ^ 0xA5])


async def start_tcp(host: str, port: int, units: dict[int, SimDevice]) -> ModbusTcpServer:
    """Serve ``units`` over Modbus TCP on ``host:port`` (loopback only)."""
    if host not in ("127.0.0.1", "localhost"):
        raise SetupError(f"the simulator serves on loopback only, not {host}")
    server = ModbusTcpServer(BusContext(units), address=(host, port),
                             ignore_missing_devices=True)
    try:
        await server.serve_forever(background=True)
    except (OSError, RuntimeError) as e:
        raise SetupError(f"cannot listen on {host}:{port}: {e}") from e
    return server


def _die_with_parent() -> None:
    """In the socat child: ask Linux to end it when the simulator dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class PtyPair:
    """A socat pseudo-terminal pair: ``server_end`` for us, ``client_end`` for the controller."""

    def __init__(self, client_end: Path) -> None:
        self.client_end = client_end
        self._dir = Path(tempfile.mkdtemp(prefix="offgrid-pty-"))
        self.server_end = self._dir / "server"
        self.proc: asyncio.subprocess.Process | None = None

    async def open(self) -> None:
        """Start socat and wait until both links exist."""
        socat = shutil.which("socat")
        if socat is None:
            raise SetupError("socat is not installed (apt-get install socat)")
        if self.client_end.is_symlink() or self.client_end.exists():
            if not self.client_end.is_symlink():
                raise SetupError(f"{self.client_end} exists and is not a link we made")
            self.client_end.unlink()
        self.client_end.parent.mkdir(parents=True, exist_ok=True)
        self.proc = await asyncio.create_subprocess_exec(
            socat, "pty,raw,echo=0,link=" + str(self.server_end),
            "pty,raw,echo=0,link=" + str(self.client_end),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            preexec_fn=_die_with_parent)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PTY_WAIT_S
        while not (self.server_end.exists() and self.client_end.exists()):
            if self.proc.returncode is not None or loop.time() > deadline:
                await self.close()
                raise SetupError(f"socat could not create the pty pair for {self.client_end}")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        """Stop socat and remove the links."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            with contextlib.suppress(ProcessLookupError):
                await self.proc.wait()
        with contextlib.suppress(FileNotFoundError):
            if self.client_end.is_symlink():
                self.client_end.unlink()
        shutil.rmtree(self._dir, ignore_errors=True)


async def start_rtu(pty: PtyPair, units: dict[int, SimDevice], line: Device,
                    seed: int) -> tuple[ModbusSerialServer, Noise]:
    """Serve ``units`` over Modbus RTU on the server end of ``pty``, with ``line``'s settings."""
    noise = Noise(units, seed)
    server = ModbusSerialServer(BusContext(units), framer=FramerType.RTU,
                                port=str(pty.server_end), baudrate=line.baudrate,
                                parity=line.parity, bytesize=line.bytesize,
                                stopbits=line.stopbits,
                                ignore_missing_devices=True, trace_packet=noise)
    try:
        await server.serve_forever(background=True)
    except (OSError, RuntimeError) as e:
        raise SetupError(f"cannot open {pty.server_end}: {e}") from e
    return server, noise
