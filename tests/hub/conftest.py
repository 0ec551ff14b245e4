"""The hub's test servers: one real PostgreSQL cluster and one real Mosquitto broker for the
session (see :mod:`tests.hub.servers`), and a fresh database for each test."""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import paho.mqtt.client as mqtt
import psycopg
import pytest

from fleetwire import topics
from fleetwire.messages import BatchAck, Events, State, decode_ack, encode
from hub.ingest import BrokerConfig, Counters, connect, mqtt_client
from hub.schema import create_schema, ensure_partitions
from tests.hub.servers import Broker, hub_ingest, mosquitto, postgres

SITES = ["site-a", "site-b", "site-c", "site-d"]
HUB_USER = "hub"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[str]:
    """The DSN of a session-wide PostgreSQL (fsync off: tests never crash the database)."""
    with postgres({"fsync": "off"}) as dsn:
        yield dsn


@pytest.fixture
def hub_dsn(pg_cluster: str) -> Iterator[str]:
    """A new, empty database on the test cluster, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield pg_cluster.replace("dbname=postgres", f"dbname={name}")
    with psycopg.connect(pg_cluster, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def hub_db(hub_dsn: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection to a new database holding the hub's schema, with partitions around now."""
    from datetime import UTC, datetime  # noqa: PLC0415

    with psycopg.connect(hub_dsn) as conn:
        create_schema(conn)
        ensure_partitions(conn, datetime.now(UTC))
        yield conn


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A session-wide Mosquitto (TLS only, passwords, ACL) with :data:`SITES` and the hub."""
    folder: Path = tmp_path_factory.mktemp("broker")
    with mosquitto(folder, SITES, [HUB_USER]) as b:
        yield b


# --- the ingest in this process, and a test site that speaks the wire's up and down kinds

WAIT_S = 60.0


@dataclass
class RunningHub:
    """:func:`hub.ingest.run` in a thread of the test (:func:`tests.hub.servers.hub_ingest`),
    on ``dsn`` and the test broker."""

    dsn: str
    broker: Broker
    counters: Counters

    def publisher(self) -> mqtt.Client:
        """A connected client with the hub's credentials (to publish commands and keep-alives)."""
        return hub_client(self.broker)


def hub_client(broker: Broker) -> mqtt.Client:
    """A connected MQTT client with the hub's credentials, on its own loop thread."""
    config = BrokerConfig("127.0.0.1", broker.port, HUB_USER,
                          broker.credentials[HUB_USER].password, broker.ca_file)
    client = mqtt_client(config, f"hub-pub-{uuid.uuid4().hex[:8]}", clean_start=True)
    ready = threading.Event()
    client.on_connect = lambda *_: ready.set()
    connect(client, config, clean_start=True)
    client.loop_start()
    assert ready.wait(WAIT_S)
    return client


@pytest.fixture
def running_hub(broker: Broker, hub_dsn: str) -> Iterator[RunningHub]:
    """The ingest (one worker) running in this process until the test ends."""
    with hub_ingest(broker, hub_dsn, workers=1) as counters:
        yield RunningHub(hub_dsn, broker, counters)


class TestSite:
    """A site's MQTT client (its own credentials, over TLS): publishes Events and States, and
    collects what the hub sends down (acknowledgements, commands with their properties, live)."""

    __test__ = False

    def __init__(self, broker: Broker, site: str) -> None:
        self.site = site
        self.down: dict[str, queue.Queue[mqtt.MQTTMessage]] = {
            "ack": queue.Queue(), "cmd": queue.Queue(), "live": queue.Queue()}
        self.ready = threading.Event()
        self.config = BrokerConfig("127.0.0.1", broker.port, site,
                                   broker.credentials[site].password, broker.ca_file)
        self.client = mqtt_client(self.config, f"{site}-{uuid.uuid4().hex[:6]}",
                                  clean_start=True)
        self.client.on_connect = lambda c, *_: c.subscribe(
            [(topics.topic(site, k), 1) for k in self.down])
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = lambda _c, _u, m: self.down[topics.parse(m.topic)[1]].put(m)

    def __enter__(self) -> TestSite:
        connect(self.client, self.config, clean_start=True)
        self.client.loop_start()
        assert self.ready.wait(WAIT_S)
        return self

    def __exit__(self, *_: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, message: Events | State, retain: bool = False) -> None:
        kind: Literal["event", "state"] = "event" if isinstance(message, Events) else "state"
        info = self.client.publish(topics.topic(self.site, kind), encode(message), qos=1,
                                   retain=retain)
        info.wait_for_publish(WAIT_S)

    def next(self, kind: str) -> mqtt.MQTTMessage:
        return self.down[kind].get(timeout=WAIT_S)

    def acked(self, events: Events) -> BatchAck:
        """Send ``events`` and return the hub's acknowledgement of it."""
        self.publish(events)
        while True:
            ack = decode_ack(self.next("ack").payload)
            if ack.batch_id == events.id:
                return ack
