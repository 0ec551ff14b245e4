"""Declarative register maps and the codec between points and Modbus words.

A :class:`RegisterMap` is data: a tuple of :class:`Register` (address, table, type, scale or
SunSpec scale factor, unit, invalid sentinels, allowed write range, EEPROM flag). The functions
here are pure:

- :func:`plan_blocks` groups the map into block reads of at most 125 registers per table;
- :func:`decode` turns raw block data into ``{point: value | None}`` (sentinels → None);
- :func:`encode` turns point writes into :class:`Write` requests, enforcing the allowed range
  (and, for a register with ``codes``, the values its code table lists);
- :func:`image` is the inverse of :func:`decode`; the simulator serves what it returns.
"""

from __future__ import annotations

import bisect
import math
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from controller.devices.errors import NotWritableError, UnknownPointError, WriteRangeError
from controller.devices.values import Value

MAX_BLOCK_WORDS = 125
"""Modbus limit on the registers of one read (FC03/FC04); used for coils too, to keep it simple."""


class Table(StrEnum):
    """The four Modbus tables."""

    COIL = "coil"  # FC01 read, FC05 write
    DISCRETE = "discrete"  # FC02
    INPUT = "input"  # FC04
    HOLDING = "holding"  # FC03 read, FC06/FC16 write

    @property
    def is_bit(self) -> bool:
        """True for the single-bit tables (coils and discrete inputs)."""
        return self in (Table.COIL, Table.DISCRETE)


class Kind(StrEnum):
    """Data types; the number of 16-bit words each occupies is :attr:`Register.words`."""

    BIT = "bit"
    U16 = "u16"
    S16 = "s16"
    U32 = "u32"
    S32 = "s32"
    F32 = "f32"
    STR = "str"  # ASCII, two characters per word, NUL padded (SunSpec strings)


@dataclass(frozen=True)
class Register:
    """One point of a device: where it lives and how its words become a value.

    ``value = raw × scale × 10^sf`` where ``sf`` is the value of the scale-factor point named
    by ``sf`` (SunSpec). ``bits = (shift, width)`` extracts a bit field from a u16 status word.
    ``invalid`` lists raw values (of the whole width) that mean "no data" and decode to None.
    ``write_range`` (inclusive, engineering units) makes the point writable; ``eeprom`` marks
    registers stored in EEPROM, which must be written only when the value changes.
    ``codes`` is a code table ``((raw, value), …)`` for command and state words whose raw
    numbers are not a scaled quantity (e.g. ``((1, True), (5, False))``: 1 runs, 5 stops): a
    raw word not listed decodes to None, a value not listed cannot be written, and a value
    listed twice is written with its first code.
    """

    point: str
    address: int
    table: Table = Table.HOLDING
    kind: Kind = Kind.U16
    scale: float = 1.0
    unit: str = ""
    sf: str | None = None
    low_word_first: bool = False
    invalid: tuple[int, ...] = ()
    bits: tuple[int, int] | None = None
    write_range: tuple[float, float] | None = None
    eeprom: bool = False
    size: int = 1  # words, for Kind.STR only
    codes: tuple[tuple[int, Value], ...] = ()
    doc: str = ""

    @cached_property
    def words(self) -> int:
        """Number of 16-bit registers (or bits) this point occupies."""
        if self.kind in (Kind.U32, Kind.S32, Kind.F32):
            return 2
        return self.size if self.kind is Kind.STR else 1

    @property
    def writable(self) -> bool:
        """True when the controller may write this point."""
        return self.write_range is not None

    @cached_property
    def internal(self) -> bool:
        """Scale-factor and helper points start with ``_`` and are not reported by decode."""
        return self.point.startswith("_")


Derive = Callable[[dict[str, Value | None]], dict[str, Value | None]]


@dataclass(frozen=True)
class RegisterMap:
    """A device family's registers, the vendor document they follow, and derived points."""

    name: str
    document: str
    registers: tuple[Register, ...]
    max_gap: int = 0  # unused registers a block read may span (the device must answer them)
    derive: Derive | None = None  # computes further points (e.g. battery_w) from decoded ones
    _by_point: dict[str, Register] = field(init=False, repr=False, compare=False)
    _by_table: dict[Table, tuple[list[int], list[Register]]] = field(
        init=False, repr=False, compare=False)  # addresses and registers, sorted by address

    def __post_init__(self) -> None:
        by_point = {r.point: r for r in self.registers}
        if len(by_point) != len(self.registers):
            raise ValueError(f"{self.name}: duplicate point names")
        for r in self.registers:
            if r.sf is not None and r.sf not in by_point:
                raise ValueError(f"{self.name}: {r.point} names unknown scale factor {r.sf}")
            if r.table.is_bit != (r.kind is Kind.BIT):
                raise ValueError(f"{self.name}: {r.point}: bit tables take Kind.BIT only")
        object.__setattr__(self, "_by_point", by_point)
        by_table = {}
        for table in Table:
            regs = sorted((r for r in self.registers if r.table is table), key=lambda r: r.address)
            by_table[table] = ([r.address for r in regs], regs)
        object.__setattr__(self, "_by_table", by_table)

    def inside(self, block: Block) -> list[Register]:
        """The registers that lie entirely inside ``block``."""
        addresses, regs = self._by_table[block.table]
        first = bisect.bisect_left(addresses, block.address)
        last = bisect.bisect_left(addresses, block.address + block.count, lo=first)
        return [r for r in regs[first:last] if block.covers(r)]

    def register(self, point: str) -> Register:
        """The register of ``point``; raises :class:`UnknownPointError`."""
        try:
            return self._by_point[point]
        except KeyError:
            raise UnknownPointError(f"{self.name} has no point {point!r}") from None

    @property
    def points(self) -> list[str]:
        """Public point names (decoded and derived ones are listed by decode)."""
        return [r.point for r in self.registers if not r.internal]


