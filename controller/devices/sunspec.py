"""SunSpec inverter/charger (driver ``sunspec``), discovered from the ``SunS`` marker.

Follows the SunSpec Information Model Specification (SunSpec Alliance, v1.9) and the model
definitions of github.com/sunspec/models (JSON): the marker 0x5375 0x6E53 at 40000 (or 0, or
50000), then a chain of models (ID, L, L registers), ending with ID 0xFFFF. Supported models:
1 (common), 101/102/103 (single-, split- and three-phase inverter: one integer layout for the
points read; the first of them in the chain is read), 123 (immediate controls: ``Conn``,
written 1 to connect, which also clears a trip), 160 (multiple MPPT), 124 (basic storage).
Values are
raw × 10^SF; not-implemented values are int16 0x8000, uint16/enum16 0xFFFF, acc32 0 and
sunssf 0x8000, and decode to None. Other models in the chain are skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from controller.devices.codec import Kind, Register, RegisterMap, Table
from controller.devices.errors import DiscoveryError
from controller.devices.values import Value
from controller.errors import ControllerError

ReadFn = Callable[[int, int], Awaitable[list[int]]]
"""Reads ``count`` holding registers from ``address`` (FC03) of one unit."""

BASES = (40000, 0, 50000)
MARKER = (0x5375, 0x6E53)  # "SunS"
END_ID = 0xFFFF
FAULT_STATE = 7  # model 103 St: 1 off, 2 sleeping, 3 starting, 4 MPPT, 5 throttled, 7 fault
MPPT_MODULE_LEN = 20

_U16_NA, _S16_NA, _ACC_NA = (0xFFFF,), (0x8000,), (0,)


@dataclass(frozen=True)
class Field:
    """A model point: ``offset`` from the model's ID register."""

    point: str
    offset: int
    kind: Kind = Kind.U16
    sf: str | None = None
    unit: str = ""
    invalid: tuple[int, ...] = _U16_NA
    size: int = 1
    write_range: tuple[float, float] | None = None


def _sf(point: str, offset: int) -> Field:
    return Field(point, offset, Kind.S16, invalid=_S16_NA)


INVERTER_MODELS = (101, 102, 103)
"""Single-, split- and three-phase inverter models: the same integer layout up to ``St``."""

# Offsets from model_<id>.json (ID at 0, L at 1). Scale-factor points are internal ("_").
_INVERTER_FIELDS = (
    Field("ac_a", 2, sf="_a_sf", unit="A"), _sf("_a_sf", 6),
    Field("ac_v", 10, sf="_v_sf", unit="V"), _sf("_v_sf", 13),
    Field("ac_w", 14, Kind.S16, "_w_sf", "W", _S16_NA), _sf("_w_sf", 15),
    Field("ac_hz", 16, sf="_hz_sf", unit="Hz"), _sf("_hz_sf", 17),
    Field("ac_wh_total", 24, Kind.U32, "_wh_sf", "Wh", _ACC_NA), _sf("_wh_sf", 26),
    Field("dc_v", 29, sf="_dcv_sf", unit="V"), _sf("_dcv_sf", 30),
    Field("dc_w", 31, Kind.S16, "_dcw_sf", "W", _S16_NA), _sf("_dcw_sf", 32),
    Field("cabinet_temp_c", 33, Kind.S16, "_tmp_sf", "°C", _S16_NA), _sf("_tmp_sf", 37),
    Field("inverter_state", 38),
)
MODEL_FIELDS: dict[int, tuple[Field, ...]] = {
    1: (
        Field("manufacturer", 2, Kind.STR, invalid=(), size=16),
        Field("model", 18, Kind.STR, invalid=(), size=16),
        Field("version", 42, Kind.STR, invalid=(), size=8),
        Field("serial", 50, Kind.STR, invalid=(), size=16),
    ),
    **dict.fromkeys(INVERTER_MODELS, _INVERTER_FIELDS),
    123: (
        Field("inverter_connect", 4, write_range=(0, 1)),
    ),
    124: (
        Field("max_charge_w", 2, sf="_wchamax_sf", unit="W"), _sf("_wchamax_sf", 18),
        Field("soc_pct", 8, sf="_chastate_sf", unit="%"), _sf("_chastate_sf", 22),
        Field("battery_v", 10, sf="_inbatv_sf", unit="V"), _sf("_inbatv_sf", 24),
        Field("storage_state", 11),
    ),
    160: (
        _sf("_dca_sf", 2), _sf("_dcv_sf", 3), _sf("_dcw_sf", 4), _sf("_dcwh_sf", 5),
        Field("mppt_count", 8),
    ),
}
MODEL_LENGTHS: dict[int, int] = {1: 66, 101: 50, 102: 50, 103: 50, 123: 24, 124: 24}
"""L of each model; model 160: 8 + 20 × modules."""


