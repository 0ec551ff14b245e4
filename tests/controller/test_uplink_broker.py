"""The uplink's MQTT side against a real Mosquitto (TLS, ACL), the test playing the hub: State
retained at connection and repeated while someone watches (not after each batch), rows deleted
only on the hub's acknowledgement, a stale command answered ``expired`` on ``event``. Then with
the real hub and PostgreSQL: channel names only until the hub knows the set, and sent again when
a hub has lost it, each record stored once."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest

from controller.uplink import Uplink
from fleetwire import topics
from fleetwire.batch import decode_batch
from fleetwire.messages import (
    BatchAck,
    Command,
    Live,
    decode_events,
    decode_state,
    encode,
)
from fleetwire.topics import DownKind
from hub.ingest import BrokerConfig, connect, mqtt_client
from sitefile import parse_site
from store import outbox
from store.contract import Sample
from store.schema import connect as connect_site
from store.writer import Store
from tests.fleetsim.stack import hub_ingest
from tests.hub.conftest import broker, hub_dsn, pg_cluster  # noqa: F401 (the fixtures)
from tests.hub.servers import Broker
from tests.support import wait_for

SITE = "site-b"
WAIT_S = 60.0


class FakeHub:
    """A client with the hub's credentials that collects every site's up messages."""

    def __init__(self, b: Broker) -> None:
        self.up: dict[str, queue.Queue[mqtt.MQTTMessage]] = {
            k: queue.Queue() for k in topics.UP_KINDS}
        self.config = BrokerConfig("127.0.0.1", b.port, "hub", b.credentials["hub"].password,
                                   b.ca_file)
        self.client = mqtt_client(self.config, f"fake-hub-{uuid.uuid4().hex[:6]}",
                                  clean_start=True)
        self.ready = threading.Event()
        self.client.on_connect = lambda c, *_: c.subscribe(
            [(topics.topic(SITE, k), 1) for k in topics.UP_KINDS])
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = lambda _c, _u, m: self.up[topics.parse(m.topic)[1]].put(m)

    def get(self, kind: str) -> bytes:
        return bytes(self.up[kind].get(timeout=WAIT_S).payload)

    def send(self, kind: DownKind, payload: bytes) -> None:
        self.client.publish(topics.topic(SITE, kind), payload, qos=1).wait_for_publish(WAIT_S)


@pytest.fixture
def hub(broker: Broker) -> Iterator[FakeHub]:  # noqa: F811
    h = FakeHub(broker)
    connect(h.client, h.config, clean_start=True)
    h.client.loop_start()
    assert h.ready.wait(WAIT_S)
    yield h
    h.client.disconnect()
    h.client.loop_stop()


def test_state_batches_acks_live_and_a_stale_command(tmp_path: Path, broker: Broker,  # noqa: F811
                                                     hub: FakeHub) -> None:
    (tmp_path / "password").write_text(broker.credentials[SITE].password)
    site = parse_site({
        "site": {"name": "Trạm B", "latitude": 10, "longitude": 106, "province": "Cà Mau"},
        "uplink": {"enabled": True, "host": "localhost", "port": broker.port, "site_id": SITE,
                   "password_file": "password", "ca_file": str(broker.ca_file),
                   "live_interval_s": 0.2, "reconnect_min_s": 0.2, "reconnect_max_s": 1}},
        base_dir=tmp_path)
    db = tmp_path / "site.db"
    now = time.time()
    store = Store(db)
    for i in range(30):
        ts = now - 1800 + 60 * i
        store.write_cycle(ts, [Sample("site", "soc_pct", 60.0, "good", ts)], {}, 0)
    store.close()
    up = Uplink(site, db, poll_s=0.05)
    up.start()
    try:
        state = decode_state(hub.get("state"))
        assert (state.site, state.name, state.province) == (SITE, "Trạm B", "Cà Mau")
        # the batches come; nothing is deleted before the hub acknowledges
        batch = decode_batch(hub.get("batch"))
        assert batch.id > 0  # a backlog of one window: sent in full at once
        conn = connect_site(db)
        assert outbox.payload(conn, batch.id) is not None
        hub.send("ack", encode(BatchAck(SITE, batch.id, len(batch.records),
                                        len(batch.records))))
        wait_for("the row to go after its ack", lambda: outbox.payload(conn, batch.id) is None)
        # a batch is no reason for a State: only the connection's so far
        assert up.sent_states == 1
        # someone watches: State again and again until the end
        hub.send("live", encode(Live(SITE, round(time.time() * 1000) + 60_000)))
        before = up.sent_states
        wait_for("three more States", lambda: up.sent_states >= before + 3)
        # a command that arrives after its expiry: answered expired, on `event`
        t = round(time.time() * 1000)
        hub.send("cmd", encode(Command("stale-1", SITE, "generator", t - 120_000, t - 60_000,
                                       "op", {"action": "start"})))
        while True:
            events = decode_events(hub.get("event"))
            if events.results:
                break
        assert [(r.id, r.status) for r in events.results] == [("stale-1", "expired")]
        assert conn.execute("SELECT count(*) FROM commands").fetchone()[0] == 0
        hub.send("ack", encode(BatchAck(SITE, events.id, 1, 1)))
        wait_for("the Events row to go", lambda: outbox.payload(conn, events.id) is None)
        conn.close()
    finally:
        up.stop()


def stored(dsn: str) -> tuple[int, int]:
    """(rows, distinct keys) of the site's records in the hub's database."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT (boot, seq)) FROM records "
                           "WHERE site = %s", (SITE,)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@pytest.mark.slow
