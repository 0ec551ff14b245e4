"""Water pumping physics: pipe friction, pump curves at any speed, operating points, and the
electric power ↔ flow table the sizing kernel and the simulator use.

Pure functions of plain numbers and the site file's resolved models; no I/O, no state.

- **Pipe friction** is Darcy–Weisbach, every piece from ``fluids`` (Caleb Bell's ChEDL):
  :func:`fluids.core.Reynolds`, the Darcy friction factor
  :func:`fluids.friction.friction_factor` (Clamond 2009's exact Colebrook solution in
  turbulent flow, 64/Re below Re 2040), the pipe's roughness from fluids' material database
  (:func:`fluids.friction.material_roughness`, names mapped in :data:`FLUIDS_MATERIAL`), and
  head = K·V²/(2g) with K = f·L/D (:func:`fluids.core.K_from_f`, :func:`fluids.core.head_from_K`).
  Water at 25 °C (:data:`RHO_WATER_KG_M3`, :data:`MU_WATER_PA_S`). Only the straight pipe:
  fittings and valves are left out (add their equivalent length to ``length_m``).
- **The pump curve at rated speed** ``H1(Q)`` is the quadratic least-squares fit
  ``a + b·Q + c·Q²`` through the catalogue's (flow, head) points (smooth, and it continues past
  the last point to the run-out flow where the head reaches 0); for a curve so convex that the
  parabola never reaches 0, the least-squares straight line (a falling curve always has one).
  The pump's hydraulic efficiency ``η1(Q)`` is the linear interpolation of the catalogue's
  points that have an efficiency (> 0), held at the end values outside them.
- **Affinity laws** for a speed ratio ``n`` = frequency / rated frequency:
  ``Q ∝ n``, ``H ∝ n²``, ``P ∝ n³``, and similar points keep their efficiency:
  ``H(Q, n) = n²·H1(Q/n)``, ``η(Q, n) = η1(Q/n)``.
- **The operating point** is where the pump head meets the system head (static head plus
  friction), found with :func:`scipy.optimize.brentq`.
- **Electric power** = shaft power / motor efficiency, shaft power = hydraulic power / pump
  efficiency, hydraulic power = ρ·g·Q·H. A VFD's own loss is not added here: the drive is
  the site's inverter for this load, as for any AC load (a DC pump's controller likewise).

The pump's published operating range is its catalogue points with an efficiency: below the
first such flow (at any speed, in similar-point terms ``Q/n``) the pump runs too near shut-off
(no efficiency is known, little water, the motor heats); the power/flow table leaves such
points out, so the sizing never runs a pump there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import overload

import numpy as np
from fluids.constants import g as _FLUIDS_G
from fluids.core import K_from_f, Reynolds, head_from_K
from fluids.friction import friction_factor, material_roughness
from numpy.typing import ArrayLike
from scipy.optimize import brentq

from sitefile import Pipe, PumpModel, WaterPumpLoad

__all__ = [
    "FLUIDS_MATERIAL",
    "G_M_S2",
    "MU_WATER_PA_S",
    "RHO_WATER_KG_M3",
    "OperatingPoint",
    "PowerFlowTable",
    "flow_at_power",
    "friction_head_m",
    "hydraulic_kw",
    "hydraulic_kwh",
    "operating_point",
    "pipe_roughness_m",
    "power_flow_table",
    "pump_efficiency",
    "pump_head_m",
    "pump_shaft_kw",
    "runout_flow_m3_h",
    "system_head_m",
]

RHO_WATER_KG_M3 = 997.0
"""[kg m-3] density of liquid water at 25 °C, 0.1 MPa: 997.05 in IAPWS-95 (Wagner & Pruß,
J. Phys. Chem. Ref. Data 31, 387 (2002)), rounded as COMMON.md §2 asks."""
MU_WATER_PA_S = 8.90e-4
"""[Pa s] dynamic viscosity of liquid water at 25 °C, 0.1 MPa: 890.0 µPa s in the IAPWS 2008
formulation (Huber et al., J. Phys. Chem. Ref. Data 38, 101 (2009))."""
G_M_S2: float = float(_FLUIDS_G)
"""[m s-2] standard gravity, 9.80665 (``fluids.constants.g``, CODATA)."""

FLUIDS_MATERIAL: Mapping[str, str] = {
    # The Moody chart's smooth class "drawn tubing, glass, plastic", 1.52 µm: fluids' "Glass".
    "pvc": "Glass",
    # Farshad & Rieke (2006) "Plastic coated", 5 µm average, diameter-dependent in fluids.
    "hdpe": "Plastic coated",
    # Farshad & Rieke (2006) "Carbon steel, bare", 36 µm average, diameter-dependent.
    "steel": "Carbon steel, bare",
    # The Moody chart's galvanized iron, 152 µm: fluids' "Galvanized iron".
    "galvanized": "Galvanized iron",
}
"""Our pipe materials (``[[loads]] pipe.material``) → their entry in fluids' roughness
database (:func:`fluids.friction.material_roughness`). The one place the names are mapped."""

_SECONDS_PER_HOUR = 3600.0
_W_PER_KW = 1000.0
_J_PER_KWH = 3.6e6


# --------------------------------------------------------------------------- water and pipes


def hydraulic_kw(flow_m3_h: ArrayLike, head_m: ArrayLike) -> float | np.ndarray:
    """Hydraulic power ρ·g·Q·H [kW] of ``flow_m3_h`` [m³ h-1] lifted ``head_m`` [m]."""
    p = (RHO_WATER_KG_M3 * G_M_S2 * np.asarray(flow_m3_h, dtype=float) / _SECONDS_PER_HOUR
         * np.asarray(head_m, dtype=float) / _W_PER_KW)
    return float(p) if p.ndim == 0 else p


def hydraulic_kwh(volume_m3: ArrayLike, head_m: ArrayLike) -> float | np.ndarray:
    """Hydraulic energy ρ·g·V·H [kWh] to lift ``volume_m3`` [m³] by ``head_m`` [m]."""
    e = (RHO_WATER_KG_M3 * G_M_S2 * np.asarray(volume_m3, dtype=float)
         * np.asarray(head_m, dtype=float) / _J_PER_KWH)
    return float(e) if e.ndim == 0 else e


def pipe_roughness_m(material: str, diameter_mm: float) -> float:
    """Absolute roughness [m] of a ``material`` pipe (``pvc|hdpe|steel|galvanized``) of inner
    diameter ``diameter_mm`` [mm], from fluids' database via :data:`FLUIDS_MATERIAL`."""
    try:
        fluids_id = FLUIDS_MATERIAL[material]
    except KeyError:
        raise ValueError(f"unknown pipe material {material!r}: one of "
                         f"{', '.join(FLUIDS_MATERIAL)}") from None
    return float(material_roughness(fluids_id, D=diameter_mm / 1000.0))


