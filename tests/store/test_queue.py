"""The controller's write queue and the writer lock, on real SQLite files (a real full tmpfs for
the disk-full cases)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from store import commands, readers
from store.contract import Sample
from store.errors import StoreError
from store.lock import WriterLocked, writer_lock
from store.queue import WriteQueue
from store.writer import Store
from tests.store.conftest import T0
from tests.support import fill, tmpfs


def _sample(i: int) -> Sample:
    return Sample("mppt-1", "pv_w", float(i), "good", T0 + i)


def test_full_disk_reports_sqlites_own_error(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "2m") as disk:
        st = Store(disk / "site.db")
        st.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        filler = fill(disk)
        for write in (lambda: st.raise_alarm(T0, "low_do", "do-probe", "DO low"),
                      lambda: st.write_cycle(T0, [_sample(1)], {}, 0),
                      lambda: st.event(T0, "controller_start", "controller", "up")):
            with pytest.raises(StoreError, match="database or disk is full") as e:
                write()
            assert isinstance(e.value.__cause__, sqlite3.OperationalError)
            assert "cannot rollback" not in str(e.value)
        filler.unlink()
        st.raise_alarm(T0, "low_do", "do-probe", "DO low")  # the connection still works
        assert [a["kind"] for a in readers.read_active_alarms(st.conn)] == ["low_do"]
        st.close()


def test_acks_wait_in_memory_and_are_not_handed_out_twice(tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    api = commands.open_database(db)
    cid = commands.insert_command(api, "generator", {"action": "start"}, requested_by="ops",
                                  now_ts=T0)
    old = commands.insert_command(api, "generator", {"action": "stop"}, requested_by="ops",
                                  now_ts=T0, expires_ts=T0 + 1)
    q = WriteQueue(db)
    assert [c.id for c in q.pending_commands(T0 + 5)] == [cid]  # the expired one: rejected
    q.ack_command(T0 + 5, cid, "done", {"mode": "start"})
    q.set_state(T0 + 5, "generator", {"mode": "start"})
    q.set_state(T0 + 6, "generator", {"mode": "auto"})  # replaces the queued value
    assert q.pending_commands(T0 + 6) == [] and not q.ack_stored(cid)
    assert q.get_state("generator") == {"mode": "auto"}
    assert q.health().queued == 3  # two acks and one state row
    # Another process holds the write lock: nothing is written, nothing is lost.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1],"
         " isolation_level=None); c.execute('BEGIN IMMEDIATE'); print('locked', flush=True);"
         " sys.stdin.read()", str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    q._store.conn.execute("PRAGMA busy_timeout = 10")  # type: ignore[union-attr]
    try:
        h = q.flush(T0 + 7)
        assert h.error is not None and "locked" in h.error and h.queued == 3
        assert commands.read_command(api, cid).status == "pending"  # type: ignore[union-attr]
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    h = q.flush(T0 + 8)
    assert (h.error, h.queued, h.dropped) == (None, 0, 0) and q.ack_stored(cid)
    assert commands.read_command(api, cid).status == "done"  # type: ignore[union-attr]
    assert commands.read_command(api, old).result == {"error": "expired"}  # type: ignore[union-attr]
    assert readers.read_state(api, "generator") == {"mode": "auto"}
    q.close(T0 + 9)


def test_overflow_drops_telemetry_then_events_never_records(tmp_path: Path) -> None:
    db = tmp_path / "missing" / "site.db"  # its directory does not exist yet: degraded
    q = WriteQueue(db, max_items=5)
    assert not q.writable and "cannot open database" in (q.error or "")
    q.raise_alarm(T0, "low_do", "do-probe", "DO low")
    for i in range(4):
        q.write_cycle(T0 + i, [_sample(i)], {}, 0)
    q.event(T0 + 5, "controller_start", "controller", "up")
    for i in range(3):
        q.clear_alarm(T0 + 6 + i, "low_do", "do-probe")
        q.raise_alarm(T0 + 6 + i, "low_do", "do-probe", "DO low again")
    h = q.health()
    assert h.queued == 7 and h.dropped == 5  # every telemetry row and the event went first
    with pytest.raises(StoreError, match="unknown event kind"):
        q.event(T0, "nonsense", "x", "y")
    db.parent.mkdir()
    h = q.flush(T0 + 10)
    assert h.writable and (h.error, h.queued) == (None, 0)
    conn = readers.connect(db, readonly=True)
    assert [a["cleared_ts"] is None for a in readers.read_alarms(conn)] == [
        True, False, False, False]
    said = [e for e in readers.read_events(conn) if e["kind"] == "records_dropped"]
    assert [e["data"] for e in said] == [{"telemetry": 4, "event": 1}]
    assert readers.read_latest(conn) == []
    q.close(T0 + 11)


def test_read_only_database_is_read_for_restoring(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "2m") as ro:
        st = Store(ro / "site.db")
        st.set_state(T0, "overrides", {"pump": {"on": True, "expires_ts": T0 + 60}})
        st.raise_alarm(T0, "low_do", "do-probe", "DO low")
        st.close()
        subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True)
        try:
            q = WriteQueue(ro / "site.db")
            assert not q.writable
            assert q.get_state("overrides") == {"pump": {"on": True, "expires_ts": T0 + 60}}
            assert q.active_alarm_keys() == {"low_do:do-probe"}
            q.clear_alarm(T0 + 1, "low_do", "do-probe")
            h = q.flush(T0 + 1)
            assert h.queued == 1 and h.error is not None and not h.writable
            q.close(T0 + 2)
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(ro)], check=True)


def test_writer_lock_is_exclusive_and_names_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from store.lock import writer_lock\n"
         "with writer_lock(sys.argv[1]):\n print('held', flush=True); sys.stdin.read()",
         str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(WriterLocked, match=f"already running.*pid {holder.pid}"), \
                writer_lock(db):
            pass
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    with writer_lock(db) as locked:  # released with the process
        assert locked
    with writer_lock(tmp_path / "no" / "x.db") as locked:  # nothing to lock, nobody to fear
        assert not locked
