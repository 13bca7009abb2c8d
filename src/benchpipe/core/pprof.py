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
        raise ProfileError(f"profile has no sample type {sample_type!r} "
                           f"(has {', '.join(t for t, _ in self.sample_types)})")

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
            yield fno, wt, buf[i:i + ln]
            i += ln
        elif wt == 1:
            if i + 8 > n:
                raise ProfileError("truncated field")
            yield fno, wt, int.from_bytes(buf[i:i + 8], "little")
            i += 8
        elif wt == 5:
            if i + 4 > n:
                raise ProfileError("truncated field")
            yield fno, wt, int.from_bytes(buf[i:i + 4], "little")
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


def _decode(data: bytes) -> Profile:
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise ProfileError(f"corrupt gzip stream: {e}") from None
    if not data:
        raise ProfileError("empty profile")
    strings: list[str] = []
    raw_types: list[tuple[int, int]] = []
    raw_samples: list[tuple[list[int], list[int]]] = []
    locations: dict[int, Location] = {}
    raw_funcs: list[tuple[int, int, int, int, int]] = []
    period_type = (0, 0)
    scalars = {"period": 0, "duration": 0, "time": 0, "default": 0}
    comments: list[int] = []
    for fno, wt, v in _fields(data):
        if fno == 1 and wt == 2:
            d = dict((f, x) for f, _w, x in _fields(v))
            raw_types.append((d.get(1, 0), d.get(2, 0)))
        elif fno == 2 and wt == 2:
            locs: list[int] = []
            vals: list[int] = []
            for f, w, x in _fields(v):
                if f == 1:
                    locs += _ints(w, x)
                elif f == 2:
                    vals += [_signed(y) for y in _ints(w, x)]
            raw_samples.append((locs, vals))
        elif fno == 4 and wt == 2:
            lid, addr, lines = 0, 0, []
            for f, w, x in _fields(v):
                if f == 1:
                    lid = x
                elif f == 3:
                    addr = x
                elif f == 4 and w == 2:
                    ld = dict((ff, xx) for ff, _ww, xx in _fields(x))
                    lines.append(Line(ld.get(1, 0), _signed(ld.get(2, 0))))
            locations[lid] = Location(lid, addr, lines)
        elif fno == 5 and wt == 2:
            d = dict((f, x) for f, _w, x in _fields(v))
            raw_funcs.append((d.get(1, 0), d.get(2, 0), d.get(3, 0), d.get(4, 0), d.get(5, 0)))
        elif fno == 6 and wt == 2:
            strings.append(v.decode("utf-8", "replace"))
        elif fno == 11 and wt == 2:
            d = dict((f, x) for f, _w, x in _fields(v))
            period_type = (d.get(1, 0), d.get(2, 0))
        elif fno == 12 and wt == 0:
            scalars["period"] = _signed(v)
        elif fno == 10 and wt == 0:
            scalars["duration"] = _signed(v)
        elif fno == 9 and wt == 0:
            scalars["time"] = _signed(v)
        elif fno == 14 and wt == 0:
            scalars["default"] = v
        elif fno == 13:
            comments += _ints(wt, v)

    def s(i: int) -> str:
        if 0 <= i < len(strings):
            return strings[i]
        raise ProfileError(f"string index {i} out of range")

    if not strings or strings[0] != "":
        raise ProfileError("not a pprof profile (string table must start with an empty string)")
    if not raw_types:
        raise ProfileError("not a pprof profile (no sample types)")
    functions = {fid: Function(fid, s(n), s(sn), s(fn), sl) for fid, n, sn, fn, sl in raw_funcs}
    types = [(s(t), s(u)) for t, u in raw_types]
    samples = []
    for locs, vals in raw_samples:
        if len(vals) != len(types):
            raise ProfileError(f"sample has {len(vals)} values for {len(types)} sample types")
        samples.append(Sample(locs, vals))
    return Profile(types, samples, locations, functions, (s(period_type[0]), s(period_type[1])),
                   scalars["period"], scalars["duration"], scalars["time"],
                   s(scalars["default"]) if scalars["default"] else "", [s(c) for c in comments])


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
