"""``offgrid fleetsim`` (light simulated sites that report to a hub's broker) and ``offgrid
fleet-demo`` (a whole fleet on this machine: Mosquitto, PostgreSQL, the hub's ingest, API and
dashboard, and light sites), for load tests and for a newcomer's first look."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from offgrid.common import fail

HOUR_MS = 3_600_000


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT (Ctrl-C) or SIGTERM."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _now_ms() -> int:
    return int(time.time() * 1000)


def fleetsim(
    password_dir: Annotated[Path, typer.Option(
        "--password-dir", help="A folder with each site's broker password in a file named "
        "after the site (as `offgrid hub enroll` printed it).")],
    *,
    broker: Annotated[str, typer.Option("--broker", help="The broker, HOST:PORT.")] =
        "127.0.0.1:8883",
    ca: Annotated[Path | None, typer.Option(
        "--ca", help="The CA of the broker's certificate (TLS); without it, plain TCP.")] = None,
    sites: Annotated[int, typer.Option("--sites", min=1, max=20_000,
                                       help="How many light sites.")] = 20,
    prefix: Annotated[str, typer.Option(
        "--prefix", help="Site ids are PREFIX-00001, PREFIX-00002…")] = "sim",
    seed: Annotated[int, typer.Option("--seed", help="The fleet's seed (sizes, weather).")] = 0,
    history_h: Annotated[float, typer.Option(
        "--history-h", min=0, help="Hours of records each site holds at the start (sent as a "
        "backlog) [h].")] = 24.0,
    batch_interval_s: Annotated[int, typer.Option(
        "--batch-interval-s", min=60, help="A batch every … [s] (a multiple of 60).")] = 900,
) -> None:
    """Run light simulated sites (about forty channels a minute each, batches, States, events)
    that report to a hub's broker, each as its own broker user, until stopped (Ctrl-C)."""
    from fleetsim.fleet import Fleet, FleetConfig  # noqa: PLC0415 (loaded when it runs)
    from fleetsim.model import fleet_specs  # noqa: PLC0415

    host, _, port = broker.rpartition(":")
    if not host or not port.isdigit():
        fail(f"--broker {broker!r}: expected HOST:PORT")
    if batch_interval_s % 60:
        fail(f"--batch-interval-s {batch_interval_s}: must be a multiple of 60")
    if ca is not None and not ca.is_file():
        fail(f"--ca {ca}: no such file")
    specs = fleet_specs(sites, seed, prefix)
    passwords = {}
    for spec in specs:
        try:
            passwords[spec.site] = (password_dir / spec.site).read_text(encoding="utf-8").strip()
        except OSError as e:
            fail(f"--password-dir: no password for {spec.site}: {e}")
    config = FleetConfig(host, int(port), ca, batch_interval_s=batch_interval_s)
    stop = _stop_on_signals()
    now = _now_ms()
    with Fleet(config, specs, passwords, now - int(history_h * HOUR_MS)) as fleet:
        fleet.advance_to(now)
        fleet.restore()
        typer.echo(f"{sites} light sites → {broker}; Ctrl-C stops / {sites} trạm mô phỏng "
                   f"nhẹ → {broker}; Ctrl-C để dừng", err=True)
        fleet.run_realtime(stop.is_set, _now_ms)


