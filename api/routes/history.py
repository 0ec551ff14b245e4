"""History of any point, daily energy, and SAIDI/SAIFI/MAIFI per month and year to date."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api import data
from api.deps import Ctx, Viewer
from api.errors import NotFound
from api.schemas import (
    DailyEnergyPublic,
    HistoryPublic,
    LoadEnergyDayPublic,
    LoadsEnergyPublic,
    ReliabilityPublic,
)
from api.timerange import span
from store import readers

router = APIRouter(prefix="/api/v1", tags=["history"])

DeviceName = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[a-z0-9_\-]+$")]
PointName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
From = Annotated[datetime | None, Query(alias="from", description="ISO 8601; naive = UTC")]
To = Annotated[datetime | None, Query(description="ISO 8601; naive = UTC; default now")]
Year = Annotated[int | None, Query(ge=2000, le=2100, description="local year; default this one")]


@router.get("/history/{device}/{point}", response_model=HistoryPublic,
            summary="History of one point: raw samples or avg/min/max per 1m, 15m or 1d")
async def history(*, ctx: Ctx, _: Viewer, device: DeviceName, point: PointName,
                  from_: From = None, to: To = None,
                  resolution: data.Resolution = "1m") -> HistoryPublic:
    lo, hi = span(from_, to, default_s=86400.0, max_s=data.MAX_SPAN_S[resolution])
    if not data.guarded(lambda: readers.point_exists(ctx.conn, device, point)):
        raise NotFound(f"no point {device}/{point} in the store")
    rows = data.guarded(lambda: data.history(
        ctx.conn, device, point, from_ts=lo, to_ts=hi, resolution=resolution, tz=ctx.site.tz))
    return HistoryPublic(device=device, point=point, resolution=resolution, from_ts=lo, to_ts=hi,
                         **rows)


@router.get("/energy/daily", response_model=list[DailyEnergyPublic],
            summary="Daily energy by category (local days) as the controller measured it")
async def energy_daily(ctx: Ctx, _: Viewer, from_: From = None,
                       to: To = None) -> list[DailyEnergyPublic]:
    lo, hi = span(from_, to, default_s=30 * 86400.0, max_s=3 * 366 * 86400.0)
    # A local day starts up to 14 h before its UTC date; widen so the first day is whole.
    rows = data.guarded(lambda: data.daily_energy(ctx.conn, lo - 86400.0, hi, ctx.site.tz))
    return [DailyEnergyPublic(**r) for r in rows if r["start_ts"] + 86400.0 > lo]


@router.get("/loads/energy", response_model=LoadsEnergyPublic,
            summary="Energy of each metered load per local day, from its meter's import "
                    "counter (the site file's [[devices]] measures = \"<load>\")")
async def loads_energy(ctx: Ctx, _: Viewer, from_: From = None,
                       to: To = None) -> LoadsEnergyPublic:
    lo, hi = span(from_, to, default_s=30 * 86400.0, max_s=3 * 366 * 86400.0)
    meters = {d.name: d.measures for d in ctx.site.devices if d.measures is not None}
    rows = data.guarded(lambda: data.daily_load_energy(ctx.conn, meters, lo - 86400.0, hi,
                                                       ctx.site.tz))
    return LoadsEnergyPublic(meters={load: dev for dev, load in meters.items()},
                             days=[LoadEnergyDayPublic(**r) for r in rows
                                   if r["start_ts"] + 86400.0 > lo])


@router.get("/reliability", response_model=ReliabilityPublic,
            summary="SAIDI, SAIFI and MAIFI per local month and year to date, planned and "
                    "unplanned apart, curtailment beside them, against the programme's targets")
async def reliability(ctx: Ctx, _: Viewer, year: Year = None) -> ReliabilityPublic:
    figures = data.guarded(lambda: readers.read_reliability(
        ctx.conn, customers_served=ctx.site.customers_served, timezone=ctx.site.site.timezone,
        year=year))
    cut = data.guarded(lambda: readers.read_planned_cut(ctx.conn))
    return ReliabilityPublic(**figures, planned_cut=cut)
