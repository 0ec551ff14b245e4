"""The fleet's readers: what the fleet API and dashboard show, straight from the hub's tables.

Every reader takes a :class:`Scope` (everything, or some provinces, or some groups: a site is
in scope when it is in one of the provinces or one of the groups) and sees only the sites in it.

- :func:`sites_overview` and :func:`site_detail`: each site's meta, last contact, a **silent**
  flag (no message of any kind for ``silent_after_s``), its latest State's figures and its active
  alarms (an alarm kind is active when its latest row raises it).
- :func:`site_series`: a site's channels from ``records``, averaged per ``step_s``.
- :func:`monthly_reliability`: SAIDI, SAIFI and MAIFI per site, per province and for the whole
  scope, per local month and for the year so far, computed by :mod:`ieee1366` (momentary
  interruptions go to MAIFI; planned cuts count, as EVN counts them) against the programme's
  targets (:data:`ieee1366.SAIDI_TARGET_MINUTES` a year, a twelfth of it for a month). An
  interruption counts in the local month it started; one still open counts until ``now``. The
  denominator is the site's customers served as its latest State says (``sites.customers``);
  a site counts in a month when the hub first heard from it before the month's end or it has an
  interruption in that month.
- :func:`monthly_energy`: kWh per source and generator hours per local month, from each local
  hour's mean power × 1 h (robust to any record resolution, coarse backlog copies included).
- :func:`active_alarms`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import ieee1366
from hub.errors import HubError
from hub.schema import Conn

SILENT_AFTER_S: Final = 3600.0
"""A site with no message for this long is silent, by default [s] (four 15-minute batches)."""
MAX_POINTS: Final = 100_000
"""The most steps :func:`site_series` returns per channel."""
CHANNELS: Final[Mapping[str, str]] = {
    "pv": "site/pv_w", "wind": "site/wind_w", "load": "site/load_w",
    "run": "site/generator_running",
}
"""The site figures :func:`monthly_energy` integrates (the controller's ``site/<name>``, by
its SQL parameter). Generators' power is every channel named ``<device>/generator_w``, summed
(a site may have several units)."""
Level = Literal["site", "province", "fleet"]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which sites a caller sees: everything (both ``None``), or the sites of ``provinces`` or
    of ``groups`` (by name)."""

    provinces: frozenset[str] | None = None
    groups: frozenset[str] | None = None

    @property
    def everything(self) -> bool:
        """Whether the scope has no limit."""
        return self.provinces is None and self.groups is None


EVERYTHING: Final = Scope()

_SCOPE_SQL: Final = """
SELECT s.site FROM sites s LEFT JOIN groups p ON p.id = s.province_id
WHERE (%(among)s::text[] IS NULL OR s.site = ANY(%(among)s::text[]))
  AND (%(all)s OR p.name = ANY(%(provinces)s::text[]) OR EXISTS (
       SELECT 1 FROM site_groups sg JOIN groups g ON g.id = sg.group_id
       WHERE sg.site = s.site AND g.name = ANY(%(groups)s::text[])))
ORDER BY s.site
"""


def sites_in_scope(conn: Conn, scope: Scope, among: Sequence[str] | None = None) -> list[str]:
    """The sites in ``scope`` (of ``among`` only, when given), sorted."""
    rows = conn.execute(_SCOPE_SQL, {
        "among": None if among is None else list(among), "all": scope.everything,
        "provinces": sorted(scope.provinces or ()), "groups": sorted(scope.groups or ())})
    return [str(r[0]) for r in rows.fetchall()]


@dataclass(frozen=True, slots=True)
class SiteRow:
    """One site as the fleet page shows it. Figures from its latest State or, when newer, its
    newest record (``None`` when it sent none or did not know): ``soc_pct`` [%], ``do_mg_l``
    [mg/L] (``None`` where no ponds), ``pv_w``, ``load_w`` [W]; ``values`` all of them;
    ``state_at`` the site's time of those figures.
    ``outbox_rows`` and ``outbox_oldest`` what the site still holds for the hub,
    ``free_disk_bytes`` [bytes]."""

    site: str
    name: str
    province: str
    groups: tuple[str, ...]
    customers: int
    last_contact: datetime
    silent: bool
    soc_pct: float | None
    do_mg_l: float | None
    pv_w: float | None
    load_w: float | None
    active_alarms: int
    outbox_rows: int | None
    outbox_oldest: datetime | None = None
    free_disk_bytes: int | None = None
    state_at: datetime | None = None
    values: Mapping[str, float | None] = field(default_factory=dict)


