"""Real servers for the hub's tests and benchmark: a PostgreSQL cluster and a Mosquitto broker
(TLS, passwords, ACL), each in a temporary folder, stopped and removed after.

PostgreSQL's ``initdb`` refuses to run as root: as root, the cluster is made and run as the
user ``nobody`` (``runuser``), in a folder it owns under ``/tmp``. Debian keeps ``initdb`` and
``pg_ctl`` in ``/usr/lib/postgresql/<version>/bin``, off ``PATH``; they are looked for there too.
A missing tool fails a CI run and skips the test elsewhere (:func:`tests.support.require_tool`).
Imports only the standard library and the project at the top (the benchmark imports it too).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from hub.broker import Credentials, enroll
from tests.support import free_port, require_tool


def pg_tool(name: str) -> str:
    """The path of PostgreSQL's server tool ``name`` (``initdb``, ``pg_ctl``)."""
    found = shutil.which(name)
    if found is not None:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                      key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    return str(versions[-1]) if versions else require_tool(name)


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "nobody", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def postgres(settings: Mapping[str, str] | None = None) -> Iterator[str]:
    """A fresh PostgreSQL cluster on a free loopback port (its unix socket in its own folder);
    yields a DSN for the superuser ``postgres`` (trust authentication, loopback only)."""
    initdb, pg_ctl = pg_tool("initdb"), pg_tool("pg_ctl")
    if os.geteuid() == 0:
        require_tool("runuser")
    root = Path(tempfile.mkdtemp(prefix="offgrid-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "nobody")
    data, port = root / "data", free_port()
    options = {"listen_addresses": "127.0.0.1", "unix_socket_directories": str(root),
               "port": str(port), **(settings or {})}
    try:
        subprocess.run(_as_owner([initdb, "-D", str(data), "-U", "postgres", "--auth=trust",
                                  "-E", "UTF8", "--no-sync"]),
                       check=True, capture_output=True, cwd=root)
        flags = " ".join(f"-c {k}={v}" for k, v in options.items())
        subprocess.run(_as_owner([pg_ctl, "-D", str(data), "-l", str(root / "log"), "-w",
                                  "-t", "60", "-o", flags, "start"]),
                       check=True, capture_output=True, cwd=root)
        try:
            yield f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
        finally:
            subprocess.run(_as_owner([pg_ctl, "-D", str(data), "-m", "immediate", "-w",
                                      "stop"]), check=False, capture_output=True, cwd=root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run([require_tool("openssl"), *args], check=True, capture_output=True, cwd=cwd)


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA, and a server certificate it signs for ``localhost`` and ``127.0.0.1``:
    ``(ca.crt, server.crt, server.key)`` in ``folder``."""
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=offgrid test CA", "-addext", "basicConstraints=critical,CA:TRUE",
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
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"mosquitto exited {process.returncode}: "
                               f"{log_file.read_text(errors='replace')[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(0.05)


@contextlib.contextmanager
def mosquitto(folder: Path, sites: list[str], hubs: list[str]) -> Iterator[Broker]:
    """Mosquitto on a free loopback port with TLS only, no anonymous access, and a user and
    ACL block for each of ``sites`` and ``hubs`` (enrolled with :func:`hub.broker.enroll`)."""
    binary = require_tool("mosquitto")
    require_tool("mosquitto_passwd")
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
    process = subprocess.Popen([binary, "-c", str(folder / "mosquitto.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_listening(port, process, log_file)
        yield Broker(port, ca, credentials, process, log_file)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def restart_broker(broker: Broker) -> None:
    """Kill ``broker`` with SIGKILL (no clean shutdown) and start it again on its port with its
    configuration; returns once it listens. It kept nothing (``persistence false``)."""
    broker.process.kill()
    broker.process.wait()
    broker.process = subprocess.Popen(
        [require_tool("mosquitto"), "-c", str(broker.log_file.parent / "mosquitto.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_listening(broker.port, broker.process, broker.log_file)
