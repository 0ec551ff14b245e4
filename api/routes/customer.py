"""What a key's own loads do: ``GET /api/v1/me/loads``, the customer page's one read.

A customer key sees only the loads of its scope (and the meters that measure them); a staff key
sees every load. For each: its state now, the hours its relays were closed today, this month
and last month (from the relay telemetry), its energy where a meter measures it, and where it
stands in the order the site sheds loads when the battery is low.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter

from api import data
from api.deps import AnyKey, ApiContext, Ctx
from api.keys import KeyInfo
from api.roles import Role
from api.routes.site import status_now
from api.schemas import (
    CustomerLoadPublic,
    CustomerPublic,
    MeterPublic,
    PointPublic,
    UsagePublic,
)
from sitefile import Load, Site
from store import readers

router = APIRouter(prefix="/api/v1/me", tags=["customer"])

HOLD_S = 660.0
"""How long a relay sample holds its value when no newer one follows [s]: the controller
stores a sample on every change and at least every 5 minutes, so a longer gap means it was not
running (the time is then unknown, neither on nor off)."""


def meters_of(site: Site, load: str) -> list[str]:
    """The devices whose ``measures`` names ``load`` (a key the site file may not have)."""
    return [d.name for d in site.devices if getattr(d, "measures", None) == load]


def _union(spans: Iterable[tuple[float, float]]) -> float:
    """Total length of the union of ``spans`` [s]."""
    total, end = 0.0, float("-inf")
    for a, b in sorted(spans):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


def relay_hours(channels: Sequence[Sequence[dict[str, Any]]], lo: float, hi: float
                ) -> tuple[float, float]:
    """``(hours on, hours known)`` in ``[lo, hi)`` of a load switched by ``channels`` (each
    channel's samples, oldest first, from before ``lo``): on while any channel is closed.
    A sample holds its value until the next one, for at most :data:`HOLD_S`."""
    on: list[tuple[float, float]] = []
    known: list[tuple[float, float]] = []
    for rows in channels:
        for k, r in enumerate(rows):
            nxt = rows[k + 1]["ts"] if k + 1 < len(rows) else hi
            a, b = max(r["ts"], lo), min(nxt, r["ts"] + HOLD_S, hi)
            if b <= a or r["value"] is None:
                continue
            known.append((a, b))
            if r["value"]:
                on.append((a, b))
    return _union(on) / 3600.0, _union(known) / 3600.0


def _periods(now: float, site: Site) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    """Today, this month and last month as ``[from, to)`` UTC epoch [s], and their labels."""
    local = datetime.fromtimestamp(now, site.tz)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    last = (month.replace(year=month.year - 1, month=12) if month.month == 1
            else month.replace(month=month.month - 1))
    spans = {"today": (day.timestamp(), now), "month": (month.timestamp(), now),
             "last_month": (last.timestamp(), month.timestamp())}
    labels = {"today": day.date().isoformat(), "month": month.strftime("%Y-%m"),
              "last_month": last.strftime("%Y-%m")}
    return spans, labels


def _hours(conn: sqlite3.Connection, load: Load, spans: dict[str, tuple[float, float]]
           ) -> tuple[UsagePublic, UsagePublic]:
    if load.switch is None:
        empty = UsagePublic(today=None, month=None, last_month=None)
        return empty, empty
    lo = min(a for a, _ in spans.values()) - HOLD_S
    hi = max(b for _, b in spans.values())
    switch = load.switch
    channels = [readers.read_samples(conn, switch.device, f"relay_{c}", lo, until_ts=hi,
                                     limit=500_000) for c in switch.channels]
    on, known = {}, {}
    for name, (a, b) in spans.items():
        on[name], known[name] = relay_hours(channels, a, b)
    return UsagePublic(**on), UsagePublic(**known)


def _kwh(conn: sqlite3.Connection, meters: list[str], spans: dict[str, tuple[float, float]]
         ) -> UsagePublic | None:
    """Energy the load's meters booked as ``load`` in the local days of each period [kWh]."""
    if not meters:
        return None
    out: dict[str, float | None] = {}
    for name, (a, b) in spans.items():
        wh = [r["wh"] for m in meters for r in readers.read_energy(conn, "1d", a, b, source=m)
              if r["category"] == "load"]
        out[name] = sum(wh) / 1000.0 if wh else None
    return UsagePublic(**out)


def own_loads(ctx: ApiContext, key: KeyInfo) -> CustomerPublic:
    """The key's loads as the customer page shows them."""
    site = ctx.site
    now = ctx.wall()
    spans, labels = _periods(now, site)
    states = {ld.name: ld for ld in status_now(ctx).loads}
    order = [ld.name for ld in site.shedding_order]
    latest = data.guarded(lambda: readers.read_latest(ctx.conn))
    may_switch = key.role is Role.customer or key.role.allows(Role.operator)
    out = []
    for load in site.loads:
        if not key.sees(load.name):
            continue
        st = states[load.name]
        meters = meters_of(site, load.name)
        on, known = data.guarded(partial(_hours, ctx.conn, load, spans))
        out.append(CustomerLoadPublic(
            name=load.name, kind=load.kind, critical=load.critical, flexible=load.flexible,
            priority=load.priority, switchable=st.switchable,
            can_switch=st.switchable and load.flexible and may_switch, units=st.units,
            units_on=st.units_on, on=st.on, quality=st.quality, override=st.override,
            shed_rank=order.index(load.name) + 1 if load.name in order else None,
            hours_on=on, hours_known=known,
            kwh=data.guarded(partial(_kwh, ctx.conn, meters, spans)),
            meters=[MeterPublic(device=m, points=[
                PointPublic(**r, age_s=max(0.0, now - r["ts"]))
                for r in latest if r["device"] == m]) for m in meters]))
    mine = {ld.name for ld in out}
    return CustomerPublic(now=now, site=site.site.name, timezone=site.site.timezone,
                          role=key.role, **labels, loads=out,
                          shed_first=[n for n in order if n in mine], sheddable=len(order))


@router.get("/loads", response_model=CustomerPublic,
            summary="The key's own loads (a customer's scope; every load for staff): state, "
                    "hours on and metered energy today, this month and last month, and the "
                    "order the site sheds them in")
async def my_loads(ctx: Ctx, key: AnyKey) -> CustomerPublic:
    return own_loads(ctx, key)