def _friction_head_one_m(flow_m3_h: float, length_m: float, diameter_m: float,
                         roughness_m: float) -> float:
    """Darcy–Weisbach head loss [m] of one flow [m³ h-1] (either direction: the loss is >= 0)."""
    flow = abs(flow_m3_h)
    if flow == 0.0 or length_m == 0.0:
        return 0.0
    velocity_m_s = flow / _SECONDS_PER_HOUR / (math.pi * diameter_m ** 2 / 4.0)
    re = Reynolds(V=velocity_m_s, D=diameter_m, rho=RHO_WATER_KG_M3, mu=MU_WATER_PA_S)
    fd = friction_factor(Re=re, eD=roughness_m / diameter_m, Method="Clamond")
    return float(head_from_K(K_from_f(fd, length_m, diameter_m), velocity_m_s, g=G_M_S2))


@overload
def friction_head_m(flow_m3_h: float, pipe: Pipe) -> float: ...
@overload
def friction_head_m(flow_m3_h: ArrayLike, pipe: Pipe) -> float | np.ndarray: ...
def friction_head_m(flow_m3_h: ArrayLike, pipe: Pipe) -> float | np.ndarray:
    """Friction head [m] of ``flow_m3_h`` [m³ h-1] through ``pipe`` (``length_m`` [m],
    ``diameter_mm`` [mm] inner, ``material``): Darcy–Weisbach with the Clamond friction factor
    (module docstring). A scalar for a scalar flow, else an array of the flow's shape."""
    diameter_m = pipe.diameter_mm / 1000.0
    roughness_m = pipe_roughness_m(pipe.material, pipe.diameter_mm)
    flows = np.asarray(flow_m3_h, dtype=float)
    heads = np.array([_friction_head_one_m(float(q), pipe.length_m, diameter_m, roughness_m)
                      for q in flows.ravel()]).reshape(flows.shape)
    return float(heads) if heads.ndim == 0 else heads


