"""The small messages between a site and the hub.

Up (site → hub): :class:`Events` (alarms raised or cleared, interruptions, command results; at
once, from the site's outbox) and :class:`State` (current values, retained). Down (hub →
site): :class:`BatchAck` (a batch or an Events committed), :class:`Command` (with an id and an
expiry) and :class:`Live` (someone watches). Each is a msgpack map; :func:`encode` and the
``decode_*`` functions are pure and strict (a missing or mistyped field is a
:class:`WireError` naming it). A field at its default (``detail=""``, no alarms,
``names_needed=False``…) is left out of the map, and put back by the decoder."""

from __future__ import annotations

import dataclasses
import math
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
COMMAND_NAMES: Final[tuple[str, ...]] = (
    "override_load", "set_threshold", "generator", "ack_alarm", "planned_cut")
"""The names a :class:`Command` may carry: the site's command kinds, as the wire contract
(``store.contract.COMMAND_KINDS``; fleetwire imports nothing of ours, so the hub's tests check
the two agree)."""


@dataclass(frozen=True, slots=True)
class Alarm:
    """An alarm raised or cleared at a site; ``(site, boot, seq)`` is its key, a raise and a
    clear each their own (the site's uplink uses its database's epoch as ``boot`` and twice the
    alarm's row id as ``seq``, plus one for the clear). Times as in
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
    it from its outbox. With ``names_needed`` (``records`` and ``inserted`` 0) nothing was
    stored: the batch came without its channel names and the hub does not know its channel
    set; the site sends it again with them (see :mod:`fleetwire.session`)."""

    site: str
    batch_id: int
    records: int
    inserted: int
    names_needed: bool = False


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


@dataclass(frozen=True, slots=True)
class Interruption:
    """An interruption of a load's customers, as the site recorded it; ``(site, boot, seq)`` is
    its key: ``boot`` is the site database's epoch (a random integer kept in the site's
    database, not the boot counter) and ``seq`` the interruption's row id. Sent when it starts
    (``end_ms`` None) and again, with the same key, when it ends. Times [ms since the Unix
    epoch, UTC]; ``customers`` is how many customers it cut."""

    boot: int
    seq: int
    load: str
    cause: str
    start_ms: int
    end_ms: int | None
    customers: int
    planned: bool


@dataclass(frozen=True, slots=True)
class Events:
    """What happened at ``site``, sent at once on ``event`` (QoS 1) from the site's outbox:
    alarms raised or cleared, interruptions started or ended, command results. ``id`` is the
    outbox row id, acknowledged by ``BatchAck(batch_id=id)`` (the same id space as batches).
    Each item carries its own key, so the hub stores a copy sent again once."""

    site: str
    id: int
    alarms: tuple[Alarm, ...] = ()
    interruptions: tuple[Interruption, ...] = ()
    results: tuple[CommandResult, ...] = ()


@dataclass(frozen=True, slots=True)
class State:
    """A site's current state, published on ``state`` (QoS 1, retained): not stored history.

    ``boot`` is the site's boot counter; ``wall_ms`` the site's wall clock when it was made [ms
    since the Unix epoch, UTC], believed only when ``clock_trusted``. ``values`` are the site
    figures (``store.contract.SITE_FIGURES``: ``soc_pct``, ``do_mg_l``, ``pv_w``…, each in its
    unit; None when unknown). ``name`` and ``province`` come from the site file's ``[site]``
    (``province`` "" when not given), ``groups`` from ``[uplink] groups``; ``customers`` is the
    customers the site serves (SAIDI/SAIFI's denominator). ``outbox_rows`` and
    ``outbox_oldest_ms`` [ms, UTC; None when empty] describe what the site still holds for the
    hub, ``free_disk_bytes`` [bytes] the room left on its database's disk."""

    site: str
    boot: int
    wall_ms: int
    clock_trusted: bool
    values: Mapping[str, float | None]
    name: str
    province: str
    groups: tuple[str, ...]
    customers: int
    outbox_rows: int
    outbox_oldest_ms: int | None
    free_disk_bytes: int


@dataclass(frozen=True, slots=True)
class Live:
    """The hub's keep-alive on ``live``: someone watches ``site``; send :class:`State` every
    ``[uplink] live_interval_s`` until ``until_ms`` [ms since the Unix epoch, UTC]."""

    site: str
    until_ms: int


Message = Alarm | BatchAck | Command | CommandResult | Events | State | Live
M = TypeVar("M", Alarm, BatchAck, Command, CommandResult, Events, State, Live, Interruption)


