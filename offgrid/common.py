"""What every command module shares: argument types, output, and errors turned into exit codes.

Only this package turns errors into exit codes: 0 success, 1 runtime failure, 2 bad input. The
command modules import this module and never :mod:`offgrid.cli`, which imports them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from sitefile import Site, SiteFileError, load_site

out = Console()

SiteArg = Annotated[Path, typer.Argument(help="The site file (TOML).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code`` (2: bad input)."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def open_site(path: Path, *sections: str) -> Site:
    """Load a site file, or print every problem and exit 2."""
    try:
        site = load_site(path)
        missing = [s for s in sections if getattr(site, s) in (None, [])]
        if missing:
            fail("\n".join(f"{path}: {s}: section [{s}] is required for this command"
                           for s in missing))
        return site
    except SiteFileError as e:
        fail(str(e))


def _finite(data: Any) -> Any:
    """``data`` with every float that is not finite replaced by ``None``: JSON has no
    ``inf`` or ``NaN``, and a figure that is not a number (0/0) is null."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data


def print_json(data: Any) -> None:
    """Pure, valid JSON on stdout (no ``inf`` or ``NaN``: see :func:`_finite`)."""
    typer.echo(json.dumps(_finite(data), indent=2, ensure_ascii=False, default=str,
                          allow_nan=False))
