"""The controller as a service: the APScheduler loop, systemd notification, signals.

The cycle runs every ``control.cycle_s`` (``max_instances=1``, ``coalesce=True``). APScheduler
times its interval on the wall clock, so a supervisor on the monotonic clock re-arms the job if
a backward clock jump (NTP on a box without an RTC) left it waiting. systemd: READY=1 once
started, WATCHDOG=1 only after a healthy cycle: devices read, decisions made, writes done
(storage trouble does not starve it; it is the ``storage_failed`` alarm). SIGTERM or SIGINT stop
it cleanly. One controller per database (:func:`store.lock.writer_lock`); a database that cannot
be written starts the controller degraded: it controls, and its records wait in memory.
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
from controller.transport import quiet_pymodbus_logs
from controller.uplink import Uplink
from controller.watchdog import Notifier
from sitefile import Site
from store.lock import writer_lock
from store.queue import WriteQueue
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
        if cid in r.unstored:  # not "command N …": that line means acknowledged in the database
            log.warning("ack of %d (%s) waits in memory: the database cannot be written", cid,
                        status)
        else:
            log.info("command %d %s", cid, status)
    for name, err in r.failed.items():
        log.error("%s failed: %s", name, err)
    if r.storage is not None and r.storage.error is not None:
        log.error("storage: %s (%d records waiting, %d dropped)", r.storage.error,
                  r.storage.queued, r.storage.dropped)


async def serve(site: Site, store: WriteQueue | Store, ports: dict[str, str],
                notifier: Notifier,
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
    """Take the database's writer lock, open the store (degraded when it cannot be written),
    start the uplink to the hub when ``[uplink] enabled`` (:mod:`controller.uplink`) and run
    the controller in a new event loop. Raises :class:`~store.lock.WriterLocked` when
    another controller runs on ``db``."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(message)s", force=True)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # its per-job chatter
    quiet_pymodbus_logs()  # hex dumps of broken frames at ERROR: the controller says it once
    ports = pty_map([d.serial_port for d in site.devices if d.serial_port], pty_dir)
    with writer_lock(db):
        store = WriteQueue(db, site.site.timezone)
        log.warning("controlling %s: %d devices, cycle %g s, database %s", site.site.name,
                    len(site.devices), site.control.cycle_s, store.path)
        if not store.writable:
            log.error("DEGRADED: %s; controlling without storage, records wait in memory",
                      store.error)
        uplink = Uplink(site, db) if site.uplink is not None and site.uplink.enabled else None
        if uplink is not None:
            uplink.start()  # its own thread and database connection: never holds the loop up
        try:
            asyncio.run(serve(site, store, ports, Notifier(notify_socket), cycles))
        finally:
            if uplink is not None:
                uplink.stop()