@contextlib.contextmanager
def offgrid_child(args: list[str], log: Path | None = None
                  ) -> Iterator[subprocess.Popen[bytes]]:
    """``offgrid ARGS`` as a child process (its output in ``log``, else discarded), stopped
    (SIGTERM, then SIGKILL after 30 s) at the end."""
    with contextlib.ExitStack() as files:
        out = (files.enter_context(log.open("wb")) if log is not None
               else subprocess.DEVNULL)
        process = subprocess.Popen([sys.executable, "-m", "offgrid", *args], stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_http(port: int, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if process.poll() is not None:
            fail(f"the fleet API stopped (exit {process.returncode})", 1)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    fail("the fleet API did not start within a minute", 1)


def fleet_demo(
    port: Annotated[int, typer.Option("--port", help="The fleet dashboard's port.")] = 8090,
    sites: Annotated[int, typer.Option("--sites", min=1, max=500,
                                       help="How many light sites.")] = 20,
) -> None:
    """A whole fleet on this machine: Mosquitto (TLS, its own CA) and PostgreSQL in a temporary
    folder, the hub's ingest, API and dashboard, and light simulated sites with a day of
    history; prints the dashboard's address and a viewer key. Ctrl-C stops all and cleans up."""
    # the local servers (TLS broker with each site's user, PostgreSQL as a non-root user in a
    # temporary folder)
    from fleetsim.fleet import Fleet, FleetConfig  # noqa: PLC0415 (loaded when it runs)
    from fleetsim.model import fleet_specs  # noqa: PLC0415
    from offgrid.localservers import (  # noqa: PLC0415
        HUB_USER,
        LocalServerError,
        broker_with_sites,
        postgres,
    )

    specs = fleet_specs(sites, seed=2026, prefix="demo")
    stop = _stop_on_signals()
    with tempfile.TemporaryDirectory(prefix="offgrid-fleet-") as tmp, \
            contextlib.ExitStack() as servers:
        try:
            dsn = servers.enter_context(postgres())
            broker, passwords = servers.enter_context(
                broker_with_sites(Path(tmp) / "broker", [s.site for s in specs], quiet=True))
        except LocalServerError as e:
            fail(f"cannot start the local servers / không khởi động được máy chủ cục bộ: {e}",
                 1)
        secret = Path(tmp) / "hub.password"
        secret.write_text(broker.credentials[HUB_USER].password, encoding="utf-8")
        link = ["--broker", f"127.0.0.1:{broker.port}", "--ca", str(broker.ca_file),
                "--password-file", str(secret)]
        key = subprocess.run([sys.executable, "-m", "offgrid", "hub", "keys", "create",
                              "--dsn", dsn, "--role", "viewer", "--name", "demo"],
                             capture_output=True, text=True, check=False)
        if key.returncode != 0:
            fail(f"cannot create a viewer key: {key.stderr.strip()}", 1)
        with offgrid_child(["hub", "run", "--dsn", dsn, *link, "--client-id", "demo-hub"]), \
                offgrid_child(["hub", "serve", "--dsn", dsn, "--bind", f"127.0.0.1:{port}", *link,
                        "--silent-after-s", "300"]) as api:
            _wait_http(port, api)
            config = FleetConfig("127.0.0.1", broker.port, broker.ca_file)
            now = _now_ms()
            with Fleet(config, specs, passwords, now - 24 * HOUR_MS) as fleet:
                fleet.advance_to(now)  # the day's history in 15-minute batches, then a minute
                fleet.config = dataclasses.replace(config, batch_interval_s=60)
                fleet.restore()
                typer.echo(
                    f"\nFleet dashboard / Bảng điều khiển đội trạm: http://127.0.0.1:{port}/\n"
                    f"Viewer key / Khóa xem: {key.stdout.strip().splitlines()[0]}\n"
                    f"{sites} light sites with a day of history report every minute; "
                    f"{specs[-1].site} goes silent after a minute. Ctrl-C stops all.\n"
                    f"{sites} trạm mô phỏng có lịch sử một ngày, gửi mỗi phút; {specs[-1].site}"
                    " im lặng sau một phút. Ctrl-C để dừng tất cả.\n")
                started = time.monotonic()

                def done() -> bool:
                    if time.monotonic() - started > 60 and not fleet.sites[specs[-1].site].cut:
                        fleet.cut([specs[-1].site])
                    return stop.is_set()

                fleet.run_realtime(done, _now_ms)
    typer.echo("stopped and cleaned up / đã dừng và dọn dẹp", err=True)