@dataclass(frozen=True, order=True)
class Block:
    """One read request: ``count`` registers (or bits) of ``table`` from ``address``."""

    table: Table
    address: int
    count: int

    def covers(self, reg: Register) -> bool:
        """True when ``reg`` lies entirely inside this block."""
        return (reg.table is self.table and self.address <= reg.address
                and reg.address + reg.words <= self.address + self.count)


@dataclass(frozen=True)
class Write:
    """One write request: FC05 for a coil, FC16 for registers (``values`` are raw words/bits)."""

    table: Table
    address: int
    values: tuple[int, ...]
    points: tuple[str, ...]
    eeprom: bool = False


def plan_blocks(rmap: RegisterMap, max_words: int = MAX_BLOCK_WORDS) -> list[Block]:
    """Group the map's registers into reads of at most ``max_words`` per table.

    Registers separated by more than ``rmap.max_gap`` unused addresses start a new block.
    """
    blocks: list[Block] = []
    for table in Table:
        regs = sorted((r for r in rmap.registers if r.table is table), key=lambda r: r.address)
        start = end = -1
        for r in regs:
            r_end = r.address + r.words
            if start >= 0 and r.address - end <= rmap.max_gap and r_end - start <= max_words:
                end = max(end, r_end)
                continue
            if start >= 0:
                blocks.append(Block(table, start, end - start))
            start, end = r.address, r_end
        if start >= 0:
            blocks.append(Block(table, start, end - start))
    return blocks


def _raw(reg: Register, words: Sequence[int]) -> int:
    """The register's words as one unsigned integer, most significant word first."""
    ws = list(words)
    if reg.low_word_first:
        ws.reverse()
    raw = 0
    for w in ws:
        raw = (raw << 16) | (w & 0xFFFF)
    return raw


def _words(reg: Register, raw: int) -> list[int]:
    """Inverse of :func:`_raw`."""
    ws = [(raw >> (16 * i)) & 0xFFFF for i in reversed(range(reg.words))]
    if reg.low_word_first:
        ws.reverse()
    return ws


def _signed(raw: int, bits: int) -> int:
    return raw - (1 << bits) if raw & (1 << (bits - 1)) else raw


def _number(reg: Register, raw: int) -> float | int | None:
    """The raw integer as a number before scaling; None when it is an invalid sentinel."""
    if raw in reg.invalid:
        return None
    if reg.bits is not None:
        shift, width = reg.bits
        return (raw >> shift) & ((1 << width) - 1)
    match reg.kind:
        case Kind.S16:
            return _signed(raw, 16)
        case Kind.S32:
            return _signed(raw, 32)
        case Kind.F32:
            value = float(struct.unpack(">f", raw.to_bytes(4, "big"))[0])
            return None if math.isnan(value) or math.isinf(value) else value
        case _:
            return raw


def _scaled(value: float | int, reg: Register, sf: int) -> float | int:
    if reg.scale == 1.0 and sf == 0:
        return value
    return round(value * reg.scale * 10.0**sf, 10)


def decode(rmap: RegisterMap, data: Mapping[Block, Sequence[int]]) -> dict[str, Value | None]:
    """Decode raw block data into ``{point: value | None}``.

    Points outside the blocks given are absent; points holding an invalid sentinel (or whose
    scale factor does) are None. Derived points are added by the map's ``derive``.
    """
    raw_by_point: dict[str, int] = {}
    for block, words in data.items():
        for reg in rmap.inside(block):
            off = reg.address - block.address
            raw_by_point.setdefault(reg.point, _raw(reg, words[off:off + reg.words]))
    out: dict[str, Value | None] = {}
    for reg in rmap.registers:
        if reg.internal or reg.point not in raw_by_point:
            continue
        raw = raw_by_point[reg.point]
        if reg.kind is Kind.BIT:
            out[reg.point] = bool(raw)
            continue
        if reg.kind is Kind.STR:
            text = raw.to_bytes(2 * reg.words, "big").split(b"\0", 1)[0]
            out[reg.point] = text.decode("ascii", errors="replace").strip()
            continue
        if reg.codes:
            out[reg.point] = next((v for code, v in reg.codes if code == raw), None)
            continue
        number = _number(reg, raw)
        sf = 0
        if reg.sf is not None:
            sf_raw = raw_by_point.get(reg.sf)
            sf_num = None if sf_raw is None else _number(rmap.register(reg.sf), sf_raw)
            if sf_num is None:
                number = None
            else:
                sf = int(sf_num)
        out[reg.point] = None if number is None else _scaled(number, reg, sf)
    if rmap.derive is not None:
        out.update(rmap.derive(out))
    return out


