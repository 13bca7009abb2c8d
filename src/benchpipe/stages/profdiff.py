"""Differential CPU profiles: what got more expensive per operation, and where.

Both profiles are normalised per benchmark iteration (profile time divided by
the b.N of the profiling run), so base and current runs of different lengths
compare fairly, like ``pprof -diff_base`` on equal work. For each function:
flat and cumulative nanoseconds per op, before and after, and the change of
its *own-code* cost — each sample charged to the innermost frame that belongs
to the target module (the standard library and runtime work done on a
function's behalf is charged to it), which puts the target's function that
does the extra work at the top. The current call graph is drawn with nodes
coloured by the change of their cumulative cost (reds: slower, blues: faster).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from benchpipe.core import benchfmt, pprof
from benchpipe.core.artifacts import DiffRow, ProfileDiff
from benchpipe.core.settings import ProfileSection
from benchpipe.render import callgraph


def per_op(prof: pprof.Profile, iterations: int, module: str) -> dict[str, dict[str, float]]:
    idx = prof.index_of("cpu")
    out: dict[str, dict[str, float]] = defaultdict(lambda: {"flat": 0.0, "cum": 0.0, "own": 0.0})
    prefix = (module + "/", module + ".")
    for smp in prof.samples:
        v = smp.values[idx] / max(1, iterations)
        frames = prof.frames(smp)
        if not v or not frames:
            continue
        out[frames[0][0]]["flat"] += v
        for name in {f[0] for f in frames}:
            out[name]["cum"] += v
        own = next((f[0] for f in frames if f[0].startswith(prefix)), frames[0][0])
        out[own]["own"] += v
    return out


def iterations(run_dir: Path) -> int:
    p = run_dir / "bench.txt"
    if not p.exists():
        return 0
    return sum(r.iters for r in benchfmt.read_files([p]).results)


def diff_dirs(base_dir: Path, cur_dir: Path, module: str, profile_cfg: ProfileSection) -> ProfileDiff:
    """The differential profile of ``cur_dir``'s run against ``base_dir``'s (a note when there is none)."""
    if not (base_dir / "cpu.prof").exists():
        return ProfileDiff(
            note=f"no baseline profile in {base_dir} (baselines saved by `invoke baseline` keep profiles)"
        )
    try:
        bp, cp = pprof.load(base_dir / "cpu.prof"), pprof.load(cur_dir / "cpu.prof")
    except pprof.ProfileError as e:
        return ProfileDiff(note=str(e))
    bi, ci = iterations(base_dir), iterations(cur_dir)
    if not bi or not ci:
        return ProfileDiff(note="iteration counts of the profiling runs are missing")
    base, cur = per_op(bp, bi, module), per_op(cp, ci, module)
    rows = []
    for name in set(base) | set(cur):
        b = base.get(name, {"flat": 0.0, "cum": 0.0, "own": 0.0})
        c = cur.get(name, {"flat": 0.0, "cum": 0.0, "own": 0.0})
        rows.append(
            DiffRow(
                function=name,
                base_flat=b["flat"],
                cur_flat=c["flat"],
                d_flat=c["flat"] - b["flat"],
                base_cum=b["cum"],
                cur_cum=c["cum"],
                d_cum=c["cum"] - b["cum"],
                d_own=c["own"] - b["own"],
            )
        )
    rows.sort(key=lambda r: (-r.d_own, -r.d_flat, r.function))
    result = ProfileDiff(
        rows=rows[: profile_cfg.top],
        base_ns_per_op=sum(v["flat"] for v in base.values()),
        cur_ns_per_op=sum(v["flat"] for v in cur.values()),
        base_iterations=bi,
        cur_iterations=ci,
    )
    colors = callgraph.change_colors({r.function: r.d_cum for r in rows})
    data = callgraph.gprof2dot_json(cp, cp.index_of("cpu"), "cpu", "ns")
    svg, note = callgraph.render(
        data, cur_dir / "diff.svg", profile_cfg.node_threshold, profile_cfg.edge_threshold, colors
    )
    result.graph = "diff.svg" if svg else ""
    result.note = note or ""
    return result
