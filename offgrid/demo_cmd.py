"""``offgrid demo``: a whole simulated site (simulator, controller, API and dashboard) from the
bundled example, as child processes of this one; it prints an admin key and, when the site has
a flexible load, a customer key for it."""

from __future__ import annotations

import contextlib
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TextIO

import tomlkit
import typer

from api.roles import Role
from offgrid.common import fail, open_site
from sitefile import load_site, relocate_files
from store.errors import StoreError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shrimp-bac-lieu.toml"
START_TIMEOUT_S = 60.0


class DemoError(Exception):
    """A demo child process that did not start."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo_site_file(example: Path, workdir: Path, api_port: int) -> Path:
    """Copy ``example`` into ``workdir``: Modbus TCP devices on free loopback ports, the
    database in ``workdir``, and the files the example names found from ``workdir``."""
    doc = tomlkit.parse(example.read_text(encoding="utf-8"))
    for dev in doc.get("devices", []):
        if dev.get("transport") == "tcp":
            dev["host"] = "127.0.0.1"
            dev["port"] = free_port()
    relocate_files(doc, example.parent, workdir)
    api_section = doc.setdefault("api", tomlkit.table())
    api_section["database"] = "demo.db"
    api_section["host"] = "127.0.0.1"
    api_section["port"] = api_port
    path = workdir / "site.toml"
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path


class DemoSite:
    """The simulator, the controller and the API as child processes in ``workdir``.

    Each child runs in its own session, so Ctrl-C reaches only this process, which then stops
    them in order: API, controller, simulator.
    """

    def __init__(self, workdir: Path, *, speed: float, api_port: int,
                 example: Path = EXAMPLE) -> None:
        self.workdir = workdir
        self.speed = speed
        self.api_port = api_port or free_port()
        self.site_file = demo_site_file(example, workdir, self.api_port)
        self.site = load_site(self.site_file)
        self.database = self.site.api.database
        self.procs: list[tuple[str, subprocess.Popen[str]]] = []
        self.logs: list[TextIO] = []
        self.control_url = ""
        self.key = ""
        self.customer_key = ""  # for the first flexible load with a relay, if any
        self.customer_load = next((ld.name for ld in self.site.loads
                                   if ld.flexible and ld.switch is not None), "")

    @property
    def url(self) -> str:
        """The dashboard's address."""
        return f"http://127.0.0.1:{self.api_port}/"

    @property
    def customer_url(self) -> str:
        """The customer page's address."""
        return f"{self.url}static/customer.html"

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[str]:
        log = (self.workdir / f"{name}.log").open("w", encoding="utf-8")
        self.logs.append(log)
        proc = subprocess.Popen([sys.executable, "-m", "offgrid", *args], cwd=self.workdir,
                                stdout=subprocess.PIPE if name == "sim" else log,
                                stderr=log, text=True, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def _wait(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready():
            for name, proc in self.procs:
                if proc.poll() is not None:
                    raise DemoError(f"the {name} stopped (exit {proc.returncode}); see "
                                    f"{self.workdir / (name + '.log')}")
            if time.monotonic() > deadline:
                raise DemoError(f"{what} not ready after {START_TIMEOUT_S:g} s")
            time.sleep(0.1)

    def start(self) -> None:
        """Start the three processes and wait until each is ready; create an admin key, and
        a customer key for the first flexible load when the site has one."""
        (self.workdir / "pty").mkdir(exist_ok=True)
        sim = self._spawn("sim", "sim", str(self.site_file), "--speed", f"{self.speed:g}",
                          "--pty-dir", "pty", "--control-port", "0")
        assert sim.stdout is not None
        for line in sim.stdout:
            if line.startswith("Control: "):
                self.control_url = line.split(" ", 1)[1].strip()
            if line.startswith("Ready"):
                break
        else:
            raise DemoError(f"the simulator stopped (exit {sim.wait()}); see "
                            f"{self.workdir / 'sim.log'}")
        # Keep draining the simulator's output (fault reports) so its pipe never fills.
        threading.Thread(target=_drain, args=(sim.stdout, self.logs[0]), daemon=True).start()
        self._spawn("controller", "run", str(self.site_file), "--pty-dir", "pty")
        self._wait("the controller", self._has_data)
        from api import keys  # noqa: PLC0415

        conn = keys.connect(self.database)
        self.key = keys.create_key(conn, Role.admin, "demo", by="demo")[0]
        if self.customer_load:
            self.customer_key = keys.create_key(conn, Role.customer, "demo-customer",
                                                by="demo", loads=[self.customer_load])[0]
        conn.close()
        self._spawn("api", "serve", str(self.site_file))
        self._wait("the API", self._api_up)

    def _has_data(self) -> bool:
        from store import readers  # noqa: PLC0415 (sqlite-utils: loaded by this command only)

        if not self.database.exists():
            return False
        try:
            with contextlib.closing(readers.connect(self.database, readonly=True,
                                                    timeout_s=1.0)) as c:
                latest = readers.read_latest(c)
        except (StoreError, sqlite3.Error):
            return False
        return any(r["quality"] == "good" for r in latest)

    def _api_up(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "healthz", timeout=1.0) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the children, newest first: SIGTERM, then SIGKILL after 10 s."""
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10.0)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs.clear()
        for log in self.logs:
            log.close()
        self.logs.clear()


def demo(
    port: Annotated[int, typer.Option(help="The dashboard's port (0: any free port).",
                                      min=0, max=65535)] = 8080,
    speed: Annotated[float, typer.Option(help="Simulated seconds per wall second.",
                                         min=1, max=3600)] = 60.0,
    example: Annotated[Path, typer.Option(
        "--site", help="The site file to play (default: the bundled shrimp farm; "
                       "examples/smart-home-ben-tre.toml is the smart home with a customer).",
        dir_okay=False)] = EXAMPLE,
) -> None:
    """A whole simulated site (by default the shrimp farm): simulator, controller, API and
    dashboard."""
    if not example.is_file():
        fail(f"the site file is missing: {example}", 2 if example != EXAMPLE else 1)
    open_site(example, "devices")  # every problem of the file, exit 2
    if port and not _port_free(port):
        fail(f"port {port} is in use on 127.0.0.1; try --port 0", 1)
    with tempfile.TemporaryDirectory(prefix="offgrid-demo-") as tmp:
        site = DemoSite(Path(tmp), speed=speed, api_port=port, example=example)
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            typer.echo(f"Starting the simulator, controller and API in {tmp} …", err=True)
            site.start()
            typer.echo(f"Dashboard: {site.url}")
            typer.echo(f"API key: {site.key}")
            if site.customer_key:
                typer.echo(f"Customer page: {site.customer_url}")
                typer.echo(f"Customer key ({site.customer_load}): {site.customer_key}")
            typer.echo(f"Simulator control: {site.control_url}   (speed {speed:g}×; "
                       "Ctrl-C stops everything)", err=True)
            while not stop.is_set() and all(p.poll() is None for _, p in site.procs):
                stop.wait(0.5)
            for name, p in site.procs:
                if p.poll() is not None:
                    typer.echo(f"the {name} stopped unexpectedly (exit {p.returncode})",
                               err=True)
        except DemoError as e:
            typer.echo(str(e), err=True)
            for name in ("sim", "controller", "api"):
                log = Path(tmp) / f"{name}.log"
                if log.exists() and log.stat().st_size:
                    typer.echo(f"--- {name}.log\n{log.read_text()[-2000:]}", err=True)
            site.stop()
            raise typer.Exit(1) from e
        site.stop()
        typer.echo("Stopped.", err=True)


def _drain(stream: TextIO, log: TextIO) -> None:
    with contextlib.suppress(ValueError, OSError):  # the log closes when the demo stops
        for line in stream:
            log.write(line)
            log.flush()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True

