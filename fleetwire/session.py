"""The uplink's protocol as a pure state machine: what a site publishes next, and when it tries
to connect again. No I/O, no clock of its own: the caller passes the time and the outbox's rows.

The site's uplink (``controller.uplink``: a SQLite outbox and paho-mqtt) and the fleet
simulator (``fleetsim``: in-memory outboxes, many sites in one process) both drive a
:class:`Session` the same way::

    session = Session(SessionConfig(max_in_flight=4))
    # on connection:        session.on_connected(now_ms)
    # on losing it:         session.on_disconnected(now_ms)
    # on a BatchAck:        row = session.on_ack(ack.batch_id, ack.names_needed)
    #                       delete row if not None
    # on a Live:            session.on_live(live.until_ms)
    # every little while:   for send in session.next_to_send(outbox_rows, now_ms): publish it;
    #                       a batch (full or coarse) without its channel names unless
    #                       session.names_for(send.message_id, its set's digest)
    # between attempts:     sleep session.reconnect_delay_s(attempt, rng)

Priorities after a (re)connection: :class:`State` first (``kind="state"``, not acknowledged,
retained by the broker), then the rows of Events (oldest first), then, when the backlog of batch
rows found at the connection is larger than one window (``max_in_flight``), a **coarse** copy
of each of those rows (``kind="coarse"``: the caller sends a subset of the row's records, see
:func:`coarse_records`, as batch id ``-row``; its acknowledgement keeps the row), then every
batch row in full detail (oldest first). At most ``max_in_flight`` rows are unacknowledged at
once; a row not acknowledged within ``ack_timeout_ms`` is sent again, and everything
unacknowledged is sent again after a reconnection (the hub's keys make a second copy
harmless). A row leaves the session's care when the caller stops listing it (deleted after its
acknowledgement, or pruned).

State is not sent after every batch (the hub's records are the history): only after a
(re)connection and every ``live_interval_ms`` while someone watches (the site's meta, which
State carries, is fixed by its site file for the life of the process).

Channel sets. A batch names its channel set by digest (:func:`fleetwire.batch.channel_set_digest`)
and carries the names only while the session is not sure the hub knows the set: a set is known
once a batch sent with its names is acknowledged (in memory: after a restart the names go once
more). An acknowledgement with ``names_needed`` (the hub has not the set) forgets the set and
sends that message again, with its names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from fleetwire.batch import Record
from fleetwire.errors import WireError

RowKind = Literal["batch", "events"]
SendKind = Literal["state", "events", "coarse", "batch"]
STATE_ROW: Final = 0
"""The ``row`` of a :class:`Send` of State (no outbox row)."""


@dataclass(frozen=True, slots=True)
class Pending:
    """One outbox row as the session sees it: its id (> 0; the message id on the wire), what
    it holds, when it was made [ms, any clock the caller keeps consistent] and how many records
    (a batch's; an Events row's items)."""

    id: int
    kind: RowKind
    created_ms: int
    records: int


@dataclass(frozen=True, slots=True)
class Send:
    """What to publish now: ``kind`` of outbox row ``row`` (:data:`STATE_ROW` for State), with
    ``message_id`` as the message's id (the row's id; minus it for a coarse copy; 0 for
    State)."""

    kind: SendKind
    row: int
    message_id: int


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """The protocol's settings: the most rows unacknowledged at once, how long to wait for an
    acknowledgement before sending again [ms], whether to send a backlog coarse first, the
    State interval while someone watches [ms], and the reconnection back-off's bounds [s]."""

    max_in_flight: int = 4
    ack_timeout_ms: int = 60_000
    coarse: bool = True
    live_interval_ms: int = 5_000
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_in_flight < 1:
            raise WireError(f"max_in_flight {self.max_in_flight!r}: must be at least 1")
        if self.ack_timeout_ms <= 0 or self.live_interval_ms <= 0:
            raise WireError("ack_timeout_ms and live_interval_ms must be positive")
        if not 0 < self.reconnect_min_s <= self.reconnect_max_s:
            raise WireError(f"reconnect_min_s {self.reconnect_min_s!r} and reconnect_max_s "
                            f"{self.reconnect_max_s!r}: need 0 < min <= max")


