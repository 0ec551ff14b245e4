"""The hub's exceptions."""

from __future__ import annotations


class HubError(Exception):
    """Something the hub cannot do: the message says what and why."""


class EnrollError(HubError):
    """A site's or hub's broker credentials cannot be made or changed."""
