"""Through the real broker into the real PostgreSQL, with the hub as its own process
(``offgrid hub run``): stored once and acknowledged, a second copy refused, a hub killed with
``kill -9`` loses and duplicates nothing, the ACL and TLS keep sites apart, a batch without its
channel names is stored when the hub knows the set and answered ``names_needed`` when not.

The test's sites behave as the uplink's outbox will: a batch is sent until its acknowledgement
arrives, and only an acknowledged batch is forgotten.
"""

from __future__ import annotations

import os
import queue
import signal
import ssl
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest

from fleetwire import topics
from fleetwire.batch import Batch, Record, encode_batch
from fleetwire.messages import BatchAck, decode_ack
from hub.ingest import BrokerConfig, connect, mqtt_client
from tests.hub.servers import Broker

pytestmark = pytest.mark.slow
WAIT_S = 60.0
T0_MS = 1_796_000_000_000


def batch(site: str, batch_id: int, boot: int = 0, per_batch: int = 15) -> Batch:
    """A 15-minute batch of 1-minute records with 40 channels."""
    first = batch_id * per_batch
    return Batch(site, batch_id, tuple(
        Record(boot, s, 60_000 * s, T0_MS + 60_000 * s, True,
               {f"ch{c:02d}_w": 100.0 * c + s for c in range(40)})
        for s in range(first, first + per_batch)))


@dataclass
class Hub:
    """``offgrid hub run`` as a child process; its log lines are collected."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    seen: threading.Condition = field(default_factory=threading.Condition)

    def read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self.seen:
                self.lines.append(line)
                self.seen.notify_all()

    def wait_for(self, text: str, times: int = 1) -> None:
        with self.seen:
            ok = self.seen.wait_for(
                lambda: sum(text in ln for ln in self.lines) >= times
                or self.process.poll() is not None, WAIT_S)
        assert ok and self.process.poll() is None, "".join(self.lines)

    def kill9(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


class HubRunner:
    """Starts hubs on one database and one broker; stops whatever is still running."""

    def __init__(self, broker: Broker, dsn: str, folder: Path) -> None:
        self.broker, self.dsn = broker, dsn
        self.password_file = folder / "hub.password"
        self.password_file.write_text(broker.credentials["hub"].password)
        self.client_prefix = f"hub-{uuid.uuid4().hex[:8]}"
        self.running: list[Hub] = []

    def start(self, workers: int = 2) -> Hub:
        process = subprocess.Popen(
            [sys.executable, "-m", "offgrid", "hub", "run", "--dsn", self.dsn,
             "--broker", f"127.0.0.1:{self.broker.port}", "--ca", str(self.broker.ca_file),
             "--user", "hub", "--password-file", str(self.password_file),
             "--workers", str(workers), "--client-id", self.client_prefix],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        hub = Hub(process)
        threading.Thread(target=hub.read, daemon=True).start()
        self.running.append(hub)
        hub.wait_for("subscribed to", times=workers)
        return hub

    def stop_all(self) -> None:
        for hub in self.running:
            if hub.process.poll() is None:
                hub.process.terminate()
                hub.process.wait(30)


@pytest.fixture
def hubs(broker: Broker, hub_dsn: str, tmp_path: Path) -> Iterator[HubRunner]:
    runner = HubRunner(broker, hub_dsn, tmp_path)
    yield runner
    runner.stop_all()


class Site:
    """A test site: sends batches until each is acknowledged, as the uplink's outbox does."""

    def __init__(self, broker: Broker, site: str, listen: bool = True) -> None:
        self.site = site
        self.acks: queue.Queue[BatchAck] = queue.Queue()
        self.ready = threading.Event()
        self.publish_reasons: dict[int, Any] = {}
        self.config = BrokerConfig("127.0.0.1", broker.port, site,
                                   broker.credentials[site].password, broker.ca_file)
        self.client = mqtt_client(self.config, f"{site}-{uuid.uuid4().hex[:6]}",
                                  clean_start=True)
        self.listen = listen
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = lambda _c, _u, m: self.acks.put(decode_ack(m.payload))
        self.client.on_publish = self._on_publish

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            return
        if self.listen:
            client.subscribe(topics.topic(self.site, "ack"), qos=1)
        else:
            self.ready.set()

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        self.publish_reasons[mid] = reason

    def __enter__(self) -> Site:
        connect(self.client, self.config, clean_start=True)
        self.client.loop_start()
        assert self.ready.wait(WAIT_S)
        return self

    def __exit__(self, *_: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, b: Batch, site_topic: str | None = None, names: bool = True) -> int:
        info = self.client.publish(site_topic or topics.topic(self.site, "batch"),
                                   encode_batch(b, names=names), qos=1)
        info.wait_for_publish(WAIT_S)
        return info.mid

    def send_until_acked(self, batches: list[Batch], rounds: int = 30,
                         names: bool = True) -> dict[int, BatchAck]:
        """Send every unacknowledged batch, wait a little for acknowledgements, repeat."""
        acked: dict[int, BatchAck] = {}
        for _ in range(rounds):
            for b in batches:
                if b.id not in acked:
                    self.publish(b, names=names)
            try:
                while len(acked) < len(batches):
                    ack = self.acks.get(timeout=2.0)
                    acked.setdefault(ack.batch_id, ack)
            except queue.Empty:
                continue
            return acked
        raise AssertionError(f"{self.site}: acknowledged only {sorted(acked)}")


