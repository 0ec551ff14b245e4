"""Transport pieces: back-off, adaptive timeout, plausibility, and a bus that cannot connect
(a real closed loopback port) backing off on an injected clock."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from controller.devices.values import Quality
from controller.errors import TransportError
from controller.plausibility import plausible_range, site_limits
from controller.transport import MIN_TIMEOUT_S, Bus, Latency, backoff_s, checked
from sitefile import Device, load_site
from tests.conftest import SHRIMP

TS = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(("n", "wait"), [(1, 2.0), (2, 4.0), (10, 20.0), (150, 300.0),
                                         (1000, 300.0)])
def test_backoff(n: int, wait: float) -> None:
    assert backoff_s(n) == wait


def test_latency_adapts_within_bounds() -> None:
    lat = Latency()
    assert lat.timeout_s(1.0) == 1.0  # nothing measured yet: the device's timeout
    for _ in range(20):
        lat.add(0.01)
    assert lat.timeout_s(1.0) == MIN_TIMEOUT_S
    for _ in range(20):
        lat.add(0.3)
    assert 0.3 < lat.timeout_s(1.0) < 1.0
    for _ in range(20):
        lat.add(5.0)
    assert lat.timeout_s(1.0) == 1.0


@pytest.mark.parametrize(("point", "value", "quality"), [
    ("soc_pct", 55.0, Quality.GOOD), ("soc_pct", 655.35, Quality.INVALID),
    ("soc_pct", None, Quality.INVALID), ("do_mg_l", -1.0, Quality.INVALID),
    ("charge_stage", 3, Quality.GOOD), ("load_on", True, Quality.GOOD),
    # The shrimp site's 51.2 V LFP bank, 100 kWp, 60/45 kW battery, 30 kW surge + 10 kW genset:
    ("battery_v", 53.1, Quality.GOOD), ("battery_v", 327.68, Quality.INVALID),
    ("battery_v", 30.0, Quality.INVALID), ("battery_w", -7e9, Quality.INVALID),
    ("battery_w", -40_000.0, Quality.GOOD), ("pv_w", 110_000.0, Quality.GOOD),
    ("pv_w", 150_000.0, Quality.INVALID), ("mppt1_pv_w", 150_000.0, Quality.INVALID),
    ("ac_w", 45_000.0, Quality.GOOD), ("ac_w", 65_000.0, Quality.INVALID),
    ("pv_kwh_total", 21_474_181.12, Quality.INVALID), ("pv_kwh_total", 1234.5, Quality.GOOD),
])
def test_checked_against_the_sites_ranges(point: str, value: float | None,
                                           quality: Quality) -> None:
    limits = site_limits(load_site(SHRIMP))
    assert checked(point, value, TS, limits).quality is quality


def test_ranges_follow_the_site_file() -> None:
    site = load_site(SHRIMP)
    assert site.battery is not None
    assert plausible_range(site, "battery_v") == pytest.approx((0.7 * 51.2, 1.3 * 51.2))
    small = site.model_copy(update={"battery": site.battery.model_copy(
        update={"nominal_v": 12.8})})
    assert plausible_range(small, "battery_v") == pytest.approx((0.7 * 12.8, 1.3 * 12.8))
    assert plausible_range(site, "relay_0") is None  # a flag has no range


async def test_bus_that_cannot_connect_backs_off() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connection refused
        dev = Device(name="inv", driver="sunspec", transport="tcp", host="127.0.0.1",
                     port=port, timeout_s=0.5)
        clock = [100.0]
        bus = Bus.for_device(dev, clock=lambda: clock[0])

        async def read(c: object) -> object:
            raise AssertionError("never reached without a connection")

        with pytest.raises(TransportError, match="cannot connect"):
            await bus.request(read, 0.5)
        assert bus.next_connect_mono == 102.0
        with pytest.raises(TransportError, match="down, retrying"):
            await bus.request(read, 0.5)  # within the back-off: no attempt
        assert bus.connect_failures == 1
        clock[0] = 102.5
        with pytest.raises(TransportError, match="cannot connect"):
            await bus.request(read, 0.5)
        assert (bus.connect_failures, bus.next_connect_mono) == (2, 106.5)
        bus.close()
