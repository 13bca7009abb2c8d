"""Decoder for Go pprof profiles (gzipped protobuf, google/pprof profile.proto).

Why a decoder of our own rather than parsing ``go tool pprof`` text: the
report needs every sample's full stack (for flat/cumulative tables, call
graphs via gprof2dot's JSON input and profile diffs) and ``pprof``'s text
output loses stacks or needs one process per view. The protobuf wire format
is small and stable; this module reads just what profile.proto defines:
sample types, samples (location ids, values), locations (with inlined
``Line`` frames, innermost first), functions and the string table.
"""

from __future__ import annotations

import gzip
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchpipe.core.errors import BenchpipeError


class ProfileError(BenchpipeError):
    """The file is not a readable pprof profile."""


@dataclass
class Function:
    id: int
    name: str
    system_name: str
    filename: str
    start_line: int


@dataclass
class Line:
    function_id: int
    line: int


@dataclass
class Location:
    id: int
    address: int
    lines: list[Line]  # innermost (inlined) first, caller last


@dataclass
class Sample:
    location_ids: list[int]  # leaf first
    values: list[int]


@dataclass
class Profile:
    sample_types: list[tuple[str, str]]
    samples: list[Sample]
    locations: dict[int, Location]
    functions: dict[int, Function]
    period_type: tuple[str, str] = ("", "")
    period: int = 0
    duration_nanos: int = 0
    time_nanos: int = 0
    default_sample_type: str = ""
    comments: list[str] = field(default_factory=list)

    def index_of(self, sample_type: str) -> int:
        for i, (t, _unit) in enumerate(self.sample_types):
            if t == sample_type:
                return i
        raise ProfileError(
            f"profile has no sample type {sample_type!r} (has {', '.join(t for t, _ in self.sample_types)})"
        )

    def frames(self, sample: Sample) -> list[tuple[str, str, int]]:
        """The stack of a sample as (function, file, line), leaf first, inlined frames expanded."""
        out = []
        for lid in sample.location_ids:
            loc = self.locations.get(lid)
            if loc is None:
                continue
            for ln in loc.lines:
                fn = self.functions.get(ln.function_id)
                if fn is not None:
                    out.append((fn.name, fn.filename, ln.line))
        return out


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ProfileError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 70:
            raise ProfileError("varint too long")


def _fields(buf: bytes):
    """Yield (field number, wire type, value) of a protobuf message."""
    i = 0
    n = len(buf)
    while i < n:
        key, i = _varint(buf, i)
        fno, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
            yield fno, wt, v
        elif wt == 2:
            ln, i = _varint(buf, i)
            if i + ln > n:
                raise ProfileError("truncated field")
            yield fno, wt, buf[i : i + ln]
            i += ln
        elif wt == 1:
            if i + 8 > n:
                raise ProfileError("truncated field")
            yield fno, wt, int.from_bytes(buf[i : i + 8], "little")
            i += 8
        elif wt == 5:
            if i + 4 > n:
                raise ProfileError("truncated field")
            yield fno, wt, int.from_bytes(buf[i : i + 4], "little")
            i += 4
        else:
            raise ProfileError(f"unsupported wire type {wt}")


def _ints(wt: int, v) -> list[int]:
    """A repeated integer field, packed (bytes) or not."""
    if isinstance(v, int):
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = _varint(v, i)
        out.append(x)
    return out


def _signed(x: int) -> int:
    return x - (1 << 64) if x >= 1 << 63 else x


def decode(data: bytes) -> Profile:
    """Decode a profile from its bytes (gzipped or raw protobuf)."""
    try:
        return _decode(data)
    except ProfileError:
        raise
    except (TypeError, ValueError, IndexError, KeyError, OverflowError, UnicodeDecodeError) as e:
        raise ProfileError(f"malformed profile ({type(e).__name__})") from None


@dataclass
class _Raw:
    """A profile's messages as read, before the string table resolves them."""

    strings: list[str] = field(default_factory=list)
    types: list[tuple[int, int]] = field(default_factory=list)
    samples: list[tuple[list[int], list[int]]] = field(default_factory=list)
    locations: dict[int, Location] = field(default_factory=dict)
    funcs: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    period_type: tuple[int, int] = (0, 0)
    scalars: dict[str, int] = field(
        default_factory=lambda: {"period": 0, "duration": 0, "time": 0, "default": 0}
    )
    comments: list[int] = field(default_factory=list)


_SCALARS = {12: "period", 10: "duration", 9: "time", 14: "default"}  # varint fields of Profile


def _message(v: bytes) -> dict[int, int]:
    return dict((f, x) for f, _w, x in _fields(v))


