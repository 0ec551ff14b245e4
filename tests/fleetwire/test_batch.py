"""The batch format: encode → decode is the identity within each channel's resolution, across
gaps, reboots, missing values and negative differences, with or without the channel names;
the channel set's digest is stable; anything malformed is a WireError."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import msgpack
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from fleetwire.batch import (
    DEFAULT_DECIMALS,
    FORMAT,
    Batch,
    Record,
    channel_set_digest,
    channels_of,
    decode_batch,
    decode_columns,
    encode_batch,
    without_names,
)
from fleetwire.errors import WireError

NAMES = st.sampled_from(["soc_pct", "pv_w", "battery_v", "do_mg_l", "relay_1", "load_w"])
VALUES = st.one_of(st.none(), st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
KEYS = st.integers(min_value=0, max_value=2**40)

records = st.builds(
    Record, boot=KEYS, seq=KEYS, mono_ms=KEYS,
    wall_ms=st.integers(min_value=-2**50, max_value=2**50), clock_trusted=st.booleans(),
    values=st.dictionaries(NAMES, VALUES, max_size=6))


@given(st.lists(records, max_size=40), st.integers(-2**40, 2**40),
       st.dictionaries(NAMES, st.integers(0, 6)), st.booleans())
def test_decode_undoes_encode_within_the_resolution(
        rs: list[Record], batch_id: int, decimals: dict[str, int], names: bool) -> None:
    payload = encode_batch(Batch("site-1", batch_id, tuple(rs)), decimals, names=names)
    channels = channels_of(rs)
    digest = channel_set_digest(channels)
    assert decode_columns(payload).channel_set == digest
    assert decode_columns(payload).named == (names or not channels)
    # stripped at send time: the same batch, the names from the reader's sets
    assert without_names(payload)[0] == digest
    got = decode_batch(without_names(payload)[1], {digest: channels})
    assert got == decode_batch(payload, {digest: channels})
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
    outer = msgpack.unpackb(encode_batch(Batch("a", 0, rs), {"soc_pct": 1}))
    assert (outer["v"], outer["site"], outer["id"], outer["ch"]) == (2, "a", 0, ["soc_pct"])
    assert outer["set"] == channel_set_digest(["soc_pct"])
    body = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(outer["z"]))
    assert body["val"] == [[800, 2, -3]] and body["seq"] == [0, 1, 1] and body["nul"] == []
    assert body["dp"] == [1] and "ch" not in body  # the names are outside, cheap to drop
    gap = (Record(1, 0, 0, 0, True, {"a": 1.0, "b": None}), Record(1, 1, 0, 0, True, {"a": 3.0}))
    outer = msgpack.unpackb(encode_batch(Batch("a", 0, gap), {"a": 0, "b": 0}, names=False))
    assert "ch" not in outer
    body = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(outer["z"]))
    assert body["val"] == [[1, 2], [0, 0]] and body["nul"] == [2, 3]  # channel-major indexes


def test_the_set_digest_is_stable_across_processes_and_a_signed_64_bit_integer() -> None:
    """Not Python's ``hash`` (salted per process): the site and the hub must agree."""
    names = ["battery/soc_pct", "pv/power_w", "pond_1/do_mg_l"]
    code = ("import sys; from fleetwire.batch import channel_set_digest; "
            f"print(channel_set_digest({names!r}))")
    others = {int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                 text=True, env={"PYTHONHASHSEED": str(seed)}).stdout)
              for seed in (1, 2)}
    assert others == {channel_set_digest(names)}
    assert channel_set_digest(names) == -5116424667295616861  # this format's, for ever
    assert channel_set_digest(names[:2]) != channel_set_digest(names)
    assert channel_set_digest(["a", "bc"]) != channel_set_digest(["ab", "c"])
    assert all(-2**63 <= channel_set_digest([f"c{i}"]) < 2**63 for i in range(1000))
    assert min(channel_set_digest([f"c{i}"]) for i in range(1000)) < 0  # signed


def test_a_batch_without_names_needs_its_set_and_a_wrong_digest_is_refused() -> None:
    batch = Batch("a", 4, (Record(0, 0, 0, 0, True, {"x": 1.0, "y": 2.0}),))
    bare = encode_batch(batch, names=False)
    assert len(bare) < len(encode_batch(batch))
    assert without_names(bare) == (channel_set_digest(["x", "y"]), bare)
    with pytest.raises(WireError, match="not known here"):
        decode_batch(bare)
    with pytest.raises(WireError, match="not known here"):
        decode_batch(bare, {channel_set_digest(["x", "y"]): ["x"]})  # not its width
    outer = msgpack.unpackb(encode_batch(batch))
    with pytest.raises(WireError, match=r"'set'.*not the digest"):
        decode_columns(msgpack.packb({**outer, "ch": ["x", "z"]}))


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
    outer = msgpack.unpackb(good)
    body = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(outer["z"]))

    def inner(**change: object) -> bytes:
        packed: bytes = msgpack.packb({**outer, "z": zstandard.ZstdCompressor().compress(
            msgpack.packb({**body, **change}))})
        return packed

    assert FORMAT == 2
    for broken, match in [(b"", "cannot be decoded"), (good[:-3], "cannot be decoded"),
                          (msgpack.packb([1]), "expected a map"),
                          (msgpack.packb({**outer, "v": 1}), "format 1"),
                          (msgpack.packb({**outer, "site": "../x"}), "site id"),
                          (msgpack.packb({**outer, "id": "1"}), "batch id"),
                          (msgpack.packb({**outer, "set": 2**64 - 1}), "'set'"),
                          (msgpack.packb({**outer, "set": True}), "'set'"),
                          (msgpack.packb({**outer, "z": "x"}), "'z'"),
                          (msgpack.packb({**outer, "z": b"\x28\xb5\x2f\xfd"}), "body"),
                          (msgpack.packb({**outer, "ch": ["x", "x"]}), "channels"),
                          (msgpack.packb({**outer, "ch": [1]}), "channels"),
                          (inner(seq=[1, 2]), "'seq'"),
                          (inner(trust=[1]), "'trust'"),
                          (inner(n=-1), "batch n"),
                          (inner(dp=[12]), "'dp'"),
                          (inner(val=[[1.5]]), "'val'"),
                          (inner(val=[[1], [2, 3]]), "'val'"),
                          (inner(val=[[2**64 - 1]]), "'val'"),
                          (inner(nul=[1]), "'nul'"),
                          (inner(mono=[-5]), "'mono'"),
                          (inner(wall=[2**64 - 1]), "'wall'")]:
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
    """The issue's measure, against about 1 MB as plain JSON; the uplink budget is 100 KB a
    day with MQTT and TLS on top. The names go with the first batch only (the hub then knows
    the set): they were a third of format 1's bytes."""
    batches = day_of_batches(random.Random(1))
    named = sum(len(encode_batch(b, DECIMALS)) for b in batches)
    ours = sum(len(encode_batch(b, DECIMALS, names=i == 0)) for i, b in enumerate(batches))
    assert named - ours > 95 * 40 * 6  # 40 names of 6–8 bytes, 95 times
    plain = sum(len(json.dumps([{"boot": r.boot, "seq": r.seq, "mono_ms": r.mono_ms,
                                 "wall_ms": r.wall_ms, "trusted": r.clock_trusted,
                                 **r.values} for r in b.records])) for b in batches)
    assert plain > 800_000
    assert ours < 80_000, ours
