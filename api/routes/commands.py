"""Commands: each is inserted into the store's ``commands`` table, executed by the controller at
its next cycle, and answered with the controller's acknowledgement (200), or with the pending
command (202) when the acknowledgement does not come within ``command_wait_s``."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from api import data
from api.deps import Admin, Ctx, Operator, OperatorOrCustomer, ViewerOrCustomer
from api.errors import BadInput, Conflict, Forbidden, NotFound
from api.keys import KeyInfo, requester
from api.routes.site import status_now
from api.schemas import (
    AuditPublic,
    CommandPublic,
    GeneratorCreate,
    OverrideLoadCreate,
    PlannedCutCreate,
    ThresholdCreate,
)
from sitefile import SiteFileError
from store import commands as store_commands
from store import readers
from store.contract import Command
from store.errors import CommandError

router = APIRouter(prefix="/api/v1", tags=["commands"])

ACK: dict[int | str, dict[str, Any]] = {
    200: {"description": "acknowledged by the controller (status done, rejected or failed)"},
    202: {"model": CommandPublic, "description": "queued; not acknowledged in time"},
}
CommandId = Annotated[int, Path(ge=1, le=2**62)]


async def submit(ctx: Ctx, response: Response, key: KeyInfo, kind: str, *,
                 value: dict[str, Any], before: dict[str, Any]) -> CommandPublic:
    """Insert a command and audit the state ``before`` it, then wait (polling, bounded) for
    the controller's acknowledgement.

    The row expires after ``command_expires_s``: a controller that was down does not act on
    stale requests when it comes back.
    """
    expires_ts = time.time() + ctx.settings.command_expires_s

    def insert(conn: sqlite3.Connection) -> int:
        try:
            return store_commands.insert_command(conn, kind, value,
                                                 requested_by=requester(key),
                                                 expires_ts=expires_ts, before=before)
        except CommandError as e:
            raise BadInput(str(e)) from e

    cid = await data.written(ctx.settings.database, insert)
    deadline = time.monotonic() + ctx.settings.command_wait_s
    while True:
        cmd = data.guarded(lambda: store_commands.read_command(ctx.conn, cid))
        assert cmd is not None
        if cmd.status != "pending" or time.monotonic() >= deadline:
            break
        await asyncio.sleep(ctx.settings.command_poll_s)
    if cmd.status == "pending":
        response.status_code = 202
        response.headers["Location"] = f"/api/v1/commands/{cid}"
    return _public(cmd)


def _public(cmd: Command) -> CommandPublic:
    return CommandPublic(id=cmd.id, created_ts=cmd.created_ts, kind=cmd.kind, target=cmd.target,
                         value=cmd.value, expires_ts=cmd.expires_ts,
                         requested_by=cmd.requested_by, status=cmd.status, result=cmd.result,
                         acked_ts=cmd.acked_ts)


@router.post("/commands/override-load", response_model=CommandPublic, responses=ACK,
             summary="Switch a load on or off until the override expires (operator; a "
                     "customer for its own flexible loads)")
async def override_load(body: OverrideLoadCreate, ctx: Ctx, key: OperatorOrCustomer,
                        response: Response) -> CommandPublic:
    if not key.sees(body.load):  # before the lookup: a customer learns no other load's name
        raise Forbidden(f"{body.load!r} is not one of this key's loads")
    load = next((ld for ld in ctx.site.loads if ld.name == body.load), None)
    if load is None:
        raise NotFound(f"no load named {body.load!r}")
    if not key.role.staff and not load.flexible:
        raise Forbidden(f"{body.load!r} is not flexible: only the site's staff switch it")
    if load.switch is None:
        raise Conflict(f"load {body.load!r} has no relay to switch it")
    value = {"load": body.load, "on": body.on, "expires_s": body.expires_s}
    now = next(ld for ld in status_now(ctx).loads if ld.name == body.load)
    before = {"on": now.on, "units_on": now.units_on, "override": now.override}
    return await submit(ctx, response, key, "override_load", value=value, before=before)


@router.post("/commands/generator", response_model=CommandPublic, responses=ACK,
             summary="Start or stop the generator, or give it back to automatic (operator)")
async def generator(body: GeneratorCreate, ctx: Ctx, key: Operator,
                    response: Response) -> CommandPublic:
    if ctx.site.generator is None:
        raise Conflict("this site has no generator")
    status = status_now(ctx)
    before = {"mode": status.generator_mode,
              "running": status.figures["generator_running"].value}
    return await submit(ctx, response, key, "generator", value={"action": body.action},
                        before=before)


@router.post("/commands/planned-cut", response_model=CommandPublic, responses=ACK,
             summary="Declare a planned cut of the supply (maintenance) started or ended "
                     "(operator); it counts, planned, in SAIDI/SAIFI")
async def planned_cut(body: PlannedCutCreate, ctx: Ctx, key: Operator,
                      response: Response) -> CommandPublic:
    cut = data.guarded(lambda: readers.read_planned_cut(ctx.conn))
    if body.action == "start" and cut is not None:
        raise Conflict(f"a planned cut is in progress since {cut['start_ts']:.0f}")
    if body.action == "end" and cut is None:
        raise Conflict("no planned cut is in progress")
    if body.action == "start" and not body.reason.strip():
        raise BadInput("a planned cut needs a reason")
    value = {"action": body.action, **({"reason": body.reason} if body.reason.strip() else {})}
    return await submit(ctx, response, key, "planned_cut", value=value,
                        before={"planned_cut": cut})


@router.post("/commands/threshold", response_model=CommandPublic, responses=ACK,
             summary="Change a control threshold within its limits (admin)")
async def threshold(body: ThresholdCreate, ctx: Ctx, key: Admin,
                    response: Response) -> CommandPublic:
    try:
        ctx.site.with_control(**{body.key: body.value})
    except SiteFileError as e:
        reason = "; ".join(f"{p.path}: {p.message}" for p in e.problems)
        raise BadInput(f"{body.key} = {body.value:g}: {reason}") from e
    thresholds = data.guarded(lambda: readers.read_state(ctx.conn, "thresholds")) or {}
    before = {"value": thresholds.get(body.key, getattr(ctx.site.control, body.key))}
    return await submit(ctx, response, key, "set_threshold",
                        value={"key": body.key, "value": body.value}, before=before)


@router.post("/alarms/{alarm_id}/ack", response_model=CommandPublic, responses=ACK,
             summary="Acknowledge an alarm (operator)")
async def ack_alarm(alarm_id: CommandId, ctx: Ctx, key: Operator,
                    response: Response) -> CommandPublic:
    alarm = data.guarded(lambda: readers.read_alarm(ctx.conn, alarm_id))
    if alarm is None:
        raise NotFound(f"no alarm {alarm_id}")
    if alarm["acked_ts"] is not None:
        raise Conflict(f"alarm {alarm_id} is already acknowledged")
    before = {"acked_ts": None, "active": alarm["cleared_ts"] is None}
    return await submit(ctx, response, key, "ack_alarm", value={"alarm_id": alarm_id},
                        before=before)


@router.get("/audit", response_model=list[AuditPublic],
            summary="Who sent which command, the state before, the request, and the result")
async def audit_log(ctx: Ctx, _: Admin,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    return data.guarded(lambda: readers.read_api_audit(ctx.conn, limit))


CUSTOMER_COMMANDS_SCANNED = 1000
"""A customer's command list: its own among this many newest commands."""


@router.get("/commands", response_model=list[CommandPublic],
            summary="Recent commands (a customer: only its own)")
async def commands(ctx: Ctx, key: ViewerOrCustomer,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[CommandPublic]:
    if key.role.staff:
        rows = data.guarded(lambda: store_commands.read_commands(ctx.conn, limit=limit))
    else:
        by = requester(key)
        rows = [c for c in data.guarded(lambda: store_commands.read_commands(
            ctx.conn, limit=CUSTOMER_COMMANDS_SCANNED)) if c.requested_by == by][:limit]
    return [_public(c) for c in rows]


@router.get("/commands/{command_id}", response_model=CommandPublic,
            summary="One command (a customer: only its own)")
async def command(command_id: CommandId, ctx: Ctx, key: ViewerOrCustomer) -> CommandPublic:
    cmd = data.guarded(lambda: store_commands.read_command(ctx.conn, command_id))
    if cmd is None or (not key.role.staff and cmd.requested_by != requester(key)):
        raise NotFound(f"no command {command_id}")
    return _public(cmd)
