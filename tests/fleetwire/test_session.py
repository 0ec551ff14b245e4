"""The uplink's protocol state machine: priorities, the window, resending, back-off, State only
when useful, channel names only while the hub may not know the set."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetwire.batch import Record
from fleetwire.errors import WireError
from fleetwire.session import (
    Pending,
    Send,
    Session,
    SessionConfig,
    coarse_records,
    reconnect_delay_s,
)


def rows(n_batches: int, n_events: int = 0) -> list[Pending]:
    out = [Pending(i + 1, "batch", 1000 * (i + 1), 15) for i in range(n_batches)]
    out += [Pending(100 + i, "events", 500_000 + i, 1) for i in range(n_events)]
    return out


def test_after_connecting_state_then_events_then_the_backlog_coarse_then_full() -> None:
    s = Session(SessionConfig(max_in_flight=2))
    assert s.next_to_send(rows(5, 1), 0) == []  # not connected: nothing
    s.on_connected(0)
    pending = rows(5, 1)
    first = s.next_to_send(pending, 0)
    assert first == [Send("state", 0, 0), Send("events", 100, 100), Send("coarse", 1, -1)]
    assert s.in_flight == 2
    assert s.next_to_send(pending, 1) == []  # the window is full
    assert s.on_ack(100) == 100  # the Events row: delete it
    pending = [p for p in pending if p.id != 100]
    assert s.next_to_send(pending, 2) == [Send("coarse", 2, -2)]
    for row in (1, 2):
        assert s.on_ack(-row) is None  # a coarse ack keeps the row
    assert s.next_to_send(pending, 3) == [Send("coarse", 3, -3), Send("coarse", 4, -4)]
    for row in (3, 4):
        assert s.on_ack(-row) is None
    # full detail waits for the last coarse copy
    assert s.next_to_send(pending, 4) == [Send("coarse", 5, -5)]
    assert s.on_ack(-5) is None
    assert s.next_to_send(pending, 5) == [Send("batch", 1, 1), Send("batch", 2, 2)]


def test_a_small_backlog_goes_in_full_at_once() -> None:
    s = Session(SessionConfig(max_in_flight=4))
    s.on_connected(0)
    assert [x.kind for x in s.next_to_send(rows(3), 0)] == ["state", "batch", "batch", "batch"]


def test_an_unacknowledged_row_is_sent_again_after_the_timeout_and_after_a_reconnection(
        ) -> None:
    s = Session(SessionConfig(max_in_flight=1, ack_timeout_ms=1000, coarse=False))
    s.on_connected(0)
    pending = rows(2)
    assert s.next_to_send(pending, 0)[1:] == [Send("batch", 1, 1)]
    assert s.next_to_send(pending, 999) == []
    assert s.next_to_send(pending, 1000) == [Send("batch", 1, 1)]
    s.on_disconnected(1500)
    assert s.next_to_send(pending, 1600) == []
    s.on_connected(2000)
    assert s.next_to_send(pending, 2000) == [Send("state", 0, 0), Send("batch", 1, 1)]
    assert s.on_ack(1) == 1
    # the row is acknowledged: not sent again even if the caller still lists it
    assert s.next_to_send(pending, 2001) == [Send("batch", 2, 2)]


def test_live_sends_state_every_interval_until_its_end() -> None:
    s = Session(SessionConfig(live_interval_ms=5000))
    s.on_connected(0)
    assert s.next_to_send([], 0) == [Send("state", 0, 0)]
    assert s.next_to_send([], 1000) == []
    s.on_live(until_ms=12_000)
    assert s.next_to_send([], 5000) == [Send("state", 0, 0)]
    assert s.next_to_send([], 9000) == []
    assert s.next_to_send([], 10_000) == [Send("state", 0, 0)]
    assert s.next_to_send([], 15_000) == []
    # a batch made is no reason for a State
    assert s.next_to_send(rows(1), 16_000) == [Send("batch", 1, 1)]


def test_names_go_until_the_hub_has_acknowledged_the_set_and_again_when_it_asks() -> None:
    s = Session(SessionConfig(max_in_flight=2))
    s.on_connected(0)
    s.next_to_send([], 0)
    assert s.next_to_send(rows(2), 1) == [Send("batch", 1, 1), Send("batch", 2, 2)]
    assert s.names_for(1, 77) and s.names_for(2, 77)  # two in flight: neither sure
    assert s.on_ack(1) == 1
    assert s.known_sets == {77}
    assert not s.names_for(3, 77) and s.names_for(3, 78)  # another set: its names go
    # a batch without names whose set the hub lacks (its database was replaced): not stored,
    # sent again at once, with names; the other rows of the set with names too
    assert not s.names_for(2, 77)
    assert s.on_ack(2, names_needed=True) is None
    assert s.known_sets == set()
    assert s.next_to_send(rows(2)[1:], 2) == [Send("batch", 2, 2)]
    assert s.names_for(2, 77)
    assert s.on_ack(2) == 2 and s.known_sets == {77}
    # a coarse copy follows the same rule; its ack keeps the row
    assert not s.names_for(-5, 77)
    assert s.on_ack(-5, names_needed=True) is None and s.known_sets == set()
    assert s.names_for(-5, 77) and s.on_ack(-5) is None and s.known_sets == {77}


def test_coarse_records_keep_one_per_step_with_their_own_keys() -> None:
    recs = [Record(1, i, i * 60_000, 900_000 * 3 + i * 60_000, True, {"x": float(i)})
            for i in range(45)]
    coarse = coarse_records(recs, 900)
    assert [r.seq for r in coarse] == [0, 15, 30]
    assert all(r in recs for r in coarse)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(WireError, match="max_in_flight"):
        SessionConfig(max_in_flight=0)
    with pytest.raises(WireError, match="reconnect_min_s"):
        SessionConfig(reconnect_min_s=10, reconnect_max_s=5)


@given(st.integers(0, 200), st.integers(0, 2**32), st.floats(0.1, 10), st.floats(1, 1000))
def test_reconnect_delays_stay_within_bounds(attempt: int, seed: int, min_s: float,
                                             extra_s: float) -> None:
    max_s = min_s + extra_s
    delay = reconnect_delay_s(attempt, random.Random(seed), min_s, max_s)
    assert min_s <= delay <= max_s
    if attempt == 0:
        assert delay <= 2 * min_s


def test_reconnect_delays_grow_and_are_jittered() -> None:
    rng = random.Random(1)
    early = [reconnect_delay_s(0, rng, 1, 300) for _ in range(200)]
    late = [reconnect_delay_s(20, rng, 1, 300) for _ in range(200)]
    assert max(early) <= 2 and max(late) > 100
    assert len(set(late)) == len(late)  # jitter: no two sites wait the same


OPS = st.lists(st.one_of(
    st.tuples(st.just("send"), st.integers(0, 5000)),
    st.tuples(st.just("ack"), st.integers(0, 30)),
    st.tuples(st.just("lose"), st.integers(0, 30)),
    st.tuples(st.just("drop"), st.just(0)),
    st.tuples(st.just("connect"), st.just(0)),
    st.tuples(st.just("forget"), st.just(0)),
    st.tuples(st.just("new"), st.sampled_from(["batch", "events"]))), max_size=60)


@settings(max_examples=300)
@given(st.integers(1, 6), st.integers(0, 25), st.booleans(), OPS)
def test_the_window_holds_and_every_row_is_eventually_delivered_in_full(
        window: int, n_rows: int, coarse: bool, ops: list[tuple[str, object]]) -> None:
    s = Session(SessionConfig(max_in_flight=window, ack_timeout_ms=1000, coarse=coarse))
    outbox = {p.id: p for p in rows(n_rows)}
    wire: list[tuple[Send, bool]] = []  # sent (with names?), not yet acknowledged or lost
    full: set[int] = set()  # rows the hub has in full detail
    hub_sets: set[int] = set()  # the channel sets the hub knows (each row's: its id % 3)
    now = 0

    def send(step_ms: int) -> None:
        nonlocal now
        now += step_ms
        for x in s.next_to_send(list(outbox.values()), now):
            assert x.kind == "state" or x.row in outbox
            named = x.kind in {"batch", "coarse"} and s.names_for(x.message_id, x.row % 3)
            wire.append((x, named))
        assert s.in_flight <= window

    def ack(i: int) -> None:
        sent = [w for w in wire if w[0].kind != "state"]
        if not sent:
            return
        x, named = sent[i % len(sent)]
        wire.remove((x, named))
        if x.kind != "events" and not named and x.row % 3 not in hub_sets:
            assert s.on_ack(x.message_id, names_needed=True) is None
            return
        if named:
            hub_sets.add(x.row % 3)
        if x.kind != "coarse":
            full.add(x.row)
        row = s.on_ack(x.message_id)
        if row is not None:
            assert x.kind != "coarse" and row == x.row
            outbox.pop(row, None)

    for op, arg in ops:
        if op == "send":
            send(int(arg))  # type: ignore[call-overload]
        elif op == "ack":
            ack(int(arg))  # type: ignore[call-overload]
        elif op == "lose" and wire:
            wire.pop(int(arg) % len(wire))  # type: ignore[call-overload]
        elif op == "drop":
            s.on_disconnected(now)
            wire.clear()
        elif op == "connect":
            s.on_connected(now)
        elif op == "forget":  # the hub's database is replaced
            hub_sets.clear()
        elif op == "new":
            new = max([*outbox, *full, 0]) + 1
            outbox[new] = Pending(new, arg, now, 1)  # type: ignore[arg-type]
    # then the link is good: everything left goes through, in full
    s.on_connected(now)
    wire.clear()
    for _ in range(10 * (n_rows + len(ops)) + 10):
        if not outbox:
            break
        send(1)
        wire[:] = [w for w in wire if w[0].kind != "state"]
        while wire:
            ack(0)
    assert not outbox
    assert s.in_flight == 0
