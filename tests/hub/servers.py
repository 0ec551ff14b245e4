"""The hub's real test servers, from :mod:`offgrid.localservers` (PostgreSQL run as a non-root
user in a temporary folder; Mosquitto with TLS from its own CA, passwords and ACL), with the
tests' policy for a missing system tool: a CI run fails, any other run skips the test
(:func:`tests.support.require_tool`)."""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from hub.ingest import BrokerConfig, Counters, IngestConfig
from hub.ingest import run as run_ingest
from offgrid import localservers
from offgrid.localservers import (
    HUB_USER,
    Broker,
    MissingToolError,
    make_certificates,
    restart_broker,
)
from tests.support import require_tool

__all__ = ["Broker", "hub_ingest", "make_certificates", "mosquitto", "postgres",
           "restart_broker", "tools_required"]


@contextlib.contextmanager
def tools_required() -> Iterator[None]:
    """Turn a :class:`MissingToolError` raised in the block into the tests' skip (or CI
    failure)."""
    try:
        yield
    except MissingToolError as e:
        require_tool(e.tool)
        raise


@contextlib.contextmanager
def postgres(settings: Mapping[str, str] | None = None) -> Iterator[str]:
    """:func:`offgrid.localservers.postgres`; a missing tool skips (or fails in CI)."""
    with contextlib.ExitStack() as stack:
        with tools_required():
            dsn = stack.enter_context(localservers.postgres(settings))
        yield dsn


@contextlib.contextmanager
def mosquitto(folder: Path, sites: Sequence[str], hubs: Sequence[str]) -> Iterator[Broker]:
    """:func:`offgrid.localservers.mosquitto`; a missing tool skips (or fails in CI)."""
    with contextlib.ExitStack() as stack:
        with tools_required():
            broker = stack.enter_context(localservers.mosquitto(folder, sites, hubs))
        yield broker


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
