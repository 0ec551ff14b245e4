"""A light site: about forty channels a minute from a few lines of physics, not a plant model.

Each site is a :class:`SiteSpec` (its size, kind, place and seed) and a :class:`SiteModel`
that steps it minute by minute: the sun's elevation from the day of the year and the local
solar time, clouds as a slowly drifting random opacity, PV power from the irradiance, loads
with an evening peak (a village) or aerators that all run at night (a shrimp farm), a battery
whose state of charge integrates its net power, a generator that starts at low charge where
the site has one, loads shed below a threshold (an interruption of their customers), and the
ponds' dissolved oxygen, made by algae in the sun and used up at night, so that it is lowest
before dawn. Everything is drawn from one ``random.Random`` seeded from the spec: the same
spec gives the same records.

Pure: no I/O, no clock. Times are [ms since the Unix epoch, UTC]; powers [W]; energies [kWh].
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Final, Literal

from fleetwire.batch import Record
from fleetwire.messages import Alarm, Interruption
from store.contract import SITE_FIGURES

SiteKind = Literal["pond", "village"]
PROVINCES: Final = ("Cà Mau", "Bạc Liêu", "Sóc Trăng", "Kiên Giang", "Quảng Ninh")
"""Where the simulated sites are: the Mekong delta's shrimp provinces and an island province."""
LONGITUDES: Final = {"Cà Mau": 105.15, "Bạc Liêu": 105.72, "Sóc Trăng": 105.97,
                     "Kiên Giang": 104.8, "Quảng Ninh": 107.3}
LATITUDES: Final = {"Cà Mau": 9.18, "Bạc Liêu": 9.29, "Sóc Trăng": 9.6,
                    "Kiên Giang": 10.0, "Quảng Ninh": 21.0}
PONDS: Final = 4
FEEDERS: Final = 4
INVERTER_EFFICIENCY: Final = 0.94
BATTERY_EFFICIENCY: Final = 0.97
"""One way, charge or discharge (about 94 % round trip, LFP)."""
DO_SATURATION_MG_L: Final = 7.5
"""Dissolved oxygen at saturation in warm brackish water [mg/L]."""
MINUTE_MS: Final = 60_000
DEVICES: Final = (
    ("genset", ("generator_", "fuel_")), ("weather", ("irradiance_", "module_", "ambient_",
                                                   "humidity_")),
    ("charger", ("pv_", "curtailed_")), ("battery", ("battery_", "charge_", "discharge_")),
    ("ponds", ("pond_", "aerator_", "salinity_")), ("relays", ("relay_",)),
    ("meters", ("feeder_",)), ("box", ("cpu_", "rssi_")),
)
"""The device that measures each point, by the point's prefix (the inverter otherwise)."""


def channel(point: str) -> str:
    """A point's channel name as a real site's uplink names it, ``<device>/<point>``: the
    site figures under ``site`` (as the controller publishes them), the rest under the device
    of :data:`DEVICES` that would measure it."""
    if point in SITE_FIGURES:
        return f"site/{point}"
    device = next((d for d, prefixes in DEVICES if point.startswith(prefixes)), "inverter")
    return f"{device}/{point}"


DEVICE_FAULTS_PER_H: Final = 0.04
"""How often a site loses one of its devices for 20 min to 3 h (a ``device_offline`` alarm)
[per hour]."""


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """One light site: its id and meta (as its State sends them), its size and its seed.

    ``latitude_deg``/``longitude_deg`` [°]; ``pv_kwp`` [kWp]; ``battery_kwh`` [kWh];
    ``load_kw`` [kW] the mean load; ``generator_kw`` [kW] (0: none); ``min_soc_pct`` where
    loads are shed, ``reconnect_soc_pct`` where they come back [%]."""

    site: str
    name: str
    province: str
    kind: SiteKind
    customers: int
    latitude_deg: float
    longitude_deg: float
    pv_kwp: float
    battery_kwh: float
    load_kw: float
    generator_kw: float
    seed: int
    min_soc_pct: float = 20.0
    reconnect_soc_pct: float = 35.0
    max_soc_pct: float = 100.0
    groups: tuple[str, ...] = ()


