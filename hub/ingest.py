"""Ingest: MQTT workers that take sites' batches, events and states from shared subscriptions,
store them, and acknowledge each to its site only after the commit.

Each worker is one paho-mqtt client (MQTT 5, a persistent session, manual acknowledgement) in
the broker's shared group, so several workers, in one hub or in several, split the sites'
batches. A worker drains what has arrived (up to ``max_group`` batches), stores it in one
transaction (:func:`hub.writer.store_batches`), and then, for each batch, publishes a
:class:`fleetwire.BatchAck` to the site (QoS 1) and only then acknowledges the message to the
broker. Events and states of the group are stored in a second transaction
(:func:`hub.events.store_events`), and each :class:`fleetwire.messages.Events` is acknowledged
the same way (``BatchAck(batch_id=Events.id)``); a State needs no acknowledgement (the broker
retains it and the site sends a newer one). A hub killed between its commit and its
acknowledgements loses nothing: the site still holds the batch in its outbox and sends it
again, and the key refuses the second copy. A batch sent without its channel names whose set
the hub does not know is not stored: it is answered ``BatchAck(names_needed=True, records=0,
inserted=0)``, and the site sends it again with its names.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from psycopg_pool import ConnectionPool

from fleetwire import topics
from fleetwire.batch import Columns, decode_columns
from fleetwire.errors import WireError
from fleetwire.messages import BatchAck, Events, State, decode_events, decode_state, encode
from fleetwire.topics import UpKind
from hub.errors import HubError
from hub.events import Stored, store_events
from hub.schema import Conn, create_schema, ensure_partitions
from hub.writer import NAMES_NEEDED, ChannelSets, prepare, store_batches

log = logging.getLogger("hub.ingest")
SUBSCRIBED: tuple[UpKind, ...] = ("batch", "event", "state")
"""The up kinds the workers take (all of :data:`fleetwire.topics.UP_KINDS`)."""
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """How the hub reaches the broker: address, the CA that signed the broker's certificate
    (``None``: no TLS), and the hub's own credentials."""

    host: str
    port: int
    username: str
    password: str
    ca_file: Path | None = None
    keepalive_s: int = 30
    session_expiry_s: int = 3600


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """The ingest's settings: the database, the broker, how many workers (each an MQTT client
    and a database connection), the most batches one transaction takes, and the prefix of the
    workers' client ids (stable across restarts, so that the broker keeps their sessions)."""

    dsn: str
    broker: BrokerConfig
    workers: int = 2
    max_group: int = 200
    client_prefix: str = "hub"
    partition_check_s: float = 3600.0
    retry_max_s: float = 30.0


