"""The sizing package's exception tree. The command line turns these into exit codes."""

from __future__ import annotations


class SizingError(Exception):
    """Base of every error raised by :mod:`sizing`."""


class WeatherError(SizingError):
    """Weather input that cannot be used (unreadable file, GHI above clear sky, …)."""


class LoadProfileError(SizingError):
    """A load profile that cannot be used (wrong length, negative values, …)."""
