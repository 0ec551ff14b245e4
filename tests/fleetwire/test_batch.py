"""The batch format: encode → decode is the identity within each channel's resolution, across
gaps, reboots, missing values and negative differences; anything malformed is a WireError."""

from __future__ import annotations

import json
import math
import random

import msgpack
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from fleetwire.batch import DEFAULT_DECIMALS, Batch, Record, decode_batch, encode_batch
from fleetwire.errors import WireError

NAMES = st.sampled_from(["soc_pct", "pv_w", "battery_v", "do_mg_l", "relay_1", "load_w"])
VALUES = st.one_of(st.none(), st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
KEYS = st.integers(min_value=0, max_value=2**40)

records = st.builds(
    Record, boot=KEYS, seq=KEYS, mono_ms=KEYS,
    wall_ms=st.integers(min_value=-2**50, max_value=2**50), clock_trusted=st.booleans(),
    values=st.dictionaries(NAMES, VALUES, max_size=6))


@given(st.lists(records, max_size=40), st.integers(-2**40, 2**40),
       st.dictionaries(NAMES, st.integers(0, 6)))
def test_decode_undoes_encode_within_the_resolution(
        rs: list[Record], batch_id: int, decimals: dict[str, int]) -> None:
    got = decode_batch(encode_batch(Batch("site-1", batch_id, tuple(rs)), decimals))
    assert (got.site, got.id, len(got.records)) == ("site-1", batch_id, len(rs))
    for sent, back in zip(rs, got.records, strict=True):
        assert (back.boot, back.seq, back.mono_ms, back.wall_ms, back.clock_trusted) == (
            sent.boot, sent.seq, sent.mono_ms, sent.wall_ms, sent.clock_trusted)
        for name, value in back.values.items():
            original = sent.values.get(name)  # a channel the record lacked comes back None
            if original is None:
                assert value is None
            else:
                assert value is not None
                step = 10.0 ** -decimals.get(name, DEFAULT_DECIMALS)
                assert abs(value - original) <= step / 2 + 1e-9 * max(1.0, abs(original))


def test_gaps_reboots_and_missing_values_survive_the_differences() -> None:
    rs = (Record(5, 100, 9_000, 1_000, True, {"soc_pct": 80.0}),
          Record(5, 250, 18_000, 2_000, True, {"soc_pct": None}),   # gap in seq, value missing
          Record(6, 0, 10, 500, False, {"soc_pct": 79.9}),          # reboot: seq and clock reset
          Record(6, 1, 20, 510, False, {}))
    got = decode_batch(encode_batch(Batch("a", 0, rs), {"soc_pct": 1}))
    assert [(r.boot, r.seq, r.mono_ms, r.wall_ms, r.clock_trusted) for r in got.records] == [
        (5, 100, 9_000, 1_000, True), (5, 250, 18_000, 2_000, True), (6, 0, 10, 500, False),
        (6, 1, 20, 510, False)]
    assert [r.values["soc_pct"] for r in got.records] == [80.0, None, 79.9, None]


def test_the_columns_are_differences_of_scaled_integers() -> None:
    """Checked against the format by hand: 80.0 % at 1 decimal is 800, then +2, then −3."""
    rs = tuple(Record(1, s, 0, 0, True, {"soc_pct": v}) for s, v in
               enumerate([80.0, 80.2, 79.9]))
    body = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(
        encode_batch(Batch("a", 0, rs), {"soc_pct": 1})))
    assert body["val"] == [[800, 2, -3]] and body["seq"] == [0, 1, 1] and body["nul"] == []
    gap = (Record(1, 0, 0, 0, True, {"a": 1.0, "b": None}), Record(1, 1, 0, 0, True, {"a": 3.0}))
    body = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(
        encode_batch(Batch("a", 0, gap), {"a": 0, "b": 0})))
    assert body["val"] == [[1, 2], [0, 0]] and body["nul"] == [2, 3]  # channel-major indexes


