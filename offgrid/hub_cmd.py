"""``offgrid hub enroll|run|serve|keys``: the fleet hub's broker credentials, its ingest, its
API and dashboard, and the API's keys."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.roles import Role
from offgrid.common import JsonOpt, fail, out, print_json

if TYPE_CHECKING:
    from hub.ingest import BrokerConfig
    from hub.schema import Conn

PasswdOpt = Annotated[Path, typer.Option(
    "--passwd", help="The broker's password file (created if missing).")]
AclOpt = Annotated[Path, typer.Option("--acl", help="The broker's ACL file (created if missing).")]
DsnOpt = Annotated[str, typer.Option("--dsn", help="The hub's PostgreSQL (libpq DSN or URL).")]
BrokerOpt = Annotated[str, typer.Option("--broker", help="The broker, HOST:PORT.")]
UserOpt = Annotated[str, typer.Option("--user", help="The hub's broker user.")]
CaOpt = Annotated[Path | None, typer.Option(
    "--ca", help="The CA of the broker's certificate (TLS); without it, plain TCP.")]


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
    dsn: DsnOpt,
    password_file: Annotated[Path, typer.Option(
        "--password-file", help="A file holding the hub user's broker password.")],
    *,
    broker: BrokerOpt = "127.0.0.1:8883",
    user: UserOpt = "hub",
    ca: CaOpt = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                         help="Ingest workers (MQTT clients).")] = 2,
    client_prefix: Annotated[str, typer.Option(
        "--client-id", help="Prefix of the workers' MQTT client ids; keep it across restarts "
        "so the broker keeps their sessions.")] = "hub",
) -> None:
    """Run the hub's ingest until stopped (SIGTERM or Ctrl-C)."""
    import psycopg  # noqa: PLC0415 (loaded by the hub commands only)

    from hub.errors import HubError  # noqa: PLC0415
    from hub.ingest import IngestConfig  # noqa: PLC0415
    from hub.ingest import run as run_ingest  # noqa: PLC0415

    config = IngestConfig(dsn=dsn, workers=workers, client_prefix=client_prefix,
                          broker=_broker_config(broker, user, password_file, ca))
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


def _broker_config(broker: str, user: str, password_file: Path, ca: Path | None
                   ) -> BrokerConfig:
    """The broker's address and the hub's credentials from the command's options (exit 2 on
    bad ones)."""
    from hub.ingest import BrokerConfig  # noqa: PLC0415 (loaded by the hub commands only)

    host, _, port = broker.rpartition(":")
    if not host or not port.isdigit():
        fail(f"--broker {broker!r}: expected HOST:PORT")
    try:
        password = password_file.read_text(encoding="utf-8").strip()
    except OSError as e:
        fail(f"--password-file {password_file}: {e}")
    if ca is not None and not ca.is_file():
        fail(f"--ca {ca}: no such file")
    return BrokerConfig(host=host, port=int(port), username=user, password=password, ca_file=ca)


def serve(
    dsn: DsnOpt,
    *,
    bind: Annotated[str, typer.Option("--bind", help="The API's address, HOST:PORT.")] =
        "127.0.0.1:8090",
    password_file: Annotated[Path | None, typer.Option(
        "--password-file", help="A file holding the hub user's broker password; without it "
        "the API only reads (commands and live views answer 503).")] = None,
    broker: BrokerOpt = "127.0.0.1:8883",
    user: UserOpt = "hub",
    ca: CaOpt = None,
    client_id: Annotated[str, typer.Option(
        "--client-id", help="The API's MQTT client id (one per running API).")] = "hub-api",
    silent_after_s: Annotated[float, typer.Option(
        "--silent-after-s", min=60, help="A site with no message for this long is shown as "
        "silent (no data) [s].")] = 1800.0,
    tz: Annotated[str, typer.Option(
        "--tz", help="The programme's time zone: months of reliability and energy.")] =
        "Asia/Ho_Chi_Minh",
) -> None:
    """The fleet API and dashboard: every site, its figures and reliability, commands to it."""
    import psycopg  # noqa: PLC0415 (loaded by the hub commands only)
    import uvicorn  # noqa: PLC0415

    from hub.api import HubApiSettings, create_app  # noqa: PLC0415
    from hub.errors import HubError  # noqa: PLC0415
    from hub.ingest import connect, mqtt_client  # noqa: PLC0415
    from hub.schema import create_schema  # noqa: PLC0415

    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        fail(f"--bind {bind!r}: expected HOST:PORT")
    try:
        from zoneinfo import ZoneInfo  # noqa: PLC0415

        ZoneInfo(tz)
    except (KeyError, ValueError) as e:
        fail(f"--tz {tz!r}: unknown time zone ({e})")
    config = None if password_file is None else _broker_config(broker, user, password_file, ca)
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            create_schema(conn)
    except psycopg.Error as e:
        fail(f"the hub's database: {e}", 1)
    except HubError as e:
        fail(str(e), 1)
    sender = None
    if config is not None:
        sender = mqtt_client(config, client_id, clean_start=True)
        connect(sender, config, clean_start=True)
        sender.loop_start()
    app = create_app(HubApiSettings(dsn=dsn, silent_after_s=silent_after_s, tz=tz), sender)
    typer.echo(f"Fleet API and dashboard on http://{host}:{port}/"
               f"{'' if sender else ' (read-only: no broker)'}", err=True)
    if host not in ("127.0.0.1", "::1", "localhost"):
        typer.echo(f"warning: {host} is not loopback, and this server has no TLS: put a TLS "
                   "reverse proxy or a VPN in front of it", err=True)
    try:
        uvicorn.run(app, host=host, port=int(port), log_level="warning", access_log=False)
    finally:
        if sender is not None:
            sender.disconnect()
            sender.loop_stop()


