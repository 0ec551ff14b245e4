"""``offgrid serve SITE``: the monitoring API and dashboard (reads the controller's database)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from api.settings import ApiSettings
from offgrid.common import SiteArg, fail, open_site
from store.errors import StoreError


def serve(
    site_file: SiteArg,
    host: Annotated[str | None, typer.Option(help="Bind address [default: [api] host]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: [api] port]")] = None,
    db: Annotated[Path | None, typer.Option("--db", help="Database [default: [api] database]")]
    = None,
) -> None:
    """The monitoring API and dashboard (reads the controller's database)."""
    import uvicorn  # noqa: PLC0415 — only this command needs the server

    from api.app import create_app  # noqa: PLC0415

    site = open_site(site_file)
    if port is not None and not 0 <= port <= 65535:
        fail("--port must be 0..65535")
    settings = ApiSettings.from_site(site, host=host, port=port, database=db)
    try:
        app = create_app(settings, site)
    except (StoreError, sqlite3.Error) as e:
        fail(f"{settings.database}: cannot open the database: {e}", 1)
    typer.echo(f"Serving {site.site.name} on http://{settings.host}:{settings.port}/", err=True)
    if settings.host not in ("127.0.0.1", "::1", "localhost"):
        typer.echo(f"warning: {settings.host} is not loopback, and this server has no TLS: "
                   "put a TLS reverse proxy or a VPN in front of it", err=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning",
                access_log=False)
