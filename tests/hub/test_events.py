"""Events and states into the real PostgreSQL: alarms once, an interruption's start then its end,
a site's meta and state from its State; the schema's upgrade from version 1; and the same
through the real broker and the ingest, as a site publishes them over TLS."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from fleetwire.batch import channel_set_digest
from fleetwire.messages import Alarm, BatchAck, Events, Interruption, State
from hub import schema
from hub.errors import HubError
from hub.events import Stored, store_events
from hub.schema import Conn, create_schema
from tests.hub.conftest import RunningHub, TestSite
from tests.hub.servers import Broker

T0_MS = 1_796_000_000_000  # 2026-11-30 (UTC)


def alarm(site: str, seq: int, kind: str = "low_soc", active: bool = True) -> Alarm:
    return Alarm(site, 7, seq, 1000 * seq, T0_MS + 1000 * seq, True, kind, active, "critical",
                 "SOC 18 %")


def cut(seq: int, start_ms: int, end_ms: int | None, customers: int = 12,
        planned: bool = False) -> Interruption:
    return Interruption(boot=99, seq=seq, load="village", cause="shortage", start_ms=start_ms,
                        end_ms=end_ms, customers=customers, planned=planned)


def state(site: str, *, province: str = "Cà Mau", groups: tuple[str, ...] = ("shrimp",),
          customers: int = 40, soc_pct: float | None = 63.5) -> State:
    return State(site=site, boot=3, wall_ms=T0_MS, clock_trusted=True,
                 values={"soc_pct": soc_pct, "do_mg_l": 5.5, "pv_w": 1200.0, "load_w": 800.0},
                 name=f"Trạm {site}", province=province, groups=groups, customers=customers,
                 outbox_rows=4, outbox_oldest_ms=T0_MS - 60_000, free_disk_bytes=10**9)


def interruptions(conn: Conn, site: str) -> list[tuple[object, ...]]:
    return conn.execute(
        "SELECT seq, start_ts, end_ts, customers_interrupted, customers_served, planned, cause, "
        "load FROM interruptions WHERE site = %s ORDER BY seq", (site,)).fetchall()


def test_alarms_are_stored_once_and_an_interruption_ends_in_its_row(hub_db: Conn) -> None:
    store_events(hub_db, [], [state("site-a", customers=40)])
    first = Events("site-a", 1, alarms=(alarm("site-a", 1), alarm("site-a", 2, active=False)),
                   interruptions=(cut(5, T0_MS, None),))
    assert store_events(hub_db, [first], []) == [Stored(items=3, changed=3)]
    # the same Events again (its acknowledgement was lost): nothing changes
    assert store_events(hub_db, [first], []) == [Stored(items=3, changed=0)]
    assert hub_db.execute("SELECT count(*) FROM alarms").fetchone() == (2,)
    start = datetime.fromtimestamp(T0_MS / 1000, UTC)
    assert interruptions(hub_db, "site-a") == [
        (5, start, None, 12, 40, False, "shortage", "village")]
    # the end, sent with the same key, in a group with another copy of the start
    ended = Events("site-a", 2, interruptions=(cut(5, T0_MS, T0_MS + 600_000),))
    assert store_events(hub_db, [first, ended], []) == [Stored(3, 0), Stored(1, 1)]
    end = datetime.fromtimestamp((T0_MS + 600_000) / 1000, UTC)
    assert interruptions(hub_db, "site-a") == [
        (5, start, end, 12, 40, False, "shortage", "village")]
    # a late copy of the start never reopens it
    assert store_events(hub_db, [first], []) == [Stored(3, 0)]
    assert interruptions(hub_db, "site-a")[0][2] == end


def test_a_state_sets_the_sites_meta_groups_and_state(hub_db: Conn) -> None:
    before = datetime.now(UTC)
    store_events(hub_db, [], [state("site-a", groups=("shrimp", "north"))])
    store_events(hub_db, [], [state("site-b", province="", groups=())])
    # a newer State of site-a in one group with an older one: the last of the group wins
    store_events(hub_db, [], [state("site-a", customers=1), state("site-a", groups=("north",),
                                                                  customers=55, soc_pct=None)])
    rows = hub_db.execute(
        "SELECT s.site, s.name, p.name, s.customers, s.last_contact >= %s, "
        "ARRAY(SELECT g.name FROM site_groups sg JOIN groups g ON g.id = sg.group_id "
        "      WHERE sg.site = s.site ORDER BY g.name), st.vals, st.outbox_rows "
        "FROM sites s LEFT JOIN groups p ON p.id = s.province_id JOIN site_state st USING (site) "
        "ORDER BY s.site", (before,)).fetchall()
    assert rows == [
        ("site-a", "Trạm site-a", "Cà Mau", 55, True, ["north"],
         {"soc_pct": None, "do_mg_l": 5.5, "pv_w": 1200.0, "load_w": 800.0}, 4),
        ("site-b", "Trạm site-b", None, 40, True, [],
         {"soc_pct": 63.5, "do_mg_l": 5.5, "pv_w": 1200.0, "load_w": 800.0}, 4)]
    # an older State of the same boot, committed late by another worker, changes no figure
    older = dataclasses.replace(state("site-a", soc_pct=10.0), wall_ms=T0_MS - 60_000)
    store_events(hub_db, [], [older])
    assert hub_db.execute("SELECT vals->'soc_pct' FROM site_state WHERE site = 'site-a'"
                          ).fetchone() == (None,)


def test_a_version_1_database_is_upgraded_to_the_latest(hub_dsn: str) -> None:
    with psycopg.connect(hub_dsn) as conn:
        conn.execute(schema.DDL)  # the hub as first released, with its partitions
        conn.execute("INSERT INTO schema_version VALUES (1)")
        conn.commit()
        schema.ensure_partitions(conn, datetime.now(UTC))
        conn.execute("INSERT INTO sites (site, name) VALUES ('site-a', 'A')")
        conn.execute("INSERT INTO channel_sets (names) VALUES (ARRAY['a_w', 'b_v'])")
        conn.execute("INSERT INTO interruptions (site, boot, seq, start_ts, end_ts, "
                     "customers_interrupted, customers_served, planned, cause) VALUES "
                     "('site-a', 1, 1, now(), NULL, 5, 10, false, 'fault')")
        conn.commit()
        assert schema.schema_version(conn) == 1
        create_schema(conn)
        create_schema(conn)  # again: nothing to do
        assert schema.schema_version(conn) == schema.VERSION == 3
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone() == (1,)
        # version 3: a set stored before has its digest, the one batch format 2 names it by
        assert conn.execute("SELECT names, digest FROM channel_sets").fetchall() == [
            (["a_w", "b_v"], channel_set_digest(["a_w", "b_v"]))]
        assert conn.execute("SELECT site, customers FROM sites").fetchall() == [("site-a", 0)]
        assert conn.execute("SELECT load, customers_interrupted FROM interruptions").fetchall() \
            == [("", 5)]
        # the upgraded database takes version 2's rows
        store_events(conn, [Events("site-a", 1, interruptions=(cut(1, T0_MS, None),))],
                     [state("site-a")])
        assert conn.execute("SELECT count(*) FROM site_state").fetchone() == (1,)
        assert len(interruptions(conn, "site-a")) == 2
        # a month's partition made after the upgrade takes its rows from the default one
        june = int(datetime(2031, 6, 15, tzinfo=UTC).timestamp() * 1000)
        store_events(conn, [Events("site-a", 2, interruptions=(cut(2, june, june + 1),))], [])
        schema.ensure_partitions(conn, datetime(2031, 6, 15, tzinfo=UTC), 0, 0)
        assert conn.execute("SELECT seq, load FROM interruptions_y2031m06").fetchall() == [
            (2, "village")]
        assert len(interruptions(conn, "site-a")) == 3
        conn.execute("UPDATE schema_version SET version = 4")
        conn.commit()
        with pytest.raises(HubError, match="schema version 4"):
            create_schema(conn)


def test_a_new_database_and_an_upgraded_one_have_the_same_tables(hub_db: Conn,
                                                                 pg_cluster: str) -> None:
    def columns(conn: Conn) -> list[tuple[object, ...]]:
        return conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name NOT LIKE '%%\\_y____m__' ORDER BY 1, 2").fetchall()

    name = f"t_up_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        dsn = pg_cluster.replace("dbname=postgres", f"dbname={name}")
        with psycopg.connect(dsn) as old:
            old.execute(schema.DDL)
            old.execute("INSERT INTO schema_version VALUES (1)")
            old.commit()
            create_schema(old)
            assert columns(old) == columns(hub_db)
    finally:
        with psycopg.connect(pg_cluster, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_events_and_states_through_the_broker(broker: Broker, running_hub: RunningHub) -> None:
    with TestSite(broker, "site-b") as site:
        site.publish(state("site-b", customers=30))
        events = Events("site-b", 41, alarms=(alarm("site-b", 1),),
                        interruptions=(cut(1, T0_MS, None, customers=9),))
        assert site.acked(events) == BatchAck("site-b", 41, records=2, inserted=2)
        # sent again (as after a lost acknowledgement): acknowledged, nothing new
        assert site.acked(events) == BatchAck("site-b", 41, records=2, inserted=0)
        end = Events("site-b", 42, interruptions=(cut(1, T0_MS, T0_MS + 3_600_000, 9),))
        assert site.acked(end) == BatchAck("site-b", 42, records=1, inserted=1)
    with psycopg.connect(running_hub.dsn) as conn:
        rows = interruptions(conn, "site-b")
        assert [(r[0], r[2] is not None, r[3], r[4]) for r in rows] == [(1, True, 9, 30)]
        assert conn.execute("SELECT count(*) FROM alarms WHERE site = 'site-b'").fetchone() \
            == (1,)
        # the State was stored before the first Events (one worker takes them in order)
        assert conn.execute("SELECT customers, name FROM sites WHERE site = 'site-b'"
                            ).fetchone() == (30, "Trạm site-b")
    assert running_hub.counters.events == 3 and running_hub.counters.states == 1
