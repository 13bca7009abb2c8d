"""Units of benchmark measurements: tidying, better direction, assumptions.

Follows the benchfmt conventions: ns/op is shown as sec/op and MB/s as B/s;
lower is better except for throughput units (B/s, MB/s and custom ``.../s``
metrics such as decisions/s). Allocation counts and bytes per op are exact
(deterministic) unless a Unit line says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

# unit as written -> (tidy unit, factor)
_TIDY = {"ns/op": ("sec/op", 1e-9), "MB/s": ("B/s", 1e6)}


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


_PREFIXES = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""),
             (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p")]
_BINARY = [(2**40, "Ti"), (2**30, "Gi"), (2**20, "Mi"), (2**10, "Ki"), (1, "")]


def scale_for(unit: str, values: list[float]) -> tuple[float, str]:
    """Pick one scale for a column of values, as benchstat does (by the smallest)."""
    finite = [abs(v) for v in values if v == v and abs(v) != float("inf") and v != 0]
    if not finite:
        return 1.0, ""
    ref = min(finite)
    base = unit.split("/")[0]
    if base == "B":
        for factor, prefix in _BINARY:
            if ref >= factor:
                return factor, prefix
        return 1.0, ""
    if unit.startswith("sec/") or unit.endswith("/s"):
        for factor, prefix in _PREFIXES:
            if ref >= factor:
                return factor, prefix
        return _PREFIXES[-1]
    if ref >= 1e5:
        for factor, prefix in _PREFIXES[:4]:
            if ref >= factor:
                return factor, prefix
    return 1.0, ""


def format_value(v: float, factor: float, prefix: str) -> str:
    """Four significant digits, like benchstat's scaler."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "∞" if v > 0 else "-∞"
    x = v / factor
    a = abs(x)
    if a >= 1000:
        s = f"{x:.0f}"
    elif a >= 100:
        s = f"{x:.1f}"
    elif a >= 10:
        s = f"{x:.2f}"
    else:
        s = f"{x:.3f}"
    return s + prefix
