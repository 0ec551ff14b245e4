"""``offgrid sim SITE``: serve the site's devices as Modbus servers, with the plant behind them."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hardware_sim.errors import SimError
from offgrid.common import SiteArg, fail, open_site
from sitefile import SIM_START_YEARS
from sizing.errors import SizingError

if TYPE_CHECKING:
    from hardware_sim.simulator import Simulator


def _say(line: str) -> None:
    typer.echo(line)  # one line each, flushed: a parent process parses them


async def _serve(sim: Simulator, control_port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)  # Ctrl-C at any point below ends cleanly
    from hardware_sim.control import ControlServer  # noqa: PLC0415 (heavy: loaded by this command only)

    control = ControlServer(sim)
    clock: asyncio.Task[None] | None = None
    try:
        await sim.serve()
        try:
            port = await control.start(control_port)
        except OSError as e:
            raise SimError(f"cannot listen on 127.0.0.1:{control_port}: {e.strerror}") from e
        _say(f"Control: http://127.0.0.1:{port}/")
        _say(f"Simulated time starts at {sim.plant.t.isoformat()}, speed {sim.speed:g}×")
        _say("Ready (Ctrl-C stops)")
        clock = asyncio.create_task(sim.run_clock())
        await stop.wait()
    finally:
        if clock is not None:
            clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await clock
        await control.close()
        await sim.close()
        if clock is not None:
            _say("Stopped")


def sim(  # noqa: PLR0917 - Typer options
    site_file: SiteArg,
    speed: Annotated[float, typer.Option(
        min=0, max=10_000, help="Simulated seconds per wall second (0: paused, step it "
        "through the control port).")] = 1.0,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the cloud flicker and noise.")] = 0,
    pty_dir: Annotated[Path | None, typer.Option(
        help="Put each RTU bus's controller end at DIR/<basename of serial_port> "
        "(default for ports under /dev: <tmp>/offgrid-pty).")] = None,
    control_port: Annotated[int, typer.Option(
        min=0, max=65535, help="Loopback HTTP control port (0: any free port).")] = 0,
    start: Annotated[datetime | None, typer.Option(
        help="Simulated start time (default: [sim].start, else now); UTC unless an offset "
        "is given.")] = None,
) -> None:
    """Serve the site's devices as Modbus servers, with the plant model behind them."""
    site = open_site(site_file, "inverter")
    if not site.devices:
        fail(f"{site_file}: no [[devices]] to serve")
    if start is not None and start.year not in SIM_START_YEARS:
        fail(f"--start: the simulated start must lie in the years {SIM_START_YEARS.start}–"
             f"{SIM_START_YEARS.stop - 1} (got {start.isoformat()})")
    t0 = start or site.sim.start or datetime.now(UTC).replace(microsecond=0)
    if t0.tzinfo is None:
        t0 = t0.replace(tzinfo=UTC)
    try:
        from hardware_sim.simulator import Simulator  # noqa: PLC0415 (heavy: loaded by this command only)

        simulator = Simulator(site, t0, speed=speed, seed=seed, pty_dir=pty_dir, emit=_say)
        asyncio.run(_serve(simulator, control_port))
    except (SimError, SizingError) as e:
        fail(f"{site_file}: {e}")
