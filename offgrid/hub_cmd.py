"""``offgrid hub enroll|run``: the fleet hub's broker credentials, and its ingest."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from offgrid.common import JsonOpt, fail, print_json

PasswdOpt = Annotated[Path, typer.Option(
    "--passwd", help="The broker's password file (created if missing).")]
AclOpt = Annotated[Path, typer.Option("--acl", help="The broker's ACL file (created if missing).")]


def enroll(
    name: Annotated[str, typer.Argument(help="The site's id (or, with --hub, the hub's user).",
                                        show_default=False)],
    passwd: PasswdOpt, acl: AclOpt,
    hub_user: Annotated[bool, typer.Option(
        "--hub", help="Enroll a hub's user (reads every site, writes commands) instead.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a site's broker credentials (a new password and its ACL) and print them once;
    enrolling again renews the password. Reload the broker afterwards (SIGHUP)."""
    from fleetwire import topics  # noqa: PLC0415 (loaded by the hub commands only)
    from fleetwire.errors import WireError  # noqa: PLC0415
    from hub.broker import enroll as enroll_user  # noqa: PLC0415
    from hub.errors import EnrollError  # noqa: PLC0415

    try:
        creds = enroll_user(passwd, acl, name, "hub" if hub_user else "site")
    except (EnrollError, WireError) as e:
        fail(f"{name}: {e}")
    except OSError as e:
        fail(f"{name}: cannot write the broker's files: {e}", 1)
    if creds.role == "site":
        publish = [topics.topic(name, k) for k in topics.UP_KINDS]
        read = [topics.topic(name, k) for k in topics.DOWN_KINDS]
    else:
        publish = [topics.every_site(k) for k in topics.DOWN_KINDS]
        read = [topics.every_site(k) for k in topics.UP_KINDS]
    if as_json:
        print_json({"username": creds.username, "role": creds.role, "password": creds.password,
                    "publish": publish, "read": read})
        return
    typer.echo(f"username: {creds.username}\npassword: {creds.password}")
    typer.echo(f"{creds.role} {name} enrolled: publishes {', '.join(publish)}; reads "
               f"{', '.join(read)}. The password is shown only once. Reload the broker "
               "(SIGHUP) to apply.", err=True)


def run(
    dsn: Annotated[str, typer.Option("--dsn", help="The hub's PostgreSQL (libpq DSN or URL).")],
    password_file: Annotated[Path, typer.Option(
        "--password-file", help="A file holding the hub user's broker password.")],
    *,
    broker: Annotated[str, typer.Option("--broker", help="The broker, HOST:PORT.")] =
        "127.0.0.1:8883",
    user: Annotated[str, typer.Option("--user", help="The hub's broker user.")] = "hub",
    ca: Annotated[Path | None, typer.Option(
        "--ca", help="The CA of the broker's certificate (TLS); without it, plain TCP.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                         help="Ingest workers (MQTT clients).")] = 2,
    client_prefix: Annotated[str, typer.Option(
        "--client-id", help="Prefix of the workers' MQTT client ids; keep it across restarts "
        "so the broker keeps their sessions.")] = "hub",
) -> None:
    """Run the hub's ingest until stopped (SIGTERM or Ctrl-C)."""
    import psycopg  # noqa: PLC0415 (loaded by the hub commands only)

    from hub.errors import HubError  # noqa: PLC0415
    from hub.ingest import BrokerConfig, IngestConfig  # noqa: PLC0415
    from hub.ingest import run as run_ingest  # noqa: PLC0415

    host, _, port = broker.rpartition(":")
    if not host or not port.isdigit():
        fail(f"--broker {broker!r}: expected HOST:PORT")
    try:
        password = password_file.read_text(encoding="utf-8").strip()
    except OSError as e:
        fail(f"--password-file {password_file}: {e}")
    if ca is not None and not ca.is_file():
        fail(f"--ca {ca}: no such file")
    config = IngestConfig(dsn=dsn, workers=workers, client_prefix=client_prefix,
                          broker=BrokerConfig(host=host, port=int(port), username=user,
                                              password=password, ca_file=ca))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        counters = run_ingest(config, stop)
    except psycopg.Error as e:
        fail(f"the hub's database: {e}", 1)
    except HubError as e:
        fail(str(e), 1)
    typer.echo(f"hub stopped: {counters.batches} batches, {counters.records} records "
               f"({counters.inserted} new), {counters.rejected} rejected", err=True)
