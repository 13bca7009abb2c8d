"""What a benchmark's profiles say, as the profile stage's typed models (pure: the stage runs and writes).

- :func:`summarize_cpu`: a CPU profile's flat, cumulative and own-code tables (ns/op per function when the
  benchmark run's ns/op is known), its samples, the GC and allocation share and the harness's share
  (:data:`~benchpipe.core.attribution.HARNESS`: the benchmark's own timer, ``testing.*``).
- :func:`summarize_mem_loop`: the timed loop's allocations per op, exactly, from two runs at every
  allocation (N/4 and N iterations); :func:`summarize_mem`: one run's whole allocations.
- :func:`gc_pressure`: Low / Medium / High from the GC share and the allocation rate.
- :func:`cpu_iterations`, :func:`mem_iterations`, :func:`profile_benchtime`: how long the runs are.
- :func:`scale_to`: the ns/op per-function costs are scaled to (the benchmark run's), with a note when the
  profiler's own cost moved the profiled run more than :data:`PROFILER_NOTE_PCT`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from benchpipe.core import benchfmt, pprof
from benchpipe.core.artifacts import CompareDoc, CpuProfile, FuncCost, MemProfile, MemTable
from benchpipe.core.attribution import HARNESS
from benchpipe.core.benchtime import parse
from benchpipe.core.settings import GcThresholds, Mode, ProfileSection

GC_FUNCS = re.compile(
    r"^runtime\.(gc\w*|mallocgc\w*|scanobject|scanObject|greyobject|sweepone|bgsweep|"
    r"bgscavenge|markroot\w*|newobject|makeslice|growslice|nextFreeFast|mProf_Malloc|"
    r"memclrNoHeapPointers|(\(\*mspan\)|\(\*mcache\)|\(\*mheap\)|\(\*gcWork\))\.\w+)$"
)
SAMPLE_NS = 10_000_000  # Go's CPU profiler samples at 100 Hz: one sample per 10 ms of CPU time
PROFILER_NOTE_PCT = 10.0  # a CPU run this far from the benchmark run's ns/op gets a note

ResultKey = tuple[str, str]  # (import path, result name without -N): one result, as profiling selects it


@dataclass(frozen=True)
class Choice:
    """What the profile stage profiles: a regex, why (``kind``: ``explicit`` profile.bench, ``flagged`` by
    compare, or the ``mode``'s set), and the exact results when they were flagged (None: all the regex
    runs)."""

    kind: str
    regex: str
    results: set[ResultKey] | None = None

    @property
    def why(self) -> str:
        return {
            "explicit": "profile.bench in params",
            "flagged": "regressed in compare",
            "mode": "the mode's benchmark set",
        }[self.kind]


def flagged_results(cmp: CompareDoc) -> set[ResultKey]:
    """The results the compare stage flagged: (package, full name without the -N suffix)."""
    return {(r.package, benchfmt.base_name(r.benchmark)) for r in cmp.regressions()}


def summarize_cpu(
    prof: pprof.Profile, limit: int, ns_per_op: float | None = None, module: str = ""
) -> CpuProfile:
    """Flat/cumulative tables (with ns/op per function when the run's ns/op is known), the CPU sample
    count, the GC share, the measurement-overhead share and the module's own functions by flat cost."""
    costs, total = pprof.top(prof, "cpu")
    gc = sum(c.flat for c in costs if GC_FUNCS.match(c.name))
    harness = sum(c.flat for c in costs if HARNESS.match(c.name))

    def row(c: pprof.FuncCost) -> FuncCost:
        flat_pct = 100 * c.flat / total if total else 0.0
        cum_pct = 100 * c.cum / total if total else 0.0
        r = FuncCost(
            function=c.name,
            file=c.file,
            line=c.line,
            flat=c.flat,
            cum=c.cum,
            flat_pct=flat_pct,
            cum_pct=cum_pct,
        )
        if ns_per_op:
            r.flat_ns_op, r.cum_ns_op = flat_pct / 100 * ns_per_op, cum_pct / 100 * ns_per_op
        return r

    rows = [row(c) for c in costs]
    by_cum = sorted(rows, key=lambda r: (-r.cum, r.function))
    own = [
        r
        for r in rows
        if module and r.function.startswith((module + "/", module + ".")) and not HARNESS.match(r.function)
    ]
    si = next((i for i, (t, _) in enumerate(prof.sample_types) if t == "samples"), None)
    n = sum(smp.values[si] for smp in prof.samples) if si is not None else len(prof.samples)
    return CpuProfile(
        total_ns=total,
        duration_ns=prof.duration_nanos,
        samples=n,
        ns_per_op=ns_per_op,
        gc_alloc_pct=100 * gc / total if total else 0.0,
        harness_pct=100 * harness / total if total else 0.0,
        flat=rows[:limit],
        cum=by_cum[:limit],
        own=own[:5],
    )


def mem_iterations(benchtime: str, ns_per_op: float | None, cap: int = 10_000_000) -> tuple[int, int] | None:
    """Two iteration counts for the memory profile runs: the run's (``Nx``, or the benchtime at the
    measured ns/op) and a quarter of it; None when they cannot be told apart (fewer than 4 iterations)."""
    bt = parse(benchtime)
    if bt.iters is not None:
        n2 = bt.iters
    else:
        span = bt.ns
        if span is None or not ns_per_op or ns_per_op <= 0:
            return None
        n2 = min(cap, math.ceil(span / ns_per_op))
    return (max(1, n2 // 4), n2) if n2 >= 4 else None


GO_GRAIN_PCT = 2.0  # the two runs' difference and go test's B/op of a loop agree within this (test_pprof)


def summarize_mem_loop(
    short: pprof.Profile,
    long: pprof.Profile,
    n1: int,
    n2: int,
    limit: int,
    go_per_op: dict[str, float] | None = None,
) -> MemProfile:
    """Allocations of the timed loop only, exactly: with every allocation recorded (memprofilerate 1),
    a run of N iterations allocates 2*setup + (1+N)*per_op (testing calls the benchmark once with b.N=1,
    then with b.N=N), so the difference of two runs divided by N2-N1 is each function's cost per op and
    what remains is setup (before the timer, or otherwise outside the loop). Rows are B/op and allocs/op;
    a benchmark whose loop allocates nothing has no rows.

    Setup sized by b.N (a buffer of b.N latencies made before ``b.ResetTimer``) grows with N too, so the
    difference counts it as the loop's. ``go_per_op`` (the long run's own B/op and allocs/op by table,
    which count the timed region only) owns the total: where the difference exceeds it by more than Go's
    grain (1: its values are whole numbers, truncated) and :data:`GO_GRAIN_PCT`, the excess is
    ``outside_timer`` and the total is Go's; a loop Go says allocates nothing then has no rows."""
    out = MemProfile(iterations=[n1, n2], per_op=True)
    for st, floor in (("alloc_space", 0.5), ("alloc_objects", 0.01)):
        c1, t1 = pprof.top(short, st)
        c2, t2 = pprof.top(long, st)
        before = {c.name: c.flat for c in c1}
        loop = max(0.0, (t2 - t1) / (n2 - n1))
        go = (go_per_op or {}).get(st)
        outside = loop - go if go is not None and loop - go >= max(1.0, GO_GRAIN_PCT / 100 * go) else 0.0
        if outside:
            loop = go
        rows = []
        for c in c2:
            d = (c.flat - before.get(c.name, 0)) / (n2 - n1)
            if d >= floor and (loop > 0 or not outside):
                rows.append(
                    FuncCost(
                        function=c.name,
                        file=c.file,
                        line=c.line,
                        flat=d,
                        flat_pct=100 * d / loop if loop else 0.0,
                        cum=c.cum,
                    )
                )
        rows.sort(key=lambda r: (-r.flat, r.function))
        setup = max(0.0, t2 - (1 + n2) * loop)
        setattr(out, st, MemTable(total=loop, setup=setup, top=rows[:limit], outside_timer=round(outside, 2)))
    return out


def summarize_mem(prof: pprof.Profile, limit: int) -> MemProfile:
    """One run's allocations (the whole run: setup included)."""
    out = MemProfile()
    for st in ("alloc_space", "alloc_objects"):
        costs, total = pprof.top(prof, st)
        setattr(
            out,
            st,
            MemTable(
                total=total,
                top=[
                    FuncCost(
                        function=c.name,
                        file=c.file,
                        line=c.line,
                        flat=c.flat,
                        flat_pct=100 * c.flat / total if total else 0.0,
                        cum=c.cum,
                    )
                    for c in costs[:limit]
                ],
            ),
        )
    return out


def gc_pressure(gc_pct: float, bytes_per_s: float, th: GcThresholds) -> str:
    """Low / Medium / High from the GC+allocation CPU share and the allocation rate."""
    if gc_pct >= th.high_gc_pct or bytes_per_s >= th.high_mb_per_s * 1e6:
        return "High"
    if gc_pct >= th.medium_gc_pct or bytes_per_s >= th.medium_mb_per_s * 1e6:
        return "Medium"
    return "Low"


def bytes_per_s(results: list[benchfmt.Result]) -> float:
    """Allocation rate from the benchmark's own B/op and ns/op."""
    for r in results:
        vals = {u: v for v, u in r.values}
        if vals.get("ns/op") and "B/op" in vals:
            return vals["B/op"] / (vals["ns/op"] * 1e-9)
    return 0.0


def profile_benchtime(profile_cfg: ProfileSection, cfg: Mode) -> str:
    """The profiling runs' -benchtime: the user's iteration count (``Nx``) when the mode gives one,
    so a benchmark that only works at N iterations is never run past them; else ``profile.benchtime``."""
    mode_bt = str(cfg.benchtime or "")
    if parse(mode_bt).fixed:
        return mode_bt
    return str(profile_cfg.benchtime)


def cpu_iterations(profile_cfg: ProfileSection, ns_per_op: float | None) -> tuple[int | None, str]:
    """The CPU profile run's b.N: enough iterations for ``profile.min_samples`` samples at the selection's
    measured ns/op (sub-benchmarks summed: each runs N times), at most ``profile.max_s`` seconds (None when
    nothing was measured). Returns it and what it was chosen from."""
    if not ns_per_op or ns_per_op <= 0:
        return None, ""
    want, max_s = profile_cfg.min_samples, profile_cfg.max_s
    n = math.ceil(
        want * 1.25 * SAMPLE_NS / ns_per_op
    )  # 25% over: Go's profiler delivers 80-97% of 100 Hz here
    chosen = min(n, max(1, int(max_s * 1e9 / ns_per_op)))
    return chosen, (
        f"{chosen}x: {want} samples at {ns_per_op:,.0f} ns/op"
        + (f" (capped at profile.max_s {max_s:g}s)" if chosen < n else "")
    )


def scale_to(name: str, profiled: float | None, measured: float | None) -> tuple[float | None, str]:
    """The ns/op a profile's per-function costs are scaled to: the benchmark run's own (what go test
    measures), else the profiled run's; and a note when the profiled run is more than
    :data:`PROFILER_NOTE_PCT` away (the CPU profiler has a cost of its own: its signal, 100 times a CPU
    second, +12-20% on allocation-heavy operations here)."""
    if profiled and measured:
        off = (profiled / measured - 1) * 100
        note = (
            f"{name}: {profiled:,.1f} ns/op under the CPU profiler vs {measured:,.1f} in the benchmark run "
            f"({off:+.0f}%: the profiler's own cost); per-function ns/op are scaled to the benchmark run"
            if abs(off) > PROFILER_NOTE_PCT
            else ""
        )
        return measured, note
    return profiled, ""