_ACTIVE_SQL: Final = """
SELECT DISTINCT ON (a.site, a.kind) a.site, a.kind, a.active, a.severity, a.detail, a.ts
FROM alarms a WHERE a.site = ANY(%s::text[])
ORDER BY a.site, a.kind, a.ts DESC, a.boot DESC, a.seq DESC
"""
"""The latest row of each alarm kind of each site."""

_SITES_SQL: Final = f"""
WITH latest AS ({_ACTIVE_SQL}),
active AS (SELECT site, count(*) AS n FROM latest WHERE active GROUP BY site)
SELECT s.site, coalesce(s.name, ''), coalesce(p.name, ''),
       ARRAY(SELECT g.name FROM site_groups sg JOIN groups g ON g.id = sg.group_id
             WHERE sg.site = s.site ORDER BY g.name),
       s.customers, s.last_contact, st.vals, st.measured, st.outbox_rows, st.outbox_oldest,
       st.free_disk_bytes,
       coalesce(active.n, 0), rec.ts, rec.names, rec.vals
FROM sites s LEFT JOIN groups p ON p.id = s.province_id LEFT JOIN site_state st USING (site)
LEFT JOIN active USING (site)
-- the site's newest record of the last days: its highest key, read backwards on the primary
-- key's index in the few partitions the time bound leaves
LEFT JOIN LATERAL (
    SELECT r.ts, cs.names, r.vals FROM records r JOIN channel_sets cs ON cs.id = r.channel_set
    WHERE r.site = s.site AND r.ts > %s ORDER BY r.boot DESC, r.seq DESC LIMIT 1) rec ON true
WHERE s.site = ANY(%s::text[])
ORDER BY s.site
"""
NO_DATA: Final = "no_data"
"""The kind of the hub's own alarm for a site silent too long (see :func:`active_alarms`)."""
RECENT: Final = timedelta(days=2)
"""How far back the overview looks for a site's newest record."""
FIGURE_PREFIX: Final = "site/"
"""The channels of a record that are site figures (the controller's ``site/<name>``)."""


def _number(values: Mapping[str, Any], name: str) -> float | None:
    v = values.get(name)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _site_rows(conn: Conn, sites: list[str], now: datetime,
               silent_after_s: float) -> list[SiteRow]:
    rows = conn.execute(_SITES_SQL, (sites, now - RECENT, sites)).fetchall()
    out = []
    for (site, name, province, groups, customers, last_contact, vals, measured, outbox_rows,
         outbox_oldest, free_disk, active, record_ts, names, record) in rows:
        values: dict[str, float | None] = dict(vals or {})
        figures_at = measured
        if record_ts is not None and (measured is None or record_ts > measured):
            # a batch newer than the last State (sent at connection and while watched)
            values |= {n.removeprefix(FIGURE_PREFIX): v for n, v in zip(names, record,
                                                                       strict=True)
                       if n.startswith(FIGURE_PREFIX)}
            figures_at = record_ts
        out.append(SiteRow(
            site=site, name=name, province=province, groups=tuple(groups), customers=customers,
            last_contact=last_contact,
            silent=(now - last_contact).total_seconds() > silent_after_s,
            soc_pct=_number(values, "soc_pct"), do_mg_l=_number(values, "do_mg_l"),
            pv_w=_number(values, "pv_w"), load_w=_number(values, "load_w"),
            active_alarms=int(active), outbox_rows=outbox_rows, outbox_oldest=outbox_oldest,
            free_disk_bytes=free_disk, state_at=figures_at, values=values))
    return out


def sites_overview(conn: Conn, now: datetime, scope: Scope,
                   silent_after_s: float = SILENT_AFTER_S) -> list[SiteRow]:
    """Every site in ``scope``, by id; ``silent`` when its last message is more than
    ``silent_after_s`` [s] before ``now``."""
    return _site_rows(conn, sites_in_scope(conn, scope), now, silent_after_s)


def site_detail(conn: Conn, site: str, scope: Scope, now: datetime | None = None,
                silent_after_s: float = SILENT_AFTER_S) -> SiteRow | None:
    """``site`` as :func:`sites_overview` shows it (``now`` defaults to the clock), or
    ``None`` when it is unknown or outside ``scope``."""
    sites = sites_in_scope(conn, scope, [site])
    if not sites:
        return None
    return _site_rows(conn, sites, now or datetime.now(UTC), silent_after_s)[0]