def _body(item: object) -> dict[str, Any]:
    """``item`` (one of this module's dataclasses) as a plain map, nested items as maps."""
    if isinstance(item, CommandResult) and item.status not in COMMAND_STATUSES:
        raise WireError(f"command result status {item.status!r}: not one of "
                        f"{COMMAND_STATUSES}")
    body: dict[str, Any] = {}
    for f in dataclasses.fields(item):  # type: ignore[arg-type]
        value = getattr(item, f.name)
        if f.default is not dataclasses.MISSING and value == f.default:
            continue  # the decoder puts the default back: bytes saved
        if isinstance(value, Mapping):
            value = dict(value)
        elif isinstance(value, tuple):
            value = [v if isinstance(v, str) else _body(v) for v in value]
        body[f.name] = value
    return body


def encode(message: Message) -> bytes:
    """The msgpack bytes of ``message``; :class:`WireError` on a bad site id, a bad command
    status or a value that is not finite."""
    check_site_id(message.site)
    if isinstance(message, Events):
        for alarm in message.alarms:
            if alarm.site != message.site:
                raise WireError(f"Events of {message.site!r}: an alarm of {alarm.site!r}")
        for result in message.results:
            if result.site != message.site:
                raise WireError(f"Events of {message.site!r}: a result of {result.site!r}")
    if isinstance(message, State):
        for name, v in message.values.items():
            if v is not None and not math.isfinite(v):
                raise WireError(f"State value {name!r} = {v!r} is not finite (send None)")
    packed: bytes = msgpack.packb(_body(message), use_bin_type=True)
    return packed


_TYPES: Final[dict[str, tuple[type, ...]]] = {"int": (int,), "bool": (bool,), "str": (str,)}
_ITEMS: Final[dict[str, type]] = {"tuple[Alarm, ...]": Alarm,
                                  "tuple[Interruption, ...]": Interruption,
                                  "tuple[CommandResult, ...]": CommandResult}


def _valid(name: str, kind: str, value: object) -> tuple[bool, object]:
    """Whether ``value`` fits field ``name`` of type ``kind`` (the annotation's text), and the
    value to keep (lists become tuples, maps of items become items)."""
    if kind in _TYPES:
        return (isinstance(value, _TYPES[kind])
                and (kind == "bool" or not isinstance(value, bool))), value
    if kind == "int | None":
        return value is None or (isinstance(value, int) and not isinstance(value, bool)), value
    if kind in _ITEMS:
        if not isinstance(value, list):
            return False, value
        return True, tuple(_fields(item, _ITEMS[kind], f"{name}[{i}]")
                           for i, item in enumerate(value))
    if kind == "tuple[str, ...]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value), (
            tuple(value) if isinstance(value, list) else value)
    if name == "values":
        return isinstance(value, dict) and all(
            isinstance(k, str) and (v is None or (isinstance(v, int | float)
                                                  and not isinstance(v, bool)
                                                  and math.isfinite(v)))
            for k, v in value.items()), value
    if name == "args":
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str | int | float | bool | type(None))
            for k, v in value.items()), value
    return value in COMMAND_STATUSES, value  # the command status


def _fields(body: object, cls: type[M], what: str) -> M:
    """An instance of ``cls`` from the map ``body``, checked field by field."""
    if not isinstance(body, dict):
        raise WireError(f"{what}: expected a map, got {type(body).__name__}")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in body:
            if f.default is not dataclasses.MISSING or (
                    f.default_factory is not dataclasses.MISSING):
                continue
            raise WireError(f"{what}: field {f.name!r} is missing")
        kind = str(f.type)
        ok, value = _valid(f.name, kind, body[f.name])
        if not ok:
            raise WireError(f"{what}: field {f.name!r} = {body[f.name]!r} is not a valid {kind}")
        kwargs[f.name] = value
    if "site" in kwargs:
        check_site_id(kwargs["site"])
    return cls(**kwargs)


def _decode(payload: bytes, cls: type[M]) -> M:
    return _fields(unpack(payload, cls.__name__), cls, cls.__name__)


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


def decode_events(payload: bytes) -> Events:
    """The :class:`Events` in ``payload``; every alarm and result must be of its site."""
    events = _decode(payload, Events)
    if any(a.site != events.site for a in events.alarms) or any(
            r.site != events.site for r in events.results):
        raise WireError(f"Events of {events.site!r}: an alarm or a result of another site")
    return events


def decode_state(payload: bytes) -> State:
    """The :class:`State` in ``payload``."""
    return _decode(payload, State)


def decode_live(payload: bytes) -> Live:
    """The :class:`Live` in ``payload``."""
    return _decode(payload, Live)