def test_names_go_until_the_hub_knows_the_set_and_again_when_a_hub_has_lost_it(
        tmp_path: Path, broker: Broker, hub_dsn: str) -> None:  # noqa: F811
    (tmp_path / "password").write_text(broker.credentials[SITE].password)
    site = parse_site({
        "site": {"name": "Trạm B", "latitude": 10, "longitude": 106},
        "uplink": {"enabled": True, "host": "localhost", "port": broker.port, "site_id": SITE,
                   "password_file": "password", "ca_file": str(broker.ca_file),
                   "batch_interval_s": 10, "resolution_s": 1, "coarse_step_s": 1,
                   "ack_timeout_s": 2, "reconnect_min_s": 0.2, "reconnect_max_s": 1}},
        base_dir=tmp_path)
    db = tmp_path / "site.db"
    now = time.time()
    store = Store(db)
    for i in range(-20, 30):  # samples ahead too: a batch of 10 s falls due every 10 s
        store.write_cycle(now + i, [Sample("site", "soc_pct", 60.0 + i / 10, "good", now + i),
                                    Sample("site", "pv_w", 100.0 + i, "good", now + i)], {}, 0)
    store.close()
    up = Uplink(site, db, poll_s=0.05)
    conn = connect_site(db)
    try:
        with hub_ingest(broker, hub_dsn, workers=1) as first:
            up.start()
            wait_for("the first batches stored", lambda: stored(hub_dsn)[0] >= 20)
            wait_for("their set known", lambda: len(up.session.known_sets) == 1)
            assert first.names_needed == 0
        # the hub's database loses its channel sets (restored from an old backup): the
        # site, sure of its set, sends without names; the next hub asks for them
        with psycopg.connect(hub_dsn) as pg:
            pg.execute("DELETE FROM channel_sets")
        with hub_ingest(broker, hub_dsn, workers=1) as second:
            wait_for("a batch answered names_needed", lambda: second.names_needed >= 1)
            wait_for("every record acknowledged",
                     lambda: now + 31 < time.time() and not outbox.pending(conn))
            assert second.batches >= 1
        made = int(up.state["seq"])
        assert made >= 45
        assert stored(hub_dsn) == (made, made)  # each record once
        with psycopg.connect(hub_dsn) as pg:
            assert pg.execute("SELECT names FROM channel_sets").fetchall() == [
                (["site/pv_w", "site/soc_pct"],)]
    finally:
        conn.close()
        up.stop()
