"""A hub's servers on this machine, for ``offgrid fleet-demo``, the tests and the benchmarks: a
PostgreSQL cluster and a Mosquitto broker (TLS from its own CA, passwords, ACL), each in a
temporary folder, stopped and removed after.

PostgreSQL's ``initdb`` refuses to run as root: as root, the cluster is made and run as the
user ``nobody`` (``runuser``), in a folder it owns under ``/tmp``. Debian keeps ``initdb`` and
``pg_ctl`` in ``/usr/lib/postgresql/<version>/bin``, off ``PATH``; they are looked for there too.
A missing tool raises :class:`MissingToolError` (the tests turn it into a skip, or a failure in
CI). Enrolling many sites at once: :func:`enroll_many` and :func:`broker_with_sites`.
Imports only the standard library and the project at the top (the benchmarks import it too).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fleetwire.topics import site_acl
from hub.broker import Credentials, enroll

HUB_USER = "hub"
"""The hub's broker user in :func:`broker_with_sites`."""
PACKAGES = "postgresql, mosquitto, openssl, util-linux"
"""The Debian packages that hold the tools the local servers run."""
START_TIMEOUT_S = 60.0
"""How long a server may take to start [s]."""


class LocalServerError(Exception):
    """A local server that could not be made or started."""


class MissingToolError(LocalServerError):
    """A system tool the local servers need is not installed."""

    def __init__(self, tool: str) -> None:
        super().__init__(f"{tool} is not installed (not on PATH): install it (Debian packages "
                         f"{PACKAGES}; scripts/test does) / chưa cài {tool}: hãy cài (gói "
                         f"Debian {PACKAGES})")
        self.tool = tool


def find_tool(name: str) -> str:
    """The path of the system tool ``name`` on ``PATH``, or :class:`MissingToolError`."""
    found = shutil.which(name)
    if found is None:
        raise MissingToolError(name)
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_tool(name: str) -> str:
    """The path of PostgreSQL's server tool ``name`` (``initdb``, ``pg_ctl``)."""
    found = shutil.which(name)
    if found is not None:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                      key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    return str(versions[-1]) if versions else find_tool(name)


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "nobody", "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str], cwd: Path) -> None:
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        raise LocalServerError(f"{Path(cmd[0]).name} failed (exit {done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[-2000:]}")


