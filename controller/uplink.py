"""The site's uplink to the hub: a thread beside the control loop (``offgrid run`` starts it
when ``[uplink] enabled``) that never holds the loop up.

Every ``batch_interval_s`` it packs the samples stored since its cursor into one record per
``resolution_s`` (:mod:`controller.uplink_pack`) and adds them to the outbox
(:mod:`store.outbox`) in the same transaction that moves the cursor. Alarms raised or cleared,
interruptions started or ended and hub command results go into an Events row as soon as it
sees them (it looks every ``poll_s``). A paho-mqtt 2.x client (MQTT 5, TLS with
``ca_file``, the site's own credentials, a persistent session so that commands wait for it)
publishes what :class:`fleetwire.session.Session` says, and deletes a row only when the hub
acknowledges it after its commit. It reconnects with the session's capped, jittered back-off.

Down: ``ack`` deletes a row; ``cmd`` becomes a site command (``requested_by`` ``hub:<by>``,
with its expiry; once per command id), or is answered ``expired`` (it arrived at or after its
expiry: never executed) or ``rejected`` (invalid); the result goes up once the controller has
acknowledged it; ``live`` has State sent every ``live_interval_s`` until its end. State is
published retained at each connection and while someone watches,
not after each batch (the hub's records are the history; issue #14's bandwidth budget).
A batch's payload is kept with its channel names; they are dropped as it is published once the
hub has acknowledged their set (:meth:`fleetwire.session.Session.names_for`), and sent again
when the hub answers ``names_needed``. The MQTT keep-alive is ``[uplink] keepalive_s``.

Everything runs in the uplink's own thread (the MQTT client's network loop too), on its own
database connection: SQLite's WAL lets the controller write meanwhile.
"""

from __future__ import annotations

import logging
import math
import random
import secrets
import shutil
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from controller.errors import ControllerError
from controller.uplink_pack import (
    BootKeys,
    alarm_items,
    channel_decimals,
    command_result,
    figures,
    interruption_item,
    kernel_clock_synchronised,
    ms,
    records_of,
)
from fleetwire import topics
from fleetwire.batch import Batch, Record, encode_batch, without_names
from fleetwire.errors import WireError
from fleetwire.messages import (
    Alarm,
    CommandResult,
    Events,
    Interruption,
    State,
    decode_ack,
    decode_command,
    decode_live,
    encode,
)
from fleetwire.session import Pending, Send, Session, SessionConfig, coarse_records
from fleetwire.topics import UpKind
from sitefile import Site
from sitefile.model import Uplink as UplinkConfig
from store import outbox
from store.contract import SITE_FIGURES, SITE_SOURCE
from store.errors import StoreError
from store.schema import connect, migrate

log = logging.getLogger("controller.uplink")

SESSION_EXPIRY_S: Final = 7 * 86400
"""How long the broker keeps the site's session (and the commands queued for it) [s]."""
INITIAL_BACKLOG_S: Final = 7 * 86400.0
"""How far back an uplink enabled for the first time starts [s]."""
MAX_EVENT_ITEMS: Final = 500
"""The most alarms, interruptions and results in one Events row."""


class UplinkError(ControllerError):
    """The uplink cannot start: no ``[uplink]``, an unreadable password or CA file."""


def _keys(state: dict[str, Any]) -> BootKeys:
    return BootKeys(int(state["boot"]), int(state["seq"]), int(state["offset_ms"]),
                    None if state.get("trusted_from_ms") is None
                    else int(state["trusted_from_ms"]))


