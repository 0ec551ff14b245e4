"""Unit prices for the bill of materials: the package's dated, sourced table, overridable.

The table lives in ``sizing/data/prices.toml`` (Vietnam 2025–26, VND, VAT included). Each item
has a value, its unit, the date it was seen and its source (a URL or document, or
``"estimate: <basis>"``). Cables are priced per metre of one copper conductor by cross-section
[mm²], protection devices per unit by rated current [A] and kind. Charge controllers are not
in the table: their prices are in the catalogue ``sizing/data/charge_controllers.toml``
(:func:`sizing.electrical.load_catalogue`), reached through
:meth:`PriceTable.charge_controller_vnd`.

Overrides (from the site file, proposed as ``[economics.prices]``) have the table's shape and
units::

    {"pv_module": 2800,                          # an item: its value, in the item's unit
     "cable": {"copper": {"16": 50_000}},        # a cable section [mm²] → VND/m
     "breakers": {"mccb_dc": {"250": 3_000_000}}}  # a rating [A] → VND

An overridden item keeps its unit and says ``source = "site file"``. Unknown keys are errors.

:func:`parse_prices` is pure; :func:`load_prices` reads the package file (I/O at the edge).
"""

from __future__ import annotations

import bisect
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from sizing.electrical import load_catalogue
from sizing.errors import InputError

PRICES_FILE = Path(__file__).with_name("data") / "prices.toml"
OVERRIDE_KEY = "economics.prices"
"""Where the site file's overrides live (for error messages)."""
OVERRIDE_SOURCE = "site file"

CableKind = Literal["copper", "solar"]
BreakerKind = Literal["mcb_ac", "mccb_ac", "mcb_dc", "mccb_dc", "fuse_pv", "fuse_battery",
                      "spd_dc"]


class PriceError(InputError):
    """A price table or override that cannot be used, or a lookup outside the table."""


@dataclass(frozen=True)
class PriceEntry:
    """One priced item: ``value`` in ``unit``, seen at ``date`` (YYYY-MM), from ``source``."""

    key: str
    value: float
    unit: str
    date: str
    source: str

    @property
    def is_estimate(self) -> bool:
        """Whether the price is an estimate rather than a quoted source."""
        return self.source.startswith("estimate")


@dataclass(frozen=True)
class Ladder:
    """Prices by a size (cable section [mm²] or rated current [A]), ascending; with the date
    and source shared by the ladder."""

    sizes: tuple[float, ...]
    vnd: tuple[float, ...]
    unit: str
    date: str
    source: str

    def at_least(self, size: float) -> tuple[float, float]:
        """The smallest listed size ≥ ``size`` and its price [VND]; raises
        :class:`PriceError` above the largest."""
        i = bisect.bisect_left(self.sizes, size - 1e-9)
        if i == len(self.sizes):
            raise PriceError(f"{size:g} is above the largest listed size "
                             f"{self.sizes[-1]:g}; add it to the price table")
        return self.sizes[i], self.vnd[i]


@dataclass(frozen=True)
class PriceTable:
    """The unit prices, immutable. ``items`` by key; ``cables`` by kind (``copper``,
    ``solar``) then section [mm²]; ``breakers`` by kind then rated current [A]."""

    items: Mapping[str, PriceEntry]
    cables: Mapping[str, Ladder]
    breakers: Mapping[str, Ladder]
    vnd_per_usd: float
    meta: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def entry(self, key: str) -> PriceEntry:
        """The item ``key`` with its unit, date and source."""
        try:
            return self.items[key]
        except KeyError:
            raise PriceError(f"no price for {key!r}; known: {', '.join(sorted(self.items))}",
                             key=key) from None

    def price(self, key: str) -> float:
        """The value of item ``key``, in the item's unit (``entry(key).unit``): e.g.
        ``pv_module`` [VND/Wp], ``lfp_battery`` [VND/kWh], ``labour`` [% of equipment]."""
        return self.entry(key).value

    def estimates(self) -> tuple[str, ...]:
        """Keys of the items whose price is an estimate (for the report's assumptions page)."""
        return tuple(k for k, e in self.items.items() if e.is_estimate)

    def cable_vnd_per_m(self, mm2: float, kind: CableKind = "copper") -> float:
        """Price of one conductor [VND/m] of the smallest listed section ≥ ``mm2`` [mm²]."""
        return self._ladder(self.cables, kind, "cable").at_least(mm2)[1]

    def cable_section_mm2(self, mm2: float, kind: CableKind = "copper") -> float:
        """The listed section [mm²] that :meth:`cable_vnd_per_m` prices for ``mm2``."""
        return self._ladder(self.cables, kind, "cable").at_least(mm2)[0]

    def breaker_vnd(self, rating_a: float, kind: BreakerKind) -> float:
        """Price of one protection device [VND] of ``kind`` with the smallest listed rating
        ≥ ``rating_a`` [A] (``spd_dc``: any rating, key 0)."""
        ladder = self._ladder(self.breakers, kind, "breakers")
        return ladder.at_least(0.0 if kind == "spd_dc" else rating_a)[1]

    def breaker_rating_a(self, rating_a: float, kind: BreakerKind) -> float:
        """The listed rating [A] that :meth:`breaker_vnd` prices for ``rating_a``."""
        return self._ladder(self.breakers, kind, "breakers").at_least(rating_a)[0]

    def charge_controller_vnd(self, model_id: str) -> float:
        """Price of one charge controller [VND] from the catalogue
        ``sizing/data/charge_controllers.toml`` (not duplicated here)."""
        catalogue = load_catalogue()
        if model_id not in catalogue:
            raise PriceError(f"no charge controller {model_id!r} in the catalogue",
                             key=model_id)
        return catalogue[model_id].price_vnd

    @staticmethod
    def _ladder(ladders: Mapping[str, Ladder], kind: str, what: str) -> Ladder:
        try:
            return ladders[kind]
        except KeyError:
            raise PriceError(f"no {what} kind {kind!r}; known: {', '.join(sorted(ladders))}",
                             key=kind) from None


