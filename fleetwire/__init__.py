"""The wire between sites and the hub: topics, record batches and the small messages.

The ground floor shared by the site's uplink and the hub: pure encode and decode functions, no
I/O, nothing of ours imported. See :mod:`fleetwire.topics`, :mod:`fleetwire.batch`,
:mod:`fleetwire.messages` and :mod:`fleetwire.session` (the uplink's protocol, as a pure state
machine).
"""

from fleetwire.batch import Batch, Record, decode_batch, encode_batch
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
from fleetwire.topics import check_site_id, parse, shared, topic

__all__ = [
    "Alarm", "Batch", "BatchAck", "Command", "CommandResult", "Events", "Interruption", "Live",
    "Record", "State", "WireError",
    "check_site_id", "decode_ack", "decode_alarm", "decode_batch", "decode_command",
    "decode_events", "decode_live", "decode_result", "decode_state", "encode", "encode_batch",
    "parse", "shared", "topic",
]
