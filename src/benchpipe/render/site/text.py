"""Text in the site's HTML: escaped names and plain numbers (the pages and the charts share them)."""

from __future__ import annotations

import html

from benchpipe.core.units import human
from benchpipe.core.untrusted import visible


def esc(s: object) -> str:
    """Text for HTML: one line, bidirectional and control characters shown as escapes
    (:func:`benchpipe.core.untrusted.visible`), then HTML-escaped."""
    return html.escape(visible(s), quote=True)


def esc_all(values: list[str]) -> list[str]:
    """:func:`esc` of many strings at once (one call per column of a page, not one per cell)."""
    return html.escape("\x00".join(visible(v) for v in values), quote=True).split("\x00") if values else []


def num(v: float | None) -> str:
    return "" if v is None else f"{v:.4g}"


def value(v: float | None, unit: str) -> str:
    """A value in human units (:func:`benchpipe.core.units.human`), its exact value on hover."""
    if v is None:
        return ""
    exact = esc(f"{v:g} {unit}")
    return f'<span title="{exact}">{esc(human(v, unit))}</span>'