_SERIES_SQL: Final = """
SELECT floor(extract(epoch FROM r.ts) / %(step)s)::bigint AS bucket, c.i,
       avg(r.vals[array_position(cs.names, c.name)])
FROM records r JOIN channel_sets cs ON cs.id = r.channel_set
CROSS JOIN unnest(%(names)s::text[]) WITH ORDINALITY AS c(name, i)
WHERE r.site = %(site)s AND r.ts >= %(since)s AND r.ts < %(until)s
GROUP BY bucket, c.i
"""


def site_series(  # noqa: PLR0917 (the fleet API's contract: positional)
        conn: Conn, site: str, channels: Sequence[str], since: datetime, until: datetime,
        step_s: int, scope: Scope = EVERYTHING) -> dict[str, list[tuple[datetime, float | None]]]:
    """The mean of each of ``channels`` (full names, ``site/soc_pct``) of ``site`` in each
    ``step_s`` [s] step from ``since`` to ``until`` (steps aligned on the Unix epoch), every step
    listed (``None`` without data); empty when the site is outside ``scope``. Raises
    :class:`HubError` for a step that is not positive or more than :data:`MAX_POINTS` steps."""
    if step_s <= 0:
        raise HubError(f"a series' step must be positive, not {step_s} s")
    first = math.floor(since.timestamp() / step_s)
    last = math.ceil(until.timestamp() / step_s)
    if last - first > MAX_POINTS:
        raise HubError(f"{last - first} steps of {step_s} s: more than {MAX_POINTS}; "
                       "take a longer step")
    if not channels or not sites_in_scope(conn, scope, [site]):
        return {}
    rows = conn.execute(_SERIES_SQL, {"step": step_s, "names": list(channels), "site": site,
                                      "since": since, "until": until}).fetchall()
    means = {(int(b), int(i) - 1): (None if v is None else float(v)) for b, i, v in rows}
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    steps = [(b, epoch + timedelta(seconds=b * step_s)) for b in range(first, last)
             if epoch + timedelta(seconds=(b + 1) * step_s) > since]
    return {name: [(t, means.get((b, k))) for b, t in steps]
            for k, name in enumerate(channels)}


@dataclass(frozen=True, slots=True)
class PeriodRow:
    """What a row of the monthly tables is about: a site, a province or the whole scope
    (``level``; ``key`` the site id, the province's name, or ""), with its name and province,
    in ``month`` of ``year`` (local; ``month`` 0: the year so far)."""

    level: Level
    key: str
    name: str
    province: str
    year: int
    month: int


@dataclass(frozen=True, slots=True)
class ReliabilityRow(PeriodRow):
    """SAIDI, SAIFI and MAIFI of a site, a province or the whole scope (``level``; ``key`` the
    site id, the province's name, or "") in ``month`` of ``year`` (local; ``month`` 0: the year
    so far), over ``customers_served`` customers of ``sites`` sites, against the programme's
    targets for that period (``within_target``: both met)."""

    sites: int
    customers_served: int
    saidi_minutes: float
    saifi_count: float
    maifi_count: float
    saidi_planned_minutes: float
    saifi_planned_count: float
    interruptions: int
    saidi_target_minutes: float
    saifi_target_count: float
    within_target: bool


@dataclass(frozen=True, slots=True)
class _Site:
    site: str
    name: str
    province: str
    customers: int
    first_contact: datetime


def _sites_meta(conn: Conn, sites: list[str]) -> list[_Site]:
    rows = conn.execute(
        "SELECT s.site, coalesce(s.name, ''), coalesce(p.name, ''), s.customers, "
        "s.first_contact FROM sites s LEFT JOIN groups p ON p.id = s.province_id "
        "WHERE s.site = ANY(%s::text[]) ORDER BY s.site", (sites,)).fetchall()
    return [_Site(*r) for r in rows]