def fleet_specs(n: int, seed: int = 0, prefix: str = "sim") -> list[SiteSpec]:
    """``n`` sites ``<prefix>-00001``…, spread over :data:`PROVINCES`, two in three shrimp
    farms, sized and seeded from ``seed`` (the same arguments give the same fleet)."""
    rng = random.Random(seed)
    specs = []
    for i in range(1, n + 1):
        province = PROVINCES[(i - 1) % len(PROVINCES)]
        kind: SiteKind = "village" if i % 3 == 0 else "pond"
        load_kw = rng.uniform(3.0, 12.0) if kind == "pond" else rng.uniform(2.0, 8.0)
        pv_kwp = load_kw * rng.uniform(5.5, 8.0)
        word = "Ao tôm" if kind == "pond" else "Làng"
        specs.append(SiteSpec(
            site=f"{prefix}-{i:05d}", name=f"{word} {province} {i}", province=province,
            kind=kind, customers=rng.randint(1, 4) if kind == "pond" else rng.randint(20, 120),
            latitude_deg=LATITUDES[province] + rng.uniform(-0.3, 0.3),
            longitude_deg=LONGITUDES[province] + rng.uniform(-0.3, 0.3),
            pv_kwp=round(pv_kwp, 1), battery_kwh=round(load_kw * rng.uniform(17.0, 25.0), 1),
            load_kw=round(load_kw, 2),
            generator_kw=round(load_kw * 1.5, 1) if rng.random() < 0.4 else 0.0,
            seed=rng.getrandbits(32), groups=(f"{word.lower()}",)))
    return specs


def clear_sky_w_m2(latitude_deg: float, longitude_deg: float, wall_ms: int) -> float:
    """Global horizontal irradiance under a clear sky [W m-2] at ``wall_ms`` [ms, UTC]: the
    sun's elevation from the declination and the hour angle (local solar time from the
    longitude), and 1000 W m-2 × sin(elevation)^1.15."""
    day = wall_ms / 86_400_000.0
    doy = (day % 365.25) + 1.0
    declination = math.radians(23.44) * math.sin(2.0 * math.pi * (284.0 + doy) / 365.0)
    solar_h = ((day % 1.0) * 24.0 + longitude_deg / 15.0) % 24.0
    hour_angle = math.radians(15.0 * (solar_h - 12.0))
    lat = math.radians(latitude_deg)
    sin_elev = (math.sin(lat) * math.sin(declination)
                + math.cos(lat) * math.cos(declination) * math.cos(hour_angle))
    return 1000.0 * sin_elev ** 1.15 if sin_elev > 0 else 0.0


def local_hour(longitude_deg: float, wall_ms: int) -> float:
    """The local solar time at ``wall_ms`` [h, 0–24]."""
    return ((wall_ms / 3_600_000.0) + longitude_deg / 15.0) % 24.0