class Uniform(Protocol):
    """A source of random numbers (``random.Random`` is one)."""

    def uniform(self, a: float, b: float) -> float:
        """A number in [a, b]."""
        ...


def reconnect_delay_s(attempt: int, rng: Uniform, min_s: float, max_s: float) -> float:
    """How long to wait before connection attempt ``attempt`` + 1 (``attempt`` = failures so
    far, from 0) [s]: a random draw in [``min_s``, cap], the cap doubling with each failure
    from ``2 × min_s`` up to ``max_s``. The jitter spreads a fleet's reconnections after a hub
    or broker outage."""
    cap = min(max_s, min_s * 2.0 ** min(max(attempt, 0) + 1, 64))
    return min(max(rng.uniform(min_s, cap), min_s), max_s)


def coarse_records(records: Sequence[Record], step_s: float) -> tuple[Record, ...]:
    """The coarse copy of ``records``: the first record (by ``wall_ms``) of each ``step_s``
    window [s] of the wall clock, in their order, each with its own key and values, so that
    the full copy sent later adds the rest and the hub refuses nothing twice."""
    step_ms = max(int(step_s * 1000), 1)
    seen: set[int] = set()
    out: list[Record] = []
    for r in records:
        window = r.wall_ms // step_ms
        if window not in seen:
            seen.add(window)
            out.append(r)
    return tuple(out)


