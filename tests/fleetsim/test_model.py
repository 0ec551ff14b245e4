"""The light sites' records are realistic and reproducible: no PV at night, a state of charge
within its bounds that moves exactly as the battery's power says, dissolved oxygen lowest
before dawn, about forty channels, the same records from the same seed."""

from __future__ import annotations

import itertools
import math

import pytest

from fleetsim.fleet import decimals_of
from fleetsim.model import (
    BATTERY_EFFICIENCY,
    PROVINCES,
    SiteModel,
    SiteSpec,
    clear_sky_w_m2,
    fleet_specs,
    local_hour,
)
from fleetwire.batch import Batch, Record, decode_batch, encode_batch

DAY_MIN = 1440
MIDNIGHT_UTC_MS = 1_796_083_200_000  # 2026-12-01 00:00 UTC


def local_midnight(spec: SiteSpec) -> int:
    """The first minute at or after 2026-12-01 whose local solar hour is below one minute."""
    t = MIDNIGHT_UTC_MS
    while local_hour(spec.longitude_deg, t) > 1 / 60:
        t += 60_000
    return t


def days(spec: SiteSpec, n: int) -> list[Record]:
    model = SiteModel.start(spec, local_midnight(spec))
    return [model.step() for _ in range(n * DAY_MIN)]


@pytest.fixture(scope="module")
def fleet() -> list[SiteSpec]:
    return fleet_specs(12, seed=5)


def test_pv_is_zero_at_night_and_positive_on_some_day_minutes(fleet: list[SiteSpec]) -> None:
    for spec in fleet[:4]:
        records = days(spec, 2)
        for r in records:
            hour = local_hour(spec.longitude_deg, r.wall_ms)
            if hour < 5.0 or hour >= 19.0:
                assert r.values["site/pv_w"] == 0.0, (spec.site, hour)
                assert r.values["weather/irradiance_w_m2"] == 0.0
        noon = [r.values["site/pv_w"] or 0.0 for r in records
                if 11.0 <= local_hour(spec.longitude_deg, r.wall_ms) < 13.0]
        assert max(noon) > 0.2 * spec.pv_kwp * 1000.0


def test_soc_stays_in_bounds_and_integrates_the_battery_power(fleet: list[SiteSpec]) -> None:
    for spec in fleet:
        records = days(spec, 3)
        socs = [r.values["site/soc_pct"] or 0.0 for r in records]
        assert all(spec.min_soc_pct - 6.0 <= s <= spec.max_soc_pct for s in socs), spec.site
        for a, b in itertools.pairwise(records):
            w = a.values["site/battery_w"] or 0.0
            factor = BATTERY_EFFICIENCY if w >= 0 else 1.0 / BATTERY_EFFICIENCY
            moved = w * factor / 60.0 / (spec.battery_kwh * 1000.0) * 100.0
            assert (b.values["site/soc_pct"] or 0.0) == pytest.approx(
                (a.values["site/soc_pct"] or 0.0) + moved, abs=1e-9)
        # the sun charges, the night discharges
        assert max(socs) - min(socs) > 10.0


def test_dissolved_oxygen_is_lowest_before_dawn(fleet: list[SiteSpec]) -> None:
    ponds = [s for s in fleet if s.kind == "pond"]
    assert ponds
    for spec in ponds:
        records = days(spec, 3)
        for d in range(3):
            day = records[d * DAY_MIN:(d + 1) * DAY_MIN]
            lowest = min(day, key=lambda r: r.values["site/do_mg_l"] or math.inf)
            hour = local_hour(spec.longitude_deg, lowest.wall_ms)
            assert 3.0 <= hour < 8.0, (spec.site, d, hour)
            assert 3.0 < (lowest.values["site/do_mg_l"] or 0.0) < DO_HIGH


DO_HIGH = 7.0


def test_a_village_has_no_ponds_and_every_site_about_forty_channels(
        fleet: list[SiteSpec]) -> None:
    kinds = {s.kind for s in fleet}
    assert kinds == {"pond", "village"}
    for spec in fleet:
        first = days(spec, 1)[0]
        assert 30 <= len(first.values) <= 45
        assert ("site/do_mg_l" in first.values) == (spec.kind == "pond")
    assert {s.province for s in fleet_specs(10)} == set(PROVINCES)


def test_the_same_seed_gives_the_same_records_and_another_seed_others() -> None:
    a, b = fleet_specs(3, seed=7), fleet_specs(3, seed=7)
    assert a == b
    assert days(a[1], 1) == days(b[1], 1)
    assert days(fleet_specs(3, seed=8)[1], 1) != days(a[1], 1)


def test_a_batch_of_its_records_round_trips_within_each_channels_resolution(
        fleet: list[SiteSpec]) -> None:
    records = tuple(days(fleet[0], 1)[:15])
    dp = decimals_of(records[0].values)
    back = decode_batch(encode_batch(Batch(fleet[0].site, 1, records), dp))
    for sent, got in zip(records, back.records, strict=True):
        for name, v in sent.values.items():
            assert got.values[name] == pytest.approx(v, abs=0.5 * 10.0 ** -dp[name] + 1e-9)


def test_clear_sky_follows_the_sun() -> None:
    # Cà Mau, 2026-12-01: dark at local midnight, bright at local noon
    noon_utc = MIDNIGHT_UTC_MS + int((12.0 - 105.15 / 15.0) * 3_600_000)
    assert clear_sky_w_m2(9.18, 105.15, noon_utc) > 700.0
    assert clear_sky_w_m2(9.18, 105.15, noon_utc + 12 * 3_600_000) == 0.0
