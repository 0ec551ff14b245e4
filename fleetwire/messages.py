"""The small messages between a site and the hub: alarms and events (up, at once), a batch's
acknowledgement (down, after the hub's commit), commands (down, with an id and an expiry) and
their results (up). Each is a msgpack map; :func:`encode` and the ``decode_*`` functions are
pure and strict (a missing or mistyped field is a :class:`WireError` naming it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeVar, get_args

import msgpack

from fleetwire.batch import unpack
from fleetwire.errors import WireError
from fleetwire.topics import check_site_id

ArgValue = str | int | float | bool | None
CommandStatus = Literal["done", "failed", "expired", "rejected"]
COMMAND_STATUSES: Final[tuple[CommandStatus, ...]] = get_args(CommandStatus)
"""A command's outcome: carried out, tried and failed, arrived after its expiry (never
executed), or refused (unknown, not allowed, bad arguments)."""


@dataclass(frozen=True, slots=True)
class Alarm:
    """An alarm raised or cleared, or an event, at a site; ``(site, boot, seq)`` is its key
    (``seq`` counts the site's alarm messages within a boot). Times as in
    :class:`fleetwire.batch.Record`. ``kind`` is the site's alarm kind, by name."""

    site: str
    boot: int
    seq: int
    mono_ms: int
    wall_ms: int
    clock_trusted: bool
    kind: str
    active: bool
    severity: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class BatchAck:
    """The hub's word that batch ``batch_id`` of ``site`` is committed: ``records`` were in it,
    ``inserted`` of them were new (the rest had been stored before). The site may then delete
    it from its outbox."""

    site: str
    batch_id: int
    records: int
    inserted: int


@dataclass(frozen=True, slots=True)
class Command:
    """An operator's command to ``site``: ``name`` with ``args``, issued at ``issued_ms`` and
    not to be executed at or after ``expires_ms`` [ms since the Unix epoch, UTC]."""

    id: str
    site: str
    name: str
    issued_ms: int
    expires_ms: int
    by: str
    args: Mapping[str, ArgValue] = field(default_factory=dict)

    def expired(self, now_ms: int) -> bool:
        """Whether the command must no longer be executed at ``now_ms`` [ms, UTC]."""
        return now_ms >= self.expires_ms


@dataclass(frozen=True, slots=True)
class CommandResult:
    """A site's answer to command ``id``: its status, a detail for people, and when [ms, UTC]."""

    id: str
    site: str
    status: CommandStatus
    at_ms: int
    detail: str = ""


Message = Alarm | BatchAck | Command | CommandResult
M = TypeVar("M", Alarm, BatchAck, Command, CommandResult)


def encode(message: Message) -> bytes:
    """The msgpack bytes of ``message``."""
    check_site_id(message.site)
    if isinstance(message, CommandResult) and message.status not in COMMAND_STATUSES:
        raise WireError(f"command result status {message.status!r}: not one of "
                        f"{COMMAND_STATUSES}")
    body = {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}
    if isinstance(message, Command):
        body["args"] = dict(message.args)
    packed: bytes = msgpack.packb(body, use_bin_type=True)
    return packed


_TYPES: Final[dict[str, tuple[type, ...]]] = {"int": (int,), "bool": (bool,), "str": (str,)}


def _decode(payload: bytes, cls: type[M]) -> M:
    what = cls.__name__
    body = unpack(payload, what)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in body:
            if f.default is not dataclasses.MISSING or (
                    f.default_factory is not dataclasses.MISSING):
                continue
            raise WireError(f"{what}: field {f.name!r} is missing")
        value = body[f.name]
        kind = str(f.type)
        if kind in _TYPES:
            ok = isinstance(value, _TYPES[kind]) and (kind == "bool"
                                                      or not isinstance(value, bool))
        elif f.name == "args":
            ok = isinstance(value, dict) and all(
                isinstance(k, str) and isinstance(v, str | int | float | bool | type(None))
                for k, v in value.items())
        else:  # the command status
            ok = value in COMMAND_STATUSES
        if not ok:
            raise WireError(f"{what}: field {f.name!r} = {value!r} is not a valid {kind}")
        kwargs[f.name] = value
    check_site_id(kwargs["site"])
    return cls(**kwargs)


def decode_alarm(payload: bytes) -> Alarm:
    """The :class:`Alarm` in ``payload``."""
    return _decode(payload, Alarm)


def decode_ack(payload: bytes) -> BatchAck:
    """The :class:`BatchAck` in ``payload``."""
    return _decode(payload, BatchAck)


def decode_command(payload: bytes) -> Command:
    """The :class:`Command` in ``payload``."""
    return _decode(payload, Command)


def decode_result(payload: bytes) -> CommandResult:
    """The :class:`CommandResult` in ``payload``."""
    return _decode(payload, CommandResult)