@overload
def system_head_m(flow_m3_h: float, static_head_m: float, pipe: Pipe) -> float: ...
@overload
def system_head_m(flow_m3_h: ArrayLike, static_head_m: float,
                  pipe: Pipe) -> float | np.ndarray: ...
def system_head_m(flow_m3_h: ArrayLike, static_head_m: float, pipe: Pipe) -> float | np.ndarray:
    """Head the system asks of the pump [m] at ``flow_m3_h`` [m³ h-1]: the static head
    ``static_head_m`` [m] (water source level to the tank inlet) plus the pipe's friction."""
    return static_head_m + friction_head_m(flow_m3_h, pipe)


# --------------------------------------------------------------------------- pump curves


@dataclass(frozen=True)
class _Curve:
    """A pump's rated-speed curve, fitted once per catalogue data (see :func:`_curve`)."""

    head_coef: tuple[float, float, float]
    """(a, b, c) of H1(Q) = a + b·Q + c·Q² [m], Q in [m³ h-1]."""
    runout_m3_h: float
    """[m³ h-1] the smallest positive flow where H1 reaches 0."""
    eff_flow_m3_h: tuple[float, ...]
    """[m³ h-1] the catalogue flows that have an efficiency (> 0), increasing."""
    eff: tuple[float, ...]
    """[0–1] the pump efficiency at those flows."""


def _positive_roots(a: float, b: float, c: float) -> list[float]:
    """The real positive roots of a + b·x + c·x², increasing."""
    roots = np.roots([c, b, a]) if c != 0 else np.roots([b, a])
    return sorted(float(r.real) for r in roots if abs(r.imag) < 1e-9 and r.real > 0)


@lru_cache(maxsize=256)
def _fit_curve(flow_m3_h: tuple[float, ...], head_m: tuple[float, ...],
               efficiency_pct: tuple[float, ...]) -> _Curve:
    q = np.asarray(flow_m3_h, dtype=float)
    h = np.asarray(head_m, dtype=float)
    eta = np.asarray(efficiency_pct, dtype=float) / 100.0
    if not (len(q) == len(h) == len(eta)) or len(q) < 3:
        raise ValueError("a pump curve needs at least 3 points, with as many flows, heads "
                         "and efficiencies")
    c, b, a = np.polyfit(q, h, 2)  # highest power first
    positive = _positive_roots(a, b, c)
    if a <= 0 or not positive:  # a strongly convex curve: the straight line through it
        (b, a), c = np.polyfit(q, h, 1), 0.0
        positive = _positive_roots(a, b, c)
    if a <= 0 or not positive:
        raise ValueError("the pump curve has no positive shut-off head or no run-out flow: "
                         "check flow_m3_h and head_m")
    has_eff = eta > 0
    if not has_eff.any():
        raise ValueError("the pump curve has no efficiency above 0")
    return _Curve(head_coef=(float(a), float(b), float(c)), runout_m3_h=positive[0],
                  eff_flow_m3_h=tuple(float(x) for x in q[has_eff]),
                  eff=tuple(float(x) for x in eta[has_eff]))


def _curve(pump: PumpModel) -> _Curve:
    return _fit_curve(tuple(pump.flow_m3_h), tuple(pump.head_m), tuple(pump.efficiency_pct))


def runout_flow_m3_h(pump: PumpModel, speed: float = 1.0) -> float:
    """Run-out flow [m³ h-1] at speed ratio ``speed``: where the fitted head reaches 0."""
    return speed * _curve(pump).runout_m3_h


def _rated_head(curve: _Curve, q: np.ndarray) -> np.ndarray:
    a, b, c = curve.head_coef
    return a + b * q + c * q * q


