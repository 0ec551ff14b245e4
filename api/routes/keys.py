"""Key management for admins: list, create (the key is shown once), revoke."""

from __future__ import annotations

from fastapi import APIRouter

from api import data, keys
from api.deps import Admin, AnyKey, Ctx
from api.keys import BadScope, requester
from api.schemas import KeyCreate, KeyCreated, KeyPublic

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


me_router = APIRouter(prefix="/api/v1", tags=["keys"])


@me_router.get("/me", response_model=KeyPublic,
               summary="The caller's own key (id, name, role, a customer's loads)")
async def me(key: AnyKey) -> KeyPublic:
    return KeyPublic.of(key)


@router.get("", response_model=list[KeyPublic], summary="Every API key (without secrets)")
async def list_keys(ctx: Ctx, _: Admin) -> list[KeyPublic]:
    return [KeyPublic.of(k) for k in data.guarded(lambda: keys.list_keys(ctx.conn))]


@router.post("", response_model=KeyCreated, status_code=201,
             summary="Create a key; the response holds it once")
async def create_key(body: KeyCreate, ctx: Ctx, admin: Admin) -> KeyCreated:
    problem = keys.scope_problem(body.role, body.loads, [ld.name for ld in ctx.site.loads])
    if problem is not None:
        raise BadScope(problem)
    key, info = await data.written(ctx.settings.database, lambda conn: keys.create_key(
        conn, body.role, body.name, by=requester(admin), loads=body.loads))
    return KeyCreated(key=key, **KeyPublic.of(info).model_dump())


@router.delete("/{key_id}", response_model=KeyPublic, summary="Revoke a key")
async def revoke_key(key_id: keys.KeyId, ctx: Ctx, admin: Admin) -> KeyPublic:
    return KeyPublic.of(await data.written(ctx.settings.database, lambda conn: keys.revoke_key(
        conn, key_id, by=requester(admin))))
