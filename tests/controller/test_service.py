"""The real APScheduler service when the wall clock jumps backwards (a Raspberry Pi without an
RTC at its first NTP sync): the supervisor on the monotonic clock re-arms the cycle.

Only the lowest layer is faked: the wall clock, as the controller and APScheduler read it.
Devices do not answer (a closed port, no serial port), so every cycle is quick and healthy.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, tzinfo
from pathlib import Path

import apscheduler.schedulers.base
import pytest

from controller.service import pty_map, serve
from controller.watchdog import Notifier
from sitefile import load_site
from store import readers
from store.schema import connect
from store.writer import Store
from tests.controller.test_durability import quiet_site

JUMP_S = -3600.0
JUMP_AFTER = 3  # healthy cycles before the clock jumps
CYCLES = 8


class JumpingNotifier(Notifier):
    """Counts WATCHDOG=1 (one per healthy cycle) and moves the wall clock back after the third."""

    def __init__(self, offset: list[float]) -> None:
        super().__init__(None)
        self.offset = offset
        self.watchdogs = 0

    def notify(self, message: str) -> bool:
        if message == "WATCHDOG=1":
            self.watchdogs += 1
            if self.watchdogs == JUMP_AFTER:
                self.offset[0] = JUMP_S
        return False


@pytest.mark.timeout(120)  # without the supervisor the next cycle would come in an hour
async def test_backward_wall_clock_jump_re_arms_the_cycle(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    offset = [0.0]

    def wall() -> float:
        return time.time() + offset[0]

    class JumpingDatetime(datetime):
        """What APScheduler's ``datetime.now`` returns: the jumping wall clock."""

        @classmethod
        def now(cls, tz: tzinfo | None = None) -> JumpingDatetime:
            t = datetime.fromtimestamp(wall(), tz)
            return cls(t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond,
                       t.tzinfo)

    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", JumpingDatetime)
    site = load_site(quiet_site(tmp_path))
    db = tmp_path / "site.db"
    notifier = JumpingNotifier(offset)
    ports = pty_map([d.serial_port for d in site.devices if d.serial_port], tmp_path)
    caplog.set_level(logging.WARNING, logger="controller.service")
    await serve(site, Store(db, site.site.timezone), ports, notifier, cycles=CYCLES, wall=wall)

    assert notifier.watchdogs == CYCLES  # every cycle ran, the five after the jump too
    rearmed = [r for r in caplog.records if "re-arming" in r.getMessage()]
    assert len(rearmed) == 1  # once: from then on the schedule follows the new clock
    health = readers.read_devices(connect(db, readonly=True))
    assert health and all(h["updated_ts"] < time.time() + JUMP_S / 2 for h in health)
