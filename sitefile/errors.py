"""The site-file package's exception tree: one root, :class:`SiteFileError`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


class SiteFileError(Exception):
    """A site file that cannot be read or does not validate; carries every problem found.

    The root of the site-file package's errors.
    """

    def __init__(self, file: Path | str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))