# --------------------------------------------------------------------------- parsing


def _ladder(table: Mapping[str, Any], unit: str, date: str, source: str) -> Ladder:
    pairs = sorted((float(k), float(v)) for k, v in table.items())
    return Ladder(tuple(p[0] for p in pairs), tuple(p[1] for p in pairs), unit, date, source)


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PriceError(f"a price must be a number ≥ 0, not {value!r}",
                         key=f"{OVERRIDE_KEY}.{key}")
    return float(value)


def _override_ladders(base: Mapping[str, Mapping[str, Any]], over: Any, group: str
                      ) -> dict[str, dict[str, Any]]:
    merged = {k: dict(v) for k, v in base.items()}
    if not isinstance(over, Mapping):
        raise PriceError("expected a table of kinds", key=f"{OVERRIDE_KEY}.{group}")
    for kind, sizes in over.items():
        if kind not in merged:
            raise PriceError(f"unknown kind; known: {', '.join(sorted(merged))}",
                             key=f"{OVERRIDE_KEY}.{group}.{kind}")
        if not isinstance(sizes, Mapping):
            raise PriceError("expected a table of size = price",
                             key=f"{OVERRIDE_KEY}.{group}.{kind}")
        for size, vnd in sizes.items():
            try:
                float(size)
            except ValueError:
                raise PriceError("a size must be a number", key=f"{OVERRIDE_KEY}.{group}."
                                 f"{kind}.{size}") from None
            merged[kind][str(size)] = _number(vnd, f"{group}.{kind}.{size}")
    return merged


def parse_prices(data: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
                 ) -> PriceTable:
    """The price table from the TOML document ``data`` with ``overrides`` applied (pure)."""
    overrides = dict(overrides or {})
    cable_over = overrides.pop("cable", None)
    breaker_over = overrides.pop("breakers", None)

    items: dict[str, PriceEntry] = {}
    for key, t in data["items"].items():
        items[key] = PriceEntry(key=key, value=float(t["value"]), unit=str(t["unit"]),
                                date=str(t["date"]), source=str(t["source"]))
    for key, value in overrides.items():
        if key not in items:
            raise PriceError(f"unknown price; known: {', '.join(sorted(items))}, cable, "
                             "breakers", key=f"{OVERRIDE_KEY}.{key}")
        old = items[key]
        items[key] = PriceEntry(key=key, value=_number(value, key), unit=old.unit,
                                date="", source=OVERRIDE_SOURCE)

    cable = data["cable"]
    cable_tables = {k: v for k, v in cable.items() if isinstance(v, Mapping)}
    cable_src = (cable["unit"], cable["date"], cable["source"])
    cables_raw = (cable_tables if cable_over is None
                  else _override_ladders(cable_tables, cable_over, "cable"))
    cables = {k: _ladder(v, *cable_src) for k, v in cables_raw.items()}

    brk = data["breakers"]
    brk_tables = {k: v for k, v in brk.items() if isinstance(v, Mapping)}
    brk_raw = (brk_tables if breaker_over is None
               else _override_ladders(brk_tables, breaker_over, "breakers"))
    breakers = {k: _ladder(v, "VND/unit", brk["date"], brk["source"])
                for k, v in brk_raw.items()}
    # A ladder overridden from the site file says so (its shared source no longer holds alone).
    for over, out in ((cable_over, cables), (breaker_over, breakers)):
        for kind in (over or {}):
            lad = out[kind]
            out[kind] = Ladder(lad.sizes, lad.vnd, lad.unit, lad.date,
                               f"{lad.source}; some sizes from the {OVERRIDE_SOURCE}")

    meta = dict(data.get("meta", {}))
    return PriceTable(items=MappingProxyType(items), cables=MappingProxyType(cables),
                      breakers=MappingProxyType(breakers),
                      vnd_per_usd=float(meta.get("vnd_per_usd", 26_000)),
                      meta=MappingProxyType(meta))


@cache
def _read(path: Path) -> Mapping[str, Any]:
    return MappingProxyType(tomllib.loads(path.read_text(encoding="utf-8")))


def load_prices(overrides: Mapping[str, Any] | None = None, path: Path = PRICES_FILE
                ) -> PriceTable:
    """The package's price table (``sizing/data/prices.toml``) with ``overrides`` applied
    (shape: see the module docstring; unknown keys raise :class:`PriceError`)."""
    return parse_prices(_read(path), overrides)
