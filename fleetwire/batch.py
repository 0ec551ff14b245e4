"""Records and batches: one site's values at one instant, sent many at a time.

A batch is columnar: each field and each channel is one list over the batch's records, stored
as the differences between consecutive scaled integers, packed with msgpack and compressed
with zstandard. Smooth signals then cost about a byte per value. Gaps in ``seq`` and a new
``boot`` (the counter restarting) are only larger differences: nothing assumes they are small.

Format 2 (format 1 repeated the channel names in every batch: about half of a day's bytes).
The payload is a small msgpack map, not compressed: ``v`` (2), ``site``, ``id``, ``set`` (the
channel set's digest, :func:`channel_set_digest`), ``ch`` (the channel names, sorted; only when
the sender is not sure the hub knows the set) and ``z`` (the zstandard-compressed msgpack body:
``n``, ``dp``, ``boot``, ``seq``, ``mono``, ``wall``, ``trust``, ``val``, ``nul``). A sender
keeps the payload with its names and drops them at send time without decompressing
(:func:`without_names`); the hub answers a batch whose set it does not know with
``BatchAck(names_needed=True)`` and the site sends it again with names
(:mod:`fleetwire.session`).

A missing value is sent as a difference of 0 and listed in ``nul`` (its index, channel-major),
so that every column is a plain list of integers that the reader turns into an array at once.
A value is sent as ``round(value × 10^decimals)``, so it comes back within half a unit of its
channel's resolution; the resolution travels with the batch, so the reader needs no table.
"""

from __future__ import annotations

import hashlib
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

FORMAT: Final = 2
"""The batch format: 2 names its channel set by digest (1, names in every batch, is gone)."""
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


def channel_set_digest(names: Sequence[str]) -> int:
    """The stable 64-bit digest of a channel set (its names in their order, as a batch lists
    them): BLAKE2b of the names' msgpack, 8 bytes, as a signed integer (it fits PostgreSQL's
    ``bigint``). The same in every process and on every machine (not Python's ``hash``)."""
    packed: bytes = msgpack.packb(list(names), use_bin_type=True)
    return int.from_bytes(hashlib.blake2b(packed, digest_size=8).digest(), "big", signed=True)


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


def encode_batch(batch: Batch, decimals: Mapping[str, int] | None = None, *,
                 names: bool = True) -> bytes:
    """The bytes of ``batch``: its channel set's digest, its channel names unless ``names`` is
    false, and msgpack of its columns as differences, compressed (see the module's text).

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
        "n": len(records), "dp": places,
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
    outer: dict[str, Any] = {"v": FORMAT, "site": batch.site, "id": batch.id,
                             "set": channel_set_digest(channels)}
    if names:
        outer["ch"] = channels
    outer["z"] = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(packed)
    wire: bytes = msgpack.packb(outer, use_bin_type=True)
    return wire


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


def _outer(payload: bytes) -> dict[str, Any]:
    """The outer map of a batch's ``payload``, its format, site, id and set checked."""
    body = unpack(payload, "batch")
    if body.get("v") != FORMAT:
        raise WireError(f"batch format {body.get('v')!r}: this reader knows {FORMAT}")
    site = body.get("site")
    if not isinstance(site, str):
        raise WireError(f"batch site: {site!r} is not a string")
    check_site_id(site)
    batch_id, digest = body.get("id"), body.get("set")
    _check_int("batch id", batch_id if isinstance(batch_id, int) else -MAX_SCALED - 1,
               lo=-MAX_SCALED)
    if isinstance(digest, bool) or not isinstance(digest, int) or not (
            -2**63 <= digest < 2**63):
        raise WireError(f"batch field 'set': {digest!r} is not a 64-bit channel set digest")
    if not isinstance(body.get("z"), bytes):
        raise WireError("batch field 'z': expected the compressed body (bytes)")
    return body


def without_names(payload: bytes) -> tuple[int, bytes]:
    """The channel set digest of the batch ``payload`` and the payload without its channel
    names (the same when it has none): a re-pack of the small outer map, nothing decompressed.
    Raises :class:`WireError` on a payload that is not a batch of this format."""
    outer = _outer(payload)
    digest = int(outer["set"])
    if "ch" not in outer:
        return digest, payload
    del outer["ch"]
    bare: bytes = msgpack.packb(outer, use_bin_type=True)
    return digest, bare


