"""Many light sites in one process, each its own MQTT client, all driven from one selector loop.

Each :class:`LightSite` has a :class:`fleetsim.model.SiteModel`, an in-memory outbox (the
encoded batches and Events it has not yet had acknowledged), a
:class:`fleetwire.session.Session` (the same protocol state machine as the real site's uplink:
State first after a connection, then Events, then a backlog coarse, then in full, at most
``max_in_flight`` unacknowledged; channel names only until the hub has acknowledged their
set; State at a connection and while someone watches, not after each batch) and a paho-mqtt
client that publishes as the site's own
broker user. No thread per client: :class:`Fleet` registers every client's socket in one
``selectors`` selector and calls paho's external-loop functions (``loop_read``,
``loop_write``, ``loop_misc``) itself; a connection is opened with paho's blocking connect (a
TCP and TLS handshake on a near broker: a few milliseconds), a bounded number per step.

A site can be cut off (:meth:`Fleet.cut`: its socket is shut, as when a cellular link drops;
its records keep accumulating in its outbox) and restored (:meth:`Fleet.restore`: it connects
again after the session's random back-off, and catches up).

Time: records are stamped with the simulated wall clock that :meth:`Fleet.advance_to` moves
(as fast as the caller wants: a day of records in a second, or in step with the real clock);
acknowledgement time-outs and reconnection delays use the real monotonic clock.
"""

from __future__ import annotations

import contextlib
import heapq
import random
import resource
import selectors
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fleetsim.model import MINUTE_MS, SiteModel, SiteSpec
from fleetwire import topics
from fleetwire.batch import Batch, Record, encode_batch, without_names
from fleetwire.errors import WireError
from fleetwire.messages import (
    BatchAck,
    Command,
    CommandResult,
    CommandStatus,
    Events,
    State,
    decode_ack,
    decode_command,
    decode_live,
    encode,
)
from fleetwire.session import Pending, Session, SessionConfig, coarse_records
from store.contract import SITE_FIGURES

DECIMALS_BY_SUFFIX: Final = (("_pct", 1), ("_v", 2), ("_a", 1), ("_c", 1), ("_kwh", 3),
                             ("_mg_l", 2), ("_hz", 2), ("_ppt", 1))
"""Each channel's resolution by its unit (10^-decimals of it); powers, irradiance, signal and
switches are whole numbers."""
FREE_DISK_BYTES: Final = 8 * 1024**3
"""The disk a light site reports free, less its outbox [bytes]."""
MISC_EVERY_S: Final = 2.0
"""How often every client's keep-alive and every session's clock are looked at [s]."""


def decimals_of(channels: Iterable[str]) -> dict[str, int]:
    """The decimals each channel is sent with (see :data:`DECIMALS_BY_SUFFIX`; 0 otherwise)."""
    return {name: next((dp for suffix, dp in DECIMALS_BY_SUFFIX if name.endswith(suffix)), 0)
            for name in channels}


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """How the fleet reaches the broker (``ca_file`` None: plain TCP) and how its sites behave:
    batch interval and resolution [s], the coarse copy's step [s], the session's settings,
    the MQTT keep-alive [s], the persistent session's expiry [s], how many connections to open
    in one step of the loop, and whether sites send Events (alarms, interruptions, command
    results)."""

    host: str
    port: int
    ca_file: Path | None = None
    batch_interval_s: int = 900
    resolution_s: int = 60
    coarse_step_s: int = 900
    max_in_flight: int = 4
    ack_timeout_s: float = 60.0
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 300.0
    keepalive_s: int = 300
    session_expiry_s: int = 4 * 86_400
    connects_per_step: int = 100
    events: bool = True

    def session(self) -> SessionConfig:
        """The session's settings."""
        return SessionConfig(max_in_flight=self.max_in_flight,
                             ack_timeout_ms=int(self.ack_timeout_s * 1000),
                             reconnect_min_s=self.reconnect_min_s,
                             reconnect_max_s=self.reconnect_max_s)


