"""``offgrid run SITE``: the on-site controller (see :mod:`controller.service`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from controller.errors import StoreError
from offgrid.cli import SiteArg, app, fail, open_site


@app.command()
def run(
    site_file: SiteArg,
    db: Annotated[Path | None, typer.Option("--db", help="Database path (overrides "
                                            "[api].database).")] = None,
    pty_dir: Annotated[Path | None, typer.Option(
        "--pty-dir", help="Open each RTU serial port as DIR/<basename> (the simulator's "
        "ptys).")] = None,
    cycles: Annotated[int | None, typer.Option("--cycles", min=1,
                                               help="Stop after N cycles.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every action.")] = False,
) -> None:
    """The on-site controller: read the devices, decide, write, store; unattended."""
    site = open_site(site_file)
    if not site.devices:
        fail(f"{site_file}: [[devices]] is required for this command")
    from controller.service import run_site  # noqa: PLC0415 (heavy: loaded by this command only)

    try:
        run_site(site, db or site.api.database, pty_dir=pty_dir, cycles=cycles, verbose=verbose,
                 notify_socket=os.environ.get("NOTIFY_SOCKET"))
    except StoreError as e:
        fail(str(e), 1)