@dataclass
class SiteModel:
    """One site stepped minute by minute (:meth:`step`): its physical state, its counters, and
    the alarms and interruptions it raised since they were last taken (:meth:`take_events`).

    ``boot`` and ``seq`` key the records (``seq`` counts on across calls); ``epoch`` keys the
    interruptions (as a site database's epoch does)."""

    spec: SiteSpec
    wall_ms: int
    boot: int = 1
    seq: int = 0
    mono_ms: int = 0
    soc_pct: float = 70.0
    do_mg_l: float = 6.0
    opacity: float = 0.2
    fuel_pct: float = 80.0
    generator_on: bool = False
    shed: bool = False
    pv_kwh: float = 0.0
    load_kwh: float = 0.0
    charge_kwh: float = 0.0
    discharge_kwh: float = 0.0
    epoch: int = 0
    rng: random.Random = field(default_factory=random.Random)
    alarms: list[Alarm] = field(default_factory=list)
    interruptions: list[Interruption] = field(default_factory=list)
    _alarm_seq: int = 0
    _cut_seq: int = 0
    _cut_start_ms: int | None = None
    _do_low: bool = False
    _fault_until_ms: int | None = None

    @classmethod
    def start(cls, spec: SiteSpec, wall_ms: int) -> SiteModel:
        """The site at ``wall_ms`` [ms, UTC], in a state drawn from its seed."""
        rng = random.Random(spec.seed)
        return cls(spec=spec, wall_ms=wall_ms - wall_ms % MINUTE_MS, rng=rng,
                   soc_pct=rng.uniform(55.0, 90.0), do_mg_l=rng.uniform(5.5, 7.0),
                   opacity=rng.uniform(0.0, 0.5), fuel_pct=rng.uniform(40.0, 95.0),
                   epoch=rng.getrandbits(40), boot=rng.randint(1, 50))

    def _alarm(self, kind: str, active: bool, severity: str, detail: str) -> None:
        self._alarm_seq += 1
        self.alarms.append(Alarm(site=self.spec.site, boot=self.epoch, seq=self._alarm_seq,
                                 mono_ms=self.mono_ms, wall_ms=self.wall_ms, clock_trusted=True,
                                 kind=kind, active=active, severity=severity, detail=detail))

    def _cut(self, start: bool) -> None:
        if start:
            self._cut_seq += 1
            self._cut_start_ms = self.wall_ms
        assert self._cut_start_ms is not None
        self.interruptions.append(Interruption(
            boot=self.epoch, seq=self._cut_seq, load="loads" if self.spec.kind == "village"
            else "aerators", cause="low_soc", start_ms=self._cut_start_ms,
            end_ms=None if start else self.wall_ms,
            customers=self.spec.customers, planned=False))

    def take_events(self) -> tuple[list[Alarm], list[Interruption]]:
        """The alarms and interruptions since the last call (then forgotten here)."""
        out = (self.alarms, self.interruptions)
        self.alarms, self.interruptions = [], []
        return out

    def _demand_w(self, hour: float) -> tuple[float, list[float], int]:
        """The load wanted now [W], its parts (aerators or feeders) [W], and for a farm the
        aerators running."""
        s, rng = self.spec, self.rng
        if s.kind == "pond":
            night = hour >= 18.0 or hour < 7.0
            running = PONDS if night else PONDS // 2
            each = 0.8 * s.load_kw * 1000.0 / (0.75 * PONDS)
            parts = [each * rng.uniform(0.97, 1.03) if k < running else 0.0
                     for k in range(PONDS)]
            return 0.2 * s.load_kw * 1000.0 + sum(parts), parts, running
        shape = (0.45 + 0.35 * math.exp(-((hour - 7.0) / 1.5) ** 2)
                 + 1.6 * math.exp(-((hour - 19.5) / 1.8) ** 2) + 0.25 * (9.0 <= hour < 17.0))
        total = s.load_kw * 1000.0 * shape * rng.uniform(0.9, 1.1)
        shares = (0.4, 0.3, 0.2, 0.1)
        return total, [total * f for f in shares], 0

    def step(self, dt_s: float = 60.0) -> Record:
        """The record at the current minute; then the state moves on by ``dt_s`` [s]."""
        s, rng = self.spec, self.rng
        hour = local_hour(s.longitude_deg, self.wall_ms)
        self.opacity = min(max(0.985 * self.opacity + rng.gauss(0.003, 0.03), 0.0), 0.95)
        ghi = clear_sky_w_m2(s.latitude_deg, s.longitude_deg, self.wall_ms) * (
            1.0 - 0.8 * self.opacity)
        ambient = 27.0 + 4.0 * math.sin(2.0 * math.pi * (hour - 9.0) / 24.0)
        module = ambient + 0.03 * ghi
        pv_avail = s.pv_kwp * ghi * 0.85 * (1.0 - 0.004 * (module - 25.0))
        wanted, parts, aerators = self._demand_w(hour)
        if self.shed:
            keep = 0.25
            wanted, parts = wanted * keep, [p * keep for p in parts]
            aerators = min(aerators, 1)
        if s.generator_kw > 0:
            if not self.generator_on and self.soc_pct < s.min_soc_pct + 10.0 and (
                    self.fuel_pct > 5.0):
                self.generator_on = True
            elif self.generator_on and (self.soc_pct > 60.0 or self.fuel_pct <= 5.0):
                self.generator_on = False
        gen_w = s.generator_kw * 1000.0 * 0.9 if self.generator_on else 0.0
        dc_load = wanted / INVERTER_EFFICIENCY
        max_w = 0.5 * s.battery_kwh * 1000.0  # 0.5 C
        net = pv_avail + gen_w - dc_load
        if net >= 0.0:
            room = (s.max_soc_pct - self.soc_pct) / 100.0 * s.battery_kwh * 1000.0 * 3600.0 / (
                dt_s * BATTERY_EFFICIENCY)
            battery_w = min(net, max_w, max(room, 0.0))
            pv_w = max(pv_avail - (net - battery_w), 0.0)
        elif self.shed and self.soc_pct <= s.min_soc_pct - 5.0:
            # nearly empty: the inverter serves only what the sun and the generator give
            battery_w, pv_w = 0.0, pv_avail
            wanted = (pv_avail + gen_w) * INVERTER_EFFICIENCY
            parts = [0.0] * len(parts)
            aerators = 0
        else:
            battery_w = max(net, -max_w)
            pv_w = pv_avail
        curtailed = pv_avail - pv_w
        factor = BATTERY_EFFICIENCY if battery_w >= 0 else 1.0 / BATTERY_EFFICIENCY
        battery_v = 48.0 + 0.064 * self.soc_pct + battery_w / 48.0 * 0.01
        battery_a = battery_w / battery_v
        water = 29.0 + 1.5 * math.sin(2.0 * math.pi * (hour - 10.0) / 24.0)
        values: dict[str, float | None] = {
            "soc_pct": self.soc_pct, "battery_v": battery_v, "battery_a": battery_a,
            "battery_w": battery_w, "battery_temp_c": ambient + 2.0 + abs(battery_a) * 0.02,
            "pv_w": pv_w, "pv_v": (120.0 + 0.02 * ghi) if pv_w > 0 else 0.0,
            "pv_a": pv_w / (120.0 + 0.02 * ghi) if pv_w > 0 else 0.0,
            "pv_kwh": self.pv_kwh, "irradiance_w_m2": ghi, "module_temp_c": module,
            "ambient_temp_c": ambient, "humidity_pct": 75.0 - 15.0 * math.sin(
                2.0 * math.pi * (hour - 9.0) / 24.0),
            "load_w": wanted, "load_kwh": self.load_kwh,
            "ac_v": 230.0 + rng.uniform(-2.0, 2.0) - wanted / (s.load_kw * 1000.0),
            "ac_hz": 50.0 + rng.uniform(-0.05, 0.05), "ac_a": wanted / 230.0,
            "inverter_temp_c": ambient + 5.0 + 15.0 * wanted / (3.0 * s.load_kw * 1000.0),
            "charge_kwh": self.charge_kwh, "discharge_kwh": self.discharge_kwh,
            "curtailed_w": curtailed, "loads_shed": float(self.shed),
            "cpu_temp_c": 45.0 + 0.3 * ambient, "rssi_dbm": -85.0 + rng.uniform(-6.0, 6.0),
        }
        if s.generator_kw > 0:
            values |= {"generator_running": float(self.generator_on), "generator_w": gen_w,
                       "fuel_pct": self.fuel_pct}
        if s.kind == "pond":
            ponds = [self.do_mg_l + 0.35 * k * (1.0 if ghi > 0 else 0.4) for k in range(PONDS)]
            values |= {f"pond_{k + 1}_do_mg_l": ponds[k] + rng.gauss(0.0, 0.02)
                       for k in range(PONDS)}
            values |= {"do_mg_l": min(values[f"pond_{k + 1}_do_mg_l"] or 0.0
                                      for k in range(PONDS)),
                       "water_temp_c": water, "aerator_w": sum(parts), "salinity_ppt": 15.0}
            values |= {f"relay_{k + 1}": float(p > 0) for k, p in enumerate(parts)}
        else:
            values |= {f"feeder_{k + 1}_w": p for k, p in enumerate(parts)}
            values |= {f"relay_{k + 1}": float(not self.shed or k == 0) for k in range(FEEDERS)}
            tank_pct = 50.0 + 30.0 * math.sin(2.0 * math.pi * (hour - 11.0) / 24.0)
            values |= {"pump_w": 750.0 if 8.0 <= hour < 11.0 else 0.0,
                       "tank_level_pct": tank_pct}
        record = Record(boot=self.boot, seq=self.seq, mono_ms=self.mono_ms,
                        wall_ms=self.wall_ms, clock_trusted=True,
                        values={channel(k): v for k, v in values.items()})
        # move on: integrate the energies over the step
        hours = dt_s / 3600.0
        self.soc_pct += battery_w * factor * hours / (s.battery_kwh * 1000.0) * 100.0
        self.soc_pct = min(max(self.soc_pct, 0.0), s.max_soc_pct)
        self.pv_kwh += pv_w * hours / 1000.0
        self.load_kwh += wanted * hours / 1000.0
        self.charge_kwh += max(battery_w, 0.0) * hours / 1000.0
        self.discharge_kwh += max(-battery_w, 0.0) * hours / 1000.0
        if self.generator_on:
            self.fuel_pct = max(self.fuel_pct - 0.004 * dt_s / 60.0, 0.0)
        if s.kind == "pond":
            photo = 4.0 * ghi / 1000.0
            aeration = 0.06 * aerators / PONDS * 2.0 * (DO_SATURATION_MG_L - self.do_mg_l)
            self.do_mg_l += (photo - 0.5 + aeration) * hours
            self.do_mg_l = min(max(self.do_mg_l, 0.5), 14.0)
        self._events(s, values)
        self.seq += 1
        self.mono_ms += int(dt_s * 1000)
        self.wall_ms += int(dt_s * 1000)
        return record

    def _events(self, s: SiteSpec, values: dict[str, float | None]) -> None:
        """Shed or restore the loads (an interruption starts or ends), raise or clear the
        low-oxygen alarm, and now and then lose a device for a while, from the state just
        stepped."""
        if not self.shed and self.soc_pct <= s.min_soc_pct:
            self.shed = True
            self._cut(start=True)
            self._alarm("low_soc", True, "warning", f"SOC {self.soc_pct:.1f} %")
        elif self.shed and self.soc_pct >= s.reconnect_soc_pct:
            self.shed = False
            self._cut(start=False)
            self._alarm("low_soc", False, "warning", f"SOC {self.soc_pct:.1f} %")
        if self._fault_until_ms is not None and self.wall_ms >= self._fault_until_ms:
            self._fault_until_ms = None
            self._alarm("device_offline", False, "warning", "probe")
        elif self._fault_until_ms is None and self.rng.random() < DEVICE_FAULTS_PER_H / 60.0:
            self._fault_until_ms = self.wall_ms + int(self.rng.uniform(20.0, 180.0) * MINUTE_MS)
            self._alarm("device_offline", True, "warning", "probe")
        do = values.get("do_mg_l")
        if do is not None:
            if not self._do_low and do < 4.0:
                self._do_low = True
                self._alarm("low_do", True, "critical", f"DO {do:.2f} mg/L")
            elif self._do_low and do > 4.5:
                self._do_low = False
                self._alarm("low_do", False, "critical", f"DO {do:.2f} mg/L")
