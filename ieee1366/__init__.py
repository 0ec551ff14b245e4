"""The programme's reliability figures, defined once (IEEE Std 1366, as utilities report them).

The ground floor of the house beside :mod:`sitefile`: it imports only the standard library, and
everything that shows a SAIDI, SAIFI or MAIFI figure (sizing's kernel, the controller's store,
the site API, its dashboard and the report) computes it here.

- An **interruption** is a contiguous time in which one load is not fully served because of
  shortage, protection, a fault or a planned cut. It interrupts that load's ``customers``.
- Interruptions shorter than :data:`MOMENTARY_MINUTES` are **momentary**: they count in MAIFI,
  never in SAIDI or SAIFI.
- ``SAIDI = Σ customer-minutes of sustained interruptions / customers served`` [min],
  ``SAIFI = Σ customers interrupted (sustained) / customers served``,
  ``MAIFI = Σ customers momentarily interrupted / customers served``; each per year when the
  figures cover several years. Planned cuts count in all three (as the programme counts them)
  and are also reported apart.
- Flexible loads (air conditioners, ice makers, deferrable pumps) are *curtailed*, not
  interrupted: callers never pass them here and report their curtailment on its own.

:func:`add_interruption` is plain arithmetic on a flat accumulator so that the sizing kernel
compiles the very same function with numba (``njit(add_interruption)``) and calls it as each
interruption ends; :func:`interruption_indices` is the same sum over a list of intervals, for the
store; :func:`indices_from` turns an accumulator into the published figures.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableSequence, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "ACC_KEYS",
    "ACC_SIZE",
    "LOSSES_TARGET_PCT",
    "MOMENTARY_MINUTES",
    "SAIDI_TARGET_MINUTES",
    "SAIFI_TARGET_COUNT",
    "Indices",
    "Interval",
    "add_interruption",
    "indices_from",
    "interruption_indices",
    "losses_pct",
    "new_accumulator",
]

MOMENTARY_MINUTES = 5.0
"""Interruptions shorter than this are momentary (IEEE 1366: MAIFI, not SAIFI) [min]."""
SAIDI_TARGET_MINUTES = 150.0
"""The programme's limit on SAIDI, planned cuts included [min/year]."""
SAIFI_TARGET_COUNT = 3.0
"""The programme's limit on SAIFI, planned cuts included [interruptions/year]."""
LOSSES_TARGET_PCT = 6.0
"""The programme's limit on conversion losses, as a share of the energy delivered to loads [%]."""

ACC_KEYS: tuple[str, ...] = (
    "customer_minutes_unplanned", "customer_minutes_planned", "customers_interrupted_unplanned",
    "customers_interrupted_planned", "customers_momentary", "sustained_interruptions",
    "momentary_interruptions",
)
"""The names of an accumulator's slots, in order (for callers that keep it in a wider array)."""
# The accumulator's slots [customer-minutes or customers].
_CM_UNPLANNED = 0
_CM_PLANNED = 1
_CI_UNPLANNED = 2
_CI_PLANNED = 3
_CM_MOMENTARY = 4  # customers momentarily interrupted (MAIFI's numerator)
_N_SUSTAINED = 5  # interruption events (each load's interval once), for the record
_N_MOMENTARY = 6
ACC_SIZE = len(ACC_KEYS)
"""Length of an accumulator (:func:`new_accumulator`)."""


def new_accumulator() -> list[float]:
    """An empty accumulator for :func:`add_interruption`."""
    return [0.0] * ACC_SIZE