class Session:
    """One site's uplink protocol (see the module's text). Not thread-safe: drive it from one
    thread, or under a lock."""

    def __init__(self, config: SessionConfig) -> None:
        self.config = config
        self._connected = False
        self._state_due = False
        self._live_until_ms: int | None = None
        self._last_state_ms: int | None = None
        self._fresh = False
        self._backlog: set[int] = set()
        """Batch rows to send coarse first (found at the connection)."""
        self._sent: dict[tuple[int, bool], int] = {}
        """What is unacknowledged: (row, coarse) → when it was sent [ms]."""
        self._acked: set[int] = set()
        """Rows acknowledged whose deletion the caller may not have listed yet."""
        self._known_sets: set[int] = set()
        """Channel set digests the hub has acknowledged a batch with names of."""
        self._named: dict[int, int] = {}
        """Message id → the digest of the set whose names it was last sent with."""
        self._bare: dict[int, int] = {}
        """Message id → the digest of the set it was last sent without names."""

    @property
    def connected(self) -> bool:
        """Whether the session is connected (between on_connected and on_disconnected)."""
        return self._connected

    @property
    def in_flight(self) -> int:
        """How many rows (full or coarse copies) are sent and unacknowledged."""
        return len(self._sent)

    @property
    def known_sets(self) -> frozenset[int]:
        """The channel set digests the hub is known to have."""
        return frozenset(self._known_sets)

    @property
    def coarse_backlog(self) -> frozenset[int]:
        """The rows still to be sent coarse before any row is sent in full."""
        return frozenset(self._backlog)

    def on_connected(self, now_ms: int) -> None:
        """The broker accepted the connection at ``now_ms``: State is due first; whatever was
        unacknowledged is sent again."""
        self._connected = True
        self._state_due = True
        self._fresh = True
        self._sent.clear()
        self._last_state_ms = None

    def on_disconnected(self, now_ms: int) -> None:
        """The connection is lost (or closed) at ``now_ms``: nothing is sent until the next."""
        self._connected = False
        self._sent.clear()

    def on_ack(self, batch_id: int, names_needed: bool = False) -> int | None:
        """The hub acknowledged message ``batch_id``: the row to delete from the outbox (the
        hub has committed it), or ``None`` for a coarse copy's acknowledgement (the row stays
        until its full detail is acknowledged), an id that names no row, or ``names_needed``
        (nothing stored: the hub lacks the channel set; the message goes again, with names)."""
        digest = self._named.pop(batch_id, None)
        bare = self._bare.pop(batch_id, None)
        if names_needed:
            self._known_sets.discard(digest if bare is None else bare)
            self._sent.pop((abs(batch_id), batch_id < 0), None)
            return None
        if digest is not None:
            self._known_sets.add(digest)
        if batch_id < 0:
            row = -batch_id
            self._sent.pop((row, True), None)
            self._backlog.discard(row)
            return None
        if batch_id == STATE_ROW:
            return None
        self._sent.pop((batch_id, False), None)
        self._sent.pop((batch_id, True), None)
        self._backlog.discard(batch_id)
        self._acked.add(batch_id)
        return batch_id

    def names_for(self, message_id: int, channel_set: int) -> bool:
        """Whether batch message ``message_id`` (a full row's id, or minus it for its coarse
        copy), of the channel set with digest ``channel_set``, goes with its channel names now:
        unless the hub is known to have the set. Call it as the message is published."""
        if channel_set in self._known_sets:
            self._bare[message_id] = channel_set
            self._named.pop(message_id, None)
            return False
        self._named[message_id] = channel_set
        self._bare.pop(message_id, None)
        return True

    def on_live(self, until_ms: int) -> None:
        """Someone watches until ``until_ms``: send State every ``live_interval_ms`` till then."""
        self._live_until_ms = max(until_ms, self._live_until_ms or until_ms)

    def reconnect_delay_s(self, attempt: int, rng: Uniform) -> float:
        """:func:`reconnect_delay_s` with this session's bounds [s]."""
        return reconnect_delay_s(attempt, rng, self.config.reconnect_min_s,
                                 self.config.reconnect_max_s)

    def next_to_send(self, pending: Sequence[Pending], now_ms: int) -> list[Send]:
        """What to publish now, in order, given the outbox's rows ``pending`` (every row not
        yet acknowledged, any order) at ``now_ms``; each row returned counts as sent at
        ``now_ms``. Empty while disconnected."""
        if not self._connected:
            return []
        rows = {p.id: p for p in pending if p.id not in self._acked}
        self._acked &= {p.id for p in pending}
        self._backlog &= rows.keys()
        for key in [k for k in self._sent if k[0] not in rows]:
            del self._sent[key]
        for sets in (self._named, self._bare):
            for message in [m for m in sets if abs(m) not in rows]:
                del sets[message]
        if self._fresh:
            self._fresh = False
            batches = [p.id for p in rows.values() if p.kind == "batch"]
            self._backlog = (set(batches) if self.config.coarse
                             and len(batches) > self.config.max_in_flight else set())
        out: list[Send] = []
        if self._state_due or (
                self._live_until_ms is not None and now_ms < self._live_until_ms
                and (self._last_state_ms is None
                     or now_ms - self._last_state_ms >= self.config.live_interval_ms)):
            out.append(Send("state", STATE_ROW, 0))
            self._state_due = False
            self._last_state_ms = now_ms
        timeout = self.config.ack_timeout_ms
        for key, sent_ms in sorted(self._sent.items()):
            if now_ms - sent_ms >= timeout:
                row, coarse = key
                out.append(self._send(rows[row], coarse, now_ms))
        order = sorted(rows.values(), key=lambda p: (p.kind != "events", p.created_ms, p.id))
        candidates = ([(p, False) for p in order if p.kind == "events"]
                      + [(rows[r], True) for r in sorted(self._backlog,
                                                         key=lambda r: (rows[r].created_ms, r))]
                      + [(p, False) for p in order if p.kind == "batch"
                         and not self._backlog])
        for p, coarse in candidates:
            if len(self._sent) >= self.config.max_in_flight:
                break
            if (p.id, coarse) not in self._sent and (p.id, not coarse) not in self._sent:
                out.append(self._send(p, coarse, now_ms))
        return out

    def _send(self, p: Pending, coarse: bool, now_ms: int) -> Send:
        self._sent[(p.id, coarse)] = now_ms
        if coarse:
            return Send("coarse", p.id, -p.id)
        return Send(p.kind, p.id, p.id)
