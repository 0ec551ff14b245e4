"""The small messages and the topic layout."""

from __future__ import annotations

import dataclasses
import math

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
    Events,
    Interruption,
    Live,
    State,
    decode_ack,
    decode_alarm,
    decode_command,
    decode_events,
    decode_live,
    decode_result,
    decode_state,
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
       st.builds(BatchAck, site=SITES, batch_id=INTS, records=INTS, inserted=INTS,
                 names_needed=st.booleans()),
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


ALARMS = st.builds(Alarm, site=st.just("site-a"), boot=INTS, seq=INTS, mono_ms=INTS,
                   wall_ms=INTS, clock_trusted=st.booleans(), kind=st.text(),
                   active=st.booleans(), severity=st.text(), detail=st.text())
INTERRUPTIONS = st.builds(Interruption, boot=INTS, seq=INTS, load=st.text(), cause=st.text(),
                          start_ms=INTS, end_ms=st.none() | INTS, customers=INTS,
                          planned=st.booleans())
RESULTS = st.builds(CommandResult, id=st.text(), site=st.just("site-a"),
                    status=st.sampled_from(["done", "failed", "expired", "rejected"]),
                    at_ms=INTS, detail=st.text())
FIGURES = st.dictionaries(st.text(max_size=10), st.none() | st.floats(allow_nan=False,
                                                                       allow_infinity=False))


@given(st.builds(Events, site=st.just("site-a"), id=INTS,
                 alarms=st.lists(ALARMS, max_size=3).map(tuple),
                 interruptions=st.lists(INTERRUPTIONS, max_size=3).map(tuple),
                 results=st.lists(RESULTS, max_size=3).map(tuple)),
       st.builds(State, site=SITES, boot=INTS, wall_ms=st.integers(-2**62, 2**62),
                 clock_trusted=st.booleans(), values=FIGURES, name=st.text(),
                 province=st.text(), groups=st.lists(st.text(), max_size=3).map(tuple),
                 customers=INTS, outbox_rows=INTS, outbox_oldest_ms=st.none() | INTS,
                 free_disk_bytes=INTS),
       st.builds(Live, site=SITES, until_ms=INTS))
def test_events_state_and_live_come_back_as_sent(events: Events, state: State,
                                                 live: Live) -> None:
    assert decode_events(encode(events)) == events
    assert decode_state(encode(state)) == state
    assert decode_live(encode(live)) == live


def test_malformed_events_and_state_name_the_field() -> None:
    alarm = Alarm("site-a", 1, 2, 3, 4, True, "low_soc", True, "warning")
    with pytest.raises(WireError, match="an alarm of 'site-b'"):
        encode(Events("site-a", 1, alarms=(Alarm("site-b", 1, 2, 3, 4, True, "x", True,
                                                  "w"),)))
    body = msgpack.unpackb(encode(Events("site-a", 7, alarms=(alarm,))))
    body["alarms"][0]["site"] = "site-b"
    with pytest.raises(WireError, match="another site"):
        decode_events(msgpack.packb(body))
    del body["alarms"][0]["kind"]
    with pytest.raises(WireError, match=r"alarms\[0\]: field 'kind' is missing"):
        decode_events(msgpack.packb(body))
    body = msgpack.unpackb(encode(Events("site-a", 7, interruptions=(
        Interruption(1, 2, "pump", "low_soc", 10, None, 3, False),))))
    body["interruptions"][0]["end_ms"] = "soon"
    with pytest.raises(WireError, match="'end_ms' = 'soon'"):
        decode_events(msgpack.packb(body))
    state = State("site-a", 1, 2, True, {"soc_pct": 50.0}, "A", "", ("g",), 10, 0, None, 1)
    with pytest.raises(WireError, match="not finite"):
        encode(dataclasses.replace(state, values={"soc_pct": math.nan}))
    body = msgpack.unpackb(encode(state))
    for field, bad in (("values", {"soc_pct": True}), ("values", {"soc_pct": "1"}),
                       ("groups", "g"), ("groups", [1]), ("outbox_oldest_ms", 1.5)):
        with pytest.raises(WireError, match=f"'{field}'"):
            decode_state(msgpack.packb({**body, field: bad}))
    with pytest.raises(WireError, match="'until_ms' is missing"):
        decode_live(msgpack.packb({"site": "site-a"}))


def test_a_field_at_its_default_is_left_out_and_comes_back() -> None:
    ack = BatchAck("site-a", 3, 15, 15)
    assert msgpack.unpackb(encode(ack)) == {"site": "site-a", "batch_id": 3, "records": 15,
                                            "inserted": 15}
    needed = BatchAck("site-a", 3, 0, 0, names_needed=True)
    assert msgpack.unpackb(encode(needed))["names_needed"] is True
    assert decode_ack(encode(needed)) == needed
    with pytest.raises(WireError, match="'names_needed' = 1"):
        decode_ack(msgpack.packb({**msgpack.unpackb(encode(ack)), "names_needed": 1}))


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
    assert topics.UP_KINDS == ("batch", "event", "state")
    assert topics.DOWN_KINDS == ("ack", "cmd", "live")
    for bad in ("offgrid/v1/site-a", "offgrid/v2/site-a/batch", "offgrid/v1/+/batch",
                "offgrid/v1/site-a/other", "offgrid/v1/site-a/alarm",
                "offgrid/v1/site-a/result"):
        with pytest.raises(WireError):
            topics.parse(bad)
    acl = topics.site_acl("site-a")
    assert acl[0] == "user site-a"
    assert "topic write offgrid/v1/site-a/batch" in acl
    assert "topic read offgrid/v1/site-a/cmd" in acl
    assert "topic write offgrid/v1/site-a/event" in acl
    assert "topic write offgrid/v1/site-a/state" in acl
    assert "topic read offgrid/v1/site-a/live" in acl
    hub = topics.hub_acl("hub")
    assert "topic read offgrid/v1/+/event" in hub and "topic write offgrid/v1/+/live" in hub
    assert not any("+" in line or "#" in line for line in acl)
