"""``offgrid serve`` (the monitoring API and dashboard), ``offgrid keys …`` and ``offgrid demo``."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from api import keys
from api.settings import ApiSettings
from controller.errors import StoreError
from offgrid.cli import SiteArg, app, fail, open_site, out, print_json

keys_app = typer.Typer(name="keys", help="API keys: create (shown once), list, revoke.",
                       no_args_is_help=True)

SiteOpt = Annotated[Path | None, typer.Argument(
    help="The site file; its [api] database holds the keys.", show_default=False)]
DbOpt = Annotated[Path | None, typer.Option("--db", help="The database (instead of a site file).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


def _database(site_file: Path | None, db: Path | None) -> Path:
    if (site_file is None) == (db is None):
        fail("give either a site file or --db PATH")
    if db is not None:
        return db
    assert site_file is not None
    return open_site(site_file).api.database


def _open(path: Path) -> sqlite3.Connection:
    try:
        return keys.connect(path)
    except (StoreError, sqlite3.Error) as e:
        fail(f"{path}: cannot open the database: {e}", 1)


@keys_app.command("create")
def create(
    role: Annotated[keys.Role, typer.Option("--role", help="viewer, operator or admin.")],
    site_file: SiteOpt = None, db: DbOpt = None,
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")] = "api",
    as_json: JsonOpt = False,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    if not 1 <= len(name) <= 60:
        fail("--name must be 1 to 60 characters")
    conn = _open(_database(site_file, db))
    key, info = keys.create_key(conn, role, name, by="cli")
    if as_json:
        print_json({"id": info.id, "name": info.name, "role": info.role.value, "key": key})
        return
    typer.echo(key)
    typer.echo(f"{info.role.value} key {info.id} ({info.name}) created; it is shown only once.",
               err=True)


@keys_app.command("list")
def list_(site_file: SiteOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List keys (ids, roles, use; never the keys themselves)."""
    conn = _open(_database(site_file, db))
    rows = [{"id": k.id, "name": k.name, "role": k.role.value, "active": k.active,
             "created_ts": k.created_ts, "revoked_ts": k.revoked_ts,
             "last_used_ts": k.last_used_ts} for k in keys.list_keys(conn)]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        state = "active" if r["active"] else "revoked"
        out.print(f"{r['id']}  {r['role']:<8} {state:<7}  {r['name']}")


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from `keys list`).")],
           site_file: Annotated[Path | None, typer.Option("--site", help="The site file.")] = None,
           db: DbOpt = None) -> None:
    """Revoke a key: it stops working at once."""
    conn = _open(_database(site_file, db))
    try:
        info = keys.revoke_key(conn, key_id, by="cli")
    except keys.UnknownKey as e:
        fail(str(e))
    typer.echo(f"key {info.id} ({info.name}, {info.role.value}) revoked", err=True)


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
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning",
                access_log=False)


app.add_typer(keys_app)
app.command("serve")(serve)
