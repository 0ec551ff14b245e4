"""Records and batches: one site's values at one instant, sent many at a time.

A batch is columnar: each field and each channel is one list over the batch's records, stored
as the differences between consecutive scaled integers, packed with msgpack and compressed
with zstandard. Smooth signals then cost about a byte per value. Gaps in ``seq`` and a new
``boot`` (the counter restarting) are only larger differences: nothing assumes they are small.

A missing value is sent as a difference of 0 and listed in ``nul`` (its index, channel-major),
so that every column is a plain list of integers that the reader turns into an array at once.
A value is sent as ``round(value × 10^decimals)``, so it comes back within half a unit of its
channel's resolution; the resolution travels with the batch, so the reader needs no table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeGuard

import msgpack
import zstandard

from fleetwire.errors import WireError
from fleetwire.topics import check_site_id

if TYPE_CHECKING:  # numpy is imported where it is used: the site's uplink encodes without it
    import numpy as np
    import numpy.typing as npt

FORMAT: Final = 1
DEFAULT_DECIMALS: Final = 3
MAX_DECIMALS: Final = 9
MAX_SCALED: Final = 2**62
"""The largest scaled magnitude (its differences still fit msgpack's signed 64 bits)."""
MAX_BATCH_BYTES: Final = 64 * 1024 * 1024
"""The most a batch may decompress to [bytes]: a guard against a compression bomb."""
ZSTD_LEVEL: Final = 10


@dataclass(frozen=True, slots=True)
class Record:
    """One site's values at one instant; ``(site, boot, seq)`` is its idempotent key.

    ``boot`` counts the site's starts, ``seq`` counts records within a boot. ``mono_ms`` is the
    monotonic clock since boot [ms]; ``wall_ms`` the wall clock as the site read it [ms since
    the Unix epoch, UTC], to be believed only when ``clock_trusted`` (a site without a real-time
    clock is not trusted until it has synchronised). ``values`` are by point name, in the
    point's unit; ``None`` is a missing value.
    """

    boot: int
    seq: int
    mono_ms: int
    wall_ms: int
    clock_trusted: bool
    values: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Batch:
    """Records of one site, sent together; ``id`` is the site's own number for it (its outbox
    row), returned in the hub's acknowledgement. A negative ``id`` is a coarse copy of row
    ``-id`` (a subset of its records, sent first after an outage; see
    :mod:`fleetwire.session`)."""

    site: str
    id: int
    records: tuple[Record, ...]


def _deltas(column: Iterable[int | None]) -> list[int]:
    """Each value minus the last value that was not ``None`` (the first minus 0); a ``None``
    gives 0, and is listed apart (see :func:`encode_batch`)."""
    out: list[int] = []
    last = 0
    for x in column:
        if x is None:
            out.append(0)
        else:
            out.append(x - last)
            last = x
    return out


def _scaled(name: str, value: float | None, decimals: int) -> int | None:
    if value is None:
        return None
    if not math.isfinite(value):
        raise WireError(f"channel {name!r}: value {value!r} is not finite (send None for a "
                        "missing value)")
    scaled = round(value * 10.0**decimals)
    if abs(scaled) >= MAX_SCALED:
        raise WireError(f"channel {name!r}: value {value!r} is too large at {decimals} decimals")
    return scaled


def _check_int(name: str, value: int, lo: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value < MAX_SCALED:
        raise WireError(f"{name}: {value!r} must be an integer in [{lo}, 2**62)")
    return value


def encode_batch(batch: Batch, decimals: Mapping[str, int] | None = None) -> bytes:
    """The bytes of ``batch``: msgpack of its columns as differences, compressed.

    ``decimals`` gives a channel's resolution (10^-decimals of its unit); a channel not named
    gets :data:`DEFAULT_DECIMALS`. Raises :class:`WireError` on a bad site id, a negative key, a
    value that is not finite or too large.
    """
    check_site_id(batch.site)
    _check_int("batch id", batch.id, lo=-MAX_SCALED)  # negative: a coarse copy of a row
    records = batch.records
    channels = channels_of(records)
    places = [(decimals or {}).get(name, DEFAULT_DECIMALS) for name in channels]
    for name, dp in zip(channels, places, strict=True):
        if isinstance(dp, bool) or not isinstance(dp, int) or not 0 <= dp <= MAX_DECIMALS:
            raise WireError(f"decimals of {name!r}: {dp!r} must be an integer 0-{MAX_DECIMALS}")
    for r in records:
        _check_int("boot", r.boot)
        _check_int("seq", r.seq)
        _check_int("mono_ms", r.mono_ms)
        _check_int("wall_ms", r.wall_ms, lo=-MAX_SCALED)
    body = {
        "v": FORMAT, "site": batch.site, "id": batch.id, "n": len(records),
        "ch": channels, "dp": places,
        "boot": _deltas(r.boot for r in records),
        "seq": _deltas(r.seq for r in records),
        "mono": _deltas(r.mono_ms for r in records),
        "wall": _deltas(r.wall_ms for r in records),
        "trust": [bool(r.clock_trusted) for r in records],
        "val": [_deltas(_scaled(name, r.values.get(name), dp) for r in records)
                for name, dp in zip(channels, places, strict=True)],
        "nul": [j * len(records) + i for j, name in enumerate(channels)
                for i, r in enumerate(records) if r.values.get(name) is None],
    }
    packed: bytes = msgpack.packb(body, use_bin_type=True)
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(packed)


def _int_table(value: Any, what: str, rows: int, n: int) -> npt.NDArray[np.int64]:
    """The ``rows`` × ``n`` integers of ``value`` (a list of lists), undone from differences
    along each row."""
    import numpy as np  # noqa: PLC0415 (the hub's side only: the site never loads numpy)

    try:
        raw = np.array(value)
    except (ValueError, OverflowError) as e:
        raise WireError(f"batch field {what}: not a table of integers: {e}") from e
    if raw.size != rows * n or (raw.size and (raw.dtype.kind != "i" or raw.ndim != 2)):
        raise WireError(f"batch field {what}: expected {rows} x {n} integers")
    return np.cumsum(raw.astype(np.int64).reshape(rows, n), axis=1)


def _only(items: object, kind: type) -> TypeGuard[list[Any]]:
    """``items`` is a list whose every item is exactly of type ``kind`` (so not a bool for
    int)."""
    return isinstance(items, list) and set(map(type, items)) <= {kind}


def unpack(payload: bytes, what: str) -> dict[str, Any]:
    """The msgpack map inside ``payload`` (zstandard-compressed when it starts with zstd's
    magic number), else :class:`WireError` naming ``what``."""
    try:
        if payload[:4] == b"\x28\xb5\x2f\xfd":
            payload = zstandard.ZstdDecompressor().decompress(
                payload, max_output_size=MAX_BATCH_BYTES)
        body = msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except (zstandard.ZstdError, ValueError, msgpack.UnpackException) as e:
        raise WireError(f"{what}: cannot be decoded: {e}") from e
    if not isinstance(body, dict):
        raise WireError(f"{what}: expected a map, got {type(body).__name__}")
    return body


@dataclass(frozen=True, slots=True)
class Columns:
    """A decoded batch as columns, for bulk use (the hub): each key and time field is an array
    over the records; ``values`` is records × channels [each channel's unit], NaN where a value
    is missing (a sent value is always finite)."""

    site: str
    id: int
    channels: tuple[str, ...]
    boot: npt.NDArray[np.int64]
    seq: npt.NDArray[np.int64]
    mono_ms: npt.NDArray[np.int64]
    wall_ms: npt.NDArray[np.int64]
    clock_trusted: npt.NDArray[np.bool_]
    values: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.seq)


def decode_columns(payload: bytes) -> Columns:
    """The batch in ``payload`` (from :func:`encode_batch`) as :class:`Columns`. Raises
    :class:`WireError` on anything malformed."""
    import numpy as np  # noqa: PLC0415 (the hub's side only: the site never loads numpy)

    body = unpack(payload, "batch")
    if body.get("v") != FORMAT:
        raise WireError(f"batch format {body.get('v')!r}: this reader knows {FORMAT}")
    site = body.get("site")
    if not isinstance(site, str):
        raise WireError(f"batch site: {site!r} is not a string")
    check_site_id(site)
    n, batch_id = body.get("n"), body.get("id")
    _check_int("batch n", n if isinstance(n, int) else -1)
    _check_int("batch id", batch_id if isinstance(batch_id, int) else -MAX_SCALED - 1,
               lo=-MAX_SCALED)
    assert isinstance(n, int) and isinstance(batch_id, int)
    channels, places, nul = body.get("ch"), body.get("dp"), body.get("nul")
    if not (_only(channels, str) and _only(places, int) and len(channels) == len(places)
            and len(set(channels)) == len(channels)
            and all(0 <= p <= MAX_DECIMALS for p in places)):
        raise WireError("batch channels: 'ch' and 'dp' must be lists of one length, with "
                        "distinct names and decimals 0-9")
    if not _only(nul, int) or not all(0 <= i < n * len(channels) for i in nul):
        raise WireError(f"batch field 'nul': expected indexes below {n * len(channels)}")
    trust = body.get("trust")
    if not _only(trust, bool) or len(trust) != n:
        raise WireError(f"batch field 'trust': expected a list of {n} booleans")
    fields = ("boot", "seq", "mono", "wall")
    keys = _int_table([body.get(f) for f in fields], "'boot', 'seq', 'mono' or 'wall'", 4, n)
    if n and (keys[:3].min() < 0 or keys[:3].max() >= MAX_SCALED):
        raise WireError("batch field 'boot', 'seq' or 'mono': a value outside [0, 2**62)")
    scaled = _int_table(body.get("val"), "'val'", len(channels), n)
    values = (scaled / np.power(10.0, np.array(places, dtype=np.float64))[:, None]).T.copy()
    values.T.flat[nul] = np.nan
    return Columns(site=site, id=batch_id, channels=tuple(channels), boot=keys[0],
                   seq=keys[1], mono_ms=keys[2], wall_ms=keys[3],
                   clock_trusted=np.array(trust, dtype=np.bool_).reshape(n), values=values)


def decode_batch(payload: bytes) -> Batch:
    """The batch in ``payload`` (from :func:`encode_batch`) as records; values come back as
    floats within half a unit of each channel's resolution, ``None`` where missing. Raises
    :class:`WireError` on anything malformed."""
    c = decode_columns(payload)
    rows = [[None if math.isnan(v) else v for v in row] for row in c.values.tolist()]
    return Batch(site=c.site, id=c.id, records=tuple(
        Record(boot=b, seq=q, mono_ms=m, wall_ms=w, clock_trusted=t,
               values=dict(zip(c.channels, row, strict=True)))
        for b, q, m, w, t, row in zip(c.boot.tolist(), c.seq.tolist(), c.mono_ms.tolist(),
                                      c.wall_ms.tolist(), c.clock_trusted.tolist(), rows,
                                      strict=True)))


def channels_of(records: Sequence[Record]) -> list[str]:
    """The sorted union of the channel names of ``records`` (the order a batch stores them)."""
    return sorted({name for r in records for name in r.values})
