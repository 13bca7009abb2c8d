"""The Memory section: peak RSS, GC pressure, allocation per op and the allocation hotspots of the
memory profiles (per op of the timed loop where two profiles measured it, else of the whole run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchpipe.core.artifacts import BenchMeta, FuncCost, ProfiledBenchmark, ProfileDoc
from benchpipe.core.settings import GcThresholds
from benchpipe.render.report.fmt import fmt_bytes, fmt_median
from benchpipe.render.report.metrics import Centers

_RANK = {"Low": 0, "Medium": 1, "High": 2}


def _hot(h: FuncCost, p: ProfiledBenchmark, per_op: bool) -> dict[str, Any]:
    return {
        "function": h.function,
        "file": h.file,
        "line": h.line,
        "flat": h.flat,
        "flat_pct": h.flat_pct,
        "cum": h.cum,
        "benchmark": p.benchmark,
        "per_op": per_op,
    }


def _tables(prof: ProfileDoc) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]] | None]:
    """Allocation hotspots (two per benchmark) and the per-benchmark tables by bytes, objects and setup."""
    alloc_hot: list[dict[str, Any]] = []
    mem_tables: dict[str, list[dict[str, Any]]] | None = None
    for p in prof.benchmarks:
        mem = p.mem
        if mem is None:
            continue
        space, objs = mem.alloc_space.top[:5], mem.alloc_objects.top[:5]
        alloc_hot += [_hot(h, p, mem.per_op) for h in space[:2]]
        mem_tables = mem_tables or {"space": [], "objects": [], "setup": []}
        for key, rows, unit in (("space", space, "B/op"), ("objects", objs, "allocs/op")):
            mem_tables[key] += [
                {
                    **_hot(h, p, mem.per_op),
                    "where": f"{Path(h.file).name}:{h.line}",
                    "value": f"{h.flat:,.1f} {unit}" if mem.per_op else f"{h.flat:,} (whole run)",
                }
                for h in rows
            ]
        if mem.per_op:
            mem_tables["setup"].append(
                {
                    "benchmark": p.benchmark,
                    "bytes": fmt_bytes(mem.alloc_space.setup),
                    "objects": f"{mem.alloc_objects.setup:,.0f}",
                    "loop": not space,
                    "outside": fmt_bytes(outside) if (outside := mem.alloc_space.outside_timer) else "",
                    "iterations": mem.iterations,
                }
            )
    alloc_hot.sort(key=lambda h: -h["flat"])
    return alloc_hot, mem_tables


def gc_level(prof: ProfileDoc, th: GcThresholds) -> dict[str, str]:
    """The run's GC pressure: the worst profiled benchmark's level, with what it rests on."""
    levels = [
        (p.gc_pressure, p.benchmark, p.cpu.gc_alloc_pct if p.cpu else 0.0, p.alloc_bytes_per_s)
        for p in prof.benchmarks
    ]
    if not levels:
        return {"level": "unknown", "detail": "no profile collected"}
    lvl = max(levels, key=lambda g: (_RANK.get(g[0], 0), g[2]))
    return {
        "level": lvl[0],
        "detail": f"worst: {lvl[1]}, {lvl[2]:.1f}% of CPU samples in GC and allocation, "
        f"{lvl[3] / 1e6:.0f} MB/s allocated; High at >= {th.high_gc_pct:g}% or "
        f"{th.high_mb_per_s:g} MB/s, Medium at >= {th.medium_gc_pct:g}% or "
        f"{th.medium_mb_per_s:g} MB/s",
    }


def memory(meta: BenchMeta, prof: ProfileDoc, c: Centers, th: GcThresholds) -> dict[str, Any]:
    alloc_hot, mem_tables = _tables(prof)
    # Without a memory profile, the run's own B/op and allocs/op say which benchmarks allocate most.
    med = c.by_name
    per_op = sorted(
        ((med[(n, "B/op")], med.get((n, "allocs/op"), 0.0), n) for n in c.order if med.get((n, "B/op"))),
        reverse=True,
    )[:3]
    return {
        "alloc_hot_all": alloc_hot,
        "alloc_hot": alloc_hot[:3],
        "mem_tables": mem_tables,
        "alloc_per_op": [
            {"benchmark": n, "bytes": fmt_median(b, "B/op"), "allocs": fmt_median(a, "allocs/op")}
            for b, a, n in per_op
        ],
        "gc": gc_level(prof, th),
        "peak_rss": f"{meta.peak_rss_kb / 1024:.1f} MB",
    }
