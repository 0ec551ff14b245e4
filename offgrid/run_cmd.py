"""``offgrid run SITE``: the on-site controller (see :mod:`controller.service`)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from controller.errors import ControllerError
from offgrid.common import SiteArg, fail, open_site
from store.errors import StoreError


@contextlib.contextmanager
def without_dataframes() -> Iterator[None]:
    """Imports inside see pandas and numpy as not installed (unless already imported).

    sqlite-utils imports them whenever they are installed, only to name DataFrame column types,
    which the store never uses: about 55 MB of the controller's 150 MB budget on the site's box.
    """
    blocked = [name for name in ("pandas", "numpy") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # None: "not installed"
    try:
        yield
    finally:
        for name in blocked:
            del sys.modules[name]


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
    with without_dataframes():
        from controller.service import run_site  # noqa: PLC0415 (loaded by this command only)

    try:
        run_site(site, db or site.api.database, pty_dir=pty_dir, cycles=cycles, verbose=verbose,
                 notify_socket=os.environ.get("NOTIFY_SOCKET"))
    except (StoreError, ControllerError) as e:
        fail(str(e), 1)
