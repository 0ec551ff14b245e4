"""The site-file package's exception tree: one root, :class:`SiteFileError`; and the
translation of pydantic's validation errors into :class:`Problem` records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

__all__ = ["Problem", "SiteFileError", "problems_from"]

# The discriminator tags of ``[[loads]]``: pydantic puts them in an error's location.
_UNION_TAGS = ("profile", "appliance", "aerator", "pump", "water_pump")
VALUE_CHARS = 80  # an offending value is shown up to this many characters


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a site file: where (dotted key path), why, and the offending value."""

    path: str
    message: str
    value: Any = None
    has_value: bool = True

    def render(self, file: Path | str) -> str:
        """``FILE: key.path: message (got VALUE)``; a long value is cut to
        :data:`VALUE_CHARS` characters."""
        text = f"{file}: {self.path}: {self.message}"
        if self.has_value:
            value = repr(self.value)
            if len(value) > VALUE_CHARS:
                value = value[:VALUE_CHARS - 1] + "…"
            text += f" (got {value})"
        return text


class SiteFileError(Exception):
    """A site file that cannot be read or does not validate; carries every problem found.

    The root of the site-file package's errors.
    """

    def __init__(self, file: Path | str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))


def _path(loc: tuple[int | str, ...]) -> str:
    """``('loads', 2, 'aerator', 'kw')`` → ``loads[2].kw`` (dropping union tags)."""
    out = ""
    after_index = False
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            after_index = True
            continue
        if not (after_index and part in _UNION_TAGS):
            out += f".{part}" if out else str(part)
        after_index = False
    return out or "(top level)"


def problems_from(err: ValidationError) -> list[Problem]:
    """One :class:`Problem` per error pydantic found, at its dotted key path."""
    problems = []
    for e in err.errors(include_url=False):
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        has_value = e["type"] != "missing"
        problems.append(Problem(_path(e["loc"]), msg, e.get("input"), has_value))
    return problems
