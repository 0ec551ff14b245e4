"""Benchmark the monitoring API on loopback, against a year of 10-second samples.

    .venv/bin/python benchmarks/api_bench.py [--days 365] [--db PATH] [--seconds 10]

Builds (or reuses) a store holding ``--days`` of 10-second samples of the example site's main
points, with daily rollups, then starts ``offgrid serve`` (one uvicorn worker) and measures:

* ``/api/v1/history/site/pv_w`` for the last 24 h at 1-minute resolution: p50/p95 [ms];
* ``/api/v1/status``: p50/p95 [ms] one request at a time, and throughput [req/s] with
  concurrent clients;
* the same for ``/healthz`` (no key, one tiny query) as the baseline of this machine and run.

Targets: history p95 ≤ 50 ms, status p95 ≤ 10 ms, status throughput ≥ 500 req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import tomlkit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api import keys  # noqa: E402
from store import schema  # noqa: E402
from tests.support import free_port  # noqa: E402

EXAMPLE = ROOT / "examples" / "shrimp-bac-lieu.toml"
STEP_S = 10.0
POINTS = [("site", "soc_pct"), ("site", "pv_w"), ("site", "load_w"), ("site", "do_mg_l"),
          ("mppt-1", "pv_w"), ("mppt-2", "pv_w"), ("inverter", "ac_w"), ("relays", "relay_7")]
EXTRA_LATEST = [("relays", f"relay_{c}") for c in range(7)] + [
    ("inverter", "soc_pct"), ("inverter", "dc_w"), ("mppt-1", "charge_w"), ("mppt-2", "charge_w"),
    ("do-probe", "do_mg_l"), ("do-probe", "water_temp_c"), ("genset", "generator_running")] + [
    ("site", name) for name in ("battery_v", "battery_w", "water_temp_c", "generator_running",
                                "fuel_pct")]  # the rest of the site figures the status shows


def build(path: Path, days: int) -> None:
    """A store with ``days`` of 10-second samples ending now, and daily rollups and energy
    (bulk SQL: the controller's writer would take hours for a year of samples)."""
    schema.migrate(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    end = time.time()
    n = int(days * 86400 / STEP_S)
    ts = end - STEP_S * np.arange(n)[::-1]
    hour = (ts / 3600.0 + 7) % 24
    sun = np.clip(np.sin(np.pi * (hour - 6) / 12), 0, None)
    series = {
        ("site", "soc_pct"): 55 + 35 * sun, ("site", "pv_w"): 40_000 * sun,
        ("site", "load_w"): 6000 + 1500 * np.sin(ts / 5000.0), ("site", "do_mg_l"): 5 + 2 * sun,
        ("mppt-1", "pv_w"): 20_000 * sun, ("mppt-2", "pv_w"): 20_000 * sun,
        ("inverter", "ac_w"): 6000 + 1500 * np.sin(ts / 5000.0),
        ("relays", "relay_7"): (hour > 17).astype(float),
    }
    for dev, pt in POINTS + EXTRA_LATEST:
        conn.execute("INSERT OR IGNORE INTO points (device, point) VALUES (?, ?)", (dev, pt))
    ids = dict(((d, p), i) for i, d, p in conn.execute("SELECT id, device, point FROM points"))
    chunk = 500_000
    for (dev, pt), values in series.items():
        pid = ids[dev, pt]
        for lo in range(0, n, chunk):
            rows = zip(ts[lo:lo + chunk].tolist(), [pid] * len(ts[lo:lo + chunk]),
                       values[lo:lo + chunk].tolist(), ["good"] * len(ts[lo:lo + chunk]),
                       strict=True)
            conn.executemany("INSERT INTO samples (ts, point_id, value, quality)"
                             " VALUES (?, ?, ?, ?)", rows)
        conn.commit()
        print(f"  {dev}/{pt}: {n:,} samples", flush=True)
    latest = [(d, p, float(series[d, p][-1]) if (d, p) in series else 1.0, "good", end)
              for d, p in POINTS + EXTRA_LATEST]
    conn.executemany("INSERT OR REPLACE INTO latest VALUES (?, ?, ?, ?, ?)", latest)
    day0 = math.floor((end + 7 * 3600) / 86400) * 86400 - 7 * 3600
    rollups = [("1d", day0 - 86400 * d, "site", None, None, 55.0, 90.0, 19.0, 5.0, 86400.0)
               for d in range(days)]
    conn.executemany("INSERT OR REPLACE INTO rollups VALUES (?,?,?,?,?,?,?,?,?,?)", rollups)
    energy = [("1d", day0 - 86400 * d, src, cat, method, wh, 86400.0)
              for d in range(days)
              for src, cat, method, wh in (("site", "pv", "counter", 300_000.0),
                                           ("site", "load", "integrated", 150_000.0),
                                           ("mppt-1", "pv", "counter", 150_000.0),
                                           ("mppt-2", "pv", "counter", 150_000.0))]
    conn.executemany("INSERT OR REPLACE INTO energy VALUES (?,?,?,?,?,?,?)", energy)
    conn.commit()
    conn.close()


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


class Conn:
    """A minimal HTTP/1.1 keep-alive client (like wrk): the load generator must cost less
    than the server it measures, which httpx's async client does not on a small machine."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode())
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        return int(status_line.split()[1]), body

    def close(self) -> None:
        self.writer.close()


async def latency(port: int, path: str, headers: dict[str, str], n: int) -> list[float]:
    """One request at a time: each one's round trip [ms]."""
    c = await Conn.open(port)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        status, body = await c.get(path, headers)
        out.append((time.perf_counter() - t) * 1000)
        assert status == 200, body[:200]
    c.close()
    return out


async def throughput(port: int, path: str, headers: dict[str, str], seconds: float,
                     connections: int) -> float:
    """Requests per second with ``connections`` clients each sending back to back."""
    done = 0
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        c = await Conn.open(port)
        while time.perf_counter() < stop:
            status, _ = await c.get(path, headers)
            assert status == 200
            done += 1
        c.close()

    t = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return done / (time.perf_counter() - t)


async def measure(port: int, key: str, seconds: float) -> None:
    h = {"X-API-Key": key}
    history = "/api/v1/history/site/pv_w?resolution=1m"
    await latency(port, "/api/v1/status", h, 50)  # warm up
    _, body = await (await Conn.open(port)).get(history, h)
    print(f"history 24 h at 1 min: {len(json.loads(body)['t'])} buckets")
    hist = await latency(port, history, h, 200)
    status_ms = await latency(port, "/api/v1/status", h, 1000)
    health = await latency(port, "/healthz", {}, 1000)
    status_rps = await throughput(port, "/api/v1/status", h, seconds, connections=8)
    health_rps = await throughput(port, "/healthz", {}, seconds, connections=8)
    print(f"{'':28}{'p50 ms':>9}{'p95 ms':>9}{'target':>10}")
    print(f"{'history 24 h @ 1 min':28}{pct(hist, 50):9.2f}{pct(hist, 95):9.2f}{'≤ 50':>10}")
    print(f"{'/api/v1/status':28}{pct(status_ms, 50):9.2f}{pct(status_ms, 95):9.2f}{'≤ 10':>10}")
    print(f"{'/healthz (baseline)':28}{pct(health, 50):9.2f}{pct(health, 95):9.2f}")
    print(f"status throughput, 1 worker: {status_rps:,.0f} req/s (target ≥ 500); "
          f"baseline /healthz {health_rps:,.0f} req/s; ratio {status_rps / health_rps:.2f}")
    print(f"p95 ratios to /healthz: status {pct(status_ms, 95) / pct(health, 95):.2f}, "
          f"history {pct(hist, 95) / pct(health, 95):.2f}")
    ok = pct(hist, 95) <= 50 and pct(status_ms, 95) <= 10 and status_rps >= 500
    print("targets met" if ok else "TARGETS NOT MET")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--db", type=Path, help="reuse or create this database")
    ap.add_argument("--seconds", type=float, default=10.0, help="throughput run length")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="offgrid-bench-"))
    db = args.db or tmp / "bench.db"
    if not db.exists():
        print(f"building {db}: {args.days} days of {STEP_S:g}-second samples …", flush=True)
        t = time.perf_counter()
        build(db, args.days)
        print(f"built in {time.perf_counter() - t:.0f} s, {db.stat().st_size / 1e9:.2f} GB")
    conn = keys.connect(db)
    key = keys.create_key(conn, keys.Role.viewer, "bench", by="bench")[0]
    conn.close()
    doc = tomlkit.parse(EXAMPLE.read_text(encoding="utf-8"))
    port = free_port()
    doc["api"]["database"] = str(db.resolve())
    doc["api"]["port"] = port
    doc["api"]["rate_limit_per_min"] = 10**9
    site = tmp / "site.toml"
    site.write_text(tomlkit.dumps(doc), encoding="utf-8")
    server = subprocess.Popen([sys.executable, "-m", "offgrid", "serve", str(site)], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        asyncio.run(measure(port, key, args.seconds))
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(tmp)  # the site file, and the database unless --db named one


if __name__ == "__main__":
    main()
