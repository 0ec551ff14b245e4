"""The uplink's pure parts: the store's samples into records, its alarms, interruptions and
command results into wire items, and the kernel's word on the clock.

Keys. A record's key is ``(site, boot, seq)``: ``boot`` counts the uplink's starts (the
``offgrid run`` process) and ``seq`` its records within that start. Alarms and interruptions
are keyed by the site **database's epoch** (a random integer made once per database) and their
row id (an alarm's raise is ``2 × id``, its clear ``2 × id + 1``), so they keep their key
across restarts and a copy sent again is stored once.

Clocks. The store stamps samples with the wall clock. A record's ``wall_ms`` is the start of
its interval; its ``mono_ms`` is ``wall_ms`` minus the boot's offset (wall − monotonic, taken
when the boot started), so within a boot records are ordered as the store holds them. With
``[uplink] clock = "rtc"`` every record is trusted; with ``"ntp"`` the records from the moment
the kernel reports the clock synchronised (:func:`kernel_clock_synchronised`) on.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from fleetwire.batch import Record
from fleetwire.messages import Alarm, CommandResult, CommandStatus, Interruption

TIME_ERROR: Final = 5
"""``adjtimex(2)``'s return value when the kernel's clock is not synchronised."""
TIMEX_BYTES: Final = 512
"""Room for ``struct timex`` (208 bytes on 64-bit Linux), zeroed: ``modes = 0`` only reads."""


def kernel_clock_synchronised() -> bool:
    """Whether the kernel says its clock is synchronised (``adjtimex(2)`` with no change
    returns a state other than ``TIME_ERROR``; an NTP daemon such as chrony or
    systemd-timesyncd clears it once it has set the clock). False when the call fails."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        buf = ctypes.create_string_buffer(TIMEX_BYTES)
        state = int(libc.adjtimex(buf))
    except (OSError, AttributeError):
        return False
    return state not in {-1, TIME_ERROR}


@dataclass(frozen=True, slots=True)
class BootKeys:
    """How one boot stamps its records: its number, its next ``seq``, its clock offset
    (wall − monotonic [ms]) and when its clock became trusted [ms since the epoch; None: not
    yet]."""

    boot: int
    next_seq: int
    offset_ms: int
    trusted_from_ms: int | None

    def trusted(self, wall_ms: int) -> bool:
        """Whether a time stamped at ``wall_ms`` came from a trusted clock."""
        return self.trusted_from_ms is not None and wall_ms >= self.trusted_from_ms

    def mono_ms(self, wall_ms: int) -> int:
        """The boot's monotonic time [ms] of a wall time [ms] (0 at the earliest)."""
        return max(wall_ms - self.offset_ms, 0)


def records_of(means: Mapping[int, Mapping[str, float | None]], start_ts: float,
               resolution_s: float, keys: BootKeys) -> tuple[tuple[Record, ...], int]:
    """One record per interval of ``means`` (interval index → channel → mean, from
    ``store.outbox.sample_means`` over intervals of ``resolution_s`` [s] from ``start_ts``
    [UTC epoch s]), in time order, each channel of the lot in each record (None where it had
    no value), numbered from ``keys.next_seq``; and the next ``seq`` after them."""
    channels = sorted({ch for values in means.values() for ch in values})
    out = []
    seq = keys.next_seq
    for slot in sorted(means):
        wall_ms = round((start_ts + slot * resolution_s) * 1000)
        values = {ch: _finite(means[slot].get(ch)) for ch in channels}
        out.append(Record(boot=keys.boot, seq=seq, mono_ms=keys.mono_ms(wall_ms),
                          wall_ms=wall_ms, clock_trusted=keys.trusted(wall_ms), values=values))
        seq += 1
    return tuple(out), seq


DECIMALS_BY_UNIT: Final[tuple[tuple[str, int], ...]] = (
    ("_kwh", 3), ("_wh", 0), ("_w", 0), ("_var", 0), ("_va", 0), ("_pct", 1), ("_c", 1),
    ("_v", 2), ("_a", 2), ("_hz", 2), ("_mg_l", 2), ("_m3_h", 3), ("_m_s", 2), ("_l", 1),
    ("_s", 0), ("_h", 2))
"""A channel's resolution on the wire, by its point's unit suffix (DESIGN.md §2: the unit is
in the name): 1 W, 0.1 %, 0.01 V… finer than any of the site's meters, and each value then
costs about a byte in a batch. Other channels get :data:`fleetwire.batch.DEFAULT_DECIMALS`."""


def channel_decimals(channels: Sequence[str]) -> dict[str, int]:
    """The decimals of each channel (``device/point``) that has a known unit suffix."""
    out: dict[str, int] = {}
    for ch in channels:
        for suffix, places in DECIMALS_BY_UNIT:
            if ch.endswith(suffix):
                out[ch] = places
                break
    return out


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def ms(ts: float) -> int:
    """UTC epoch seconds as milliseconds."""
    return round(ts * 1000)


def alarm_items(site: str, epoch: int, keys: BootKeys, row: Mapping[str, Any],
                cleared: bool) -> Alarm:
    """An ``alarms`` row's raise (``cleared`` False) or clear as a wire :class:`Alarm`."""
    ts = row["cleared_ts"] if cleared else row["raised_ts"]
    wall = ms(ts)
    return Alarm(site=site, boot=epoch, seq=2 * int(row["id"]) + int(cleared),
                 mono_ms=keys.mono_ms(wall), wall_ms=wall, clock_trusted=keys.trusted(wall),
                 kind=str(row["kind"]), active=not cleared, severity=str(row["severity"]),
                 detail=f"{row['source']}: {row['message']}")


def interruption_item(epoch: int, row: Mapping[str, Any]) -> Interruption:
    """An ``interruptions`` row as a wire :class:`Interruption` (its end when it has one)."""
    end = row["end_ts"]
    return Interruption(boot=epoch, seq=int(row["id"]), load=str(row["load"]),
                        cause=str(row["cause"]), start_ms=ms(row["start_ts"]),
                        end_ms=None if end is None else ms(end),
                        customers=int(row["customers"]), planned=bool(row["planned"]))


def command_result(site: str, hub_id: str, *, refused: str | None, detail: str,
                   received_ts: float, command: Mapping[str, Any] | None) -> CommandResult:
    """The wire result of a hub command: its status on arrival (``refused``), or the outcome
    of the site command it became (``command``: status, result JSON, acked_ts); a site
    command the controller refused as expired is ``expired``."""
    if refused is not None or command is None:
        status: CommandStatus = "expired" if refused == "expired" else "rejected"
        return CommandResult(hub_id, site, status, ms(received_ts), detail)
    result = json.loads(command["c_result"]) if command["c_result"] else {}
    site_status = str(command["c_status"])
    if site_status == "done":
        status = "done"
    elif site_status == "failed":
        status = "failed"
    elif isinstance(result, dict) and result.get("error") == "expired":
        status = "expired"
    else:
        status = "rejected"
    at = command["c_acked_ts"] if command["c_acked_ts"] is not None else received_ts
    return CommandResult(hub_id, site, status, ms(at),
                         json.dumps(result, separators=(",", ":"), sort_keys=True))


def figures(latest: Mapping[str, float | None], names: Sequence[str]) -> dict[str, float | None]:
    """The site figures ``names`` from the latest values (None where unknown)."""
    return {n: _finite(latest.get(n)) for n in names}