def _module_fields(k: int) -> tuple[Field, ...]:
    """Fields of MPPT module ``k`` (1-based) of model 160."""
    base = 10 + MPPT_MODULE_LEN * (k - 1)
    return (
        Field(f"mppt{k}_pv_a", base + 9, sf="_dca_sf", unit="A"),
        Field(f"mppt{k}_pv_v", base + 10, sf="_dcv_sf", unit="V"),
        Field(f"mppt{k}_pv_w", base + 11, sf="_dcw_sf", unit="W"),
        Field(f"mppt{k}_pv_wh", base + 12, Kind.U32, "_dcwh_sf", "Wh", _ACC_NA),
    )


@dataclass(frozen=True)
class Model:
    """One model found in the chain: its ID, the address of its ID register, its length L."""

    model_id: int
    address: int
    length: int


def layout(base: int, models: Mapping[int, int]) -> list[Model]:
    """The chain after the marker at ``base`` for ``{model_id: length}``, in order."""
    out, addr = [], base + 2
    for model_id, length in models.items():
        out.append(Model(model_id, addr, length))
        addr += 2 + length
    return out


def build_map(base: int, models: list[Model]) -> RegisterMap:
    """The register map of a device whose chain (after the marker at ``base``) is ``models``.

    Includes the marker, each model's ID and L, and the end marker as internal points, so
    that :func:`controller.devices.codec.image` yields a complete, scannable device.
    """
    regs = [Register("_marker", base, kind=Kind.STR, size=2)]
    for m in models:
        regs.append(Register(f"_m{m.model_id}_id", m.address))
        regs.append(Register(f"_m{m.model_id}_l", m.address + 1))
        fields = MODEL_FIELDS.get(m.model_id, ())
        if m.model_id == 160:
            n_modules = (m.length - 8) // MPPT_MODULE_LEN
            fields = fields + tuple(f for k in range(1, n_modules + 1) for f in _module_fields(k))
        prefix = f"_m{m.model_id}" if m.model_id == 160 else ""
        for f in fields:
            # Model 160 and 103 both name a DC voltage scale factor: keep them apart.
            point = prefix + f.point if f.point.startswith("_") else f.point
            sf = (prefix + f.sf) if f.sf is not None else None
            regs.append(Register(point, m.address + f.offset, Table.HOLDING, f.kind, unit=f.unit,
                                 sf=sf, invalid=f.invalid, size=f.size,
                                 write_range=f.write_range))
    end = models[-1].address + 2 + models[-1].length if models else base + 2
    regs.append(Register("_end_id", end))
    regs.append(Register("_end_l", end + 1))
    return RegisterMap("sunspec", __doc__ or "", tuple(regs), max_gap=0, derive=_derive)


def _derive(v: dict[str, Value | None]) -> dict[str, Value | None]:
    """inverter_fault from St; ac_kwh_total from Wh; pv_w and pv_kwh_total as the sums of the
    MPPT modules (None when any module's value is not implemented)."""
    out: dict[str, Value | None] = {}
    if "inverter_state" in v:
        st = v["inverter_state"]
        out["inverter_fault"] = None if st is None else st == FAULT_STATE
    if "ac_wh_total" in v:
        wh = v["ac_wh_total"]
        out["ac_kwh_total"] = None if wh is None else round(float(wh) / 1000, 6)
    for suffix, point, scale in (("_pv_w", "pv_w", 1.0), ("_pv_wh", "pv_kwh_total", 1e-3)):
        modules = [v[k] for k in v if k.startswith("mppt") and k.endswith(suffix)]
        if modules:
            out[point] = None if None in modules else round(
                sum(float(x) for x in modules if x is not None) * scale, 6)
    return out


async def discover(read: ReadFn) -> RegisterMap:
    """Find the ``SunS`` marker and walk the model chain with ``read``; the device's map.

    Raises :class:`DiscoveryError` when no marker is found or the chain is malformed.
    """
    for base in BASES:
        try:
            marker = await read(base, 2)
        except ControllerError:
            continue  # an unused base answers with an exception code
        if tuple(marker) == MARKER:
            break
    else:
        raise DiscoveryError("no SunS marker at 40000, 0 or 50000")
    models: list[Model] = []
    addr = base + 2
    for _ in range(64):
        model_id, length = await read(addr, 2)
        if model_id == END_ID:
            return build_map(base, models)
        seen = {m.model_id for m in models}
        if model_id not in seen and not (model_id in INVERTER_MODELS
                                         and seen & set(INVERTER_MODELS)):
            models.append(Model(model_id, addr, length))
        addr += 2 + length
    raise DiscoveryError(f"SunSpec chain at {base} does not end within 64 models")
