"""The CPU section: each profiled benchmark's hotspot tables, call graph and trace, and the
differential profiles of regressed benchmarks (from the profile stage's :class:`ProfileDoc`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from benchpipe.core import benchfmt
from benchpipe.core.artifacts import FuncCost, ProfiledBenchmark, ProfileDoc
from benchpipe.render.report.fmt import Files


def _where(f: FuncCost) -> dict[str, Any]:
    return {
        "function": f.function,
        "file": f.file,
        "line": f.line,
        "flat": f.flat,
        "cum": f.cum,
        "flat_pct": f.flat_pct,
        "cum_pct": f.cum_pct,
        "flat_ns_op": f.flat_ns_op,
        "cum_ns_op": f.cum_ns_op,
        "where": f"{Path(f.file).name}:{f.line}",
    }


def profile_entry(p: ProfiledBenchmark, profile_dir: Path, files: Files, root: Path) -> dict[str, Any]:
    """One profiled benchmark as the report shows it (its call graph copied into the report's ``files``; its
    trace named from ``root``, where ``go tool trace`` is run)."""
    bdir = profile_dir / p.dir
    entry: dict[str, Any] = {
        "package": p.package,
        "benchmark": p.benchmark,
        "flat": [],
        "cum": [],
        "svg": "",
        "trace": os.path.relpath(bdir / "trace.out", root) if p.trace else "",
        "run_as": p.cpu_benchtime_why or p.cpu_benchtime,
        "iterations": p.iterations,
        "own": [],
        "samples": 0,
        "per_op": False,
        "harness_pct": 0.0,
    }
    if p.cpu is not None:
        entry.update(
            flat=[_where(f) for f in p.cpu.flat[:8]],
            cum=[_where(f) for f in p.cpu.cum[:8]],
            own=[_where(f) for f in p.cpu.own[:8]],
            samples=p.cpu.samples,
            per_op=bool(p.cpu.ns_per_op),
            ns_per_op=p.cpu.ns_per_op,
            harness_pct=p.cpu.harness_pct,
        )
    if p.graphs.cpu:
        entry["svg"] = files.copy(f"cpu-{benchfmt.slug(p.dir)}.svg", bdir / p.graphs.cpu)
    return entry


def diff_entry(p: ProfiledBenchmark, profile_dir: Path, files: Files) -> dict[str, Any] | None:
    """The differential profile of a regressed benchmark against its baseline's, where there is one."""
    d = p.diff
    if d is None or not d.rows:
        return None
    svg = ""
    if d.graph:
        svg = files.copy(f"diff-{benchfmt.slug(p.dir)}.svg", profile_dir / p.dir / d.graph)
    rows = [
        {
            "function": r.function,
            "base_flat": r.base_flat,
            "cur_flat": r.cur_flat,
            "d_flat": r.d_flat,
            "base_cum": r.base_cum,
            "cur_cum": r.cur_cum,
            "d_cum": r.d_cum,
            "d_own": r.d_own,
            "top": i == 0,
        }
        for i, r in enumerate(d.rows[:10])
    ]
    return {
        "benchmark": p.benchmark,
        "base_ns": d.base_ns_per_op,
        "cur_ns": d.cur_ns_per_op,
        "svg": svg,
        "rows": rows,
    }


def cpu(prof: ProfileDoc, profile_dir: Path, files: Files, root: Path) -> dict[str, Any]:
    """The profiles and differential profiles of the run, and the profile stage's notes."""
    profiles = [profile_entry(p, profile_dir, files, root) for p in prof.benchmarks]
    diffs = [d for p in prof.benchmarks if (d := diff_entry(p, profile_dir, files)) is not None]
    return {"profiles": profiles, "diffs": diffs, "prof": prof, "prof_notes": prof.notes}