class Uplink:
    """The uplink of ``site`` (its ``[uplink]`` section) on the database ``db``.

    ``wall`` [UTC epoch s] and ``mono`` [s] are the clocks (injected in tests);
    ``clock_synchronised`` says whether the kernel's clock is set (for ``clock = "ntp"``).
    ``start()`` runs it in its thread; ``stop()`` ends it. ``step()`` is one turn of its loop
    (what the thread repeats every ``poll_s``) for tests that drive it by hand; the first
    begins a new boot.
    """

    def __init__(self, site: Site, db: Path, *, wall: Callable[[], float] = time.time,
                 mono: Callable[[], float] = time.monotonic,
                 clock_synchronised: Callable[[], bool] = kernel_clock_synchronised,
                 rng: random.Random | None = None, poll_s: float = 0.2) -> None:
        if site.uplink is None:
            raise UplinkError("the site file has no [uplink] section")
        self.site = site
        self.config: UplinkConfig = site.uplink
        self.site_id = self.config.site_id  # a fleet site id: the site file checked it
        try:
            self.password = self.config.password_file.read_text().strip()
        except OSError as e:
            raise UplinkError(f"uplink.password_file = {str(self.config.password_file)!r}: "
                              f"cannot be read: {e}") from e
        if self.config.ca_file is not None and not self.config.ca_file.is_file():
            raise UplinkError(f"uplink.ca_file = {str(self.config.ca_file)!r}: not a file")
        self.db = Path(db)
        self.wall, self.mono = wall, mono
        self.clock_synchronised = clock_synchronised
        self.rng = rng or random.Random()
        self.poll_s = poll_s
        self.session = Session(SessionConfig(
            max_in_flight=self.config.max_in_flight,
            ack_timeout_ms=round(self.config.ack_timeout_s * 1000),
            coarse=self.config.coarse_step_s > self.config.resolution_s,
            live_interval_ms=round(self.config.live_interval_s * 1000),
            reconnect_min_s=self.config.reconnect_min_s,
            reconnect_max_s=self.config.reconnect_max_s))
        migrate(self.db)
        self.conn = connect(self.db)
        self.state: dict[str, Any] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="uplink", daemon=True)
        self.client = self._client()
        self.attempt = 0
        self.next_attempt_s = mono()
        self.socket_open = False
        self.next_batch_s = 0.0
        self.sent_states = 0
        self.booted = False

    # --- the boot and its keys -------------------------------------------------------------

    def _begin_boot(self) -> None:
        """Pack what the previous boot left under its keys, then start a new boot."""
        now = self.wall()
        state = outbox.read_uplink_state(self.conn)
        first = "epoch" not in state
        if first:
            start = outbox.first_sample_ts(self.conn)
            floor = now - INITIAL_BACKLOG_S
            state = {"epoch": secrets.randbits(62),
                     "cursor_ts": self._align(max(start if start is not None else now, floor)),
                     "alarm_id": outbox.last_id_before(self.conn, "alarms", floor),
                     "interruption_id": outbox.last_id_before(self.conn, "interruptions",
                                                              floor),
                     "open_alarms": [], "open_interruptions": []}
            outbox.set_uplink_state(self.conn, state)
        self.state = state
        if "boot" in state:
            self._pack_until(self._align(now))  # the previous boot's samples, its keys
        wall_ms, mono_ms = ms(now), ms(self.mono())
        trusted = 0 if self.config.clock == "rtc" or self.clock_synchronised() else None
        self._save({"boot": int(state.get("boot", 0)) + 1, "seq": 0,
                    "offset_ms": wall_ms - mono_ms,
                    "trusted_from_ms": None if trusted is None else
                    (0 if self.config.clock == "rtc" else wall_ms)})
        log.info("uplink of %s: boot %d, cursor %s", self.site_id, self.state["boot"],
                 self.state["cursor_ts"])

    def _save(self, changes: dict[str, Any]) -> None:
        outbox.set_uplink_state(self.conn, changes)
        self.state.update(changes)

    def _align(self, ts: float) -> float:
        res = self.config.resolution_s
        return math.floor(ts / res) * res

    # --- packing ---------------------------------------------------------------------------

    def _pack_until(self, end_ts: float) -> int:
        """Add the records of [cursor, ``end_ts``) to the outbox, one row per batch interval
        (aligned on the wall clock); returns the rows made."""
        rows = 0
        step = self.config.batch_interval_s
        while self.state["cursor_ts"] < end_ts:
            start = float(self.state["cursor_ts"])
            stop = min(end_ts, (math.floor(start / step) + 1) * step)
            means = outbox.sample_means(self.conn, start, stop, self.config.resolution_s)
            keys = _keys(self.state)
            records, next_seq = records_of(means, start, self.config.resolution_s, keys)
            changes = {"cursor_ts": stop, "seq": next_seq}
            if records:
                coarse = coarse_records(records, self.config.coarse_step_s)

                places = channel_decimals(list(records[0].values))

                def payload(row: int, recs: tuple[Record, ...] = records,
                            dp: dict[str, int] = places) -> bytes:
                    return encode_batch(Batch(self.site_id, row, recs), dp)

                def coarse_payload(row: int, recs: tuple[Record, ...] = coarse,
                                   dp: dict[str, int] = places) -> bytes:
                    return encode_batch(Batch(self.site_id, -row, recs), dp)

                outbox.enqueue(self.conn, "batch", self.wall(), records=len(records),
                               make_payload=payload, state=changes,
                               make_coarse=coarse_payload if len(coarse) < len(records)
                               else None)
                rows += 1
            else:
                outbox.set_uplink_state(self.conn, changes)
            self.state.update(changes)
        if rows:
            dropped = outbox.prune(self.conn, int(self.config.outbox_max_mb * 1e6), self.wall())
            if dropped is not None:
                log.warning("outbox over %g MB: dropped %d oldest batches the hub never "
                            "acknowledged", self.config.outbox_max_mb, dropped.rows)
        return rows

    def _collect_events(self) -> int:
        """Put the alarms, interruptions and command results not yet sent into one Events
        row; returns the items."""
        epoch, keys = int(self.state["epoch"]), _keys(self.state)
        alarms: list[Alarm] = []
        interruptions: list[Interruption] = []
        open_alarms = list(self.state["open_alarms"])
        open_ints = list(self.state["open_interruptions"])
        for row in outbox.rows_closed(self.conn, "alarms", open_alarms):
            alarms.append(alarm_items(self.site_id, epoch, keys, row, cleared=True))
            open_alarms.remove(row["id"])
        for row in outbox.rows_closed(self.conn, "interruptions", open_ints):
            interruptions.append(interruption_item(epoch, row))
            open_ints.remove(row["id"])
        alarm_id, int_id = int(self.state["alarm_id"]), int(self.state["interruption_id"])
        for row in outbox.rows_after(self.conn, "alarms", alarm_id, MAX_EVENT_ITEMS):
            alarms.append(alarm_items(self.site_id, epoch, keys, row, cleared=False))
            if row["cleared_ts"] is None:
                open_alarms.append(row["id"])
            else:
                alarms.append(alarm_items(self.site_id, epoch, keys, row, cleared=True))
            alarm_id = row["id"]
        for row in outbox.rows_after(self.conn, "interruptions", int_id, MAX_EVENT_ITEMS):
            interruptions.append(interruption_item(epoch, row))
            if row["end_ts"] is None:
                open_ints.append(row["id"])
            int_id = row["id"]
        results: list[CommandResult] = []
        for hub, done in outbox.unsent_hub_results(self.conn)[:MAX_EVENT_ITEMS]:
            results.append(command_result(self.site_id, hub.hub_id, refused=hub.status,
                                          detail=hub.detail, received_ts=hub.received_ts,
                                          command=done))
        items = len(alarms) + len(interruptions) + len(results)
        if not items:
            return 0
        changes = {"alarm_id": alarm_id, "interruption_id": int_id,
                   "open_alarms": open_alarms, "open_interruptions": open_ints}
        outbox.enqueue(self.conn, "events", self.wall(), records=items,
                       make_payload=lambda row: encode(Events(
                           self.site_id, row, tuple(alarms), tuple(interruptions),
                           tuple(results))),
                       state=changes, results_sent=[r.id for r in results])
        self.state.update(changes)
        return items

    # --- State -----------------------------------------------------------------------------

    def current_state(self) -> State:
        """The site's State now."""
        st = outbox.status(self.conn)
        try:
            free = shutil.disk_usage(self.db.parent).free
        except OSError:
            free = 0
        wall_ms = ms(self.wall())
        return State(site=self.site_id, boot=int(self.state["boot"]), wall_ms=wall_ms,
                     clock_trusted=_keys(self.state).trusted(wall_ms),
                     values=figures(outbox.site_latest(self.conn, SITE_SOURCE), SITE_FIGURES),
                     name=self.site.site.name, province=self.site.site.province,
                     groups=tuple(self.config.groups), customers=self.site.customers_served,
                     outbox_rows=st.rows,
                     outbox_oldest_ms=None if st.oldest_ts is None else ms(st.oldest_ts),
                     free_disk_bytes=free)

    # --- MQTT ------------------------------------------------------------------------------

    def _client(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"site-{self.site_id}",
                             protocol=MQTTProtocolVersion.MQTTv5)
        client.username_pw_set(self.config.username, self.password)
        if self.config.ca_file is not None:
            client.tls_set(ca_certs=str(self.config.ca_file), cert_reqs=ssl.CERT_REQUIRED,
                           tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.max_inflight_messages_set(max(20, 2 * self.config.max_in_flight + 4))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _connect(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        try:
            self.client.connect(self.config.host, self.config.port,
                                keepalive=self.config.keepalive_s,
                                clean_start=False, properties=props)
        except (OSError, ssl.SSLError) as e:
            self._failed(f"cannot connect to {self.config.host}:{self.config.port}: {e}")
            return
        self.socket_open = True

    def _failed(self, why: str) -> None:
        delay = self.session.reconnect_delay_s(self.attempt, self.rng)
        self.attempt += 1
        self.next_attempt_s = self.mono() + delay
        log.warning("uplink: %s; next attempt in %.1f s", why, delay)

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any,
                    _props: Any) -> None:
        if reason.is_failure:
            self._failed(f"the broker refused the connection: {reason}")
            client.disconnect()
            return
        self.attempt = 0
        client.subscribe([(topics.topic(self.site_id, k), 1) for k in topics.DOWN_KINDS])
        self.session.on_connected(ms(self.wall()))
        log.info("uplink connected to %s:%d", self.config.host, self.config.port)

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any,
                       _props: Any) -> None:
        self.socket_open = False
        if self.session.connected:
            self.session.on_disconnected(ms(self.wall()))
        if self.next_attempt_s <= self.mono() and not self.stopping.is_set():
            self._failed(f"connection lost: {reason}")

    def _on_message(self, _client: mqtt.Client, _userdata: Any,
                    message: mqtt.MQTTMessage) -> None:
        try:
            _, kind = topics.parse(message.topic)
            payload = bytes(message.payload)
            if kind == "ack":
                ack = decode_ack(payload)
                row = self.session.on_ack(ack.batch_id, ack.names_needed)
                if row is not None:
                    outbox.delete(self.conn, row)
            elif kind == "cmd":
                self.take_command(payload)
            elif kind == "live":
                self.session.on_live(decode_live(payload).until_ms)
        except (WireError, StoreError) as e:
            log.warning("uplink: a message on %s was refused: %s", message.topic, e)

    def take_command(self, payload: bytes) -> None:
        """Take a hub command (a ``cmd`` message's payload): record it once, as a site command
        or refused (``expired`` at or after its expiry by the site's clock; ``rejected``)."""
        cmd = decode_command(payload)
        now = self.wall()
        if cmd.site != self.site_id:
            outbox.refuse_hub_command(self.conn, cmd.id, now, "rejected",
                                      f"addressed to {cmd.site}, not {self.site_id}")
        elif cmd.expired(ms(now)):
            outbox.refuse_hub_command(self.conn, cmd.id, now, "expired",
                                      "arrived at or after its expiry: not executed")
        else:
            outbox.receive_hub_command(self.conn, cmd.id, now, kind=cmd.name,
                                       value=dict(cmd.args), expires_ts=cmd.expires_ms / 1000,
                                       requested_by=f"hub:{cmd.by}")
        log.info("uplink: hub command %s (%s) received", cmd.id, cmd.name)

    def _publish(self, send: Send) -> None:
        if send.kind == "state":
            self.client.publish(topics.topic(self.site_id, "state"),
                                encode(self.current_state()), qos=1, retain=True)
            self.sent_states += 1
            return
        payload = outbox.payload(self.conn, send.row, coarse=send.kind == "coarse")
        if payload is None:
            return  # acknowledged or pruned meanwhile
        kind: UpKind = "event" if send.kind == "events" else "batch"
        if kind == "batch":
            digest, bare = without_names(payload)
            if not self.session.names_for(send.message_id, digest):
                payload = bare
        self.client.publish(topics.topic(self.site_id, kind), payload, qos=1)

    # --- the loop --------------------------------------------------------------------------

    def step(self) -> None:
        """One turn: pack what is due, collect events, talk to the broker. The first turn
        begins the boot (in the uplink's thread: a long backlog never delays the control
        loop's start)."""
        if not self.booted:
            self._begin_boot()
            self.booted = True
        now_s = self.mono()
        if self.state.get("trusted_from_ms") is None and self.clock_synchronised():
            self._save({"trusted_from_ms": ms(self.wall())})
        if now_s >= self.next_batch_s:
            self.next_batch_s = now_s + self.config.batch_interval_s
            self._pack_until(self._align(self.wall()))
        self._collect_events()
        if not self.socket_open and now_s >= self.next_attempt_s:
            self._connect()
        if self.socket_open:
            self.client.loop(timeout=self.poll_s)
            pending = [Pending(r.id, r.kind, ms(r.created_ts), r.records)
                       for r in outbox.pending(self.conn)]
            for send in self.session.next_to_send(pending, ms(self.wall())):
                self._publish(send)
            self.client.loop(timeout=0)
        else:
            self.stopping.wait(min(self.poll_s, max(self.next_attempt_s - now_s, 0)))

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.step()
            except (StoreError, WireError, OSError) as e:
                log.error("uplink: %s", e)
                self.stopping.wait(self.poll_s)

    def start(self) -> None:
        """Run the uplink in its thread."""
        self.thread.start()

    def stop(self) -> None:
        """Stop the thread and close the connection (what is unacknowledged stays in the
        outbox)."""
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join()
        if self.socket_open:
            self.client.disconnect()
            self.client.loop(timeout=0.1)
        self.conn.close()
