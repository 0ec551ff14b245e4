"""Controller benchmark: overhead per cycle, CPU share at cycle_s = 1, RSS over a simulated
week, and the SQLite size per site-month, for the example shrimp site.

The simulator runs as a separate ``offgrid sim`` process (so its CPU is not counted), paused
and stepped through its control port; the controller runs here with virtual clocks. The RS485
gap is set to 10 ms to keep the run short (the gap is I/O wait, not controller CPU; each idle
wait still costs this VM about 0.2 ms of CPU to wake up, so the whole cycle is also measured
with no gap).

Figures:
* overhead per cycle = CPU time of the controller process during ``Controller.cycle()``
  (``time.process_time``: I/O waits excluded) without the Modbus requests (decoding, snapshot,
  strategies, alarms, SQLite, commands), p50 and p99 over 600 cycles at cycle_s = 5; also the
  whole cycle's CPU including the Modbus client's work on the requests (pymodbus framing);
  baseline: ``decide_all`` alone;
* CPU share at cycle_s = 1: ``offgrid run`` as a process against ``offgrid sim --speed 1``,
  utime + stime from /proc over 40 s of wall time;
* RSS every simulated day for a week at cycle_s = 600 (1008 cycles);
* SQLite size per site-month, extrapolated from the bytes written per simulated hour at
  cycle_s = 5 (raw samples are pruned after 30 days, so this is also the steady state).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomlkit

from offgrid.run_cmd import without_dataframes
from sitefile import Site, load_site
from tests.support import free_port

with without_dataframes():  # what `offgrid run` loads, so that the RSS figure is its own
    from controller.cycle import Controller, build_links
    from controller.service import pty_map
    from controller.strategies import decide_all
    from store.writer import Store

ROOT = Path(__file__).resolve().parent.parent
SHRIMP = ROOT / "examples" / "shrimp-bac-lieu.toml"
START = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)  # 18:00 in Bac Lieu
PAGE = os.sysconf("SC_PAGE_SIZE")
N_CYCLES = 600


def write_site(tmp: Path, cycle_s: float, gap_s: float = 0.01) -> Path:
    data = tomllib.loads(SHRIMP.read_text(encoding="utf-8"))
    data["control"]["cycle_s"] = cycle_s
    data["control"]["stale_after_s"] = max(60.0, 3 * cycle_s)
    for dev in data["devices"]:
        if dev["transport"] == "tcp":
            dev["port"] = free_port()
        else:
            dev["request_gap_s"] = gap_s
            dev["poll_s"] = min(dev["poll_s"], cycle_s)
    path = tmp / f"site-{cycle_s:g}-{gap_s:g}.toml"
    path.write_text(tomlkit.dumps(data), encoding="utf-8")
    return path


class SimProcess:
    """``offgrid sim`` as a child process; stepped through its control port when paused."""

    def __init__(self, site: Path, pty_dir: Path, speed: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "offgrid", "sim", str(site), "--speed", str(speed),
             "--pty-dir", str(pty_dir), "--start", START.isoformat()],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        self.url = ""
        for line in self.proc.stdout:
            if m := re.match(r"Control: (http://\S+)", line):
                self.url = m.group(1).rstrip("/")
            if line.startswith("Ready"):
                break
        if not self.url:
            raise RuntimeError("offgrid sim did not start")

    def step(self, seconds: float) -> dict[str, Any]:
        req = urllib.request.Request(f"{self.url}/step", method="POST",
                                     data=json.dumps({"seconds": seconds}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            data: dict[str, Any] = json.load(resp)
            return data

    def stop(self) -> None:
        self.proc.send_signal(2)
        self.proc.wait(timeout=30)


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * PAGE / 1e6


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_cycles(site: Site, db: Path, pty_dir: Path, sim: SimProcess, n: int,
                     on_day: Any = None,
                     ) -> tuple[list[float], list[float], list[float], list[int], float]:
    """Run ``n`` cycles: per cycle, CPU without the Modbus requests, whole CPU, decide_all CPU
    [s], read requests; and the wall time per cycle [s]."""
    clock = {"mono": 0.0}
    ctrl = Controller(site, Store(db, site.site.timezone),
                      build_links(site, pty_map([d.serial_port for d in site.devices
                                                 if d.serial_port], pty_dir)),
                      mono=lambda: clock["mono"],
                      wall=lambda: START.timestamp() + clock["mono"])
    overhead, whole, decide, requests = [], [], [], []
    step = site.control.cycle_s
    start = time.monotonic()
    for i in range(n):
        sim.step(step)
        clock["mono"] += step
        report = await ctrl.cycle()
        overhead.append(report.elapsed_cpu_s - report.io_cpu_s)
        whole.append(report.elapsed_cpu_s)
        requests.append(sum(len(link.blocks) for link in ctrl.links
                            if link.name in report.polled))
        if report.snapshot is not None:
            cpu0 = time.process_time()
            decide_all(report.snapshot, ctrl.state, site, clock["mono"])
            decide.append(time.process_time() - cpu0)
        if on_day is not None and (i + 1) * step % 86400 == 0:
            on_day((i + 1) * step / 86400)
    wall = (time.monotonic() - start) / n
    ctrl.close()
    return overhead, whole, decide, requests, wall


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="offgrid-bench-"))
    pty_dir = tmp / "pty"
    pty_dir.mkdir()

    # 1. Overhead per cycle and SQLite growth, cycle_s = 5.
    site_path = write_site(tmp, 5.0)
    site = load_site(site_path)
    sim = SimProcess(site_path, pty_dir, speed=0)
    db = tmp / "five.db"
    try:
        overhead, whole, decide, requests, wall = asyncio.run(
            run_cycles(site, db, pty_dir, sim, N_CYCLES))
    finally:
        sim.stop()
    sim_h = N_CYCLES * 5.0 / 3600
    db_bytes = sum(p.stat().st_size for p in tmp.glob("five.db*"))
    month_mb = db_bytes / sim_h * 24 * 30 / 1e6
    ms = [1000 * x for x in overhead[10:]]
    all_ms = [1000 * x for x in whole[10:]]
    base = [1000 * x for x in decide[10:]]
    print(f"controller overhead per cycle (CPU; I/O waits and Modbus requests excluded), "
          f"shrimp site, 6 devices, "
          f"{N_CYCLES} cycles ({1000 * wall:.0f} ms wall each with the simulator's step):")
    print(f"  p50 {pct(ms, 50):.2f} ms   p99 {pct(ms, 99):.2f} ms   (target p99 ≤ 5 ms: "
          f"{pct(ms, 99) / 5:.2f}× target)")
    print(f"  whole cycle with the Modbus client's CPU ({statistics.mean(requests[10:]):.1f} "
          f"read requests per cycle): p50 {pct(all_ms, 50):.2f}"
          f" ms, p99 {pct(all_ms, 99):.2f} ms")
    print(f"  baseline, strategies alone (decide_all): p50 {pct(base, 50):.3f} ms, p99 "
          f"{pct(base, 99):.3f} ms; the overhead is {pct(ms, 50) / pct(base, 50):.0f}× the "
          "strategies (decoding, snapshot, alarms, SQLite)")

    # 1b. The same without the RS485 gap: no idle wake-ups between requests.
    site_path = write_site(tmp, 5.0, gap_s=0.0)
    sim = SimProcess(site_path, pty_dir, speed=0)
    try:
        _, whole0, _, _, _ = asyncio.run(
            run_cycles(load_site(site_path), tmp / "nogap.db", pty_dir, sim, N_CYCLES))
    finally:
        sim.stop()
    all0_ms = [1000 * x for x in whole0[10:]]
    print(f"  whole cycle with the RS485 gap set to 0 (no idle wake-ups between requests): "
          f"p50 {pct(all0_ms, 50):.2f} ms, p99 {pct(all0_ms, 99):.2f} ms")
    print(f"SQLite: {db_bytes / 1e6:.2f} MB for {sim_h:.1f} simulated hours → "
          f"{month_mb:.0f} MB per site-month at cycle_s = 5 (raw samples kept 30 days)")

    # 2. RSS over a simulated week, cycle_s = 600.
    site_path = write_site(tmp, 600.0)
    site = load_site(site_path)
    sim = SimProcess(site_path, pty_dir, speed=0)
    rss: list[tuple[float, float]] = [(0.0, rss_mb())]
    try:
        asyncio.run(run_cycles(site, tmp / "week.db", pty_dir, sim, 7 * 144,
                               on_day=lambda d: rss.append((d, rss_mb()))))
    finally:
        sim.stop()
    print("RSS over a simulated week (cycle_s = 600, 1008 cycles): " + ", ".join(
        f"day {d:.0f} {mb:.0f} MB" for d, mb in rss))
    print(f"  day 1 → day 7 growth {rss[-1][1] - rss[1][1]:+.1f} MB; peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6:.0f} MB "
          "(target ≤ 150 MB, flat)")

    # 3. CPU share at cycle_s = 1: offgrid run against offgrid sim --speed 1.
    site_path = write_site(tmp, 1.0)
    sim = SimProcess(site_path, pty_dir, speed=1)
    run = subprocess.Popen([sys.executable, "-m", "offgrid", "run", str(site_path), "--db",
                            str(tmp / "one.db"), "--pty-dir", str(pty_dir)],
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(15)  # start-up (imports) excluded from the measurement
        c0, t0 = cpu_s(run.pid), time.monotonic()
        time.sleep(40)
        share = (cpu_s(run.pid) - c0) / (time.monotonic() - t0)
        with open(f"/proc/{run.pid}/statm", encoding="ascii") as f:
            run_rss = int(f.read().split()[1]) * PAGE / 1e6
    finally:
        run.send_signal(15)
        run.wait(timeout=30)
        sim.stop()
    print(f"CPU share at cycle_s = 1: {100 * share:.2f} % of a core (target ≤ 3 %: "
          f"{100 * share / 3:.2f}× target); RSS of `offgrid run` {run_rss:.0f} MB (the CLI "
          "imports every command)")


if __name__ == "__main__":
    main()
