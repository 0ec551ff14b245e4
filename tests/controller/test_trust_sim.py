"""Readings checked against the site, against hardware_sim's faults over real Modbus (issue
12 §2): a frozen charge controller, and 0x8000 / 0xFFFF garbage on every device family.
Virtual time: each cycle steps the plant and the controller's clock; nothing sleeps."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from controller.plausibility import plausible_range
from controller.transport import PYMODBUS_LOGGER, quiet_pymodbus_logs
from controller.trust import BATTERY_STILL_S
from store import commands, readers
from store.schema import connect
from tests.controller.test_cycle_sim import LATE, NIGHT, NOON, rig_factory

__all__ = ["rig_factory"]  # the fixture, shared with the cycle's own tests


def _raised(reports: list[Any]) -> list[str]:
    return [k for r in reports for k in r.raised]


async def test_a_frozen_charge_controller_is_flagged_and_the_soc_follows_the_others(
        rig_factory: Any) -> None:
    """02:00, the aerators drain the bank. mppt-1 hangs on its last registers at 60 %; then
    the bank reads 95 % (a recalibrated monitor): the SOC the strategies use follows the
    inverter and mppt-2 at once, the disagreement is raised after its minute, and mppt-1 is
    flagged frozen within the documented 15 minutes of discharge."""
    rig = await rig_factory(LATE, soc_pct=60)
    step = 30.0
    await rig.cycles(4, step_s=step)
    rig.sim.add_fault("mppt-1", "frozen")
    await rig.cycles(1, step_s=step)
    rig.set_soc(95)
    reports = await rig.cycles(3, step_s=step)
    assert all(r.snapshot.soc_pct.value == pytest.approx(95, abs=1) for r in reports)
    mppt1 = next(lk for lk in rig.ctrl.links if lk.name == "mppt-1")
    assert mppt1.last["soc_pct"].value == 60 and mppt1.last["soc_pct"].ok  # still "good"
    reports += await rig.cycles(int(BATTERY_STILL_S / step), step_s=step)
    raised = _raised(reports)
    assert "sources_disagree:soc_pct" in raised
    assert "frozen_value:mppt-1" in raised
    flagged = next(i for i, r in enumerate(reports) if "frozen_value:mppt-1" in r.raised)
    assert (flagged + 2) * step <= BATTERY_STILL_S + 2 * step  # since the fault's start
    assert not any(k.startswith("frozen_value:") and k != "frozen_value:mppt-1"
                   for k in raised)  # nobody else
    # the bank drains by about 1 % in those 15 minutes; never the frozen 60 %
    assert all(r.snapshot.soc_pct.value == pytest.approx(94, abs=2) for r in reports)
    conn = connect(rig.db, readonly=True)
    latest = {r["point"]: r for r in readers.read_latest(conn, "mppt-1")}
    assert latest["soc_pct"]["quality"] == "frozen" and latest["soc_pct"]["value"] == 60
    site = {r["point"]: r for r in readers.read_latest(conn, "site")}
    assert site["soc_pct"]["quality"] == "good"
    assert site["soc_pct"]["value"] == pytest.approx(94, abs=2)


def _check_stored_values(rig: Any) -> None:
    """No value stored as good outside the site's range: latest and every sample."""
    site = rig.ctrl.site
    conn = connect(rig.db, readonly=True)
    rows = [*conn.execute("SELECT device, point, value, quality FROM latest"),
            *conn.execute("SELECT device, point, value, quality FROM samples_named")]
    checked = 0
    for r in rows:
        limits = plausible_range(site, r["point"])
        if r["quality"] == "good" and limits is not None and r["value"] is not None:
            assert limits[0] <= r["value"] <= limits[1], dict(r)
            checked += 1
    assert checked > 50


@pytest.mark.parametrize("garbage", [0x8000, 0xFFFF])
async def test_garbage_on_every_device_stores_nothing_implausible(rig_factory: Any,
                                                                  garbage: int) -> None:
    """Noon: PV, load and the counters move. Every device answers ``garbage`` in every
    register for two minutes, then recovers: nothing outside its range is stored as good,
    and the site's energy is the plant's, never more."""
    rig = await rig_factory(NOON, soc_pct=60)
    step = 10.0
    e0 = dict(rig.sim.plant.energy.__dict__)
    await rig.cycles(2, step_s=step)
    faults = [rig.sim.add_fault(dev.name, "garbage", params={"value": garbage})
              for dev in rig.ctrl.site.devices]
    reports = await rig.cycles(12, step_s=step)
    assert {f"invalid_value:{d}" for d in ("mppt-1", "mppt-2", "inverter", "do-probe",
                                            "genset")} <= set(_raised(reports))
    for f in faults:
        rig.sim.clear_fault(f.id)
    await rig.cycles(12, step_s=step)
    _check_stored_values(rig)
    e1 = rig.sim.plant.energy.__dict__
    conn = connect(rig.db, readonly=True)
    kwh: dict[str, float] = {}
    for e in readers.read_energy(conn, "1d", 0, source="site"):
        assert e["wh"] >= 0
        kwh[e["category"]] = kwh.get(e["category"], 0.0) + e["wh"] / 1000
    # At most the plant's own energy since the first read, within a counter's resolution
    # (0.01 kWh per MPPT, 1 Wh for the inverter, 0.1 kWh for the generator): what the
    # garbage hid may be missing, never added.
    for category, plant, resolution in (("pv", "pv_kwh", 0.02), ("load", "served_kwh", 0.001),
                                        ("generator", "generator_kwh", 0.1)):
        assert kwh.get(category, 0.0) <= e1[plant] - e0[plant] + resolution, category
    assert kwh["pv"] > 0


