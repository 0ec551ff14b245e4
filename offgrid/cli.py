"""The ``offgrid`` command: Typer app wiring the packages together.

Only this package turns errors into exit codes: 0 success, 1 runtime failure, 2 bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from offgrid.size_cmd import size_app
from sitefile import Site, SiteFileError, load_site
from sizing.errors import SizingError

app = typer.Typer(
    name="offgrid",
    help="Design, run and watch off-grid solar microgrids.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(size_app, name="size")

out = Console()

SiteArg = Annotated[Path, typer.Argument(help="The site file (TOML).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


@app.callback()
def _root() -> None:
    """Design, run and watch off-grid solar microgrids."""


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


def print_json(data: Any) -> None:
    """Pure JSON on stdout."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@app.command()
def check(site_file: SiteArg, as_json: JsonOpt = False) -> None:
    """Validate a site file and summarise it."""
    site = open_site(site_file)
    try:
        if as_json:
            print_json(site.model_dump(mode="json"))
        else:
            from offgrid import summary  # noqa: PLC0415 (pandas: loaded by this command only)

            summary.print_site(out, site)
    except SizingError as e:
        fail(f"{site_file}: {e}")


from offgrid import run_cmd, serve_cmd, sim_cmd, size_optimize_cmd  # noqa: E402, F401 — register


def main() -> None:
    """Entry point for ``python -m offgrid``."""
    app()