@pytest.mark.parametrize(("bad", "match"), [
    (Batch("A", 0, ()), "site id"),
    (Batch("a/b", 0, ()), "site id"),
    (Batch("a", -2**62 - 1, ()), "batch id"),
    (Batch("a", 0, (Record(-1, 0, 0, 0, True),)), "boot"),
    (Batch("a", 0, (Record(0, 0, 0, 0, True, {"x": math.inf}),)), "'x'.*not finite"),
    (Batch("a", 0, (Record(0, 0, 0, 0, True, {"x": 1e300}),)), "'x'.*too large"),
])
def test_a_bad_batch_is_refused_with_a_reason(bad: Batch, match: str) -> None:
    with pytest.raises(WireError, match=match):
        encode_batch(bad)


def test_malformed_payloads_are_wire_errors() -> None:
    good = encode_batch(Batch("a", 0, (Record(0, 0, 0, 0, True, {"x": 1.0}),)))
    body = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(good))
    for broken, match in [(b"", "cannot be decoded"), (good[:-3], "cannot be decoded"),
                          (msgpack.packb([1]), "expected a map"),
                          (msgpack.packb({**body, "v": 2}), "format"),
                          (msgpack.packb({**body, "seq": [1, 2]}), "'seq'"),
                          (msgpack.packb({**body, "trust": [1]}), "'trust'"),
                          (msgpack.packb({**body, "site": "../x"}), "site id"),
                          (msgpack.packb({**body, "dp": [12]}), "channels"),
                          (msgpack.packb({**body, "val": [[1.5]]}), "'val'"),
                          (msgpack.packb({**body, "val": [[1], [2, 3]]}), "'val'"),
                          (msgpack.packb({**body, "val": [[2**64 - 1]]}), "'val'"),
                          (msgpack.packb({**body, "nul": [1]}), "'nul'"),
                          (msgpack.packb({**body, "mono": [-5]}), "'mono'"),
                          (msgpack.packb({**body, "wall": [2**64 - 1]}), "'wall'")]:
        with pytest.raises(WireError, match=match):
            decode_batch(broken)


def day_of_batches(rng: random.Random) -> list[Batch]:
    """A day of a 40-channel site at 1-minute samples in 15-minute batches: slow analogue
    values with sensor noise at their resolution, power that follows the sun, relays."""
    batches = []
    for b in range(96):
        rs = []
        for m in range(15):
            minute = b * 15 + m
            sun = max(0.0, math.sin((minute / 1440 - 0.25) * 2 * math.pi))
            values: dict[str, float | None] = {}
            for c in range(10):
                values[f"pv{c}_w"] = round(800 * sun + rng.gauss(0, 5), 0)
                values[f"batt{c}_v"] = round(52 + 2 * sun + rng.gauss(0, 0.02), 2)
                values[f"temp{c}_c"] = round(28 + 4 * sun + rng.gauss(0, 0.1), 1)
            for c in range(10):
                values[f"relay_{c}"] = float((minute // 240 + c) % 2)
            rs.append(Record(1, minute, minute * 60_000, 1_796_000_000_000 + minute * 60_000,
                             True, values))
        batches.append(Batch("site-1", b, tuple(rs)))
    return batches


DECIMALS = {**{f"pv{c}_w": 0 for c in range(10)}, **{f"batt{c}_v": 2 for c in range(10)},
            **{f"temp{c}_c": 1 for c in range(10)}, **{f"relay_{c}": 0 for c in range(10)}}


def test_a_day_of_a_40_channel_site_is_well_under_the_budget() -> None:
    """The issue's measure: about 60 KB a day, against about 1 MB as plain JSON; the uplink
    budget is 100 KB a day with MQTT and TLS on top."""
    batches = day_of_batches(random.Random(1))
    ours = sum(len(encode_batch(b, DECIMALS)) for b in batches)
    plain = sum(len(json.dumps([{"boot": r.boot, "seq": r.seq, "mono_ms": r.mono_ms,
                                 "wall_ms": r.wall_ms, "trusted": r.clock_trusted,
                                 **r.values} for r in b.records])) for b in batches)
    assert plain > 800_000
    assert ours < 80_000, ours
