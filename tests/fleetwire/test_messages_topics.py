"""The small messages and the topic layout."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetwire import topics
from fleetwire.errors import WireError
from fleetwire.messages import (
    Alarm,
    BatchAck,
    Command,
    CommandResult,
    decode_ack,
    decode_alarm,
    decode_command,
    decode_result,
    encode,
)

SITES = st.from_regex(topics.SITE_ID, fullmatch=True)
INTS = st.integers(0, 2**62)
ARGS = st.dictionaries(st.text(max_size=8), st.one_of(
    st.none(), st.booleans(), st.integers(-2**62, 2**62), st.text(max_size=8),
    st.floats(allow_nan=False)), max_size=4)


@given(st.builds(Alarm, site=SITES, boot=INTS, seq=INTS, mono_ms=INTS, wall_ms=INTS,
                 clock_trusted=st.booleans(), kind=st.text(), active=st.booleans(),
                 severity=st.text(), detail=st.text()),
       st.builds(BatchAck, site=SITES, batch_id=INTS, records=INTS, inserted=INTS),
       st.builds(Command, id=st.text(min_size=1), site=SITES, name=st.text(), issued_ms=INTS,
                 expires_ms=INTS, by=st.text(), args=ARGS),
       st.builds(CommandResult, id=st.text(), site=SITES,
                 status=st.sampled_from(["done", "failed", "expired", "rejected"]),
                 at_ms=INTS, detail=st.text()))
def test_every_message_comes_back_as_sent(alarm: Alarm, ack: BatchAck, command: Command,
                                          result: CommandResult) -> None:
    assert decode_alarm(encode(alarm)) == alarm
    assert decode_ack(encode(ack)) == ack
    assert decode_command(encode(command)) == command
    assert decode_result(encode(result)) == result


def test_a_command_expires_at_its_expiry() -> None:
    cmd = Command("c1", "site-a", "generator", issued_ms=1_000, expires_ms=61_000, by="op")
    assert not cmd.expired(60_999)
    assert cmd.expired(61_000)


def test_malformed_messages_name_the_field() -> None:
    ack = {"site": "site-a", "batch_id": 1, "records": 2, "inserted": 2}
    with pytest.raises(WireError, match="'inserted' is missing"):
        decode_ack(msgpack.packb({k: v for k, v in ack.items() if k != "inserted"}))
    with pytest.raises(WireError, match="'records' = True"):
        decode_ack(msgpack.packb({**ack, "records": True}))
    with pytest.raises(WireError, match="site id"):
        decode_ack(msgpack.packb({**ack, "site": "+"}))
    result = {"id": "x", "site": "site-a", "status": "maybe", "at_ms": 1}
    with pytest.raises(WireError, match="'status'"):
        decode_result(msgpack.packb(result))
    with pytest.raises(WireError, match="status"):
        encode(CommandResult("x", "site-a", "maybe", 1))  # type: ignore[arg-type]


def test_topics_are_laid_out_once() -> None:
    assert topics.topic("site-a", "batch") == "offgrid/v1/site-a/batch"
    assert topics.shared("batch") == "$share/hub/offgrid/v1/+/batch"
    assert topics.parse("offgrid/v1/site-a/cmd") == ("site-a", "cmd")
    for bad in ("offgrid/v1/site-a", "offgrid/v2/site-a/batch", "offgrid/v1/+/batch",
                "offgrid/v1/site-a/other"):
        with pytest.raises(WireError):
            topics.parse(bad)
    acl = topics.site_acl("site-a")
    assert acl[0] == "user site-a"
    assert "topic write offgrid/v1/site-a/batch" in acl
    assert "topic read offgrid/v1/site-a/cmd" in acl
    assert not any("+" in line or "#" in line for line in acl)