def _sample(v: bytes) -> tuple[list[int], list[int]]:
    locs: list[int] = []
    vals: list[int] = []
    for f, w, x in _fields(v):
        if f == 1:
            locs += _ints(w, x)
        elif f == 2:
            vals += [_signed(y) for y in _ints(w, x)]
    return locs, vals


def _location(v: bytes) -> Location:
    lid, addr, lines = 0, 0, []
    for f, w, x in _fields(v):
        if f == 1:
            lid = x
        elif f == 3:
            addr = x
        elif f == 4 and w == 2:
            ld = _message(x)
            lines.append(Line(ld.get(1, 0), _signed(ld.get(2, 0))))
    return Location(lid, addr, lines)


def _embedded(raw: _Raw, fno: int, v: bytes) -> None:
    """One length-delimited field of Profile into ``raw``."""
    if fno == 1:
        d = _message(v)
        raw.types.append((d.get(1, 0), d.get(2, 0)))
    elif fno == 2:
        raw.samples.append(_sample(v))
    elif fno == 4:
        loc = _location(v)
        raw.locations[loc.id] = loc
    elif fno == 5:
        d = _message(v)
        raw.funcs.append((d.get(1, 0), d.get(2, 0), d.get(3, 0), d.get(4, 0), d.get(5, 0)))
    elif fno == 6:
        raw.strings.append(v.decode("utf-8", "replace"))
    elif fno == 11:
        d = _message(v)
        raw.period_type = (d.get(1, 0), d.get(2, 0))


def _read(data: bytes) -> _Raw:
    raw = _Raw()
    for fno, wt, v in _fields(data):
        if wt == 2 and fno in (1, 2, 4, 5, 6, 11):
            _embedded(raw, fno, v)
        elif wt == 0 and fno in _SCALARS:
            raw.scalars[_SCALARS[fno]] = v if fno == 14 else _signed(v)
        elif fno == 13:
            raw.comments += _ints(wt, v)
    return raw


def _resolve(raw: _Raw) -> Profile:
    """The profile with every string index resolved; a malformed one is a :class:`ProfileError`."""
    strings = raw.strings

    def s(i: int) -> str:
        if 0 <= i < len(strings):
            return strings[i]
        raise ProfileError(f"string index {i} out of range")

    if not strings or strings[0] != "":
        raise ProfileError("not a pprof profile (string table must start with an empty string)")
    if not raw.types:
        raise ProfileError("not a pprof profile (no sample types)")
    functions = {fid: Function(fid, s(n), s(sn), s(fn), sl) for fid, n, sn, fn, sl in raw.funcs}
    types = [(s(t), s(u)) for t, u in raw.types]
    samples = []
    for locs, vals in raw.samples:
        if len(vals) != len(types):
            raise ProfileError(f"sample has {len(vals)} values for {len(types)} sample types")
        samples.append(Sample(locs, vals))
    sc = raw.scalars
    return Profile(
        types,
        samples,
        raw.locations,
        functions,
        (s(raw.period_type[0]), s(raw.period_type[1])),
        sc["period"],
        sc["duration"],
        sc["time"],
        s(sc["default"]) if sc["default"] else "",
        [s(c) for c in raw.comments],
    )


def _decode(data: bytes) -> Profile:
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise ProfileError(f"corrupt gzip stream: {e}") from None
    if not data:
        raise ProfileError("empty profile")
    return _resolve(_read(data))


def load(path: str | Path) -> Profile:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ProfileError(f"{p}: cannot read profile: {e.strerror}") from None
    try:
        return decode(data)
    except ProfileError as e:
        raise ProfileError(f"{p}: {e.message}") from None


@dataclass
class FuncCost:
    name: str
    file: str
    line: int  # first line seen for the function (its leaf line when flat)
    flat: int
    cum: int


def top(profile: Profile, sample_type: str | None = None) -> tuple[list[FuncCost], int]:
    """Flat and cumulative cost per function, like ``pprof -top``; also the total."""
    idx = profile.index_of(sample_type) if sample_type else len(profile.sample_types) - 1
    flat: dict[str, int] = defaultdict(int)
    cum: dict[str, int] = defaultdict(int)
    where: dict[str, tuple[str, int]] = {}
    total = 0
    for smp in profile.samples:
        v = smp.values[idx]
        if v == 0:
            continue
        total += v
        frames = profile.frames(smp)
        if not frames:
            continue
        flat[frames[0][0]] += v
        seen = set()
        for name, file, line in frames:
            if name not in seen:
                seen.add(name)
                cum[name] += v
                where.setdefault(name, (file, line))
    costs = [FuncCost(n, where[n][0], where[n][1], flat.get(n, 0), c) for n, c in cum.items()]
    costs.sort(key=lambda f: (-f.flat, -f.cum, f.name))
    return costs, total
