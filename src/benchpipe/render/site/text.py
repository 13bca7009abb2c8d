"""Text in the site's HTML: escaped names and plain numbers (the pages and the charts share them)."""

from __future__ import annotations

import html


def esc(s: object) -> str:
    return html.escape(str(s), quote=True)


def esc_all(values: list[str]) -> list[str]:
    """:func:`esc` of many strings at once (one call per column of a page, not one per cell)."""
    return html.escape("\x00".join(values), quote=True).split("\x00") if values else []


def num(v: float | None) -> str:
    return "" if v is None else f"{v:.4g}"
