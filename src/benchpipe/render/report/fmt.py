"""How the report writes numbers and text: medians, bytes, quantities, code spans."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchpipe.core.units import format_value, scale_for
from benchpipe.core.untrusted import LIMIT, visible


def code_escape(s: Any) -> str:
    """Text safe inside a single-backtick code span in a table: one line (:func:`core.untrusted.visible`,
    cut at ``LIMIT`` characters), backticks shown as quotes, ``|`` escaped."""
    return visible(s, LIMIT).replace("`", "'").replace("|", "\\|")


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


@dataclass
class Files:
    """The files the report links to, for the report stage to write under ``graphs/`` beside it: copies of the
    profile stage's call graphs and the charts drawn here. The builders only name them (render reads and
    writes nothing)."""

    copies: dict[str, Path] = field(default_factory=dict)  # name -> the file to copy
    texts: dict[str, str] = field(default_factory=dict)  # name -> its content

    def copy(self, name: str, src: Path) -> str:
        self.copies[name] = src
        return f"graphs/{name}"

    def write(self, name: str, text: str) -> str:
        self.texts[name] = text
        return f"graphs/{name}"
