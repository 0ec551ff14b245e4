"""Commands down and the keep-alive, through the real broker and PostgreSQL: the hub's row, the
command a site receives with its MQTT 5 message expiry, the site's answer in an Events that
makes the row ``done`` (once); refusals; a command never answered shown as "no answer"."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from fleetwire.messages import (
    COMMAND_NAMES,
    CommandResult,
    Events,
    decode_command,
    decode_live,
)
from hub.commands import (
    OUTCOME_TEXT,
    CommandRefused,
    CommandRow,
    command_status,
    issue_command,
    outcome,
    outcome_time,
    send_live,
    site_commands,
)
from hub.events import store_events
from hub.fleet import Scope
from store.contract import COMMAND_KINDS
from tests.hub.conftest import RunningHub, TestSite
from tests.hub.servers import Broker
from tests.hub.test_events import state


def test_the_wire_names_the_sites_command_kinds() -> None:
    assert COMMAND_NAMES == COMMAND_KINDS


def test_a_command_without_an_answer_shows_no_answer_after_its_expiry() -> None:
    issued = datetime(2026, 12, 2, 8, tzinfo=UTC)
    row = CommandRow("c1", "site-a", "generator", issued, issued + timedelta(minutes=15), "op",
                     {"action": "start"})
    assert outcome(row, issued + timedelta(minutes=14)) == "sent"
    late = issued + timedelta(minutes=15)
    assert outcome(row, late) == "no_answer"
    assert outcome_time(row, late) == row.expires
    assert OUTCOME_TEXT["no_answer"]["en"].format(at="15:15") == "no answer, expired at 15:15"
    assert "hết hạn" in OUTCOME_TEXT["no_answer"]["vi"]
    answered = CommandRow("c1", "site-a", "generator", issued, row.expires, "op", {}, "done",
                          "", issued + timedelta(minutes=1))
    assert outcome(answered, late) == "done"
    assert outcome_time(answered, late) == issued + timedelta(minutes=1)


def test_refusals_and_a_site_that_answers_expired(broker: Broker,
                                                  running_hub: RunningHub) -> None:
    client = running_hub.publisher()
    try:
        with psycopg.connect(running_hub.dsn) as conn:
            store_events(conn, [], [state("site-c", province="Kiên Giang")])
            now = datetime.now(UTC)
            with pytest.raises(CommandRefused, match="unknown command"):
                issue_command(conn, client, "site-c", "reboot", {}, by="op", now=now)
            with pytest.raises(CommandRefused, match="not a string"):
                issue_command(conn, client, "site-c", "generator", {"action": [1]}, by="op",
                              now=now)
            with pytest.raises(CommandRefused, match="time to live"):
                issue_command(conn, client, "site-c", "generator", {}, by="op", now=now,
                              ttl_s=0)
            with pytest.raises(CommandRefused, match="outside your scope"):
                issue_command(conn, client, "site-c", "generator", {}, by="op", now=now,
                              scope=Scope(provinces=frozenset({"Cà Mau"})))
            with pytest.raises(CommandRefused, match="unknown to the hub") as refused:
                issue_command(conn, client, "site-z", "generator", {}, by="op", now=now)
            assert "phạm vi" in refused.value.vi
            assert conn.execute("SELECT count(*) FROM commands").fetchone() == (0,)
            with TestSite(broker, "site-c") as site:
                row = issue_command(conn, client, "site-c", "generator", {"action": "stop"},
                                    by="op", now=now, ttl_s=60)
                got = decode_command(site.next("cmd").payload)
                assert got.id == row.id
                # the site found it expired (its clock says so): it says so, and the row follows
                answer = CommandResult(row.id, "site-c", "expired", got.expires_ms, "late")
                assert site.acked(Events("site-c", 5, results=(answer,))).inserted == 1
            shown = command_status(conn, row.id)
            assert shown is not None and shown.status == "expired" and shown.detail == "late"
            assert command_status(conn, row.id, Scope(groups=frozenset({"x"}))) is None
            assert command_status(conn, "nope") is None
    finally:
        client.disconnect()
        client.loop_stop()


def test_a_command_round_trip_and_the_keep_alive(broker: Broker,
                                                 running_hub: RunningHub) -> None:
    client = running_hub.publisher()
    try:
        with psycopg.connect(running_hub.dsn) as conn:
            store_events(conn, [], [state("site-d")])
            with TestSite(broker, "site-d") as site:
                now = datetime.now(UTC)
                row = issue_command(conn, client, "site-d", "override_load",
                                    {"load": "aerator_1", "on": True, "expires_s": 600.0},
                                    by="operator#abc (operator)", now=now, ttl_s=300)
                assert command_status(conn, row.id) == row  # committed before it is sent
                message = site.next("cmd")
                command = decode_command(message.payload)
                assert (command.id, command.name, dict(command.args), command.by) == (
                    row.id, "override_load", {"load": "aerator_1", "on": True,
                                              "expires_s": 600.0},
                    "operator#abc (operator)")
                assert command.expires_ms - command.issued_ms == 300_000
                # the broker passes the expiry on, less the time the message waited
                expiry = message.properties.MessageExpiryInterval  # type: ignore[union-attr]
                assert 0 < expiry <= 300
                done_at = int(time.time() * 1000)
                result = CommandResult(row.id, "site-d", "done", done_at, "aerator_1 on")
                ack = site.acked(Events("site-d", 9, results=(result,)))
                assert ack.inserted == 1
                # a copy of the answer, and a later contradicting one, change nothing
                late = CommandResult(row.id, "site-d", "failed", done_at + 1, "")
                assert site.acked(Events("site-d", 10, results=(result, late))).inserted == 0
                shown = command_status(conn, row.id)
                assert shown is not None
                assert (shown.status, shown.detail) == ("done", "aerator_1 on")
                assert shown.result_at is not None
                assert int(shown.result_at.timestamp() * 1000) == done_at
                assert outcome(shown, now + timedelta(hours=1)) == "done"
                assert [r.id for r in site_commands(conn, "site-d")] == [row.id]

                until_ms = int(time.time() * 1000) + 60_000
                send_live(client, "site-d", until_ms, until_ms - 60_000)
                live = site.next("live")
                assert decode_live(live.payload).until_ms == until_ms
                assert 0 < live.properties.MessageExpiryInterval <= 60  # type: ignore[union-attr]
    finally:
        client.disconnect()
        client.loop_stop()