@contextlib.contextmanager
def postgres(settings: Mapping[str, str] | None = None) -> Iterator[str]:
    """A fresh PostgreSQL cluster on a free loopback port (its unix socket in its own folder);
    yields a DSN for the superuser ``postgres`` (trust authentication, loopback only)."""
    initdb, pg_ctl = pg_tool("initdb"), pg_tool("pg_ctl")
    if os.geteuid() == 0:
        find_tool("runuser")
    root = Path(tempfile.mkdtemp(prefix="offgrid-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "nobody")
    data, port = root / "data", free_port()
    options = {"listen_addresses": "127.0.0.1", "unix_socket_directories": str(root),
               "port": str(port), **(settings or {})}
    try:
        _run(_as_owner([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                        "--no-sync"]), root)
        flags = " ".join(f"-c {k}={v}" for k, v in options.items())
        _run(_as_owner([pg_ctl, "-D", str(data), "-l", str(root / "log"), "-w", "-t",
                        f"{START_TIMEOUT_S:g}", "-o", flags, "start"]), root)
        try:
            yield f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
        finally:
            subprocess.run(_as_owner([pg_ctl, "-D", str(data), "-m", "immediate", "-w",
                                      "stop"]), check=False, capture_output=True, cwd=root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def new_database(cluster_dsn: str) -> str:
    """A new, empty database on ``cluster_dsn``'s cluster; its DSN."""
    import psycopg  # noqa: PLC0415 (the servers themselves need only the standard library)

    name = f"f_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return cluster_dsn.replace("dbname=postgres", f"dbname={name}")


def _openssl(*args: str, cwd: Path) -> None:
    _run([find_tool("openssl"), *args], cwd)


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA of its own, and a server certificate it signs for ``localhost`` and ``127.0.0.1``:
    ``(ca.crt, server.crt, server.key)`` in ``folder``, valid for two days."""
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=offgrid local CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj",
             "/CN=localhost", cwd=folder)
    (folder / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext",
             cwd=folder)
    return folder / "ca.crt", folder / "server.crt", folder / "server.key"


@dataclass
class Broker:
    """A running Mosquitto: its TLS port on 127.0.0.1, its CA, and the credentials enrolled."""

    port: int
    ca_file: Path
    credentials: dict[str, Credentials]
    process: subprocess.Popen[bytes]
    log_file: Path


def _wait_listening(port: int, process: subprocess.Popen[bytes], log_file: Path) -> None:
    """Return once the broker accepts TCP connections on ``port``."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise LocalServerError(f"mosquitto exited {process.returncode}: "
                                   f"{log_file.read_text(errors='replace')[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            raise LocalServerError(f"mosquitto not listening on {port} after "
                                   f"{START_TIMEOUT_S:g} s")
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(0.05)


@contextlib.contextmanager
def mosquitto(folder: Path, sites: Sequence[str], hubs: Sequence[str]) -> Iterator[Broker]:
    """Mosquitto on a free loopback port with TLS only, no anonymous access, and a user and
    ACL block for each of ``sites`` and ``hubs`` (enrolled with :func:`hub.broker.enroll`)."""
    binary = find_tool("mosquitto")
    find_tool("mosquitto_passwd")
    folder.mkdir(parents=True, exist_ok=True)
    ca, cert, key = make_certificates(folder)
    passwd, acl = folder / "passwd", folder / "acl"
    credentials = {name: enroll(passwd, acl, name, "site") for name in sites}
    credentials |= {name: enroll(passwd, acl, name, "hub") for name in hubs}
    port, log_file = free_port(), folder / "mosquitto.log"
    (folder / "mosquitto.conf").write_text(
        "user root\n"
        "per_listener_settings false\nallow_anonymous false\n"
        f"password_file {passwd}\nacl_file {acl}\n"
        "persistence false\nmax_queued_messages 100000\n"
        f"log_dest file {log_file}\nlog_type all\n"
        f"listener {port} 127.0.0.1\n"
        f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\n")
    broker = Broker(port, ca, credentials,
                    subprocess.Popen([binary, "-c", str(folder / "mosquitto.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                    log_file)
    try:
        _wait_listening(port, broker.process, log_file)
        yield broker
    finally:  # the broker's process now: restart_broker may have replaced it
        broker.process.send_signal(signal.SIGTERM)
        try:
            broker.process.wait(10)
        except subprocess.TimeoutExpired:
            broker.process.kill()
            broker.process.wait()


def restart_broker(broker: Broker) -> None:
    """Kill ``broker`` with SIGKILL (no clean shutdown) and start it again on its port with its
    configuration; returns once it listens. It kept nothing (``persistence false``)."""
    broker.process.kill()
    broker.process.wait()
    broker.process = subprocess.Popen(
        [find_tool("mosquitto"), "-c", str(broker.log_file.parent / "mosquitto.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_listening(broker.port, broker.process, broker.log_file)


def enroll_many(folder: Path, names: Sequence[str]) -> dict[str, str]:
    """Broker users for the sites ``names`` (new random passwords, hashed by one
    ``mosquitto_passwd -U``), appended to ``folder``'s ``passwd`` and ``acl`` with the ACL
    blocks :func:`hub.broker.enroll` writes. Returns each site's password; reload the broker
    after (``SIGHUP``, :func:`reload`).

    :func:`hub.broker.enroll` runs ``mosquitto_passwd`` once a site and rewrites the whole ACL
    file (about 25 ms a site here, growing with the file); this does many at once."""
    passwords = {name: secrets.token_urlsafe(24) for name in names}
    plain = folder / "passwd.new"
    plain.write_text("".join(f"{n}:{p}\n" for n, p in passwords.items()), encoding="utf-8")
    _run([find_tool("mosquitto_passwd"), "-U", str(plain)], folder)
    with (folder / "passwd").open("a", encoding="utf-8") as out:
        out.write(plain.read_text(encoding="utf-8"))
    plain.unlink()
    blocks = "".join("\n" + "\n".join([f"# offgrid site {n}", *site_acl(n)]) + "\n"
                     for n in names)
    with (folder / "acl").open("a", encoding="utf-8") as out:
        out.write(blocks)
    return passwords


def reload(broker: Broker, quiet: bool = False) -> None:
    """Make the broker read its password and ACL files again, and wait until it has;
    ``quiet``: and log no more than notices (not every message: a load test's broker)."""
    if quiet:
        conf = broker.log_file.with_name("mosquitto.conf")
        conf.write_text(conf.read_text().replace("log_type all\n", "log_type notice\n"))
    log = broker.log_file
    before = log.read_text(errors="replace").count("Reloading config")
    broker.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + START_TIMEOUT_S
    while log.read_text(errors="replace").count("Reloading config") <= before:
        if time.monotonic() > deadline:
            raise LocalServerError(f"mosquitto did not reload within {START_TIMEOUT_S:g} s")
        time.sleep(0.02)
    time.sleep(0.2)  # the log line comes first; the files are read right after it


@contextlib.contextmanager
def broker_with_sites(folder: Path, sites: Sequence[str], quiet: bool = False,
                      ) -> Iterator[tuple[Broker, dict[str, str]]]:
    """Mosquitto (:func:`mosquitto`, with the hub's user :data:`HUB_USER`) and ``sites``
    enrolled in bulk; yields the broker and the sites' passwords. ``quiet``: see
    :func:`reload`."""
    with mosquitto(folder, [], [HUB_USER]) as broker:
        passwords = enroll_many(folder, sites)
        reload(broker, quiet)
        yield broker, passwords