def _code(reg: Register, value: Value) -> int | None:
    """The raw code of ``value`` in the register's code table; None when it is not listed."""
    return next((code for code, v in reg.codes if v == value), None)


def _to_raw(reg: Register, value: Value, sf: int) -> int:
    """A value in engineering units as the register's raw unsigned integer."""
    if reg.codes:
        code = _code(reg, value)
        if code is None:
            raise WriteRangeError(f"{reg.point} = {value!r} is not in its code table")
        return code
    if reg.kind is Kind.BIT:
        return 1 if value else 0
    if reg.kind is Kind.STR:
        data = str(value).encode("ascii", errors="replace")[: 2 * reg.words]
        return int.from_bytes(data.ljust(2 * reg.words, b"\0"), "big")
    if reg.kind is Kind.F32:
        return int.from_bytes(struct.pack(">f", float(value)), "big")
    number = float(value) / reg.scale / 10.0**sf
    raw = round(number)
    bits = 16 * reg.words
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if reg.kind in (
        Kind.S16, Kind.S32) else (0, (1 << bits) - 1)
    if reg.bits is not None:
        lo, hi = 0, (1 << reg.bits[1]) - 1
    raw = min(max(raw, lo), hi)
    if reg.bits is not None:
        return raw << reg.bits[0]
    return raw & ((1 << bits) - 1)


def image(
    rmap: RegisterMap, values: Mapping[str, Value | None], sf: Mapping[str, int] | None = None
) -> dict[Table, dict[int, int]]:
    """The raw words (or bits) that make a device report ``values``: the inverse of decode.

    ``sf`` gives the scale factor of each scale-factor point (default 0); None writes the
    register's first invalid sentinel. Status bit fields sharing one word are OR-ed together.
    """
    sf = dict(sf or {})
    out: dict[Table, dict[int, int]] = {t: {} for t in Table}
    for reg in rmap.registers:
        if reg.point in sf:
            raw = _to_raw(reg, sf[reg.point], 0)
        elif reg.point in values:
            value = values[reg.point]
            if value is None:
                raw = reg.invalid[0] if reg.invalid else 0
            else:
                raw = _to_raw(reg, value, sf.get(reg.sf, 0) if reg.sf else 0)
        else:
            continue
        table = out[reg.table]
        for i, w in enumerate(_words(reg, raw)):
            addr = reg.address + i
            table[addr] = table.get(addr, 0) | w if reg.bits is not None else w
    return out


def encode(rmap: RegisterMap, values: Mapping[str, Value],
           sf: Mapping[str, int] | None = None) -> list[Write]:
    """Write requests for ``values`` (engineering units), contiguous registers merged.

    Raises :class:`UnknownPointError`, :class:`NotWritableError`, or :class:`WriteRangeError`
    when a value lies outside the register's ``write_range``. Each :class:`Write` carries the
    EEPROM flag: the caller writes such registers only when the value differs from the last
    value read.
    """
    regs: list[tuple[Register, Value]] = []
    for point, value in values.items():
        reg = rmap.register(point)
        if reg.write_range is None:
            raise NotWritableError(f"{rmap.name}.{point} is read-only")
        lo, hi = reg.write_range
        if isinstance(value, str) or not lo <= float(value) <= hi:
            raise WriteRangeError(
                f"{rmap.name}.{point} = {value!r} is outside {lo:g}..{hi:g} {reg.unit}".rstrip())
        if reg.codes and _code(reg, value) is None:
            raise WriteRangeError(f"{rmap.name}.{point} = {value!r} is not one of "
                                  f"{', '.join(repr(v) for _, v in reg.codes)}")
        regs.append((reg, value))
    sf = dict(sf or {})
    writes: list[Write] = []
    for reg, value in sorted(regs, key=lambda rv: (rv[0].table, rv[0].address)):
        words = tuple(_words(reg, _to_raw(reg, value, sf.get(reg.sf, 0) if reg.sf else 0)))
        prev = writes[-1] if writes else None
        if (prev is not None and not reg.table.is_bit and prev.table is reg.table
                and prev.address + len(prev.values) == reg.address):
            writes[-1] = Write(reg.table, prev.address, prev.values + words,
                               (*prev.points, reg.point), prev.eeprom or reg.eeprom)
        else:
            writes.append(Write(reg.table, reg.address, words, (reg.point,), reg.eeprom))
    return writes


def block_words(blocks: Iterable[Block], table_image: Mapping[Table, Mapping[int, int]]
                ) -> dict[Block, list[int]]:
    """The words each block would read from an image (unset addresses read 0)."""
    return {b: [table_image[b.table].get(a, 0) for a in range(b.address, b.address + b.count)]
            for b in blocks}
