"""The controller as a service: the APScheduler loop, systemd notification, signals.

The cycle runs every ``control.cycle_s`` (``max_instances=1``, ``coalesce=True``). APScheduler
times its interval on the wall clock, so a supervisor on the monotonic clock re-arms the job if
a backward clock jump (NTP on a box without an RTC) left it waiting. systemd: READY=1 once
started, WATCHDOG=1 only after a healthy cycle. SIGTERM or SIGINT stop it cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from controller.cycle import Controller, CycleReport, build_links
from controller.watchdog import Notifier
from sitefile import Site
from store.writer import Store

log = logging.getLogger("controller.service")
JOB_ID = "cycle"


def pty_map(serial_ports: list[str], pty_dir: Path | None) -> dict[str, str]:
    """Site-file serial ports → ``pty_dir/<basename>`` (the simulator's pty links)."""
    if pty_dir is None:
        return {}
    return {p: str(pty_dir / Path(p).name) for p in serial_ports}


def _log_report(n: int, r: CycleReport) -> None:
    log.info("cycle %d %s: polled %d, offline %d, %.1f ms CPU", n,
             "healthy" if r.healthy else "UNHEALTHY", len(r.polled), len(r.offline),
             1000 * r.elapsed_cpu_s)
    for dev, values in r.writes.items():
        log.info("wrote %s %s", dev, values)
    for dev, err in r.write_failed.items():
        log.error("write to %s failed: %s", dev, err)
    for key in r.raised:
        log.warning("alarm raised %s", key)
    for key in r.cleared:
        log.info("alarm cleared %s", key)
    for cid, status in r.commands.items():
        log.info("command %d %s", cid, status)
    for name, err in r.failed.items():
        log.error("%s failed: %s", name, err)


async def serve(site: Site, store: Store, ports: dict[str, str], notifier: Notifier,
                cycles: int | None = None, *, wall: Callable[[], float] = time.time,
                mono: Callable[[], float] = time.monotonic) -> None:
    """Run the controller until SIGTERM/SIGINT (or ``cycles`` cycles); closes ``store``.

    ``wall`` (UTC epoch s) stamps the data and sets the job's run times; ``mono`` drives the
    controller's timers and the supervisor that re-arms the job after a backward jump of
    the wall clock (APScheduler reads the system clock itself).
    """
    controller = Controller(site, store, build_links(site, ports), mono=mono, wall=wall)
    cycle_s = site.control.cycle_s
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    last_start = mono()
    done = 0

    async def job() -> None:
        nonlocal last_start, done
        last_start = mono()
        report = await controller.cycle()
        done += 1
        _log_report(done, report)
        if report.healthy:
            notifier.notify("WATCHDOG=1")
        if cycles is not None and done >= cycles:
            stop.set()

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(job, "interval", seconds=cycle_s, id=JOB_ID, max_instances=1,
                      coalesce=True, misfire_grace_time=None,
                      next_run_time=datetime.fromtimestamp(wall(), UTC))
    scheduler.start()
    notifier.notify("READY=1")
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=cycle_s)
            except TimeoutError:
                if mono() - last_start > 3 * cycle_s:
                    log.warning("cycle overdue on the monotonic clock: re-arming the schedule")
                    scheduler.modify_job(JOB_ID, next_run_time=datetime.fromtimestamp(wall(), UTC))
    finally:
        notifier.notify("STOPPING=1")
        scheduler.shutdown(wait=False)
        controller.close()


def run_site(site: Site, db: Path, *, pty_dir: Path | None = None, cycles: int | None = None,
             verbose: bool = False, notify_socket: str | None = None) -> None:
    """Open the store and run the controller in a new event loop. Raises StoreError."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(message)s", force=True)
    for noisy in ("pymodbus", "apscheduler"):  # their per-request and per-job chatter
        logging.getLogger(noisy).setLevel(logging.ERROR)
    ports = pty_map([d.serial_port for d in site.devices if d.serial_port], pty_dir)
    store = Store(db, site.site.timezone)
    log.warning("controlling %s: %d devices, cycle %g s, database %s", site.site.name,
                len(site.devices), site.control.cycle_s, store.path)
    asyncio.run(serve(site, store, ports, Notifier(notify_socket), cycles))
