"""Operators' commands down to sites, and the keep-alive that asks a site for live values.

A command is a row of ``commands`` first (status ``sent``, committed), then a
:class:`fleetwire.messages.Command` published on the site's ``cmd`` topic, QoS 1, with the MQTT 5
MessageExpiryInterval set to the seconds it has left: the broker drops it for a site that stays
offline past its expiry, and the site checks the expiry again (it answers ``expired`` for one
that arrives late and never executes it). The site's answer comes back in an
:class:`fleetwire.messages.Events` and :mod:`hub.events` writes it into the row: the row becomes
``done``, ``failed``, ``rejected`` or ``expired`` only on the site's word. A command the hub never
heard back about stays ``sent``; past its expiry the readers show it as "no answer, expired at
…" (:func:`outcome`), since the hub cannot know whether the site ran it.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fleetwire import topics
from fleetwire.messages import COMMAND_NAMES, ArgValue, Command, Live, encode
from hub.errors import HubError
from hub.fleet import EVERYTHING, Scope, sites_in_scope
from hub.schema import Conn
from hub.writer import EPOCH

DEFAULT_TTL_S: Final = 900.0
"""How long a command may wait for its site by default [s]."""
MAX_TTL_S: Final = 7 * 86400.0
"""The longest a command may wait for its site [s]."""
Outcome = Literal["sent", "done", "failed", "expired", "rejected", "no_answer"]
OUTCOME_TEXT: Final[Mapping[Outcome, Mapping[str, str]]] = {
    "sent": {"en": "sent, waiting for the site (expires at {at})",
             "vi": "đã gửi, đang chờ trạm (hết hạn lúc {at})"},
    "done": {"en": "done at {at}", "vi": "đã thực hiện lúc {at}"},
    "failed": {"en": "failed at {at}", "vi": "thất bại lúc {at}"},
    "expired": {"en": "arrived after its expiry, not executed ({at})",
                "vi": "đến sau khi hết hạn, không thực hiện ({at})"},
    "rejected": {"en": "rejected by the site at {at}", "vi": "bị trạm từ chối lúc {at}"},
    "no_answer": {"en": "no answer, expired at {at}", "vi": "không có trả lời, hết hạn lúc {at}"},
}
"""What each :func:`outcome` means, in English and Vietnamese; ``{at}`` is
:func:`outcome_time` formatted by the caller."""


class CommandRefused(HubError):
    """A command the hub will not send: unknown name, bad arguments or expiry, or a site that
    is unknown or outside the caller's scope. The message is English; ``vi`` says it in
    Vietnamese."""

    def __init__(self, message: str, vi: str) -> None:
        super().__init__(message)
        self.vi = vi


@dataclass(frozen=True, slots=True)
class CommandRow:
    """A row of ``commands``: what was asked of ``site``, when, by whom, and the site's answer
    (``status`` ``sent`` until the site answers; ``result_at`` the site's time of its answer)."""

    id: str
    site: str
    name: str
    issued: datetime
    expires: datetime
    by: str
    args: Mapping[str, ArgValue] = field(default_factory=dict)
    status: str = "sent"
    detail: str = ""
    result_at: datetime | None = None


def outcome(row: CommandRow, now: datetime) -> Outcome:
    """The row's status as shown: its status, except ``no_answer`` for a command still ``sent``
    at or after its expiry (the site never answered; it may or may not have run it)."""
    if row.status == "sent":
        return "no_answer" if now >= row.expires else "sent"
    if row.status in ("done", "failed", "expired", "rejected"):
        return row.status  # type: ignore[return-value]
    raise HubError(f"command {row.id}: unknown status {row.status!r}")


def outcome_time(row: CommandRow, now: datetime) -> datetime:
    """The time :data:`OUTCOME_TEXT`'s ``{at}`` stands for: the expiry of a command without an
    answer, else the site's time of its answer."""
    if row.status == "sent" or row.result_at is None:
        return row.expires
    return row.result_at


def expiry_properties(seconds_left: float) -> Properties:
    """MQTT 5 PUBLISH properties with MessageExpiryInterval = ``seconds_left`` rounded up [s]."""
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.MessageExpiryInterval = max(1, math.ceil(seconds_left))
    return props


def _check_args(name: str, args: Mapping[str, Any]) -> dict[str, ArgValue]:
    if name not in COMMAND_NAMES:
        raise CommandRefused(f"unknown command {name!r} (one of {', '.join(COMMAND_NAMES)})",
                             f"lệnh không rõ {name!r} (một trong {', '.join(COMMAND_NAMES)})")
    out: dict[str, ArgValue] = {}
    for key, value in args.items():
        if not isinstance(key, str) or not isinstance(value, str | int | float | bool | None):
            raise CommandRefused(f"{name}: argument {key!r} = {value!r} is not a string, "
                                 "number, boolean or null",
                                 f"{name}: tham số {key!r} = {value!r} không phải chuỗi, số, "
                                 "giá trị đúng/sai hay null")
        if isinstance(value, float) and not math.isfinite(value):
            raise CommandRefused(f"{name}: argument {key!r} = {value!r} is not finite",
                                 f"{name}: tham số {key!r} = {value!r} không hữu hạn")
        out[key] = value
    return out


def _publish(client: mqtt.Client, site: str, kind: Literal["cmd", "live"], payload: bytes,
             seconds_left: float) -> None:
    info = client.publish(topics.topic(site, kind), payload, qos=1,
                          properties=expiry_properties(seconds_left))
    # not connected: paho keeps a QoS 1 message and sends it when the connection is back
    if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
        raise HubError(f"publishing on {topics.topic(site, kind)} failed: "
                       f"{mqtt.error_string(info.rc)}")


def issue_command(conn: Conn, client: mqtt.Client, site: str, name: str,
                  args: Mapping[str, Any], *, by: str, now: datetime,
                  ttl_s: float = DEFAULT_TTL_S, scope: Scope = EVERYTHING) -> CommandRow:
    """Send command ``name`` with ``args`` (the site's command ``value`` map) to ``site`` on
    behalf of ``by``, valid ``ttl_s`` seconds from ``now`` [s]: the row is committed as ``sent``,
    then the command is published (QoS 1, message expiry = ``ttl_s``). Returns the row.

    Raises :class:`CommandRefused` for an unknown name, arguments that are not plain values,
    ``ttl_s`` outside (0, :data:`MAX_TTL_S`], or a site unknown to the hub or outside ``scope``;
    :class:`HubError` when the client cannot publish at all (the row is then ``failed``).
    Commits ``conn``'s transaction."""
    clean = _check_args(name, args)
    if not 0.0 < ttl_s <= MAX_TTL_S:
        raise CommandRefused(f"a command's time to live must be in (0, {MAX_TTL_S:g}] s, "
                             f"not {ttl_s:g}",
                             f"thời hạn của lệnh phải trong (0, {MAX_TTL_S:g}] giây, "
                             f"không phải {ttl_s:g}")
    if site not in sites_in_scope(conn, scope, [site]):
        raise CommandRefused(f"site {site!r} is unknown to the hub or outside your scope",
                             f"trạm {site!r} không có trên hub hoặc ngoài phạm vi của bạn")
    expires = now + timedelta(seconds=ttl_s)
    row = CommandRow(uuid.uuid4().hex, site, name, now, expires, by, clean)
    with conn.transaction():
        conn.execute("INSERT INTO commands (id, site, name, args, issued, expires, issued_by) "
                     "VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s)",
                     (row.id, site, name, json.dumps(clean), now, expires, by))
    if not conn.autocommit:
        conn.commit()
    message = Command(id=row.id, site=site, name=name, issued_ms=_ms(now),
                      expires_ms=_ms(expires), by=by, args=clean)
    try:
        _publish(client, site, "cmd", encode(message), ttl_s)
    except HubError as e:
        with conn.transaction():
            conn.execute("UPDATE commands SET status = 'failed', detail = %s WHERE id = %s",
                         (f"not sent: {e}", row.id))
        if not conn.autocommit:
            conn.commit()
        raise
    return row


def _ms(t: datetime) -> int:
    return int((t - EPOCH) / timedelta(milliseconds=1))


_COLUMNS: Final = "id, site, name, issued, expires, issued_by, args, status, detail, result_at"


def _row(r: tuple[Any, ...]) -> CommandRow:
    return CommandRow(id=r[0], site=r[1], name=r[2], issued=r[3], expires=r[4], by=r[5],
                      args=dict(r[6]), status=r[7], detail=r[8], result_at=r[9])


def command_status(conn: Conn, command_id: str, scope: Scope = EVERYTHING) -> CommandRow | None:
    """Command ``command_id`` as it stands, or ``None`` when there is none in ``scope``."""
    r = conn.execute(f"SELECT {_COLUMNS} FROM commands WHERE id = %s", (command_id,)).fetchone()
    if r is None or not sites_in_scope(conn, scope, [r[1]]):
        return None
    return _row(r)


def site_commands(conn: Conn, site: str, limit: int = 50) -> list[CommandRow]:
    """The latest ``limit`` commands of ``site``, newest first."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM commands WHERE site = %s "
                        "ORDER BY issued DESC, id LIMIT %s", (site, limit)).fetchall()
    return [_row(r) for r in rows]


def send_live(client: mqtt.Client, site: str, until_ms: int, now_ms: int) -> None:
    """Ask ``site`` for live values (a :class:`State` every ``[uplink] live_interval_s``) until
    ``until_ms`` [ms since the Unix epoch, UTC]: a :class:`fleetwire.messages.Live` on its
    ``live`` topic, QoS 1, expiring at ``until_ms`` (a site that comes back later gets nothing
    stale). Raises :class:`HubError` when ``until_ms`` is not after ``now_ms``."""
    if until_ms <= now_ms:
        raise HubError(f"live until {until_ms} ms: not after now ({now_ms} ms)")
    _publish(client, site, "live", encode(Live(site=site, until_ms=until_ms)),
             (until_ms - now_ms) / 1000.0)
