"""The fleet's real servers for the light sites' tests and benchmarks: Mosquitto (TLS,
passwords, ACL) with many sites' broker users at once, and PostgreSQL, from
:mod:`offgrid.localservers` (a missing tool skips, or fails in CI: :mod:`tests.hub.servers`);
and the hub's ingest in a thread of this process.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from hub.ingest import BrokerConfig, Counters, IngestConfig
from hub.ingest import run as run_ingest
from offgrid import localservers
from offgrid.localservers import HUB_USER, Broker, enroll_many, new_database, reload
from tests.hub.servers import tools_required

__all__ = ["HUB_USER", "broker_with_sites", "enroll_many", "hub_ingest", "new_database",
           "reload"]


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
    """:func:`offgrid.localservers.broker_with_sites`; a missing tool skips (or fails in
    CI)."""
    with contextlib.ExitStack() as stack:
        with tools_required():
            found = stack.enter_context(localservers.broker_with_sites(folder, sites, quiet))
        yield found