async def test_a_stuck_open_aerator_raises_switch_failed_and_another_one_starts(
        rig_factory: Any) -> None:
    """Noon: three of the six aerators must run. Unit 2's contactor (relay 1) is stuck open:
    its coil reads back on, but the load does not rise. The controller says so and starts
    unit 4 instead; the store counts the aerators that run, not the relays."""
    rig = await rig_factory(NOON, soc_pct=70)
    stuck = rig.sim.add_fault("relays", "relay_stuck", params={"channel": 1, "state": "open"})
    reports = await rig.cycles(12)  # 60 s
    raised = _raised(reports)
    assert raised.count("switch_failed:aerators/1") == 1
    assert not [k for k in raised if k.startswith("switch_failed:") and k.endswith(("/0", "/2"))]
    contacts = rig.sim.plant.contacts["relays"]
    assert [i for i in range(6) if contacts[i]] == [0, 2, 3]  # three run, unit 4 (ch 3) too
    assert not rig.relays()[1]  # the failed unit is left off
    conn = connect(rig.db, readonly=True)
    site = {r["point"]: r for r in readers.read_latest(conn, "site")}
    assert site["aerators_on"]["value"] == 3
    alarm = next(a for a in readers.read_alarms(conn) if a["kind"] == "switch_failed")
    assert alarm["source"] == "aerators/1" and alarm["cleared_ts"] is None
    # The contactor replaced, an operator acknowledges: the unit is available again.
    rig.sim.clear_fault(stuck.id)
    commands.insert_command(commands.open_database(rig.db), "ack_alarm",
                            {"alarm_id": alarm["id"]}, requested_by="ops",
                            now_ts=rig.sim.plant.t.timestamp())
    reports = await rig.cycles(2)
    assert "switch_failed:aerators/1" in [k for r in reports for k in r.cleared]
    assert dict(rig.ctrl.state.failed_units) == {}



@pytest.mark.slow  # real timeouts of silent or noisy devices, ~20–40 s
async def test_crc_noise_neither_stores_aerators_off_nor_logs_hex_dumps_at_error(
        rig_factory: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Night, six aerators run. Every reply of the relay board arrives with a broken CRC for
    80 s (beyond stale_after_s): the read-back is unknown, so ``aerators_on`` is not stored
    as 0; and pymodbus's frame dumps stay out of the ERROR level once the controller's
    logging is set up (they are there before)."""
    rig = await rig_factory(NIGHT)
    await rig.cycles(10)
    assert all(rig.relays()[c] for c in range(6))
    noise = rig.sim.add_fault("relays", "noise", params={"probability": 1.0})
    pymodbus_log = logging.getLogger(PYMODBUS_LOGGER)
    level = pymodbus_log.level  # `offgrid run` in an earlier test may have quieted it
    try:
        pymodbus_log.setLevel(logging.NOTSET)
        with caplog.at_level(logging.ERROR):
            await rig.cycles(2)
        assert any(r.name.startswith("pymodbus") for r in caplog.records)  # the dumps
        caplog.clear()
        quiet_pymodbus_logs()
        with caplog.at_level(logging.ERROR):
            reports = await rig.cycles(16)
    finally:
        pymodbus_log.setLevel(level)
    assert not [r for r in caplog.records if r.name.startswith("pymodbus")]
    assert reports[-1].snapshot.outputs["aerators"] == (None,) * 6  # stale: unknown
    assert all(rig.sim.plant.contacts["relays"][c] for c in range(6))  # they still run
    conn = connect(rig.db, readonly=True)
    on = [(s["value"], s["quality"]) for s in readers.read_samples(conn, "site", "aerators_on",
                                                                    0)]
    assert on[-1] == (None, "missing")  # unknown, said so
    assert (0, "good") not in on[on.index((6, "good")):]
    rig.sim.clear_fault(noise.id)


@pytest.mark.slow  # real timeouts of silent or noisy devices, ~20–40 s
async def test_generator_started_on_lost_communication_stops_when_it_returns(
        rig_factory: Any) -> None:
    """Noon, SOC 77 %, ``gen_on_comm_loss = "start"``: the inverter and both MPPTs fall
    silent for 90 s; once their SOC is stale the generator is started. When they answer
    again, SOC 77 % needs no generator: it is stopped at once, not after its 60 min minimum
    run and 85 %."""
    rig = await rig_factory(NOON, soc_pct=77)
    await rig.cycles(2)
    faults = [rig.sim.add_fault(d, "silent", duration_s=90) for d in ("inverter", "mppt-1",
                                                                       "mppt-2")]
    reports = await rig.cycles(24)  # 90 s of silence, then 30 s of answers
    assert all(not f.active(rig.sim.plant.t) for f in faults)
    gen = [r.writes.get("genset") for r in reports]
    start = gen.index({"start": True})
    assert start * 5 >= 60  # once the SOC turned stale
    known = next(i for i, r in enumerate(reports) if i > start and r.snapshot.soc_pct.ok)
    assert reports[known].snapshot.soc_pct.value == pytest.approx(77, abs=2)
    assert gen.index({"stop": True}) == known  # at once, not after min-run and 85 %
    conn = connect(rig.db, readonly=True)
    events = [e for e in readers.read_events(conn) if e["kind"].startswith("generator_")]
    assert [e["kind"] for e in events][:2] == ["generator_stop", "generator_start"]  # newest
    assert events[0]["message"].startswith("SOC known again")
