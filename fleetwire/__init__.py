"""The wire between sites and the hub: topics, record batches and the small messages.

The ground floor shared by the site's uplink and the hub: pure encode and decode functions, no
I/O, nothing of ours imported. See :mod:`fleetwire.topics`, :mod:`fleetwire.batch` and
:mod:`fleetwire.messages`.
"""

from fleetwire.batch import Batch, Record, decode_batch, encode_batch
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
from fleetwire.topics import check_site_id, parse, shared, topic

__all__ = [
    "Alarm", "Batch", "BatchAck", "Command", "CommandResult", "Record", "WireError",
    "check_site_id", "decode_ack", "decode_alarm", "decode_batch", "decode_command",
    "decode_result", "encode", "encode_batch", "parse", "shared", "topic",
]
