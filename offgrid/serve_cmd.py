"""``offgrid serve`` (the monitoring API and dashboard), ``offgrid keys …`` and ``offgrid demo``."""

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
from api.settings import ApiSettings
from controller.errors import StoreError
from offgrid.cli import SiteArg, app, fail, open_site, out, print_json
from sitefile import load_site

keys_app = typer.Typer(name="keys", help="API keys: create (shown once), list, revoke.",
                       no_args_is_help=True)

SiteOpt = Annotated[Path | None, typer.Argument(
    help="The site file; its [api] database holds the keys.", show_default=False)]
DbOpt = Annotated[Path | None, typer.Option("--db", help="The database (instead of a site file).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


def _database(site_file: Path | None, db: Path | None) -> Path:
    if (site_file is None) == (db is None):
        fail("give either a site file or --db PATH")
    if db is not None:
        return db
    assert site_file is not None
    return open_site(site_file).api.database


def _open(path: Path) -> sqlite3.Connection:
    from api import keys  # noqa: PLC0415 (fastapi: loaded by the key commands only)

    try:
        return keys.connect(path)
    except (StoreError, sqlite3.Error) as e:
        fail(f"{path}: cannot open the database: {e}", 1)


@keys_app.command("create")
def create(
    role: Annotated[Role, typer.Option("--role", help="viewer, operator or admin.")],
    site_file: SiteOpt = None, db: DbOpt = None,
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")] = "api",
    as_json: JsonOpt = False,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from api import keys  # noqa: PLC0415 (fastapi: loaded by the key commands only)

    if not 1 <= len(name) <= 60:
        fail("--name must be 1 to 60 characters")
    conn = _open(_database(site_file, db))
    key, info = keys.create_key(conn, role, name, by="cli")
    if as_json:
        print_json({"id": info.id, "name": info.name, "role": info.role.value, "key": key})
        return
    typer.echo(key)
    typer.echo(f"{info.role.value} key {info.id} ({info.name}) created; it is shown only once.",
               err=True)


@keys_app.command("list")
def list_(site_file: SiteOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List keys (ids, roles, use; never the keys themselves)."""
    from api import keys  # noqa: PLC0415 (fastapi: loaded by the key commands only)

    conn = _open(_database(site_file, db))
    rows = [{"id": k.id, "name": k.name, "role": k.role.value, "active": k.active,
             "created_ts": k.created_ts, "revoked_ts": k.revoked_ts,
             "last_used_ts": k.last_used_ts} for k in keys.list_keys(conn)]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        state = "active" if r["active"] else "revoked"
        out.print(f"{r['id']}  {r['role']:<8} {state:<7}  {r['name']}")


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from `keys list`).")],
           site_file: Annotated[Path | None, typer.Option("--site", help="The site file.")] = None,
           db: DbOpt = None) -> None:
    """Revoke a key: it stops working at once."""
    from api import keys  # noqa: PLC0415 (fastapi: loaded by the key commands only)

    conn = _open(_database(site_file, db))
    try:
        info = keys.revoke_key(conn, key_id, by="cli")
    except keys.UnknownKey as e:
        fail(str(e))
    typer.echo(f"key {info.id} ({info.name}, {info.role.value}) revoked", err=True)


def serve(
    site_file: SiteArg,
    host: Annotated[str | None, typer.Option(help="Bind address [default: [api] host]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: [api] port]")] = None,
    db: Annotated[Path | None, typer.Option("--db", help="Database [default: [api] database]")]
    = None,
) -> None:
    """The monitoring API and dashboard (reads the controller's database)."""
    import uvicorn  # noqa: PLC0415 — only this command needs the server

    from api.app import create_app  # noqa: PLC0415

    site = open_site(site_file)
    if port is not None and not 0 <= port <= 65535:
        fail("--port must be 0..65535")
    settings = ApiSettings.from_site(site, host=host, port=port, database=db)
    try:
        app = create_app(settings, site)
    except (StoreError, sqlite3.Error) as e:
        fail(f"{settings.database}: cannot open the database: {e}", 1)
    typer.echo(f"Serving {site.site.name} on http://{settings.host}:{settings.port}/", err=True)
    if settings.host not in ("127.0.0.1", "::1", "localhost"):
        typer.echo(f"warning: {settings.host} is not loopback, and this server has no TLS: "
                   "put a TLS reverse proxy or a VPN in front of it", err=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning",
                access_log=False)


# --------------------------------------------------------------------------- demo

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
    database in ``workdir``, and files the example names made absolute."""
    doc = tomlkit.parse(example.read_text(encoding="utf-8"))
    for dev in doc.get("devices", []):
        if dev.get("transport") == "tcp":
            dev["host"] = "127.0.0.1"
            dev["port"] = free_port()
    weather = doc.get("weather", {})
    if "file" in weather:
        weather["file"] = str((example.parent / weather["file"]).resolve())
    for load in doc.get("loads", []):
        if "profile" in load:
            load["profile"] = str((example.parent / load["profile"]).resolve())
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

    @property
    def url(self) -> str:
        """The dashboard's address."""
        return f"http://127.0.0.1:{self.api_port}/"

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
        """Start the three processes and wait until each is ready; create an admin key."""
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
        conn.close()
        self._spawn("api", "serve", str(self.site_file))
        self._wait("the API", self._api_up)

    def _has_data(self) -> bool:
        if not self.database.exists():
            return False
        try:
            with contextlib.closing(sqlite3.connect(self.database, timeout=1.0)) as c:
                row = c.execute("SELECT COUNT(*) FROM latest WHERE quality = 'good'").fetchone()
        except sqlite3.Error:
            return False
        return bool(row and row[0] > 0)

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
) -> None:
    """A whole simulated shrimp farm: simulator, controller, API and dashboard."""
    if not EXAMPLE.is_file():
        fail(f"the bundled example is missing: {EXAMPLE}", 1)
    if port and not _port_free(port):
        fail(f"port {port} is in use on 127.0.0.1; try --port 0", 1)
    with tempfile.TemporaryDirectory(prefix="offgrid-demo-") as tmp:
        site = DemoSite(Path(tmp), speed=speed, api_port=port)
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            typer.echo(f"Starting the simulator, controller and API in {tmp} …", err=True)
            site.start()
            typer.echo(f"Dashboard: {site.url}")
            typer.echo(f"API key: {site.key}")
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


app.add_typer(keys_app)
app.command("serve")(serve)
app.command("demo")(demo)
