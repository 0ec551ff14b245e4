"""``offgrid keys create|list|revoke``: API keys (a key is printed once; only its hash is
stored)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from api.roles import Role
from offgrid.common import JsonOpt, fail, open_site, out, print_json
from store.errors import StoreError

SiteOpt = Annotated[Path | None, typer.Argument(
    help="The site file; its [api] database holds the keys.", show_default=False)]
DbOpt = Annotated[Path | None, typer.Option("--db", help="The database (instead of a site file).")]


def _database(site_file: Path | None, db: Path | None) -> Path:
    if (site_file is None) == (db is None):
        fail("give either a site file or --db PATH")
    if db is not None:
        return db
    assert site_file is not None
    return open_site(site_file).api.database


def _open(path: Path) -> sqlite3.Connection:
    from api import keys  # noqa: PLC0415 (fastapi: loaded by the key commands only)

    try:
        return keys.connect(path)
    except (StoreError, sqlite3.Error) as e:
        fail(f"{path}: cannot open the database: {e}", 1)


def create(
    role: Annotated[Role, typer.Option(
        "--role", help="viewer, operator or admin (staff), or customer (its --loads only).")],
    site_file: SiteOpt = None, *, db: DbOpt = None,
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")] = "api",
    loads: Annotated[str, typer.Option(
        "--loads", help="A customer key's loads, by name, comma-separated (checked against "
        "the site file, which a customer key therefore needs; --db may then name another "
        "database).")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from api import keys  # noqa: PLC0415 (fastapi: loaded by the key commands only)

    if not 1 <= len(name) <= 60:
        fail("--name must be 1 to 60 characters")
    names = [n.strip() for n in loads.split(",") if n.strip()]
    if role is Role.customer:
        if site_file is None:
            fail("a customer key's loads are checked against the site file: give SITE")
        site = open_site(site_file)
        database = db or site.api.database
        problem = keys.scope_problem(role, names, [ld.name for ld in site.loads])
    else:
        database = _database(site_file, db)
        problem = keys.scope_problem(role, names, [])
    if problem is not None:
        fail(f"--loads: {problem}")
    conn = _open(database)
    key, info = keys.create_key(conn, role, name, by="cli", loads=names)
    if as_json:
        print_json({"id": info.id, "name": info.name, "role": info.role.value,
                    "loads": list(info.loads), "key": key})
        return
    typer.echo(key)
    scope = f" for {', '.join(info.loads)}" if info.loads else ""
    typer.echo(f"{info.role.value} key {info.id} ({info.name}){scope} created; it is shown "
               "only once.", err=True)


def list_(site_file: SiteOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List keys (ids, roles, use; never the keys themselves)."""
    from api import keys  # noqa: PLC0415 (fastapi: loaded by the key commands only)

    conn = _open(_database(site_file, db))
    rows = [{"id": k.id, "name": k.name, "role": k.role.value, "active": k.active,
             "created_ts": k.created_ts, "revoked_ts": k.revoked_ts,
             "last_used_ts": k.last_used_ts, "loads": list(k.loads)}
            for k in keys.list_keys(conn)]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        state = "active" if r["active"] else "revoked"
        loads = r["loads"]
        scope = f"  ({', '.join(loads)})" if isinstance(loads, list) and loads else ""
        out.print(f"{r['id']}  {r['role']:<8} {state:<7}  {r['name']}{scope}")


def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from `keys list`).")],
           site_file: Annotated[Path | None, typer.Option("--site", help="The site file.")] = None,
           db: DbOpt = None) -> None:
    """Revoke a key: it stops working at once."""
    from api import keys  # noqa: PLC0415 (fastapi: loaded by the key commands only)

    conn = _open(_database(site_file, db))
    try:
        info = keys.revoke_key(conn, key_id, by="cli")
    except keys.UnknownKey as e:
        fail(str(e))
    typer.echo(f"key {info.id} ({info.name}, {info.role.value}) revoked", err=True)
