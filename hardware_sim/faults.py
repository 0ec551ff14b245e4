"""Faults on demand: what each kind does, and their schedule in virtual time.

A fault belongs to one device, starts at a simulated time and lasts ``duration_s`` seconds of
simulated time (None: until cleared). Kinds, as a Modbus client sees them:

- ``silent``: the device does not answer (the client times out);
- ``slow``: answers after ``delay_s`` wall seconds (default 3 s, beyond a 1 s timeout);
- ``exception``: answers every request with exception ``code`` (default 4, device failure),
  or with ``on = "writes"`` only its writes (a relay board whose coils no longer switch);
- ``garbage``: every register reads ``value`` (default 0xFFFF; 0x8000 also useful);
- ``frozen``: values stop changing at the fault's start;
- ``relay_stuck``: relay ``channel`` stays ``state`` ("open" or "closed") whatever the command;
  the coil still reads back the command, as on the real board: the fault shows in the power;
- ``reboot``: the device is silent for the fault's duration (default 5 s), then answers with
  its energy counters reset to zero;
- ``drift``: the sensor's ``point`` (default ``do_mg_l``) drifts by ``rate_per_h`` per hour;
- ``noise``: on an RTU bus, a fraction ``probability`` (default 1) of the device's replies
  arrive with a broken CRC;
- ``dry_run`` (on the pump drive): the well runs dry: while the fault is active the plant's
  water pump spins with no flow and about 30 % of its power at that speed
  (:attr:`hardware_sim.water.WaterPlant.dry`, applied by :func:`dry_run_active`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, cast, get_args

from hardware_sim.errors import FaultError

FaultKind = Literal["silent", "slow", "exception", "garbage", "frozen", "relay_stuck", "reboot",
                    "drift", "noise", "dry_run"]
KINDS: tuple[str, ...] = get_args(FaultKind)
Param = float | int | str

DEFAULTS: dict[str, dict[str, Param]] = {
    "slow": {"delay_s": 3.0},
    "exception": {"code": 4, "on": "all"},
    "garbage": {"value": 0xFFFF},
    "relay_stuck": {"channel": 0, "state": "open"},
    "drift": {"point": "do_mg_l", "rate_per_h": -1.0},
    "noise": {"probability": 1.0},
}
REBOOT_S = 5.0


@dataclass
class Fault:
    """One fault on one device."""

    id: int
    device: str
    kind: FaultKind
    start: datetime
    duration_s: float | None = None
    params: dict[str, Param] = field(default_factory=dict)
    cleared: datetime | None = None

    @property
    def end(self) -> datetime | None:
        """When the fault ends by itself (None: when cleared)."""
        if self.duration_s is None:
            return self.cleared
        end = self.start + timedelta(seconds=self.duration_s)
        return min(end, self.cleared) if self.cleared else end

    def active(self, t: datetime) -> bool:
        """True while the fault acts at simulated time ``t``."""
        end = self.end
        return self.start <= t and (end is None or t < end)

    def param(self, name: str) -> Param:
        """A parameter, or its default."""
        return self.params.get(name, DEFAULTS.get(self.kind, {}).get(name, 0))

    def as_dict(self) -> dict[str, object]:
        """JSON-ready description."""
        end = self.end
        return {"id": self.id, "device": self.device, "kind": self.kind,
                "start": self.start.isoformat(), "end": end.isoformat() if end else None,
                "duration_s": self.duration_s,
                "params": {**DEFAULTS.get(self.kind, {}), **self.params}}


def make_fault(fault_id: int, device: str, kind: str, start: datetime, *,
               duration_s: float | None = None, params: dict[str, Param] | None = None) -> Fault:
    """A validated fault; raises :class:`FaultError` for an unknown kind or parameter."""
    if kind not in KINDS:
        raise FaultError(f"unknown fault kind {kind!r} (one of {', '.join(KINDS)})")
    params = dict(params or {})
    allowed = set(DEFAULTS.get(kind, {}))
    unknown = set(params) - allowed
    if unknown:
        raise FaultError(f"fault {kind} takes {sorted(allowed) or 'no parameters'}, "
                         f"not {sorted(unknown)}")
    if duration_s is not None and duration_s <= 0:
        raise FaultError("duration_s must be positive")
    if kind == "reboot" and duration_s is None:
        duration_s = REBOOT_S
    if kind == "relay_stuck" and str(params.get("state", "open")) not in ("open", "closed"):
        raise FaultError("relay_stuck state is 'open' or 'closed'")
    if kind == "exception" and not 1 <= int(params.get("code", 4)) <= 11:
        raise FaultError("exception code must be 1..11")
    if kind == "exception" and str(params.get("on", "all")) not in ("all", "writes"):
        raise FaultError("exception on is 'all' or 'writes'")
    return Fault(fault_id, device, cast(FaultKind, kind), start, duration_s, dict(params))


def dry_run_active(faults: Iterable[Fault], t: datetime) -> bool:
    """True while any ``dry_run`` fault is active at simulated time ``t`` (the plant's well is
    dry: :attr:`hardware_sim.water.WaterPlant.dry`)."""
    return any(f.kind == "dry_run" and f.active(t) for f in faults)