@dataclass(slots=True)
class Row:
    """One outbox row: a batch (its full payload and, for a backlog, its coarse copy's) or an
    Events, with what the session needs to know of it."""

    pending: Pending
    payload: bytes
    coarse: bytes | None
    records: tuple[tuple[int, int], ...] = ()
    """The (boot, seq) keys of a batch's records."""


@dataclass
class Stats:
    """What a site has done: records made, records whose batch was acknowledged, Events
    acknowledged, messages published [count] and their payloads by kind [bytes],
    connections."""

    records: int = 0
    records_acked: int = 0
    events_acked: int = 0
    published: int = 0
    payload_bytes: dict[str, int] = field(default_factory=dict)
    connections: int = 0
    commands: dict[str, str] = field(default_factory=dict)
    """Each command id received and the status answered."""


class LightSite:
    """One simulated site: model, outbox, session and MQTT client (see the module's text)."""

    def __init__(self, fleet: Fleet, spec: SiteSpec, password: str, start_ms: int) -> None:
        self.fleet = fleet
        self.spec = spec
        self.site = spec.site
        self.model = SiteModel.start(spec, start_ms)
        self.session = Session(fleet.config.session())
        self.rng = random.Random(spec.seed ^ 0x5EED)
        self.outbox: dict[int, Row] = {}
        self.next_row = 1
        self.buffer: list[Record] = []
        self.last_values: Mapping[str, float | None] = {}
        self.cut = True
        """Cut off: no connection attempt until restored (a site starts cut off)."""
        self.attempt = 0
        self.connecting = False
        self.stats = Stats()
        self.client = self._client(password)

    def _client(self, password: str) -> mqtt.Client:
        config = self.fleet.config
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.site,
                             protocol=MQTTProtocolVersion.MQTTv5)
        client.username_pw_set(self.site, password)
        if config.ca_file is not None:
            client.tls_set(ca_certs=str(config.ca_file), cert_reqs=ssl.CERT_REQUIRED,
                           tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_socket_open = self.fleet._socket_open
        client.on_socket_close = self.fleet._socket_close
        client.on_socket_register_write = self.fleet._want_write
        client.on_socket_unregister_write = self.fleet._done_writing
        client.user_data_set(self)
        return client

    # -- records -------------------------------------------------------------------------
    def advance_to(self, wall_ms: int) -> None:
        """Make the records up to ``wall_ms`` [ms, UTC], sealing a batch at each batch
        interval's end."""
        config = self.fleet.config
        step_ms = config.resolution_s * 1000
        batch_ms = config.batch_interval_s * 1000
        while self.model.wall_ms + step_ms <= wall_ms:
            record = self.model.step(config.resolution_s)
            self.buffer.append(record)
            self.last_values = record.values
            self.stats.records += 1
            if self.model.wall_ms % batch_ms == 0:
                self.seal()

    def seal(self) -> None:
        """Put the records made since the last batch, and the events since the last Events, in
        the outbox (no State: see :mod:`fleetwire.session`)."""
        config = self.fleet.config
        if self.buffer:
            records, self.buffer = tuple(self.buffer), []
            row = self._new_row()
            dp = self.fleet.decimals(records[-1].values)
            coarse = encode_batch(Batch(self.site, -row, coarse_records(
                records, config.coarse_step_s)), dp) if config.coarse_step_s else None
            self.outbox[row] = Row(
                Pending(row, "batch", records[-1].wall_ms, len(records)),
                encode_batch(Batch(self.site, row, records), dp), coarse,
                tuple((r.boot, r.seq) for r in records))
        alarms, cuts = self.model.take_events()
        if config.events and (alarms or cuts):
            self._events(Events(self.site, 0, alarms=tuple(alarms), interruptions=tuple(cuts)))
        self.fleet._dirty(self)

    def _new_row(self) -> int:
        row, self.next_row = self.next_row, self.next_row + 1
        return row

    def _events(self, events: Events) -> None:
        items = len(events.alarms) + len(events.interruptions) + len(events.results)
        row = self._new_row()
        message = Events(self.site, row, events.alarms, events.interruptions, events.results)
        self.outbox[row] = Row(Pending(row, "events", self.model.wall_ms, items),
                               encode(message), None)

    def state(self) -> State:
        """The site's State now: its latest values, meta and outbox."""
        oldest = min((r.pending.created_ms for r in self.outbox.values()), default=None)
        size = sum(len(r.payload) for r in self.outbox.values())
        figures = {k: self.last_values[f"site/{k}"] for k in SITE_FIGURES
                   if f"site/{k}" in self.last_values}
        return State(site=self.site, boot=self.model.boot, wall_ms=self.model.wall_ms,
                     clock_trusted=True, values=figures,
                     name=self.spec.name,
                     province=self.spec.province, groups=self.spec.groups,
                     customers=self.spec.customers, outbox_rows=len(self.outbox),
                     outbox_oldest_ms=oldest, free_disk_bytes=FREE_DISK_BYTES - size)

    # -- the connection ------------------------------------------------------------------
    def connect(self) -> None:
        """Open the connection (TCP, TLS, MQTT CONNECT); the CONNACK comes through the loop.
        A failure schedules the next attempt after the session's back-off."""
        config = self.fleet.config
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = config.session_expiry_s
        self.connecting = True
        try:
            if self.stats.connections == 0 and self.attempt == 0:
                self.client.connect(config.host, config.port, keepalive=config.keepalive_s,
                                    clean_start=False, properties=props)
            else:
                self.client.reconnect()
        except (OSError, ssl.SSLError, ValueError):
            self.connecting = False
            self._retry()

    def _retry(self) -> None:
        delay = self.session.reconnect_delay_s(self.attempt, self.rng)
        self.attempt += 1
        self.fleet._schedule(self, delay)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any,
                    _p: Any) -> None:
        if reason.is_failure:
            self.fleet.refused += 1
            return  # paho closes the socket: _on_disconnect schedules the next attempt
        client.subscribe([(topics.topic(self.site, kind), 1) for kind in topics.DOWN_KINDS])

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list[Any],
                      _p: Any) -> None:
        if any(r.is_failure for r in reasons):
            self.fleet.refused += 1
            return
        self.connecting = False
        self.attempt = 0
        self.stats.connections += 1
        self.session.on_connected(self.fleet.now_ms())
        self.fleet._dirty(self)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _reason: Any,
                       _p: Any) -> None:
        self.connecting = False
        self.session.on_disconnected(self.fleet.now_ms())
        if not self.cut:
            self._retry()

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        payload = bytes(message.payload)
        try:
            _, kind = topics.parse(message.topic)
            if kind == "ack":
                self._on_ack(decode_ack(payload))
            elif kind == "cmd":
                self._on_command(decode_command(payload))
            elif kind == "live":
                self.session.on_live(decode_live(payload).until_ms)
        except WireError:
            self.fleet.malformed += 1
            return
        self.fleet._dirty(self)

    def _on_ack(self, ack: BatchAck) -> None:
        row = self.session.on_ack(ack.batch_id, ack.names_needed)
        if row is not None and row in self.outbox:
            done = self.outbox.pop(row)
            if done.pending.kind == "batch":
                self.stats.records_acked += done.pending.records
            else:
                self.stats.events_acked += 1

    def _on_command(self, command: Command) -> None:
        """Answer an operator's command once: ``expired`` when it arrives at or after its
        expiry (by the simulated clock), else ``done`` (a light site has nothing to switch)."""
        if command.site != self.site or command.id in self.stats.commands:
            return
        now = self.model.wall_ms
        status: CommandStatus = "expired" if command.expired(now) else "done"
        self.stats.commands[command.id] = status
        result = CommandResult(command.id, self.site, status, now,
                               "arrived after its expiry" if status == "expired" else "")
        self._events(Events(self.site, 0, results=(result,)))

    def pump(self, now_ms: int) -> None:
        """Publish what the session says is next."""
        if self.cut or not self.session.connected:
            return
        sends = self.session.next_to_send([r.pending for r in self.outbox.values()], now_ms)
        for send in sends:
            if send.kind == "state":
                self._publish("state", encode(self.state()), retain=True)
                continue
            row = self.outbox[send.row]
            if send.kind == "events":
                self._publish("event", row.payload)
                continue
            payload = row.coarse if send.kind == "coarse" and row.coarse is not None \
                else row.payload
            digest, bare = without_names(payload)
            self._publish("batch", payload if self.session.names_for(send.message_id, digest)
                          else bare)

    def _publish(self, kind: topics.UpKind, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topics.topic(self.site, kind), payload, qos=1, retain=retain)
        self.stats.published += 1
        self.stats.payload_bytes[kind] = self.stats.payload_bytes.get(kind, 0) + len(payload)

    def drop_link(self) -> None:
        """Shut the socket as a lost link would (no DISCONNECT: the broker keeps the
        session); the loop then sees the connection end."""
        sock = self.client.socket()
        if isinstance(sock, socket.socket | ssl.SSLSocket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def raise_open_files(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted`` (at most the hard limit);
    returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


class Fleet:
    """Light sites and the one loop that drives their clients (see the module's text). Use as
    a context manager, or call :meth:`close`."""

    def __init__(self, config: FleetConfig, specs: Sequence[SiteSpec],
                 passwords: Mapping[str, str], start_ms: int) -> None:
        raise_open_files(len(specs) + 256)
        self.config = config
        self.selector = selectors.DefaultSelector()
        self.sites = {s.site: LightSite(self, s, passwords[s.site], start_ms) for s in specs}
        self._due: list[tuple[float, int, str]] = []
        self._order = 0
        self._dirty_sites: dict[str, LightSite] = {}
        self._last_misc = 0.0
        self._dp: dict[tuple[str, ...], dict[str, int]] = {}
        self.refused = 0
        self.malformed = 0

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @staticmethod
    def now_ms() -> int:
        """The real monotonic clock [ms] (the sessions' time-outs)."""
        return int(time.monotonic() * 1000)

    def decimals(self, values: Mapping[str, float | None]) -> dict[str, int]:
        """:func:`decimals_of` the channels of ``values``, cached by channel list."""
        key = tuple(values)
        if key not in self._dp:
            self._dp[key] = decimals_of(key)
        return self._dp[key]

    # -- selector callbacks (paho's external loop) ---------------------------------------
    def _socket_open(self, _c: mqtt.Client, site: LightSite, sock: Any) -> None:
        self.selector.register(sock, selectors.EVENT_READ, site)

    def _socket_close(self, _c: mqtt.Client, _site: LightSite, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(sock)

    def _want_write(self, _c: mqtt.Client, site: LightSite, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.modify(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, site)

    def _done_writing(self, _c: mqtt.Client, site: LightSite, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.modify(sock, selectors.EVENT_READ, site)

    def _dirty(self, site: LightSite) -> None:
        self._dirty_sites[site.site] = site

    def _schedule(self, site: LightSite, delay_s: float) -> None:
        self._order += 1
        heapq.heappush(self._due, (time.monotonic() + delay_s, self._order, site.site))

    # -- what the caller does ------------------------------------------------------------
    def advance_to(self, wall_ms: int) -> None:
        """Every site makes its records up to ``wall_ms`` [ms, UTC]."""
        for site in self.sites.values():
            site.advance_to(wall_ms)

    def advance(self, minutes: int) -> None:
        """Every site makes ``minutes`` more minutes of records."""
        for site in self.sites.values():
            site.advance_to(site.model.wall_ms + minutes * MINUTE_MS)

    def restore(self, names: Iterable[str] | None = None, jitter: bool = True) -> None:
        """Let sites (all when ``names`` is None) connect again: each after the session's
        first back-off delay (a random draw), or at once without ``jitter``."""
        for name in self.sites if names is None else names:
            site = self.sites[name]
            if site.cut:
                site.cut = False
                site.attempt = 0
                delay = site.session.reconnect_delay_s(0, site.rng) if jitter else 0.0
                self._schedule(site, delay)

    def cut(self, names: Iterable[str]) -> None:
        """Cut sites off: their links drop; they make records but do not connect again until
        restored."""
        for name in names:
            site = self.sites[name]
            site.cut = True
            site.drop_link()

    def command(self, site: str, command: Command) -> None:
        """Hand ``command`` to ``site`` as if it had arrived (for tests without a hub)."""
        self.sites[site]._on_command(command)
        self._dirty(self.sites[site])

    def step(self, timeout_s: float = 0.05) -> None:
        """One turn of the loop: open the connections that are due, wait up to ``timeout_s``
        for sockets, read and write them, keep connections alive, publish what is due."""
        now = time.monotonic()
        opened = 0
        while self._due and self._due[0][0] <= now and opened < self.config.connects_per_step:
            _, _, name = heapq.heappop(self._due)
            site = self.sites[name]
            if not site.cut and not site.session.connected and not site.connecting:
                site.connect()
                opened += 1
        wait = 0.0 if self._dirty_sites or (self._due and self._due[0][0] <= now) else timeout_s
        if self._due:
            wait = min(wait, max(self._due[0][0] - now, 0.0))
        for key, mask in self.selector.select(wait):
            site = key.data
            client = site.client
            if mask & selectors.EVENT_READ:
                client.loop_read()
                sock = client.socket()
                while isinstance(sock, ssl.SSLSocket) and sock.pending():
                    client.loop_read()
                    sock = client.socket()
            if mask & selectors.EVENT_WRITE:
                client.loop_write()
        now = time.monotonic()
        if now - self._last_misc >= MISC_EVERY_S:
            # keep-alives, and the sessions' clocks: time-outs, live State
            self._last_misc = now
            for site in self.sites.values():
                if site.client.socket() is not None:
                    site.client.loop_misc()
                if site.session.connected:
                    self._dirty(site)
        now_ms = self.now_ms()
        dirty, self._dirty_sites = self._dirty_sites, {}
        for site in dirty.values():
            site.pump(now_ms)

    def run_until(self, done: Callable[[], bool], timeout_s: float,
                  every: Callable[[], None] | None = None) -> bool:
        """Step until ``done()`` or ``timeout_s`` [s] have passed; ``every`` is called each
        step. Returns whether ``done()`` became true."""
        end = time.monotonic() + timeout_s
        while not done():
            if time.monotonic() >= end:
                return False
            self.step()
            if every is not None:
                every()
        return True

    def run_realtime(self, stop: Callable[[], bool], clock_ms: Callable[[], int]) -> None:
        """Run with the simulated clock in step with ``clock_ms`` [ms, UTC] (records made each
        second, as they fall due) until ``stop()``."""
        made = 0.0
        while not stop():
            self.step(0.2)
            if time.monotonic() - made >= 1.0:
                made = time.monotonic()
                self.advance_to(clock_ms())

    def connected(self) -> int:
        """How many sites are connected (their session started)."""
        return sum(s.session.connected for s in self.sites.values())

    def outbox_rows(self) -> int:
        """Rows still in all outboxes."""
        return sum(len(s.outbox) for s in self.sites.values())

    def close(self) -> None:
        """Disconnect every client (ending nothing of the broker's sessions) and close the
        selector."""
        for site in self.sites.values():
            site.cut = True
            if site.client.socket() is not None:
                site.client.disconnect()
                with contextlib.suppress(OSError):
                    site.client.loop_write()
                sock = site.client.socket()
                if sock is not None:
                    with contextlib.suppress(KeyError, ValueError):
                        self.selector.unregister(sock)
                    with contextlib.suppress(OSError):
                        sock.close()
        self.selector.close()
