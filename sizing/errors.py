"""The sizing package's exception tree. The command line turns these into exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SizingError(Exception):
    """Base of every error raised by :mod:`sizing`."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a site file: where (dotted key path), why, and the offending value."""

    path: str
    message: str
    value: Any = None
    has_value: bool = True

    def render(self, file: Path | str) -> str:
        """``FILE: key.path: message (got VALUE)``."""
        text = f"{file}: {self.path}: {self.message}"
        if self.has_value:
            text += f" (got {self.value!r})"
        return text


class SiteFileError(SizingError):
    """A site file that cannot be read or does not validate; carries every problem found."""

    def __init__(self, file: Path | str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))


class WeatherError(SizingError):
    """Weather input that cannot be used (unreadable file, GHI above clear sky, …)."""


class LoadProfileError(SizingError):
    """A load profile that cannot be used (wrong length, negative values, …)."""
