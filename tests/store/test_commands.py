"""What the API writes: commands (validated) with their ``api_audit`` row, and API keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import commands, readers
from store.errors import CommandError
from store.writer import Store
from tests.store.conftest import T0


@pytest.mark.parametrize(
    ("kind", "target", "value", "error"),
    [
        ("reboot", None, {}, "unknown command kind"),
        ("override_load", None, {"load": "pump", "on": 1, "expires_s": 60}, "value.on"),
        ("override_load", None, {"load": "pump", "on": True, "expires_s": 0}, "expires_s"),
        ("override_load", "x", {"load": "pump", "on": True, "expires_s": 5}, "target"),
        ("set_threshold", None, {"key": "shed_soc_pct"}, "value.value"),
        ("set_threshold", None, {"key": "shed_soc_pct", "value": True}, "value.value"),
        ("generator", None, {"action": "explode"}, "start, stop or auto"),
        ("ack_alarm", None, {"alarm_id": 1, "x": 2}, "unknown value keys"),
        ("planned_cut", None, {"action": "pause", "reason": "x"}, "start or end"),
        ("planned_cut", None, {"action": "start"}, "value.reason"),
        ("planned_cut", None, {"action": "start", "reason": "  "}, "say why"),
        ("planned_cut", None, {"action": "end", "reason": 3}, "value.reason"),
        ("planned_cut", None, {"action": "start", "reason": "x" * 201}, "longer than 200"),
        ("planned_cut", None, {"action": "end", "by": "x"}, "unknown value keys"),
    ],
)
def test_validate_command_rejects(kind: str, target: str | None, value: dict[str, object],
                                  error: str) -> None:
    with pytest.raises(CommandError, match=error):
        commands.validate_command(kind, target, value)


@pytest.mark.parametrize("value", [{"action": "start", "reason": "replace the inverter"},
                                   {"action": "end"}, {"action": "end", "reason": "done"}])
def test_a_planned_cut_needs_a_reason_to_start_only(value: dict[str, object]) -> None:
    commands.validate_command("planned_cut", None, value)


def test_a_rejected_command_writes_nothing(st: Store) -> None:
    with pytest.raises(CommandError):
        commands.insert_command(st.conn, "generator", {"action": "fly"}, requested_by="x",
                                before={"mode": "auto"})
    assert commands.read_commands(st.conn) == []
    assert readers.read_api_audit(st.conn, 10) == []


def test_insert_with_before_audits_in_the_same_transaction(st: Store) -> None:
    api = commands.open_database(st.path)
    a = commands.insert_command(api, "generator", {"action": "start"}, requested_by="ops#1",
                                now_ts=T0, before={"mode": "auto", "running": 0.0})
    b = commands.insert_command(api, "ack_alarm", {"alarm_id": 3}, requested_by="ops#1",
                                now_ts=T0 + 1)
    assert [c.id for c in commands.read_commands(api)] == [b, a]
    st.ack_command(T0 + 2, a, "done", {"running": True})
    assert readers.read_api_audit(api, 10) == [{
        "command_id": a, "ts": T0, "actor": "ops#1", "before": {"mode": "auto", "running": 0.0},
        "kind": "generator", "target": None, "after": {"action": "start"}, "status": "done",
        "result": {"running": True}, "acked_ts": T0 + 2}]


def test_keys_create_list_revoke_touch(tmp_path: Path) -> None:
    conn = commands.open_database(tmp_path / "site.db")
    commands.create_key(conn, "aaaaaaaaaaaa", "ops", "operator", "h1", by="cli", now_ts=T0)
    commands.create_key(conn, "bbbbbbbbbbbb", "boss", "admin", "h2", by="cli", now_ts=T0 + 1)
    assert [k["id"] for k in readers.read_keys(conn)] == ["aaaaaaaaaaaa", "bbbbbbbbbbbb"]
    assert commands.revoke_key(conn, "aaaaaaaaaaaa", by="boss", now_ts=T0 + 2)
    assert commands.revoke_key(conn, "aaaaaaaaaaaa", by="boss", now_ts=T0 + 3)  # idempotent
    assert not commands.revoke_key(conn, "cccccccccccc", by="boss", now_ts=T0 + 3)
    assert commands.touch_key(conn, "bbbbbbbbbbbb", T0 + 4)
    a, b = readers.read_key(conn, "aaaaaaaaaaaa"), readers.read_key(conn, "bbbbbbbbbbbb")
    assert a is not None and (a["revoked_ts"], a["revoked_by"]) == (T0 + 2, "boss")
    assert b is not None and (b["last_used_ts"], b["hash"], b["role"]) == (T0 + 4, "h2",
                                                                           "admin")
    assert readers.read_key(conn, "cccccccccccc") is None
