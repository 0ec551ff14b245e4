"""Control never waits for storage (issue 12 §1): the controller against `hardware_sim` over real
Modbus, its database on a real tmpfs that fills up or turns read-only. Virtual time as in
test_cycle_sim.py; nothing sleeps."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from controller.cycle import Controller, build_links
from controller.service import pty_map, serve
from controller.watchdog import Notifier
from hardware_sim.inputs import build_inputs
from hardware_sim.simulator import Simulator
from sitefile import load_site
from store import commands, readers
from store.queue import WriteQueue
from store.schema import migrate
from tests.controller.test_cycle_sim import AERATORS, NIGHT, Rig, make_site
from tests.controller.test_durability import quiet_site
from tests.support import fill, remount, tmpfs

FARMHOUSE = 7  # its relay channel


async def _rig(tmp_path: Path, db: Path) -> Rig:
    site = make_site(tmp_path)
    sim = Simulator(site, NIGHT, speed=0, inputs=build_inputs(site), emit=lambda _: None)
    await sim.serve()
    rig = Rig(sim, None, db)  # type: ignore[arg-type]
    rig.ctrl = Controller(site, WriteQueue(db, site.site.timezone), build_links(site),
                          mono=lambda: rig.mono,
                          wall=lambda: sim.plant.t.timestamp())  # noqa: PLW0108 - t moves
    return rig


def _requests(rig: Rig) -> int:
    return sum(d.requests for d in rig.sim.devices.values())


async def test_full_disk_with_a_command_pending_keeps_control(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        rig = await _rig(tmp_path, disk / "site.db")
        try:
            await rig.cycles(3)
            api = commands.open_database(rig.db)
            cid = commands.insert_command(
                api, "override_load", {"load": "farmhouse", "on": False, "expires_s": 3600},
                requested_by="ops", now_ts=rig.sim.plant.t.timestamp())
            api.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every write now needs new space
            filler = fill(disk)
            rig.sim.add_fault("do-probe", "drift", params={"point": "do_mg_l",
                                                            "rate_per_h": -300})
            seen = _requests(rig)
            reports = []
            for _ in range(24):  # 2 min of 5 s cycles
                reports += await rig.cycles(1)
                now = _requests(rig)
                assert now > seen, "a cycle made no Modbus request while the disk was full"
                seen = now
            # The command was executed from memory; the DO fault switched every aerator on.
            assert reports[0].commands == {cid: "done"}
            assert not rig.relays()[FARMHOUSE]
            assert all(rig.relays()[c] for c in AERATORS)
            # Every cycle did its control: the service feeds the watchdog on these.
            assert all(r.healthy for r in reports), [r.failed for r in reports]
            raised = {k for r in reports for k in r.raised}
            assert "storage_failed:store" in raised and len(raised) > 1, raised
            last = reports[-1].storage
            assert last is not None and last.queued > 0
            assert last.error is not None and "database or disk is full" in last.error
            # Nothing of it reached the database, and the command is still pending there.
            assert commands.read_command(api, cid).status == "pending"  # type: ignore[union-attr]
            assert readers.read_active_alarms(api) == []
            # Space returns: the next cycle writes what waited, in order.
            filler.unlink()
            back = (await rig.cycles(1))[0]
            assert back.storage is not None and back.storage.error is None
            assert back.storage.queued == 0 and back.storage.dropped == 0
            # Seen at the next cycle's alarm phase: cleared, and written at its flush.
            assert "storage_failed:store" in (await rig.cycles(1))[0].cleared
            cmd = commands.read_command(api, cid)
            assert cmd is not None and cmd.status == "done"
            assert raised <= {a["key"] for a in readers.read_alarms(api)}  # none lost
            storage = next(a for a in readers.read_alarms(api) if a["kind"] == "storage_failed")
            assert "database or disk is full" in storage["message"]
            assert storage["cleared_ts"] is not None
            assert readers.read_state(api, "heartbeat")["ts"] == rig.sim.plant.t.timestamp()
            api.close()
        finally:
            rig.ctrl.close()
            await rig.sim.close()


async def test_overflow_drops_telemetry_first_and_says_so(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        rig = await _rig(tmp_path, disk / "site.db")
        rig.ctrl.store.max_items = 40
        try:
            await rig.cycles(2)
            api = commands.open_database(rig.db)
            api.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            filler = fill(disk)
            rig.sim.add_fault("do-probe", "drift", params={"point": "do_mg_l",
                                                            "rate_per_h": -300})
            reports = await rig.cycles(60)
            raised = {k for r in reports for k in r.raised}
            last = reports[-1].storage
            assert last is not None and last.queued <= 40 and last.dropped > 0
            filler.unlink()
            back = (await rig.cycles(2))[0].storage  # the last one published its figures
            assert back is not None and back.queued == 0 and back.dropped >= last.dropped
            # The alarms raised meanwhile survived the overflow; the loss is said.
            assert "storage_failed:store" in raised and len(raised) > 1, raised
            assert raised <= {a["key"] for a in readers.read_alarms(api)}
            said = [e for e in readers.read_events(api) if e["kind"] == "records_dropped"]
            assert len(said) == 1 and said[0]["data"] == {"telemetry": back.dropped}
            site = {r["point"]: r["value"] for r in readers.read_latest(api, "site")}
            assert site["store_dropped"] == back.dropped and site["store_queue"] == 0
            api.close()
        finally:
            rig.ctrl.close()
            await rig.sim.close()


@pytest.mark.slow
def test_offgrid_run_on_a_read_only_database_controls(tmp_path: Path) -> None:
    """`offgrid run` (a real process) against `offgrid sim`, its database on a read-only
    filesystem: it starts degraded, restores what it can read, and switches relays."""
    site = quiet_site(tmp_path, cycle_s=1.0)
    pty_dir = tmp_path / "pty"
    pty_dir.mkdir()
    with tmpfs(tmp_path / "ro", "4m") as ro:
        db = ro / "site.db"
        migrate(db)
        api = commands.open_database(db)
        commands.insert_command(api, "override_load", {"load": "farmhouse", "on": True,
                                                      "expires_s": 3600}, requested_by="ops")
        api.close()
        remount(ro, "ro")
        sim = subprocess.Popen([sys.executable, "-m", "offgrid", "sim", str(site), "--speed",
                                "10", "--pty-dir", str(pty_dir)],
                               stdout=subprocess.PIPE, text=True)
        try:
            assert sim.stdout is not None
            for line in sim.stdout:
                if line.startswith("Ready"):
                    break
            run = subprocess.run([sys.executable, "-m", "offgrid", "run", str(site), "--db",
                                  str(db), "--pty-dir", str(pty_dir), "--cycles", "4", "-v"],
                                 check=False, capture_output=True, text=True, timeout=300)
        finally:
            sim.send_signal(signal.SIGINT)
            sim.wait(timeout=60)
        assert run.returncode == 0, run.stderr
        assert "DEGRADED" in run.stderr
        # read from the read-only database, executed; its ack cannot be stored and says so
        assert "ack of 1 (done) waits in memory" in run.stderr
        wrote = [ln for ln in run.stderr.splitlines() if "wrote relays" in ln]
        assert any("'relay_7': True" in ln for ln in wrote), run.stderr  # the override
        assert "Traceback" not in run.stderr
        remount(ro, "rw")


async def test_service_feeds_the_watchdog_while_the_disk_is_full(tmp_path: Path) -> None:
    """The real service loop: every cycle on a full disk ends in WATCHDOG=1 (to a real
    notify socket), and the storage trouble is logged, not fatal."""
    site = load_site(quiet_site(tmp_path, cycle_s=0.2))
    with tmpfs(tmp_path / "disk", "4m") as disk, \
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(tmp_path / "notify.sock"))
        sock.setblocking(False)
        store = WriteQueue(disk / "site.db", site.site.timezone)
        store.flush(0.0)
        assert store._store is not None
        store._store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        fill(disk)
        ports = pty_map([d.serial_port for d in site.devices if d.serial_port], tmp_path)
        await serve(site, store, ports, Notifier(str(tmp_path / "notify.sock")), cycles=4)
        messages = []
        with contextlib.suppress(BlockingIOError):
            while True:
                messages.append(sock.recv(64).decode())
    assert messages == ["READY=1", *["WATCHDOG=1"] * 4, "STOPPING=1"]
    assert store.health().queued > 0 and "database or disk is full" in (store.error or "")