@dataclass
class Counters:
    """What the workers did, for the log and the tests (updated under ``lock``)."""

    batches: int = 0
    records: int = 0
    inserted: int = 0
    rejected: int = 0
    events: int = 0
    states: int = 0
    names_needed: int = 0
    """Batches not stored for want of their channel names (answered ``names_needed``)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, batches: int, records: int, inserted: int, rejected: int,
            names_needed: int = 0) -> None:
        with self.lock:
            self.batches += batches
            self.records += records
            self.inserted += inserted
            self.rejected += rejected
            self.names_needed += names_needed

    def add_events(self, events: int, states: int, rejected: int) -> None:
        with self.lock:
            self.events += events
            self.states += states
            self.rejected += rejected


def mqtt_client(broker: BrokerConfig, client_id: str, clean_start: bool,
                manual_ack: bool = False) -> mqtt.Client:
    """A paho-mqtt 2.x client (MQTT 5) set up for ``broker``: credentials and, when the broker
    has a CA, TLS that checks the broker's certificate and host name. Not yet connected."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=MQTTProtocolVersion.MQTTv5, manual_ack=manual_ack)
    client.username_pw_set(broker.username, broker.password)
    if broker.ca_file is not None:
        client.tls_set(ca_certs=str(broker.ca_file), cert_reqs=ssl.CERT_REQUIRED,
                       tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.user_data_set({"clean_start": clean_start})
    return client


def session_expiry(packet_type: int, seconds: int) -> Properties:
    """MQTT 5 properties of a CONNECT or DISCONNECT that set the session's expiry [s]."""
    props = Properties(packet_type)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = seconds
    return props


def connect(client: mqtt.Client, broker: BrokerConfig, clean_start: bool) -> None:
    """Connect ``client`` (asynchronously: paho's loop finishes it and reconnects after)."""
    client.connect_async(broker.host, broker.port, keepalive=broker.keepalive_s,
                         clean_start=clean_start, properties=session_expiry(
                             PacketTypes.CONNECT, 0 if clean_start else broker.session_expiry_s))


class Worker:
    """One ingest worker: an MQTT client in the shared group and a thread that stores what it
    receives. ``start()``, then ``stop()``."""

    def __init__(self, config: IngestConfig, index: int, pool: ConnectionPool[Conn],
                 counters: Counters) -> None:
        self.config = config
        self.pool = pool
        self.counters = counters
        self.inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.stopping = threading.Event()
        self.channel_sets = ChannelSets({})
        self.client_id = f"{config.client_prefix}-{index}"
        self.client = mqtt_client(config.broker, self.client_id, clean_start=False,
                                  manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.thread = threading.Thread(target=self._run, name=f"ingest-{index}", daemon=True)

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any,
                    reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        client.subscribe([(topics.shared(kind), 1) for kind in SUBSCRIBED])

    def _on_subscribe(self, _client: mqtt.Client, _userdata: Any, _mid: int,
                      reasons: list[Any], _props: Any) -> None:
        if any(r.is_failure for r in reasons):
            log.error("the broker refused a subscription of %s: %s",
                      [topics.shared(k) for k in SUBSCRIBED], reasons)
        else:
            log.info("subscribed to %s as %s", ", ".join(topics.shared(k) for k in SUBSCRIBED),
                     self.client_id)

    def _on_message(self, _client: mqtt.Client, _userdata: Any,
                    message: mqtt.MQTTMessage) -> None:
        self.inbox.put(message)

    def start(self) -> None:
        """Connect to the broker and start storing."""
        connect(self.client, self.config.broker, clean_start=False)
        self.client.loop_start()
        self.thread.start()

    def stop(self) -> None:
        """Stop taking messages, finish the group in hand, and disconnect, ending the session
        (a worker killed instead keeps its session, and its queue, until it comes back or the
        session expires)."""
        self.stopping.set()
        self.thread.join()
        # leave the shared group: no share of the sites' batches is queued for us any more
        self.client.disconnect(properties=session_expiry(PacketTypes.DISCONNECT, 0))
        self.client.loop_stop()

    def _drain(self) -> list[mqtt.MQTTMessage]:
        try:
            group = [self.inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(group) < self.config.max_group:
            try:
                group.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        return group

    def _decode(self, message: mqtt.MQTTMessage) -> Columns | Events | State | None:
        """The batch, events or state in ``message``, or ``None`` (logged) when it is
        malformed or claims another site than its topic's."""
        try:
            site, kind = topics.parse(message.topic)
            payload = bytes(message.payload)
            decoded: Columns | Events | State
            if kind == "batch":
                decoded = decode_columns(payload)
            elif kind == "event":
                decoded = decode_events(payload)
            elif kind == "state":
                decoded = decode_state(payload)
            else:
                raise WireError(f"kind {kind!r} is not an up kind the hub takes")
        except WireError as e:
            log.warning("rejected a message on %s: %s", message.topic, e)
            return None
        if decoded.site != site:
            log.warning("rejected a %s on %s: it claims site %r", kind, message.topic,
                        decoded.site)
            return None
        return decoded

    def _retrying(self, what: str, store: Callable[[Conn], T]) -> T:
        """``store`` on a pooled connection, retried with a capped back-off while the database
        is unreachable (raises once the worker is stopping)."""
        delay = 0.5
        while True:
            try:
                with self.pool.connection() as conn:
                    return store(conn)
            except psycopg.OperationalError as e:
                if self.stopping.is_set():
                    raise
                log.error("storing %s failed, retrying in %.1f s: %s", what, delay, e)
                time.sleep(delay)
                delay = min(delay * 2, self.config.retry_max_s)

    def _store(self, batches: list[Columns]) -> list[int | None]:
        """Store ``batches``: how many records of each were new (:data:`NAMES_NEEDED` for one
        not stored for want of its channel names), or ``None`` for a batch that the database
        refuses even on its own (logged; never acknowledged to its site, which keeps it).
        Retries with a capped back-off while the database is unreachable."""
        try:
            return list(self._retrying(f"{len(batches)} batches", lambda conn: store_batches(
                conn, batches, self.channel_sets)))
        except psycopg.OperationalError:
            raise
        except psycopg.Error as e:
            if len(batches) == 1:
                log.error("the database refuses batch %d of %s: %s", batches[0].id,
                          batches[0].site, e)
                return [None]
            return [n for b in batches for n in self._store([b])]

    def _store_events(self, events: Sequence[Events], states: Sequence[State]
                      ) -> tuple[list[Stored | None], int]:
        """Store ``events`` and ``states``: what each of ``events`` changed, or ``None`` for
        one the database refuses even on its own (logged, never acknowledged), and how many
        states were stored. Retries while the database is unreachable."""
        try:
            stored = self._retrying(f"{len(events)} events and {len(states)} states",
                                    lambda conn: store_events(conn, events, states))
            return list(stored), len(states)
        except psycopg.OperationalError:
            raise
        except psycopg.Error as e:
            if len(events) + len(states) == 1:
                what = (f"events {events[0].id} of {events[0].site}" if events
                        else f"the state of {states[0].site}")
                log.error("the database refuses %s: %s", what, e)
                return [None] * len(events), 0
            out: list[Stored | None] = []
            kept = 0
            for e1 in events:
                one, _ = self._store_events([e1], [])
                out += one
            for s1 in states:
                kept += self._store_events([], [s1])[1]
            return out, kept

    def _run(self) -> None:
        while not self.stopping.is_set():
            group = self._drain()
            if not group:
                continue
            decoded = [d for d in map(self._decode, group) if d is not None]
            good = [d for d in decoded if isinstance(d, Columns)]
            events = [d for d in decoded if isinstance(d, Events)]
            states = [d for d in decoded if isinstance(d, State)]
            try:
                inserted = self._store(good) if good else []
                changed, kept = (self._store_events(events, states) if events or states
                                 else ([], 0))
            except psycopg.Error:
                return  # stopping: the broker redelivers these to the next session
            answered = [(b, new) for b, new in zip(good, inserted, strict=True)
                        if new is not None]
            stored = [(b, new) for b, new in answered if new != NAMES_NEEDED]
            for batch, new in answered:
                ack = (BatchAck(site=batch.site, batch_id=batch.id, records=0, inserted=0,
                                names_needed=True) if new == NAMES_NEEDED else
                       BatchAck(site=batch.site, batch_id=batch.id, records=len(batch),
                                inserted=new))
                self.client.publish(topics.topic(batch.site, "ack"), encode(ack), qos=1)
            done = [(e, c) for e, c in zip(events, changed, strict=True) if c is not None]
            for e, c in done:
                ack = BatchAck(site=e.site, batch_id=e.id, records=c.items, inserted=c.changed)
                self.client.publish(topics.topic(e.site, "ack"), encode(ack), qos=1)
            for message in group:
                self.client.ack(message.mid, message.qos)
            self.counters.add(len(stored), sum(len(b) for b, _ in stored),
                              sum(new for _, new in stored),
                              len(group) - len(decoded) + len(good) - len(answered),
                              len(answered) - len(stored))
            self.counters.add_events(len(done), kept,
                                     len(events) - len(done) + len(states) - kept)


def open_pool(dsn: str, size: int) -> ConnectionPool[Conn]:
    """A pool of ``size`` connections to the hub's database, each set up by
    :func:`hub.writer.prepare`."""
    pool: ConnectionPool[Conn] = ConnectionPool(dsn, min_size=size, max_size=size,
                                                configure=prepare, open=False)
    pool.open(wait=True, timeout=30)
    return pool


def run(config: IngestConfig, stop: threading.Event,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        counters: Counters | None = None) -> Counters:
    """Run the ingest until ``stop`` is set: the schema and the partitions ahead (checked again
    every ``partition_check_s``), and ``config.workers`` workers. Returns the counters; raises
    :class:`HubError` when a worker has died of an unexpected error (nothing it held was
    acknowledged, so nothing is lost: restart the hub)."""
    counters = counters or Counters()
    with psycopg.connect(config.dsn) as conn:
        create_schema(conn)
        ensure_partitions(conn, now())
    pool = open_pool(config.dsn, config.workers)
    workers = [Worker(config, i, pool, counters) for i in range(config.workers)]
    try:
        for w in workers:
            w.start()
        log.info("ingest running: %d workers on %s:%d", len(workers), config.broker.host,
                 config.broker.port)
        checked = time.monotonic()
        while not stop.wait(1.0):
            dead = [w.client_id for w in workers if not w.thread.is_alive()]
            if dead:
                raise HubError(f"ingest workers {', '.join(dead)} stopped on an error (see the "
                               "log above); the hub stops so that it can be restarted")
            if time.monotonic() - checked >= config.partition_check_s:
                checked = time.monotonic()
                with pool.connection() as conn:
                    made = ensure_partitions(conn, now())
                if made:
                    log.info("created partitions %s", ", ".join(made))
    finally:
        for w in workers:
            w.stop()
        pool.close()
    return counters