def add_interruption(acc: MutableSequence[float] | Any, minutes: float, customers: float,
                     planned: bool, at: int = 0) -> None:
    """Add one interruption of ``customers`` lasting ``minutes`` [min] to the accumulator held
    in ``acc[at:at + ACC_SIZE]``.

    Plain arithmetic on purpose: sizing's kernel compiles this same function with numba (and
    keeps its accumulators inside its summary array, hence ``at``).
    """
    if minutes <= 0.0:
        return
    if minutes < MOMENTARY_MINUTES:
        acc[at + _CM_MOMENTARY] += customers
        acc[at + _N_MOMENTARY] += 1.0
        return
    if planned:
        acc[at + _CM_PLANNED] += customers * minutes
        acc[at + _CI_PLANNED] += customers
    else:
        acc[at + _CM_UNPLANNED] += customers * minutes
        acc[at + _CI_UNPLANNED] += customers
    acc[at + _N_SUSTAINED] += 1.0


@dataclass(frozen=True)
class Indices:
    """SAIDI, SAIFI and MAIFI of one period (per year when it spans several years)."""

    saidi_minutes: float
    """All sustained interruptions, planned included [min/year]."""
    saifi_count: float
    """[interruptions/year]."""
    maifi_count: float
    """Momentary interruptions [interruptions/year]."""
    saidi_planned_minutes: float
    """The planned part of ``saidi_minutes`` [min/year]."""
    saifi_planned_count: float
    """The planned part of ``saifi_count``."""
    interruptions: float
    """Sustained interruption events (each load's interval once) [per year]."""
    momentary_interruptions: float
    """[per year]."""

    @property
    def saidi_unplanned_minutes(self) -> float:
        """[min/year]."""
        return self.saidi_minutes - self.saidi_planned_minutes

    @property
    def saifi_unplanned_count(self) -> float:
        """[interruptions/year]."""
        return self.saifi_count - self.saifi_planned_count

    def as_dict(self) -> dict[str, Any]:
        """All figures, the unplanned parts included."""
        return {**asdict(self), "saidi_unplanned_minutes": self.saidi_unplanned_minutes,
                "saifi_unplanned_count": self.saifi_unplanned_count}


def indices_from(acc: Sequence[float] | Sequence[Any], customers_served: float,
                 years: float = 1.0) -> Indices:
    """The published figures of an accumulator over ``customers_served`` customers and
    ``years`` years (1 for a month or a single year: the figures of that period).

    The slots may also be numpy arrays (one value per design and year, as the optimiser keeps
    them): the arithmetic is elementwise and the figures come back as arrays."""
    if customers_served <= 0.0 or years <= 0.0:
        return Indices(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    per = 1.0 / (customers_served * years)
    return Indices(
        saidi_minutes=(acc[_CM_UNPLANNED] + acc[_CM_PLANNED]) * per,
        saifi_count=(acc[_CI_UNPLANNED] + acc[_CI_PLANNED]) * per,
        maifi_count=acc[_CM_MOMENTARY] * per,
        saidi_planned_minutes=acc[_CM_PLANNED] * per,
        saifi_planned_count=acc[_CI_PLANNED] * per,
        interruptions=acc[_N_SUSTAINED] / years,
        momentary_interruptions=acc[_N_MOMENTARY] / years,
    )


@dataclass(frozen=True)
class Interval:
    """One load's interruption: ``start_s`` to ``end_s`` [s, any common origin]."""

    start_s: float
    end_s: float
    customers: float
    planned: bool = False

    @property
    def minutes(self) -> float:
        """[min]."""
        return (self.end_s - self.start_s) / 60.0


def interruption_indices(intervals: Iterable[Interval], customers_served: float,
                         years: float = 1.0) -> Indices:
    """SAIDI, SAIFI and MAIFI of a set of interruptions (:func:`add_interruption` on each)."""
    acc = new_accumulator()
    for iv in intervals:
        add_interruption(acc, iv.minutes, iv.customers, iv.planned)
    return indices_from(acc, customers_served, years)


def losses_pct(losses_kwh: float, delivered_kwh: float) -> float:
    """Conversion losses as a share of the energy delivered to loads, as the programme
    measures them [%] (curtailed PV is not a loss: it is reported on its own line)."""
    return 100.0 * losses_kwh / delivered_kwh if delivered_kwh > 0.0 else 0.0