def pump_head_m(pump: PumpModel, flow_m3_h: ArrayLike, speed: float = 1.0) -> float | np.ndarray:
    """Head [m] of ``pump`` delivering ``flow_m3_h`` [m³ h-1] at speed ratio ``speed``
    (frequency / rated frequency): ``n²·H1(Q/n)`` (affinity laws). Past run-out the head is
    negative (the fit's continuation): the pump cannot deliver that flow."""
    q = np.asarray(flow_m3_h, dtype=float)
    h = speed * speed * _rated_head(_curve(pump), q / speed) if speed > 0 else np.zeros_like(q)
    return float(h) if h.ndim == 0 else h


def pump_efficiency(pump: PumpModel, flow_m3_h: ArrayLike,
                    speed: float = 1.0) -> float | np.ndarray:
    """Hydraulic efficiency of ``pump`` [0–1] at ``flow_m3_h`` [m³ h-1] and speed ratio
    ``speed``: ``η1(Q/n)``, similar points keep their efficiency (affinity laws)."""
    curve = _curve(pump)
    q = np.asarray(flow_m3_h, dtype=float)
    eta = (np.interp(q / speed, curve.eff_flow_m3_h, curve.eff) if speed > 0
           else np.zeros_like(q))
    return float(eta) if eta.ndim == 0 else eta


def pump_shaft_kw(pump: PumpModel, flow_m3_h: float, speed: float = 1.0) -> float:
    """Shaft power [kW] of ``pump`` delivering ``flow_m3_h`` [m³ h-1] at speed ratio
    ``speed``: hydraulic power of (Q, H(Q, n)) over η(Q, n). By the affinity laws this is
    ``n³·P1(Q/n)``."""
    head = float(pump_head_m(pump, flow_m3_h, speed))
    return float(hydraulic_kw(flow_m3_h, head)) / float(pump_efficiency(pump, flow_m3_h, speed))


# --------------------------------------------------------------------------- operating points


@dataclass(frozen=True)
class OperatingPoint:
    """Where a pump at one speed meets its system."""

    speed: float
    """Speed ratio, frequency / rated frequency [–]."""
    flow_m3_h: float
    """[m³ h-1]"""
    head_m: float
    """Total head at that flow: static plus friction [m]."""
    hydraulic_kw: float
    """ρ·g·Q·H [kW]"""
    shaft_kw: float
    """Hydraulic power / pump efficiency [kW]"""
    electric_kw: float
    """Shaft power / motor efficiency [kW]"""


def operating_point(pump: PumpModel, static_head_m: float, pipe: Pipe,
                    speed: float = 1.0) -> OperatingPoint | None:
    """The operating point of ``pump`` at speed ratio ``speed`` against ``static_head_m`` [m]
    and ``pipe``'s friction: ``n²·H1(Q/n) = static + friction(Q)``, solved with brentq
    between 0 and the run-out flow. ``None`` when the pump cannot lift the static head at that
    speed (its shut-off head ``n²·H1(0)`` is not above it)."""
    if speed <= 0:
        return None

    def excess(q: float) -> float:
        return float(pump_head_m(pump, q, speed)) - float(system_head_m(q, static_head_m, pipe))

    if excess(0.0) <= 0.0:
        return None
    q_hi = runout_flow_m3_h(pump, speed)
    # excess(q_hi) >= 0 only without static head or friction: the pump runs out.
    flow = (q_hi if excess(q_hi) >= 0.0
            else float(brentq(excess, 0.0, q_hi, xtol=1e-9, rtol=1e-12)))
    head = float(system_head_m(flow, static_head_m, pipe))
    hyd = float(hydraulic_kw(flow, head))
    shaft = hyd / float(pump_efficiency(pump, flow, speed))
    return OperatingPoint(speed=speed, flow_m3_h=flow, head_m=head, hydraulic_kw=hyd,
                          shaft_kw=shaft, electric_kw=shaft / (pump.motor_efficiency_pct / 100.0))


# --------------------------------------------------------------------------- power ↔ flow


