"""The uplink's outbox in the site's SQLite: rows made with the cursor, deleted on ack, pruned
with an event, ids never reused; hub commands received once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from store import outbox
from store.commands import read_command
from store.errors import StoreError
from store.schema import connect, from_json, migrate

T0 = 1_780_000_000.0


@pytest.fixture
def db(tmp_path: Path) -> sqlite3.Connection:
    path = tmp_path / "site.db"
    migrate(path)
    return connect(path)


def test_a_row_and_the_cursor_go_together_and_ids_are_never_reused(
        db: sqlite3.Connection) -> None:
    a = outbox.enqueue(db, "batch", T0, records=15, make_payload=lambda i: b"batch %d" % i,
                       make_coarse=lambda i: b"coarse -%d" % i, state={"cursor_ts": T0})
    b = outbox.enqueue(db, "events", T0 + 1, records=2, make_payload=lambda i: b"ev %d" % i)
    assert outbox.payload(db, a) == b"batch %d" % a
    assert outbox.payload(db, a, coarse=True) == b"coarse -%d" % a
    assert outbox.payload(db, b, coarse=True) == b"ev %d" % b  # none: the payload itself
    assert [(r.id, r.kind, r.records) for r in outbox.pending(db)] == [
        (a, "batch", 15), (b, "events", 2)]
    assert outbox.read_uplink_state(db) == {"cursor_ts": T0}
    st = outbox.status(db)
    assert (st.rows, st.oldest_ts, st.size_bytes) == (
        2, T0, len(b"batch 1") + len(b"coarse -1") + len(b"ev 2"))
    assert outbox.delete(db, b) and not outbox.delete(db, b)
    c = outbox.enqueue(db, "batch", T0 + 2, records=1, make_payload=lambda i: b"x")
    assert c > b  # a deleted row's id never comes back: an old ack cannot delete a new row
    assert outbox.payload(db, b) is None


def test_a_failing_payload_leaves_neither_row_nor_cursor(db: sqlite3.Connection) -> None:
    def boom(_row: int) -> bytes:
        raise RuntimeError("encoder failed")

    with pytest.raises(RuntimeError):
        outbox.enqueue(db, "batch", T0, records=1, make_payload=boom, state={"cursor_ts": 5})
    assert outbox.pending(db) == [] and outbox.read_uplink_state(db) == {}


def test_prune_drops_the_oldest_batches_first_and_says_so(db: sqlite3.Connection) -> None:
    ev = outbox.enqueue(db, "events", T0, records=1, make_payload=lambda i: b"e" * 100)
    rows = [outbox.enqueue(db, "batch", T0 + i, records=15, make_payload=lambda i: b"b" * 100)
            for i in range(1, 6)]
    assert outbox.prune(db, 10_000, T0 + 10) is None
    dropped = outbox.prune(db, 350, T0 + 10)
    assert dropped is not None and (dropped.rows, dropped.size_bytes) == (3, 300)
    assert [r.id for r in outbox.pending(db)] == [ev, *rows[3:]]
    event = db.execute("SELECT * FROM events WHERE kind = 'records_dropped'").fetchone()
    assert event["source"] == "uplink"
    assert from_json(event["data"])["records"] == 45
    assert outbox.prune(db, 50, T0 + 11) is not None
    assert [r.id for r in outbox.pending(db)] == [ev]  # Events rows are never dropped


def test_a_hub_command_is_received_once(db: sqlite3.Connection) -> None:
    got = outbox.receive_hub_command(db, "h1", T0, kind="generator", value={"action": "start"},
                                     expires_ts=T0 + 60, requested_by="hub:op")
    assert got.command_id is not None and got.status is None
    again = outbox.receive_hub_command(db, "h1", T0 + 1, kind="generator",
                                       value={"action": "start"}, expires_ts=T0 + 60,
                                       requested_by="hub:op")
    assert again == got
    assert db.execute("SELECT count(*) FROM commands").fetchone()[0] == 1
    cmd = read_command(db, got.command_id)
    assert cmd is not None and (cmd.requested_by, cmd.expires_ts) == ("hub:op", T0 + 60)
    bad = outbox.receive_hub_command(db, "h2", T0, kind="generator", value={"action": "fly"},
                                     expires_ts=T0 + 60, requested_by="hub:op")
    assert bad.status == "rejected" and "start, stop or auto" in bad.detail
    late = outbox.refuse_hub_command(db, "h3", T0, "expired", "arrived after its expiry")
    assert late.command_id is None
    # results known: the refused ones at once, the executed one once the controller acked it
    assert [h.hub_id for h, _ in outbox.unsent_hub_results(db)] == ["h2", "h3"]
    db.execute("UPDATE commands SET status = 'done', result = '{}', acked_ts = ?", (T0 + 2,))
    assert [h.hub_id for h, _ in outbox.unsent_hub_results(db)] == ["h1", "h2", "h3"]
    outbox.enqueue(db, "events", T0 + 3, records=3, make_payload=lambda i: b"r",
                   results_sent=["h1", "h2", "h3"])
    assert outbox.unsent_hub_results(db) == []


def test_the_state_table_keeps_json(db: sqlite3.Connection) -> None:
    outbox.set_uplink_state(db, {"boot": 3, "open_alarms": [1, 2]})
    outbox.set_uplink_state(db, {"boot": 4})
    assert outbox.read_uplink_state(db) == {"boot": 4, "open_alarms": [1, 2]}
    with pytest.raises(StoreError):
        db.execute("PRAGMA query_only = ON")
        outbox.set_uplink_state(db, {"boot": 5})