def _months(year: int, zone: ZoneInfo, now: datetime) -> list[tuple[int, datetime, datetime]]:
    """``(month, start, end)`` of each local month of ``year`` that has begun by ``now``."""
    out = []
    for m in range(1, 13):
        start = datetime(year, m, 1, tzinfo=zone)
        end = datetime(year + m // 12, m % 12 + 1, 1, tzinfo=zone)
        if start <= now:
            out.append((m, start, end))
    return out


_INTERRUPTIONS_SQL: Final = """
SELECT site, extract(month FROM start_ts AT TIME ZONE %(tz)s)::int,
       extract(epoch FROM start_ts), extract(epoch FROM coalesce(end_ts, %(now)s)),
       customers_interrupted, planned
FROM interruptions
WHERE site = ANY(%(sites)s::text[]) AND start_ts >= %(lo)s AND start_ts < %(hi)s
  AND start_ts < %(now)s
"""


def _reliability_row(level: Level, key: str, name: str, province: str, *, year: int,
                     month: int, members: Sequence[_Site], intervals: Iterable[ieee1366.Interval]
                     ) -> ReliabilityRow:
    served = sum(s.customers for s in members)
    ix = ieee1366.interruption_indices(intervals, served)
    share = 1.0 if month == 0 else 1.0 / 12.0
    saidi_target = ieee1366.SAIDI_TARGET_MINUTES * share
    saifi_target = ieee1366.SAIFI_TARGET_COUNT * share
    return ReliabilityRow(
        level=level, key=key, name=name, province=province, year=year, month=month,
        sites=len(members), customers_served=served, saidi_minutes=ix.saidi_minutes,
        saifi_count=ix.saifi_count, maifi_count=ix.maifi_count,
        saidi_planned_minutes=ix.saidi_planned_minutes,
        saifi_planned_count=ix.saifi_planned_count, interruptions=round(ix.interruptions),
        saidi_target_minutes=saidi_target, saifi_target_count=saifi_target,
        within_target=ix.saidi_minutes <= saidi_target and ix.saifi_count <= saifi_target)


def monthly_reliability(conn: Conn, year: int, scope: Scope, tz: str = "Asia/Ho_Chi_Minh",
                        now: datetime | None = None) -> list[ReliabilityRow]:
    """SAIDI/SAIFI/MAIFI of ``year`` per local month (in ``tz``) that has begun by ``now``
    (default: the clock) and for the year so far (``month`` 0): a row per site, per province
    (sites without a province have none) and one for the whole scope (level ``fleet``)."""
    now = now or datetime.now(UTC)
    zone = ZoneInfo(tz)
    months = _months(year, zone, now)
    sites = _sites_meta(conn, sites_in_scope(conn, scope))
    if not months or not sites:
        return []
    lo, hi = datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
    by_month: dict[tuple[str, int], list[ieee1366.Interval]] = defaultdict(list)
    for site, month, start_s, end_s, customers, planned in conn.execute(_INTERRUPTIONS_SQL, {
            "tz": tz, "now": now, "sites": [s.site for s in sites], "lo": lo, "hi": hi}):
        by_month[str(site), int(month)].append(
            ieee1366.Interval(float(start_s), float(end_s), float(customers), bool(planned)))
    rows: list[ReliabilityRow] = []
    year_members: dict[str, _Site] = {}
    provinces = sorted({s.province for s in sites if s.province})
    for month, _start, end in [*months, (0, lo, hi)]:
        if month == 0:
            members = list(year_members.values())
        else:
            members = [s for s in sites if s.first_contact < end or (s.site, month) in by_month]
            year_members |= {s.site: s for s in members}
        wanted = [m for m, _, _ in months] if month == 0 else [month]

        def intervals(group: Sequence[_Site], months_: Sequence[int] = wanted
                      ) -> list[ieee1366.Interval]:
            return [iv for s in group for m in months_ for iv in by_month.get((s.site, m), [])]

        for s in members:
            rows.append(_reliability_row("site", s.site, s.name, s.province, year=year,
                                         month=month, members=[s], intervals=intervals([s])))
        for p in provinces:
            group = [s for s in members if s.province == p]
            if group:
                rows.append(_reliability_row("province", p, p, p, year=year, month=month,
                                             members=group, intervals=intervals(group)))
        rows.append(_reliability_row("fleet", "", "", "", year=year, month=month,
                                     members=members, intervals=intervals(members)))
    return rows


@dataclass(frozen=True, slots=True)
class EnergyRow(PeriodRow):
    """Energy of a site, a province or the whole scope (as :class:`ReliabilityRow`) in
    ``month`` of ``year`` (local; 0: the year so far): [kWh] per source, generator run time
    [h], and the hours that had records (the rest is unknown, not zero)."""

    pv_kwh: float
    wind_kwh: float
    load_kwh: float
    generator_kwh: float
    generator_h: float
    hours_with_data: int


_ENERGY_SQL: Final = """
WITH cs AS (
    SELECT id,
           array_position(names, %(pv)s) AS pv,
           array_position(names, %(wind)s) AS wind,
           array_position(names, %(load)s) AS load,
           array_position(names, %(run)s) AS run,
           ARRAY(SELECT i FROM generate_subscripts(names, 1) AS i
                 WHERE names[i] LIKE '%%/generator_w') AS gens
    FROM channel_sets
), hours AS (
    SELECT r.site, date_trunc('hour', r.ts AT TIME ZONE %(tz)s) AS hour,
           avg(r.vals[cs.pv]) AS pv, avg(r.vals[cs.wind]) AS wind, avg(r.vals[cs.load]) AS load,
           avg((SELECT sum(r.vals[g]) FROM unnest(cs.gens) AS g)) AS gen,
           avg(r.vals[cs.run]) AS run
    FROM records r JOIN cs ON cs.id = r.channel_set
    WHERE r.site = ANY(%(sites)s::text[]) AND r.ts >= %(lo)s AND r.ts < %(hi)s
    GROUP BY 1, 2
)
SELECT site, extract(month FROM hour)::int, coalesce(sum(pv), 0) / 1000.0,
       coalesce(sum(wind), 0) / 1000.0, coalesce(sum(load), 0) / 1000.0,
       coalesce(sum(gen), 0) / 1000.0, coalesce(sum(run), 0), count(*)
FROM hours GROUP BY 1, 2
"""


def monthly_energy(conn: Conn, year: int, scope: Scope, tz: str = "Asia/Ho_Chi_Minh"
                   ) -> list[EnergyRow]:
    """Energy per source and generator hours of ``year`` per local month (in ``tz``) that has
    records, and for the year (``month`` 0): a row per site, per province and for the scope."""
    zone = ZoneInfo(tz)
    sites = _sites_meta(conn, sites_in_scope(conn, scope))
    if not sites:
        return []
    lo, hi = datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
    params: dict[str, Any] = {"tz": tz, "sites": [s.site for s in sites], "lo": lo, "hi": hi}
    params.update(CHANNELS)
    figures: dict[tuple[str, int], tuple[float, ...]] = {}
    for site, month, *values in conn.execute(_ENERGY_SQL, params):
        figures[str(site), int(month)] = tuple(float(v) for v in values)
    months = sorted({m for _, m in figures})
    meta = {s.site: s for s in sites}
    provinces = sorted({s.province for s in sites if s.province})
    rows: list[EnergyRow] = []

    def row(level: Level, key: str, name: str, province: str, *, month: int,
            members: Sequence[str]) -> EnergyRow:
        wanted = months if month == 0 else [month]
        sums = [0.0] * 6
        for site in members:
            for m in wanted:
                for k, v in enumerate(figures.get((site, m), ())):
                    sums[k] += v
        return EnergyRow(level, key, name, province, year, month, pv_kwh=sums[0],
                         wind_kwh=sums[1], load_kwh=sums[2], generator_kwh=sums[3],
                         generator_h=sums[4], hours_with_data=round(sums[5]))

    for month in [*months, 0]:
        present = sorted({s for s, m in figures if month in (0, m)})
        rows += [row("site", s, meta[s].name, meta[s].province, month=month, members=[s])
                 for s in present]
        for p in provinces:
            group = [s for s in present if meta[s].province == p]
            if group:
                rows.append(row("province", p, p, p, month=month, members=group))
        rows.append(row("fleet", "", "", "", month=month, members=present))
    return rows


@dataclass(frozen=True, slots=True)
class AlarmRow:
    """An active alarm: ``kind`` at ``site``, raised at ``since`` (the site's time)."""

    site: str
    name: str
    province: str
    kind: str
    severity: str
    detail: str
    since: datetime


SEVERITY_ORDER: Final = ("critical", "warning", "info")
"""Most severe first (an unknown severity sorts last)."""


def active_alarms(conn: Conn, scope: Scope, now: datetime | None = None,
                  silent_after_s: float = SILENT_AFTER_S) -> list[AlarmRow]:
    """Every active alarm of the sites in ``scope``, and the hub's own ``no_data`` alarm
    (critical, since the last contact) for each site silent more than ``silent_after_s`` [s]
    before ``now`` (the clock by default): most severe first, then newest first."""
    sites = sites_in_scope(conn, scope)
    meta = {s.site: s for s in _sites_meta(conn, sites)}
    rows = [AlarmRow(site, meta[site].name, meta[site].province, kind, severity, detail, ts)
            for site, kind, active, severity, detail, ts in conn.execute(_ACTIVE_SQL, (sites,))
            if active]
    silent_since = (now or datetime.now(UTC)) - timedelta(seconds=silent_after_s)
    rows += [AlarmRow(site, m.name, m.province, NO_DATA, "critical", "", last)
             for site, last in conn.execute(
                 "SELECT site, last_contact FROM sites WHERE site = ANY(%s::text[]) "
                 "AND last_contact < %s", (sites, silent_since)) if (m := meta[site])]
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    rows.sort(key=lambda a: (rank.get(a.severity, len(rank)), -a.since.timestamp(), a.site))
    return rows
