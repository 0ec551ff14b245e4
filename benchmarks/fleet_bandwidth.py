"""Fleet uplink bandwidth: one site-day at 1-minute resolution in 15-minute batches, through TLS to
the real broker and the real hub, counted in bytes on the wire, against the target of 100 KB a
site a day, and against plain JSON of the same records measured in the same run.

Each client reaches Mosquitto through a small TCP relay of this process that counts the bytes
both ways (TLS records, MQTT headers, the hub's acknowledgements, PUBACKs, the State the site
sends at its connection: batch format 2 names the channel set by digest, with the names only
until the hub has acknowledged them, and State is no longer sent after each batch). The day is
compressed: its 96 batches are made and sent as fast as the hub acknowledges them, over one
connection. MQTT keep-alive pings, which a real day adds, are measured apart (a few idle
keep-alive periods at 2 s) and added for the chosen keep-alive, counted two ways: one every
keep-alive all day (an upper bound, the total's), and only in the silences between batches
(paho pings after ``keepalive`` seconds without traffic: ⌈900 / keepalive⌉ − 1 per batch
interval); one TLS connection's set-up is measured too and counted once a day.

Baseline: a second site publishes the same records as plain JSON (one object per record, each
value rounded to the same resolution), one message per batch, QoS 1, through its own relay and
TLS connection (the hub refuses them: no acknowledgements, which favours the baseline).

Run: ``.venv/bin/python benchmarks/fleet_bandwidth.py [--keepalive-s 300]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from fleetsim.fleet import Fleet, FleetConfig, decimals_of
from fleetsim.model import SiteModel, fleet_specs
from fleetwire import topics
from offgrid.localservers import broker_with_sites, new_database, postgres
from tests.fleetsim.stack import hub_ingest

TARGET_BYTES_PER_DAY = 100 * 1000
BATCHES_PER_DAY = 96
DAY_MS = 86_400_000


class Relay:
    """A TCP relay from a loopback port of its own to ``port``, counting the bytes each way."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        self.up = 0
        self.down = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                inner, _ = self.server.accept()
            except OSError:
                return
            outer = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pump, args=(inner, outer, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(outer, inner, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                for s in (src, dst):
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)
                return
            with self.lock:
                if up:
                    self.up += len(data)
                else:
                    self.down += len(data)
            try:
                dst.sendall(data)
            except OSError:
                return

    def total(self) -> int:
        """Bytes so far, both ways."""
        with self.lock:
            return self.up + self.down

    def close(self) -> None:
        self.server.close()


def json_client(port: int, ca: Path, site: str, password: str,
                keepalive_s: int) -> tuple[mqtt.Client, threading.Event]:
    """A plain paho client for the JSON baseline, connected (its own network thread)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{site}-json",
                         protocol=MQTTProtocolVersion.MQTTv5)
    client.username_pw_set(site, password)
    client.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED,
                   tls_version=ssl.PROTOCOL_TLS_CLIENT)
    ready = threading.Event()
    client.on_connect = lambda *_: ready.set()
    client.connect("127.0.0.1", port, keepalive=keepalive_s)
    client.loop_start()
    if not ready.wait(30):
        raise RuntimeError("the JSON client did not connect")
    return client, ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keepalive-s", type=int, default=FleetConfig("", 0).keepalive_s,
                        help="MQTT keep-alive counted for a real day [s] (the site's default)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the hub refuses every JSON batch: not logged
    ours_spec, json_spec = fleet_specs(2, seed=21, prefix="bw")
    now = int(time.time() * 1000)
    start = now - now % 900_000 - DAY_MS
    with tempfile.TemporaryDirectory() as tmp, postgres() as cluster, broker_with_sites(
            Path(tmp), [ours_spec.site, json_spec.site], quiet=True) as (broker, passwords):
        dsn = new_database(cluster)
        with hub_ingest(broker, dsn):
            # ours: the light site's protocol, one connection for the day
            relay = Relay(broker.port)
            config = FleetConfig("127.0.0.1", relay.port, broker.ca_file, keepalive_s=3600)
            with Fleet(config, [ours_spec], passwords, start) as fleet:
                site = fleet.sites[ours_spec.site]
                fleet.restore(jitter=False)
                assert fleet.run_until(lambda: site.session.connected, 60)
                fleet.step(0.2)
                setup_bytes = relay.total()
                for _ in range(BATCHES_PER_DAY):
                    fleet.advance(15)
                    assert fleet.run_until(lambda: not site.outbox, 60), "no acknowledgement"
                fleet.run_until(lambda: False, 0.5)  # the last PUBACKs
                day_bytes = relay.total() - setup_bytes
                up, down = relay.up, relay.down
                kinds = dict(site.stats.payload_bytes)
                payload = sum(kinds.values())
                records = site.stats.records
                published = site.stats.published
            relay.close()
            # keep-alive: a few idle periods at 2 s, bytes per PINGREQ + PINGRESP
            ping_relay = Relay(broker.port)
            idle = FleetConfig("127.0.0.1", ping_relay.port, broker.ca_file, keepalive_s=2)
            with Fleet(idle, [ours_spec], passwords, start) as fleet:
                fleet.restore(jitter=False)
                assert fleet.run_until(lambda: fleet.connected() == 1, 60)
                fleet.run_until(lambda: False, 1.0)
                before = ping_relay.total()
                fleet.run_until(lambda: False, 10.0)
                ping_bytes = (ping_relay.total() - before) / 5.0
            ping_relay.close()
            # the JSON baseline: the same kind of records, one message per batch
            json_relay = Relay(broker.port)
            client, _ = json_client(json_relay.port, broker.ca_file, json_spec.site,
                                    passwords[json_spec.site], 3600)
            time.sleep(0.3)
            json_setup = json_relay.total()
            model = SiteModel.start(json_spec, start)
            json_payload = 0
            for _ in range(BATCHES_PER_DAY):
                rows = [model.step() for _ in range(15)]
                dp = decimals_of(rows[0].values)
                body = json.dumps([{
                    "site": json_spec.site, "boot": r.boot, "seq": r.seq, "mono_ms": r.mono_ms,
                    "wall_ms": r.wall_ms, "clock_trusted": r.clock_trusted,
                    "values": {k: None if v is None else round(v, dp[k])
                               for k, v in r.values.items()}} for r in rows]).encode()
                json_payload += len(body)
                client.publish(topics.topic(json_spec.site, "batch"), body, qos=1,
                               ).wait_for_publish(30)
            time.sleep(0.5)
            json_bytes = json_relay.total() - json_setup
            client.disconnect()
            client.loop_stop()
            json_relay.close()
    pings_per_day = 86_400 / args.keepalive_s
    silent_pings = BATCHES_PER_DAY * (math.ceil(86_400 / BATCHES_PER_DAY / args.keepalive_s) - 1)
    total = day_bytes + setup_bytes + pings_per_day * ping_bytes
    json_total = json_bytes + json_setup + pings_per_day * ping_bytes
    kb = 1000.0
    print(f"one site-day: {records} records of {len(site.last_values)} channels at 1 minute, "
          f"{BATCHES_PER_DAY} batches of 15 minutes, {published} messages (batches, States, "
          "Events), TLS 1.3, MQTT 5, QoS 1")
    print(f"payload only (msgpack + zstd):        {payload / kb:8.1f} KB/day ("
          + ", ".join(f"{k} {v / kb:.1f} KB" for k, v in sorted(kinds.items())) + ")")
    print(f"on the wire, day's messages:          {day_bytes / kb:8.1f} KB/day "
          f"(up {up / kb:.1f} KB, down {down / kb:.1f} KB, set-up included in both)")
    print(f"  + one connection set-up (TLS+MQTT): {setup_bytes / kb:8.1f} KB")
    print(f"  + keep-alive every {args.keepalive_s} s:         "
          f"{pings_per_day * ping_bytes / kb:8.1f} KB/day ({ping_bytes:.0f} B a ping; "
          f"{silent_pings * ping_bytes / kb:.1f} KB/day when only the {silent_pings} silences "
          "between batches ping)")
    print(f"total ours:                           {total / kb:8.1f} KB/day  "
          f"target <= {TARGET_BYTES_PER_DAY / kb:.0f} KB/day: "
          f"{'met' if total <= TARGET_BYTES_PER_DAY else 'NOT met'} "
          f"({total / TARGET_BYTES_PER_DAY:.2f} of it)")
    print(f"plain JSON payload only:              {json_payload / kb:8.1f} KB/day")
    print(f"plain JSON on the wire (same keep-alive and set-up): {json_total / kb:8.1f} KB/day")
    print(f"ratio JSON / ours on the wire:        {json_total / total:8.1f} x")


if __name__ == "__main__":
    main()