def _readonly(values: list[float]) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class PowerFlowTable:
    """What a pump delivers for the electric power it is given, at one site: rows [K] in order
    of increasing ``electric_kw``, one row per speed. K = 0: the pump cannot lift; K = 2 with
    identical rows: a fixed-speed pump (its one operating point)."""

    electric_kw: np.ndarray
    """[kW] motor input, increasing."""
    flow_m3_h: np.ndarray
    """[m³ h-1] flow at that power."""
    hydraulic_kw: np.ndarray
    """[kW] ρ·g·Q·H at that power (H = static + friction)."""
    speed: np.ndarray = field(default_factory=lambda: _readonly([]))
    """[–] speed ratio of each row (frequency / rated frequency); the drive's setpoint."""


def _in_range(pump: PumpModel, op: OperatingPoint | None) -> bool:
    """Whether ``op`` exists and lies in the pump's published operating range (its similar
    rated-speed flow is at or past the first catalogue flow that has an efficiency)."""
    return op is not None and op.flow_m3_h / op.speed >= _curve(pump).eff_flow_m3_h[0] - 1e-9


def _table(rows: list[OperatingPoint]) -> PowerFlowTable:
    return PowerFlowTable(electric_kw=_readonly([r.electric_kw for r in rows]),
                          flow_m3_h=_readonly([r.flow_m3_h for r in rows]),
                          hydraulic_kw=_readonly([r.hydraulic_kw for r in rows]),
                          speed=_readonly([r.speed for r in rows]))


def power_flow_table(load: WaterPumpLoad, pump: PumpModel | None = None,
                     points: int = 24) -> PowerFlowTable:
    """The electric power → flow table of ``pump`` (default: the load's own) lifting
    ``load.head_m`` [m] through ``load.pipe``.

    A VFD pump (``pump.drive == "vfd"``): ``points`` speeds evenly from the lowest that both
    reaches ``min_frequency_hz`` and keeps the pump in its operating range (module docstring)
    up to the rated speed. A fixed-speed pump: its one rated-speed operating point, stored as
    two identical rows. Empty (K = 0) when the pump cannot lift at rated speed, or only below
    its operating range.
    """
    pump = load.pump if pump is None else pump
    static = load.head_m
    top = operating_point(pump, static, load.pipe, 1.0)
    if not _in_range(pump, top):
        return _table([])
    assert top is not None
    if pump.drive != "vfd" or points < 2:
        return _table([top, top])
    n_min = pump.lowest_hz(static) / pump.rated_hz
    q_first = _curve(pump).eff_flow_m3_h[0]

    def margin(n: float) -> float:  # > 0: in range at speed n
        op = operating_point(pump, static, load.pipe, n)
        return -q_first if op is None else op.flow_m3_h / n - q_first

    n_start = n_min
    if margin(n_min) < 0.0:
        n_start = min(1.0, float(brentq(margin, n_min, 1.0, xtol=1e-10)) + 1e-9)
    kept: list[OperatingPoint] = []
    for n in np.linspace(n_start, 1.0, points):
        op = operating_point(pump, static, load.pipe, float(n))
        if op is not None and _in_range(pump, op) and (
                not kept or op.electric_kw > kept[-1].electric_kw):
            kept.append(op)
    return _table(kept if len(kept) >= 2 else [top, top])


@overload
def flow_at_power(table: PowerFlowTable, available_kw: float) -> tuple[float, float]: ...
@overload
def flow_at_power(table: PowerFlowTable,
                  available_kw: ArrayLike) -> tuple[float | np.ndarray, float | np.ndarray]: ...
def flow_at_power(table: PowerFlowTable,
                  available_kw: ArrayLike) -> tuple[float | np.ndarray, float | np.ndarray]:
    """(flow [m³ h-1], electric power used [kW]) of the pump given ``available_kw`` [kW]:
    below the table's first row nothing runs (0, 0); above its last row, the last row; in
    between, linear interpolation in the table (the drive takes all the power offered). The
    numpy reference the sizing kernel re-implements."""
    p = np.asarray(available_kw, dtype=float)
    e = table.electric_kw
    if e.size == 0:
        flow = np.zeros_like(p)
        used = np.zeros_like(p)
    else:
        runs = p >= e[0]
        flow = np.where(runs, np.interp(p, e, table.flow_m3_h), 0.0)
        used = np.where(runs, np.minimum(p, e[-1]), 0.0)
    if p.ndim == 0:
        return float(flow), float(used)
    return flow, used
