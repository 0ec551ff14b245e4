"""The one exception of the wire format."""

from __future__ import annotations


class WireError(ValueError):
    """A message that cannot be encoded or decoded: it names the field, the value and why."""
