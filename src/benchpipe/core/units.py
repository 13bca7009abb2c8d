"""Units of benchmark measurements: tidying, better direction, assumptions.

Follows the benchfmt conventions: ns/op is shown as sec/op and MB/s as B/s;
lower is better except for throughput units (B/s, MB/s and custom ``.../s``
metrics such as decisions/s). Allocation counts and bytes per op are exact
(deterministic) unless a Unit line says otherwise.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

# unit as written -> (tidy unit, factor)
_TIDY = {"ns/op": ("sec/op", 1e-9), "MB/s": ("B/s", 1e6)}
TIME_PER_OP = ("sec/op", "ns/op")  # the time of one operation, as Go prints it and as benchstat names it


_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_NS = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}


def finite(x: object) -> float | None:
    """A number as a finite float, or None for a missing one (None, a masked or NaN column value, an infinite
    interval bound): the one place NaN and infinity become JSON's and Parquet's null."""
    if x is None or getattr(x, "mask", False) is True or type(x).__name__ == "MaskedConstant":
        return None
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if v != v or v in (float("inf"), float("-inf")) else v


def go_duration_ns(s: str) -> float | None:
    """A Go duration (``time.ParseDuration``: ``500ms``, ``1m30s``, ``1.5h``) in nanoseconds; None if it is
    not one."""
    text = str(s).strip()
    parts = _GO_DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _DURATION_NS[u] for n, u in parts)


@cache
def tidy(unit: str) -> tuple[str, float]:
    """The display unit for ``unit`` and the factor to convert values to it.

    As benchfmt's tidying: in the numerator of a unit (tokens separated by
    ``*``, ``/``, ``-`` or spaces; ``/`` starts the denominator, ``*`` ends it)
    ``ns`` becomes ``sec`` (x1e-9) and ``MB`` becomes ``B`` (x1e6); so ns/op is
    sec/op, MB/s is B/s and a custom p99-ns is p99-sec.
    """
    if unit in _TIDY:
        return _TIDY[unit]
    if "ns" not in unit and "MB" not in unit:
        return unit, 1.0
    out, factor, denom, i = [], 1.0, False, 0
    while i < len(unit):
        c = unit[i]
        if c in "*/-" or c.isspace():
            denom = False if c == "*" else True if c == "/" else denom
            out.append(c)
            i += 1
            continue
        j = i
        while j < len(unit) and not (unit[j] in "*/-" or unit[j].isspace()):
            j += 1
        tok = unit[i:j]
        if not denom and tok == "ns":
            tok, factor = "sec", factor / 1e9
        elif not denom and tok == "MB":
            tok, factor = "B", factor * 1e6
        out.append(tok)
        i = j
    return "".join(out), factor


INSTRUCTIONS = "instructions/op"  # the deterministic measure (valgrind): judged exact, at its own threshold


def higher_is_better(unit: str, declared: str | None = None) -> bool:
    """True when larger values of ``unit`` are better."""
    if declared in ("higher", "lower"):
        return declared == "higher"
    return unit.endswith("/s")


@dataclass(frozen=True)
class UnitInfo:
    """What the input says about a unit (from ``Unit`` lines) plus defaults."""

    unit: str
    better: str = ""  # "higher", "lower" or "" (default by name)
    assume: str = "nothing"  # "nothing" or "exact"

    @property
    def higher_better(self) -> bool:
        return higher_is_better(self.unit, self.better or None)


@cache
def _factors(binary: bool) -> list[tuple[float, str, float, float, float]]:
    """(factor, prefix, 100, 10 and 1 thresholds) from largest to smallest, as benchunit rounds them."""
    if binary:
        return [
            (2.0**e, p, 99.995 * 2.0**e, 9.9995 * 2.0**e, 0.99995 * 2.0**e)
            for e, p in ((40, "Ti"), (30, "Gi"), (20, "Mi"), (10, "Ki"), (0, ""))
        ]
    return [
        (10.0**e, p, float(f"99.995e{e}"), float(f"9.9995e{e}"), float(f".99995e{e}"))
        for e, p in ((12, "T"), (9, "G"), (6, "M"), (3, "k"), (0, ""), (-3, "m"), (-6, "µ"), (-9, "n"))
    ]


@cache
def is_binary(unit: str) -> bool:
    """Byte units scale by powers of 1024 (Ki, Mi, ...), all others by SI prefixes."""
    denom = False
    for tok in re.split(r"([*/\-\s])", unit):
        if tok == "/":
            denom = True
        elif tok == "*":
            denom = False
        elif tok in ("B", "MB", "bytes") and not denom:
            return True
    return False


@cache
def _ladder(binary: bool) -> tuple[list[float], list[tuple[float, str, float, float, float]]]:
    """The factors of :func:`_factors` smallest first, with their ``1`` thresholds for bisecting."""
    asc = list(reversed(_factors(binary)))
    return [f[4] for f in asc], asc


def scale_for(unit: str, values: Iterable[float]) -> tuple[int, float, str]:
    """One scale for a column of values, chosen by its smallest non-zero magnitude (benchstat's rule).

    Returns (digits after the point, factor, prefix) for four significant digits.
    """
    least = _INF
    for v in values:
        a = -v if v < 0 else v
        if 0 < a < least:  # skips 0, NaN and infinities
            least = a
    if least == _INF:
        return 3, 1.0, ""
    t1s, asc = _ladder(is_binary(unit))
    i = bisect_right(t1s, least)  # the largest factor whose 1-threshold the value reaches
    if i:
        factor, prefix, t100, t10, _ = asc[i - 1]
        return (1 if least >= t100 else 2 if least >= t10 else 3), factor, prefix
    factor, prefix = asc[0][0], asc[0][1]
    val = least / factor
    for i, exp in enumerate(range(-1, -9, -1)):
        if val >= float(f"9.9995e{exp}") or i == 7:
            return i + 3, factor, prefix
    return 3, factor, prefix


_INF = float("inf")


@cache
def pair_formatter(unit: str) -> Callable[[float, float], tuple[str, str]]:
    """For a table row: two values (old, new) formatted on their shared :func:`scale_for` scale, exactly as
    :func:`format_value` would; the unit's scale ladder is looked up once, not per row."""
    t1s, asc = _ladder(is_binary(unit))
    # printf templates per factor and digits after the point (what format_value's f-string gives)
    templates = [{d: f"%.{d}f{prefix.replace('%', '%%')}" for d in (1, 2, 3)} for _, prefix, _, _, _ in asc]

    def fmt(x: float, y: float) -> tuple[str, str]:
        ax, ay = (-x if x < 0 else x), (-y if y < 0 else y)
        if 0 < ax < _INF and 0 < ay < _INF:  # both finite and non-zero: the common case
            i = bisect_right(t1s, ax if ax < ay else ay)
            if i:
                least = ax if ax < ay else ay
                factor, prefix, t100, t10, _ = asc[i - 1]
                tpl = templates[i - 1][1 if least >= t100 else 2 if least >= t10 else 3]
                return tpl % (x / factor), tpl % (y / factor)
        scale = scale_for(unit, (x, y))
        return format_value(x, scale), format_value(y, scale)

    return fmt


def format_value(v: float, scale: tuple[int, float, str]) -> str:
    """Format ``v`` with a scale from :func:`scale_for`."""
    if v != v:
        return "NaN"
    if v == _INF or v == -_INF:
        return "∞" if v > 0 else "-∞"
    prec, factor, prefix = scale
    return f"{v / factor:.{prec}f}{prefix}"


def human(v: float, unit: str) -> str:
    """A value as people read it, in benchstat's units and scaling: ``101.9 µs`` (ns/op), ``153.0 KiB``
    (B/op), ``1.500k allocs`` (allocs/op), ``6.658M decisions/s``; a per-op unit drops its ``/op``."""
    shown, factor = tidy(unit)
    x = v * factor
    prec, div, prefix = scale_for(shown, [x])
    text = format_value(x, (prec, div, ""))
    base = shown.removesuffix("/op")
    if base == "sec":
        return f"{text} {prefix}s"
    if base.endswith("-sec"):  # a custom time metric: p99-ns is p99-sec after tidying
        return f"{text} {prefix}s {base[:-4]}"
    if base == "B":
        return f"{text} {prefix}B"
    return f"{text}{prefix} {base}"


_SIZE = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}
_TIME = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9}


def parse_quantity(s: str | float, unit: str) -> float:
    """'1ms' -> 1e6 (ns) for ns/op; '10KB' -> 10240 for B/op; plain numbers as they are."""
    if isinstance(s, int | float):
        return float(s)
    m = re.fullmatch(r"\s*([\d.]+)\s*([a-zA-Zµ]*)\s*", str(s))
    if not m:
        raise ValueError(f"cannot read quantity {s!r}")
    num, suf = float(m.group(1)), m.group(2)
    if not suf:
        return num
    if suf.lower() in _SIZE:
        return num * _SIZE[suf.lower()]
    if suf in _TIME:
        return num * _TIME[suf]
    raise ValueError(f"unknown suffix in {s!r}")