def _open_keys_db(dsn: str) -> Conn:
    """A connection to the hub's database with its schema in place (exit 1 when unreachable)."""
    import psycopg  # noqa: PLC0415 (loaded by the hub commands only)

    from hub.errors import HubError  # noqa: PLC0415
    from hub.schema import create_schema  # noqa: PLC0415

    try:
        conn = psycopg.connect(dsn, connect_timeout=10)
        create_schema(conn)
    except psycopg.Error as e:
        fail(f"the hub's database: {e}", 1)
    except HubError as e:
        fail(str(e), 1)
    return conn


def keys_create(
    dsn: DsnOpt,
    role: Annotated[Role, typer.Option("--role", help="viewer, operator or admin.")],
    *,
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")] = "fleet",
    province: Annotated[list[str] | None, typer.Option(
        "--province", help="Limit the key to this province's sites (repeat for more).")] = None,
    group: Annotated[list[str] | None, typer.Option(
        "--group", help="Limit the key to this group's sites (repeat for more).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a fleet API key and print it once (only its hash is stored)."""
    from hub import keys  # noqa: PLC0415 (loaded by the hub commands only)

    try:
        scope = keys.scope_of(province or [], group or [])
        with _open_keys_db(dsn) as conn:
            key, info = keys.create_key(conn, role, name, scope)
    except keys.KeyProblem as e:
        fail(str(e))
    if as_json:
        print_json({**info.as_dict(), "key": key})
        return
    typer.echo(key)
    typer.echo(f"{info.role.value} key {info.id} ({info.name}) for {scope.describe()}: the "
               "key is shown only once.", err=True)


def keys_list(dsn: DsnOpt, as_json: JsonOpt = False) -> None:
    """Every fleet API key (without secrets), revoked ones included."""
    from hub import keys  # noqa: PLC0415 (loaded by the hub commands only)

    with _open_keys_db(dsn) as conn:
        found = keys.list_keys(conn)
    if as_json:
        print_json([k.as_dict() for k in found])
        return
    for k in found:
        state = "revoked" if k.revoked else "active"
        used = k.last_used.isoformat(timespec="seconds") if k.last_used else "never used"
        out.print(f"{k.id}  {k.role.value:<8} {state:<7} {k.name}  ({k.scope.describe()}; "
                  f"{used})", highlight=False)
    if not found:
        typer.echo("no keys", err=True)


def keys_revoke(
    dsn: DsnOpt,
    key_id: Annotated[str, typer.Argument(help="The key's id (12 hex digits).",
                                          show_default=False)],
    as_json: JsonOpt = False,
) -> None:
    """Revoke a fleet API key (at once: its next request is refused)."""
    from hub import keys  # noqa: PLC0415 (loaded by the hub commands only)

    try:
        with _open_keys_db(dsn) as conn:
            info = keys.revoke_key(conn, key_id)
    except keys.UnknownKey as e:
        fail(str(e))
    if as_json:
        print_json(info.as_dict())
        return
    typer.echo(f"revoked {info.id} ({info.name})", err=True)
