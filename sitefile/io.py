"""Reading and writing site files: the package's only I/O.

``load_site(path)`` reads, parses and validates a file. ``write_site(source, target, changes)``
copies a site file with some keys changed, keeping every comment and the order of its keys
(tomlkit), and rewrites its relative file names for the new folder (:func:`relocate_files`).
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import Table

from sitefile.errors import Problem, SiteFileError
from sitefile.model import Site, parse_site

__all__ = ["load_site", "relocate_files", "write_site"]

# A section write_site adds to a file that had none says where it came from.
NEW_SECTION_NOTE = "added by offgrid; keys not given here take their defaults"


def load_site(path: Path | str) -> Site:
    """Read and validate a site file. Raises :class:`SiteFileError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # Windows Notepad may start with a BOM
    except OSError as e:
        problem = Problem("(file)", f"cannot read: {e.strerror}", str(path))
        raise SiteFileError(path, [problem]) from e
    except UnicodeDecodeError as e:
        raise SiteFileError(path, [Problem("(file)", "not UTF-8 text", None, False)]) from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SiteFileError(path, [Problem("(toml)", f"syntax error: {e}", None, False)]) from e
    except RecursionError as e:  # tomllib parses nested arrays and tables recursively
        raise SiteFileError(path, [Problem("(toml)", "syntax error: arrays or tables nested "
                                           "too deeply", None, False)]) from e
    return parse_site(data, path.parent, path)


def relocate_files(data: MutableMapping[str, Any], old_dir: Path, new_dir: Path) -> None:
    """Rewrite, in place, the relative file names of a parsed site file (``weather.file``,
    ``loads[].profile``) for the file moving from ``old_dir`` to ``new_dir``, so they name the
    same files. Absolute names stay as they are."""
    old_dir, new_dir = old_dir.resolve(), new_dir.resolve()
    if old_dir == new_dir:
        return

    def moved(value: str) -> str:
        if Path(value).is_absolute():
            return value
        return os.path.relpath((old_dir / value).resolve(), new_dir)

    weather = data.get("weather")
    if isinstance(weather, MutableMapping) and "file" in weather:
        weather["file"] = moved(str(weather["file"]))
    for load in data.get("loads", []):
        if isinstance(load, MutableMapping) and "profile" in load:
            load["profile"] = moved(str(load["profile"]))


def _toml_value(value: Any) -> Any:
    """Whole floats as TOML integers (``kwh = 320``), everything else as it is."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def _resolves_to(doc: tomlkit.TOMLDocument, base_dir: Path, section: str, key: str,
                 value: Any) -> bool:
    """Whether ``doc`` validates with ``section.key`` resolved to ``value`` (by a preset or a
    default) although the file does not give it."""
    try:
        site = parse_site(doc.unwrap(), base_dir)
    except SiteFileError:
        return False
    return _same(getattr(getattr(site, section), key), value)


def write_site(source: Path, target: Path,
               changes: Mapping[str, Mapping[str, Any] | None]) -> Site:
    """Copy the site file ``source`` to ``target`` with ``changes`` applied; return the site
    the written file validates to.

    ``changes`` maps a section to the keys to set in it (the section is added when the file
    has none), or to ``None`` to remove the section. A value equal to the file's keeps the
    file's spelling; a key the source did not give is left out when the preset or default it
    falls back to gives the same value (a file that left the battery's power limits to 0.5 C
    keeps doing so). Every comment and the order of the other keys are kept; relative file
    names are rewritten for ``target``'s folder. Nothing is written when the result does not
    validate (:class:`SiteFileError`).
    """
    doc = tomlkit.parse(source.read_text(encoding="utf-8-sig"))
    not_given: list[tuple[str, str]] = []
    for section, values in changes.items():
        if values is None:
            doc.pop(section, None)
            continue
        if section not in doc:
            added = tomlkit.table()
            added.add(tomlkit.comment(NEW_SECTION_NOTE))
            doc[section] = added
        table = doc[section]
        if not isinstance(table, Table):
            raise SiteFileError(source, [Problem(section, "is not a table", None, False)])
        for key, value in values.items():
            if key not in table:
                not_given.append((section, key))
            elif _same(table[key], value):
                continue  # unchanged: keep the file's own spelling
            table[key] = _toml_value(value)
    for section, key in not_given:
        table = doc[section]
        assert isinstance(table, Table)  # checked above
        value = table.pop(key)
        if not _resolves_to(doc, source.parent, section, key, value):
            table[key] = value
    relocate_files(doc, source.parent, target.parent)
    site = parse_site(doc.unwrap(), target.parent, target)
    target.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return site
