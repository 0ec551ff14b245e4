"""Telemetry: which values go to the store (deadband and heartbeat), the site's figures as
samples, and each source's rollup.

:class:`Deadband` is the only state here; everything else is a pure function of the cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from controller.devices.values import Reading
from controller.model import Plan, Snapshot, Unit
from sitefile import AeratorLoad, Site
from store.contract import (
    SITE_FIGURES,
    SITE_SOURCE,
    EnergyStep,
    RollupDelta,
    Sample,
)

SAMPLE_DEADBAND = 0.01
"""A value is stored as a sample when it moves by more than 1 % of itself."""
SAMPLE_HEARTBEAT_S = 300.0
"""…and at least every 5 minutes [s]."""


def as_sample(device: str, point: str, r: Reading) -> Sample | None:
    """A numeric or boolean reading as a sample (None for text), stamped with its time."""
    if isinstance(r.value, str):
        return None
    value = float(r.value) if isinstance(r.value, int | float) else None
    return Sample(device, point, value, r.quality.value, r.ts.timestamp())


@dataclass
class Deadband:
    """The last sample stored, and the last row written to ``latest``, of each (device, point).

    ``latest`` holds every value as last read: its ``ts`` moves with each new read, changed
    or not, so that it tells the time of the last good read (the store's contract); a stale
    value, not read again, keeps its ``ts``. ``samples`` keep the history compact: a row when
    the value moves beyond :data:`SAMPLE_DEADBAND` or its quality changes, and at least every
    :data:`SAMPLE_HEARTBEAT_S`.
    """

    stored: dict[tuple[str, str], Sample] = field(default_factory=dict)
    latest: dict[tuple[str, str], Sample] = field(default_factory=dict)

    def changed(self, s: Sample) -> tuple[bool, bool]:
        """(store as a sample, update ``latest``)."""
        key = (s.device, s.point)
        if self.latest.get(key) == s:
            return False, False  # nothing new: a value not read again
        self.latest[key] = s
        last = self.stored.get(key)
        sample = (last is None or last.quality != s.quality or s.value is None
                  or last.value is None or s.ts - last.ts >= SAMPLE_HEARTBEAT_S
                  or abs(s.value - last.value) > SAMPLE_DEADBAND * max(abs(s.value),
                                                                       abs(last.value)))
        if sample:
            self.stored[key] = s
        return sample, True

    def split(self, values: Iterable[Sample]) -> tuple[list[Sample], list[Sample]]:
        """(samples to store, ``latest``-only updates) among ``values``."""
        samples: list[Sample] = []
        latest: list[Sample] = []
        for s in values:
            sample, changed = self.changed(s)
            if sample:
                samples.append(s)
            elif changed:
                latest.append(s)
        return samples, latest


def device_samples(per_dev: Mapping[str, Mapping[str, Reading]]) -> list[Sample]:
    """Every public point of every device, stamped with the time it was read."""
    out = []
    for name, readings in per_dev.items():
        for point, r in readings.items():
            if not point.startswith("_") and (s := as_sample(name, point, r)) is not None:
                out.append(s)
    return out


def site_samples(snap: Snapshot, extra: Mapping[str, float | None]) -> list[Sample]:
    """Every name of ``SITE_FIGURES`` as a sample of ``site``, stamped with the time its
    inputs were read (the oldest of them), and ``extra`` values of this cycle (good, or
    missing when None)."""
    out = []
    for name in SITE_FIGURES:
        s = as_sample(SITE_SOURCE, name, getattr(snap, name))
        assert s is not None
        out.append(s)
    out += [Sample(SITE_SOURCE, k, v, "good" if v is not None else "missing", snap.wall_ts)
            for k, v in extra.items()]
    return out


def aerators_running(site: Site, plan: Plan, snap: Snapshot,
                     failed: Mapping[Unit, float]) -> int | None:
    """Aerator units running: each as written this cycle (``plan``, what was applied), else
    as its relay reads back; a unit whose start was not seen in the load (``failed``) does
    not run. None when a unit's relay is unknown (a read-back of unknown quality is unknown,
    not off)."""
    running = 0
    for load in site.loads:
        if not isinstance(load, AeratorLoad) or load.switch is None:
            continue
        outs = snap.outputs.get(load.name, ())
        for u in range(len(load.switch.channels)):
            on = plan.units.get((load.name, u), outs[u] if u < len(outs) else None)
            if on is None:
                return None
            running += bool(on) and (load.name, u) not in failed
    return running


def rollups(snap: Snapshot, energy: Mapping[str, tuple[EnergyStep, ...]],
            site_energy: tuple[EnergyStep, ...], aerator_h: float | None
            ) -> dict[str, RollupDelta]:
    """Each device's energy as detail, and the site's rollup: its energy per category
    (computed once, by :func:`controller.energy.site_energy`), SOC, DO and aerator-hours."""
    out = {name: RollupDelta(energy=steps) for name, steps in energy.items()}
    out[SITE_SOURCE] = RollupDelta(energy=site_energy, soc_pct=snap.value("soc_pct"),
                                   do_mg_l=snap.value("do_mg_l"), aerator_h=aerator_h)
    return out