@dataclass(frozen=True, slots=True)
class Columns:
    """A decoded batch as columns, for bulk use (the hub): each key and time field is an array
    over the records; ``values`` is records × channels [each channel's unit], NaN where a value
    is missing (a sent value is always finite). ``channel_set`` is the set's digest;
    ``channels`` its names, or ``()`` when the batch came without them (:attr:`named` is then
    false unless the batch has no channel: the hub looks the set up by its digest)."""

    site: str
    id: int
    channel_set: int
    channels: tuple[str, ...]
    boot: npt.NDArray[np.int64]
    seq: npt.NDArray[np.int64]
    mono_ms: npt.NDArray[np.int64]
    wall_ms: npt.NDArray[np.int64]
    clock_trusted: npt.NDArray[np.bool_]
    values: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.seq)

    @property
    def named(self) -> bool:
        """Whether the batch carried its channel names (one per column of ``values``)."""
        return len(self.channels) == int(self.values.shape[1])


def decode_columns(payload: bytes) -> Columns:
    """The batch in ``payload`` (from :func:`encode_batch`) as :class:`Columns`. Raises
    :class:`WireError` on anything malformed (naming the field)."""
    import numpy as np  # noqa: PLC0415 (the hub's side only: the site never loads numpy)

    outer = _outer(payload)
    site, batch_id, digest = str(outer["site"]), int(outer["id"]), int(outer["set"])
    body = unpack(outer["z"], "batch body")
    n = body.get("n")
    _check_int("batch n", n if isinstance(n, int) else -1)
    assert isinstance(n, int)
    places, nul = body.get("dp"), body.get("nul")
    if not (_only(places, int) and all(0 <= p <= MAX_DECIMALS for p in places)):
        raise WireError("batch field 'dp': expected a list of decimals 0-9")
    channels: object = outer.get("ch", [])
    if "ch" in outer and not (_only(channels, str) and len(channels) == len(places)
                              and len(set(channels)) == len(channels)):
        raise WireError("batch channels: 'ch' and 'dp' must be lists of one length, with "
                        "distinct names")
    assert isinstance(channels, list)
    if "ch" in outer and channel_set_digest(channels) != digest:
        raise WireError(f"batch field 'set': {digest} is not the digest of its channels 'ch'")
    if not _only(nul, int) or not all(0 <= i < n * len(places) for i in nul):
        raise WireError(f"batch field 'nul': expected indexes below {n * len(places)}")
    trust = body.get("trust")
    if not _only(trust, bool) or len(trust) != n:
        raise WireError(f"batch field 'trust': expected a list of {n} booleans")
    fields = ("boot", "seq", "mono", "wall")
    keys = _int_table([body.get(f) for f in fields], "'boot', 'seq', 'mono' or 'wall'", 4, n)
    if n and (keys[:3].min() < 0 or keys[:3].max() >= MAX_SCALED):
        raise WireError("batch field 'boot', 'seq' or 'mono': a value outside [0, 2**62)")
    scaled = _int_table(body.get("val"), "'val'", len(places), n)
    values = (scaled / np.power(10.0, np.array(places, dtype=np.float64))[:, None]).T.copy()
    values.T.flat[nul] = np.nan
    return Columns(site=site, id=batch_id, channel_set=digest, channels=tuple(channels),
                   boot=keys[0],
                   seq=keys[1], mono_ms=keys[2], wall_ms=keys[3],
                   clock_trusted=np.array(trust, dtype=np.bool_).reshape(n), values=values)


def decode_batch(payload: bytes, sets: Mapping[int, Sequence[str]] | None = None) -> Batch:
    """The batch in ``payload`` (from :func:`encode_batch`) as records; values come back as
    floats within half a unit of each channel's resolution, ``None`` where missing. A batch
    sent without its names takes them from ``sets`` (digest → names). Raises
    :class:`WireError` on anything malformed, or on a set neither sent nor in ``sets``."""
    c = decode_columns(payload)
    channels = c.channels
    if not c.named:
        known = (sets or {}).get(c.channel_set)
        if known is None or len(known) != c.values.shape[1]:
            raise WireError(f"batch channel set {c.channel_set}: sent without its names, and "
                            "not known here")
        channels = tuple(known)
    rows = [[None if math.isnan(v) else v for v in row] for row in c.values.tolist()]
    return Batch(site=c.site, id=c.id, records=tuple(
        Record(boot=b, seq=q, mono_ms=m, wall_ms=w, clock_trusted=t,
               values=dict(zip(channels, row, strict=True)))
        for b, q, m, w, t, row in zip(c.boot.tolist(), c.seq.tolist(), c.mono_ms.tolist(),
                                      c.wall_ms.tolist(), c.clock_trusted.tolist(), rows,
                                      strict=True)))


def channels_of(records: Sequence[Record]) -> list[str]:
    """The sorted union of the channel names of ``records`` (the order a batch stores them)."""
    return sorted({name for r in records for name in r.values})
