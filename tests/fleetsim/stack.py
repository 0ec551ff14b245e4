"""The fleet's real servers for the light sites' tests, benchmarks and demo: Mosquitto (TLS,
passwords, ACL) and PostgreSQL from :mod:`tests.hub.servers`, many sites' broker users at once,
and the hub's ingest in a thread of this process.

Enrolling a site with :func:`hub.broker.enroll` runs ``mosquitto_passwd`` once and rewrites
the whole ACL file (about 25 ms a site here, growing with the file): :func:`enroll_many` does
many at once instead (one ``mosquitto_passwd -U`` over a plain file, the same ACL blocks,
appended), then the broker reloads both files on ``SIGHUP``.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from fleetwire.topics import site_acl
from hub.ingest import BrokerConfig, Counters, IngestConfig
from hub.ingest import run as run_ingest
from tests.hub.servers import Broker, mosquitto
from tests.support import require_tool

HUB_USER = "hub"


def enroll_many(folder: Path, names: Sequence[str]) -> dict[str, str]:
    """Broker users for the sites ``names`` (new random passwords, hashed by one
    ``mosquitto_passwd -U``), appended to ``folder``'s ``passwd`` and ``acl`` with the ACL
    blocks :func:`hub.broker.enroll` writes. Returns each site's password; reload the broker
    after (``SIGHUP``)."""
    passwords = {name: secrets.token_urlsafe(24) for name in names}
    plain = folder / "passwd.new"
    plain.write_text("".join(f"{n}:{p}\n" for n, p in passwords.items()), encoding="utf-8")
    subprocess.run([require_tool("mosquitto_passwd"), "-U", str(plain)], check=True,
                   capture_output=True)
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
    while log.read_text(errors="replace").count("Reloading config") <= before:
        time.sleep(0.02)
    time.sleep(0.2)  # the log line comes first; the files are read right after it


def new_database(cluster_dsn: str) -> str:
    """A new, empty database on ``cluster_dsn``'s cluster; its DSN."""
    name = f"f_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return cluster_dsn.replace("dbname=postgres", f"dbname={name}")


class _Subscribed(logging.Handler):
    """Counts the ingest workers' "subscribed to" log lines."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0
        self.seen = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("subscribed to"):
            with self.seen:
                self.count += 1
                self.seen.notify_all()


@contextlib.contextmanager
def hub_ingest(broker: Broker, dsn: str, workers: int = 2,
               counters: Counters | None = None) -> Iterator[Counters]:
    """The hub's ingest (:func:`hub.ingest.run`) in a thread, until the block ends."""
    counters = counters or Counters()
    config = IngestConfig(dsn=dsn, workers=workers, client_prefix=f"hub-{uuid.uuid4().hex[:6]}",
                          broker=BrokerConfig("127.0.0.1", broker.port, HUB_USER,
                                              broker.credentials[HUB_USER].password,
                                              broker.ca_file))
    stop = threading.Event()
    failed: list[BaseException] = []
    subscribed = _Subscribed()
    logger = logging.getLogger("hub.ingest")
    logger.addHandler(subscribed)
    level = logger.level
    logger.setLevel(logging.INFO)

    def target() -> None:
        try:
            run_ingest(config, stop, lambda: datetime.now(UTC), counters)
        except BaseException as e:  # noqa: BLE001 (reported to the caller below)
            failed.append(e)

    thread = threading.Thread(target=target, name="hub-ingest", daemon=True)
    thread.start()
    try:
        with subscribed.seen:  # every worker in the shared group: no batch published is lost
            subscribed.seen.wait_for(lambda: subscribed.count >= workers or failed
                                     or not thread.is_alive(), 60)
        logger.setLevel(level)
        yield counters
    finally:
        stop.set()
        thread.join(60)
        logger.removeHandler(subscribed)
        logger.setLevel(level)
    if failed:
        raise failed[0]


@contextlib.contextmanager
def broker_with_sites(folder: Path, sites: Sequence[str], quiet: bool = False,
                      ) -> Iterator[tuple[Broker, dict[str, str]]]:
    """Mosquitto (:func:`tests.hub.servers.mosquitto`, with the hub's user) and ``sites``
    enrolled in bulk; yields the broker and the sites' passwords. ``quiet``: see
    :func:`reload`."""
    with mosquitto(folder, [], [HUB_USER]) as broker:
        passwords = enroll_many(folder, sites)
        reload(broker, quiet)
        yield broker, passwords
