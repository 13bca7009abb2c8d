"""The history as the long CSV ``dvc plots`` draws (one line per benchmark)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchpipe.store import atomic


def write_plot_csv(rows: list[dict[str, Any]], path: Path, unit: str = "ns/op") -> None:
    """A long CSV for ``dvc plots``: one row per run and benchmark (``run,time,commit,benchmark,value``),
    ``run`` numbering the runs oldest first; ``dvc.yaml`` draws one line per benchmark from it
    (``.dvc/plots/benchpipe_trend.json``: x ``run``, y ``value``, colour ``benchmark``)."""
    runs: dict[str, tuple[str, str]] = {}
    for r in rows:
        if r["unit"] == unit:
            runs.setdefault(r["run_id"], (str(r["time"]), str(r["commit"])[:12]))
    order = sorted(runs, key=lambda rid: (runs[rid][0], rid))
    index = {rid: i for i, rid in enumerate(order)}
    body = sorted(
        (index[r["run_id"]], r["benchmark"], r["center"], r["run_id"]) for r in rows if r["unit"] == unit
    )
    lines = ["run,time,commit,benchmark,value"]
    for i, name, center, rid in body:
        t, commit = runs[rid]
        lines.append(f"{i},{t},{commit},{name.replace(',', ';')},{center!r}")
    atomic.write_text(path, "\n".join(lines) + "\n")
