"""How the report writes numbers and text: medians, bytes, quantities, code spans."""

from __future__ import annotations

import re
from typing import Any

from benchpipe.core.units import format_value, scale_for


def code_escape(s: Any) -> str:
    """Text safe inside a single-backtick code span in a table."""
    return str(s).replace("`", "'").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def fmt_bytes(n: float) -> str:
    """Bytes with a binary prefix (benchstat's scaling)."""
    return format_value(n, scale_for("B", [n])) + "B"


def fmt_median(v: float | None, unit: str) -> str:
    """A median for the report's tables, in the unit as written."""
    if v is None:
        return ""
    if unit == "ns/op" and v < 100:
        return f"{v:,.1f}"
    if v >= 1000 or v == int(v):
        return f"{v:,.0f}"
    return f"{v:.4g}"


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
