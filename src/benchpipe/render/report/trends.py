"""The Trends section: a chart with change points for each chosen benchmark's recent runs (ns/op)."""

from __future__ import annotations

from typing import Any

from benchpipe.core import benchfmt, changepoint
from benchpipe.core.units import finite
from benchpipe.render import trend
from benchpipe.render.report.fmt import Files


def trend_entry(name: str, cols: dict[str, Any], files: Files) -> dict[str, Any]:
    """One benchmark's chart (one of the report's ``files``) and its change points."""
    pts = [
        {
            "run_id": str(cols["run_id"][i]),
            "time": str(cols["time"][i]),
            "commit": str(cols["commit"][i]),
            "center": float(cols["center"][i]),
            "lo": finite(cols["lo"][i]),
            "hi": finite(cols["hi"][i]),
        }
        for i in range(len(cols["center"]))
    ]
    cps = changepoint.changes([p["center"] for p in pts])
    svg = files.write(f"trend-{benchfmt.slug(name)}.svg", trend.svg(name, "ns/op", pts, cps))
    return {
        "benchmark": name,
        "svg": svg,
        "runs": len(pts),
        "changes": [
            {
                "run_id": pts[c.index]["run_id"],
                "commit": pts[c.index]["commit"][:12],
                "time": pts[c.index]["time"],
                "change_pct": c.change_pct,
                "p": c.p,
                "before": c.before,
                "after": c.after,
            }
            for c in cps
        ],
    }


def trends(series: dict[str, dict[str, Any]], names: list[str], files: Files) -> list[dict[str, Any]]:
    """Charts of ``names`` that have runs in ``series`` (the history's columns per benchmark)."""
    return [trend_entry(n, series[n], files) for n in names if series.get(n) and len(series[n]["center"])]
