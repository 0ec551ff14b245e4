"""The sizing package's exception tree. The command line turns these into exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Self


class SizingError(Exception):
    """Base of every error raised by :mod:`sizing`."""


class InputError(SizingError):
    """An input that cannot be used, and where it is, as far as known: the site-file ``key``
    that names it, and the ``file``, ``line`` and ``column`` (1-based) of the fault.

    Renders as ``key: file, line L, column C: reason``, the parts not known left out.
    """

    def __init__(self, reason: str, *, key: str | None = None, file: Path | None = None,
                 line: int | None = None, column: int | None = None) -> None:
        self.reason = reason
        self.key = key
        self.file = file
        self.line = line
        self.column = column
        where = ", ".join([str(file)] * (file is not None)
                          + [f"line {line}"] * (line is not None)
                          + [f"column {column}"] * (column is not None))
        super().__init__(": ".join(p for p in (key, where, reason) if p))

    def at_key(self, key: str) -> Self:
        """The same error, said of the site-file key ``key``."""
        return type(self)(self.reason, key=key, file=self.file, line=self.line,
                          column=self.column)


class WeatherError(InputError):
    """Weather input that cannot be used (unreadable file, GHI above clear sky, …)."""


class LoadProfileError(InputError):
    """A load profile that cannot be used (wrong length, negative values, …)."""