def stored(dsn: str, site: str) -> tuple[int, int]:
    """(rows, distinct keys) of ``site`` in ``records``."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT (boot, seq)) FROM records "
                           "WHERE site = %s", (site,)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_a_batch_is_stored_once_and_acknowledged_and_a_second_copy_adds_nothing(
        broker: Broker, hubs: HubRunner) -> None:
    hubs.start()
    with Site(broker, "site-a") as site:
        first = site.send_until_acked([batch("site-a", 1)])
        assert first[1] == BatchAck("site-a", 1, records=15, inserted=15)
        again = site.send_until_acked([batch("site-a", 1)])
        assert again[1] == BatchAck("site-a", 1, records=15, inserted=0)
    assert stored(hubs.dsn, "site-a") == (15, 15)


def test_a_batch_without_names_is_stored_once_the_hub_knows_its_set(
        broker: Broker, hubs: HubRunner) -> None:
    hubs.start()
    with Site(broker, "site-c") as site:
        # the hub has never seen the set: nothing stored, the names asked for
        first = site.send_until_acked([batch("site-c", 1)], names=False)
        assert first[1] == BatchAck("site-c", 1, records=0, inserted=0, names_needed=True)
        assert stored(hubs.dsn, "site-c") == (0, 0)
        # sent again with them, as the site's session does: stored; then the rest without
        assert site.send_until_acked([batch("site-c", 1)]) == {
            1: BatchAck("site-c", 1, records=15, inserted=15)}
        assert site.send_until_acked([batch("site-c", 2), batch("site-c", 3)], names=False) == {
            2: BatchAck("site-c", 2, records=15, inserted=15),
            3: BatchAck("site-c", 3, records=15, inserted=15)}
    assert stored(hubs.dsn, "site-c") == (45, 45)


def test_a_hub_killed_after_its_commit_loses_and_duplicates_nothing(
        broker: Broker, hubs: HubRunner) -> None:
    hub = hubs.start()
    b = batch("site-b", 1)
    with Site(broker, "site-b", listen=False) as site:  # it will not hear the acknowledgement
        site.publish(b)
    while stored(hubs.dsn, "site-b")[0] < 15:  # committed
        assert hub.process.poll() is None
        threading.Event().wait(0.05)
    hub.kill9()
    hubs.start()
    with Site(broker, "site-b") as site:  # the batch is still in its outbox: sent again
        acks = site.send_until_acked([b])
    assert acks[1].records == 15
    assert stored(hubs.dsn, "site-b") == (15, 15)


def test_a_hub_killed_during_ingest_loses_and_duplicates_nothing(
        broker: Broker, hubs: HubRunner) -> None:
    hub = hubs.start()
    batches = [batch("site-c", i) for i in range(1, 41)]
    with Site(broker, "site-c") as site:
        for b in batches:
            site.publish(b)
        while stored(hubs.dsn, "site-c")[0] == 0:
            assert hub.process.poll() is None
            threading.Event().wait(0.02)
        hub.kill9()
        hubs.start()
        acks = site.send_until_acked(batches)
    assert sorted(acks) == [b.id for b in batches]
    assert stored(hubs.dsn, "site-c") == (600, 600)


def test_a_site_cannot_write_another_sites_data(broker: Broker, hubs: HubRunner) -> None:
    hubs.start(workers=1)  # one worker: messages are handled in the order sent
    with Site(broker, "site-d") as site:
        # under another site's topic: the broker's ACL refuses it
        mid = site.publish(batch("site-a", 7), topics.topic("site-a", "batch"))
        # under its own topic, but claiming another site: the hub rejects it
        site.publish(batch("site-a", 8))
        acks = site.send_until_acked([batch("site-d", 1)])
    assert acks[1].inserted == 15
    assert stored(hubs.dsn, "site-d") == (15, 15)
    assert stored(hubs.dsn, "site-a") == (0, 0)
    assert site.publish_reasons[mid].is_failure  # MQTT 5: "not authorized"


def test_tls_without_the_ca_and_a_wrong_password_are_refused(broker: Broker) -> None:
    good = broker.credentials["site-a"].password
    no_ca = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    no_ca.username_pw_set("site-a", good)
    no_ca.tls_set()  # the system's CAs: they never signed the broker's certificate
    with pytest.raises(ssl.SSLCertVerificationError):
        no_ca.connect("127.0.0.1", broker.port)
    plain = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    plain.username_pw_set("site-a", good)
    plain.connect("127.0.0.1", broker.port)  # TCP connects; the TLS listener drops MQTT
    assert plain.loop(timeout=WAIT_S) != mqtt.MQTT_ERR_SUCCESS or not plain.is_connected()
    refused: queue.Queue[Any] = queue.Queue()
    wrong = mqtt_client(BrokerConfig("127.0.0.1", broker.port, "site-a", "wrong",
                                     broker.ca_file), "wrong-pw", clean_start=True)
    wrong.on_connect = lambda _c, _u, _f, reason, _p: refused.put(reason)
    wrong.connect("127.0.0.1", broker.port)
    wrong.loop_start()
    reason = refused.get(timeout=WAIT_S)
    wrong.loop_stop()
    assert reason.is_failure
