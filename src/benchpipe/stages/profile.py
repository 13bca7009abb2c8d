"""The ``profile`` stage: CPU and memory profiles and an execution trace of each
selected benchmark, hotspot tables, call graphs and differential profiles.

Which benchmarks: the ``profile.bench`` regex from params when set; else the
benchmarks the compare stage flagged as regressed; else the mode's set, unless
the mode says ``profile: flagged`` and there is a baseline (quick mode against
a baseline: nothing flagged, nothing profiled, so quick costs little more than
``go test``; a first run without a baseline profiles all, so that it can
become a baseline that explains later regressions with differential profiles). Each
benchmark is profiled in runs of its own (``-test.bench ^Name$``) so profiles
never mix: one run with ``-cpuprofile`` and ``-trace``, and a separate run with
``-memprofile`` at ``profile.memprofilerate`` (1: every allocation), so that
allocation sampling does not distort CPU time.

Output (a DVC directory output): per benchmark ``cpu.prof``, ``mem.prof``,
``trace.out``, ``cpu.svg`` and the package's test binary; ``profile.json``
with flat/cumulative CPU tables, allocation hotspots, GC-pressure facts and,
for regressed benchmarks whose baseline has profiles, the differential
profile (see :mod:`benchpipe.stages.profdiff`).

GC pressure is High when the runtime's GC and allocation functions take at
least ``high_gc_pct`` of CPU samples or the benchmark allocates at least
``high_mb_per_s`` MB/s while running; Medium at the medium marks; else Low.
"""

from __future__ import annotations

import math
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchpipe.core import benchfmt, pprof, stats
from benchpipe.core.artifacts import BenchMeta, CompareDoc, ProfileDoc
from benchpipe.core.errors import BenchpipeError
from benchpipe.core.explain import HARNESS
from benchpipe.core.settings import GcThresholds, Mode, ProfileSection, Settings
from benchpipe.core.units import go_duration_ns
from benchpipe.go import benchsrc, toolchain
from benchpipe.render import callgraph
from benchpipe.stages import profdiff
from benchpipe.store import artifacts

GC_FUNCS = re.compile(r"^runtime\.(gc\w*|mallocgc\w*|scanobject|scanObject|greyobject|sweepone|bgsweep|"
                      r"bgscavenge|markroot\w*|newobject|makeslice|growslice|nextFreeFast|mProf_Malloc|"
                      r"memclrNoHeapPointers|(\(\*mspan\)|\(\*mcache\)|\(\*mheap\)|\(\*gcWork\))\.\w+)$")


Result = tuple[str, str]  # (import path, result name without -N): a result the compare stage flagged


def select_benchmarks(settings: Settings, cmp: CompareDoc, default: str) -> tuple[str, str, set[Result] | None]:
    """The benchmark regex to profile, why it was chosen, and the exact results to profile (flagged ones,
    each in the package it was measured in) or None (every benchmark the regex selects)."""
    explicit = str(settings.profile.bench or "")
    if explicit:
        return explicit, "profile.bench in params", None
    flagged = flagged_results(cmp)
    if flagged:
        return toolchain.names_regex(sorted({benchfmt.top_level(n) for _, n in flagged})), "regressed in compare", flagged
    return default, "the mode's benchmark set", None


def flagged_results(cmp: CompareDoc) -> set[Result]:
    """The results the compare stage flagged: (package, full name without the -N suffix)."""
    return {(r.package, benchfmt.base_name(r.benchmark)) for r in cmp.regressions()}


def flagged_benchmarks(cmp: CompareDoc) -> set[str]:
    """Top-level names of benchmarks the compare stage flagged."""
    return {benchfmt.top_level(n) for _, n in flagged_results(cmp)}




def summarize_cpu(prof: pprof.Profile, limit: int, ns_per_op: float | None = None, module: str = "") -> dict[str, Any]:
    """Flat/cumulative tables (with ns/op per function when the run's ns/op is known), the CPU sample
    count, the GC share, the measurement-overhead share and the module's own functions by flat cost."""
    costs, total = pprof.top(prof, "cpu")
    gc = sum(c.flat for c in costs if GC_FUNCS.match(c.name))
    harness = sum(c.flat for c in costs if HARNESS.match(c.name))

    def row(c: pprof.FuncCost) -> dict[str, Any]:
        flat_pct = 100 * c.flat / total if total else 0.0
        cum_pct = 100 * c.cum / total if total else 0.0
        r = {"function": c.name, "file": c.file, "line": c.line, "flat": c.flat, "cum": c.cum,
             "flat_pct": flat_pct, "cum_pct": cum_pct}
        if ns_per_op:
            r["flat_ns_op"], r["cum_ns_op"] = flat_pct / 100 * ns_per_op, cum_pct / 100 * ns_per_op
        return r

    rows = [row(c) for c in costs]
    by_cum = sorted(rows, key=lambda r: (-r["cum"], r["function"]))
    own = [r for r in rows if module and r["function"].startswith((module + "/", module + "."))
           and not HARNESS.match(r["function"])]
    si = next((i for i, (t, _) in enumerate(prof.sample_types) if t == "samples"), None)
    n = sum(smp.values[si] for smp in prof.samples) if si is not None else len(prof.samples)
    return {"total_ns": total, "duration_ns": prof.duration_nanos, "samples": n, "ns_per_op": ns_per_op,
            "gc_alloc_pct": 100 * gc / total if total else 0.0,
            "harness_pct": 100 * harness / total if total else 0.0,
            "flat": rows[:limit], "cum": by_cum[:limit], "own": own[:5]}


def mem_iterations(benchtime: str, ns_per_op: float | None, cap: int = 10_000_000) -> tuple[int, int] | None:
    """Two iteration counts for the memory profile runs: the run's (``Nx``, or the benchtime at the
    measured ns/op) and a quarter of it; None when they cannot be told apart (fewer than 4 iterations)."""
    if benchtime.endswith("x") and benchtime[:-1].isdigit():
        n2 = int(benchtime[:-1])
    else:
        span = go_duration_ns(benchtime)
        if span is None or not ns_per_op or ns_per_op <= 0:
            return None
        n2 = min(cap, math.ceil(span / ns_per_op))
    return (max(1, n2 // 4), n2) if n2 >= 4 else None


def summarize_mem_loop(short: pprof.Profile, long: pprof.Profile, n1: int, n2: int, limit: int) -> dict[str, Any]:
    """Allocations of the timed loop only, exactly: with every allocation recorded (memprofilerate 1),
    a run of N iterations allocates 2*setup + (1+N)*per_op (testing calls the benchmark once with b.N=1,
    then with b.N=N), so the difference of two runs divided by N2-N1 is each function's cost per op and
    what remains is setup (before the timer, or otherwise outside the loop). Rows are B/op and allocs/op;
    a benchmark whose loop allocates nothing has no rows."""
    out: dict[str, Any] = {"iterations": [n1, n2], "per_op": True}
    for st, floor in (("alloc_space", 0.5), ("alloc_objects", 0.01)):
        c1, t1 = pprof.top(short, st)
        c2, t2 = pprof.top(long, st)
        before = {c.name: c.flat for c in c1}
        loop = max(0.0, (t2 - t1) / (n2 - n1))
        rows = []
        for c in c2:
            d = (c.flat - before.get(c.name, 0)) / (n2 - n1)
            if d >= floor:
                rows.append({"function": c.name, "file": c.file, "line": c.line, "flat": d,
                             "flat_pct": 100 * d / loop if loop else 0.0, "cum": c.cum})
        rows.sort(key=lambda r: (-r["flat"], r["function"]))
        out[st] = {"total": loop, "setup": max(0.0, t2 - (1 + n2) * loop), "top": rows[:limit]}
    return out


def summarize_mem(prof: pprof.Profile, limit: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for st in ("alloc_space", "alloc_objects"):
        costs, total = pprof.top(prof, st)
        out[st] = {"total": total, "top": [
            {"function": c.name, "file": c.file, "line": c.line, "flat": c.flat,
             "flat_pct": 100 * c.flat / total if total else 0.0, "cum": c.cum} for c in costs[:limit]]}
    return out


def gc_pressure(gc_pct: float, bytes_per_s: float, th: GcThresholds) -> str:
    """Low / Medium / High from the GC+allocation CPU share and the allocation rate."""
    if gc_pct >= th.high_gc_pct or bytes_per_s >= th.high_mb_per_s * 1e6:
        return "High"
    if gc_pct >= th.medium_gc_pct or bytes_per_s >= th.medium_mb_per_s * 1e6:
        return "Medium"
    return "Low"


def _bytes_per_s(results: list[benchfmt.Result]) -> float:
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
    if mode_bt.endswith("x"):
        return mode_bt
    return str(profile_cfg.benchtime)


SAMPLE_NS = 10_000_000  # Go's CPU profiler samples at 100 Hz: one sample per 10 ms of CPU time


def cpu_iterations(profile_cfg: ProfileSection, ns_per_op: float | None) -> tuple[int | None, str]:
    """The CPU profile run's b.N: enough iterations for ``profile.min_samples`` samples at the selection's
    measured ns/op (sub-benchmarks summed: each runs N times), at most ``profile.max_s`` seconds (None when
    nothing was measured). Returns it and what it was chosen from."""
    if not ns_per_op or ns_per_op <= 0:
        return None, ""
    want, max_s = profile_cfg.min_samples, profile_cfg.max_s
    n = math.ceil(want * 1.25 * SAMPLE_NS / ns_per_op)  # 25% over: Go's profiler delivers 80-97% of 100 Hz here
    chosen = min(n, max(1, int(max_s * 1e9 / ns_per_op)))
    return chosen, (f"{chosen}x: {want} samples at {ns_per_op:,.0f} ns/op"
                    + (f" (capped at profile.max_s {max_s:g}s)" if chosen < n else ""))


def cpu_benchtime(profile_cfg: ProfileSection, benchtime: str, ns_per_op: float | None,
                  parallel: bool = False) -> tuple[str, str]:
    """The CPU run's -benchtime as :func:`benchpipe.go.toolchain.run_rule` decides it from
    :func:`cpu_iterations` (the user's own ``Nx`` stands; a RunParallel selection runs for the time those
    iterations take), and what it was chosen from."""
    n, why = cpu_iterations(profile_cfg, ns_per_op) if not benchtime.endswith("x") else (None, "")
    if n is None or ns_per_op is None:
        return benchtime, why
    seconds = f"{max(n * ns_per_op / 1e9, 0.01):.3g}s"
    rule = toolchain.run_rule(seconds, n, parallel)
    if parallel:
        why = f"{seconds}: RunParallel runs for a time (" + why.split(": ", 1)[-1] + ")"
    return rule.benchtime, why


PROFILE_MARGIN_S = 30.0  # beyond profile.max_s: process start, Go's b.N=1 probe and ramp-up, writing profiles


def _profile_run(binary: Path, pkg: toolchain.Package, name: str, args: list[str], stall_s: float,
                 limit_s: float, within_s: float = 0) -> toolchain.RunResult:
    """One profiling run of one selection, stopped past ``limit_s``; a stall, a failure or the limit is one
    line naming it. With ``within_s`` (a check's bound, below the limit), a run past it raises
    :class:`~benchpipe.go.toolchain.Hung` for the caller."""
    checking = 0 < within_s < limit_s
    try:
        res = toolchain.run_binary(binary, pkg.dir, args, stall_s=stall_s,
                                   hard_timeout=within_s if checking else limit_s)
    except toolchain.Hung:
        if checking:
            raise
        raise BenchpipeError(f"{name}: profiling run stopped after {limit_s:.0f}s (profile.max_s plus "
                             f"{PROFILE_MARGIN_S:.0f}s): raise profile.max_s, or profile fewer results "
                             "(profile.bench)") from None
    if res.stall is not None:
        raise BenchpipeError(res.stall.describe(name, " under profiling"))
    if res.returncode != 0:
        raise BenchpipeError(toolchain.diagnose(res.output, pkg.import_path, res.returncode,
                                                toolchain.cwd_module(pkg.dir)) + " (under profiling)")
    return res


def _run_ns_per_op(run: toolchain.RunResult) -> float:
    """The ns/op of a profiling run's output (its results summed: sub-benchmarks each run N times)."""
    return sum(v for r in benchfmt.read_text(toolchain.split_output(run.output)).results for v, u in r.values
               if u == "ns/op")


FIXED_N_MARGIN_S = 10.0  # a fixed-b.N CPU run's allowance beyond its expected time: start, probe, profile writing


def _cpu_run(go: Callable[[str, float], toolchain.RunResult], benchtime: str, cpu_bt: str, why: str,
             ns_per_op: float | None) -> tuple[toolchain.RunResult, str, str]:
    """The CPU run at ``cpu_bt``, checked by :func:`benchpipe.go.toolchain.checked_rule` when benchpipe chose
    its b.N (the mode's ``benchtime`` is a time): a
    fixed-b.N run whose ns/op is far from the bench stage's, or that runs well past the time its iterations
    take there (stopped at :data:`~benchpipe.go.toolchain.FIXED_N_TOLERANCE` times it plus
    :data:`FIXED_N_MARGIN_S`), runs again for that time. A user's own ``Nx`` is never second-guessed.
    Returns the run, its benchtime and why."""
    if not ns_per_op or benchtime.endswith("x") or not cpu_bt.endswith("x") or not cpu_bt[:-1].isdigit():
        return go(cpu_bt, 0), cpu_bt, why
    expected_s = int(cpu_bt[:-1]) * ns_per_op / 1e9
    seconds = f"{max(expected_s, 0.01):.3g}s"
    try:
        run = go(cpu_bt, expected_s * toolchain.FIXED_N_TOLERANCE + FIXED_N_MARGIN_S)
    except toolchain.Hung:
        return go(seconds, 0), seconds, (f"{seconds}: time: ran past {expected_s * toolchain.FIXED_N_TOLERANCE:.3g}s "
                                         f"at {cpu_bt} (expected {expected_s:.3g}s)")
    rule = toolchain.checked_rule(toolchain.RunRule(cpu_bt, "fixed b.N"), seconds, _run_ns_per_op(run), ns_per_op)
    if rule.how == "fixed b.N":
        return run, cpu_bt, why
    return go(rule.benchtime, 0), rule.benchtime, f"{rule.benchtime}: {rule.how}"


@dataclass(frozen=True)
class Selection:
    """What one profiling unit runs: a result or a top-level benchmark, in one package."""

    name: str  # a full result name (flagged) or a top-level benchmark name
    pattern: str  # its -test.bench regex (go test's levels)
    ns_per_op: float | None  # measured ns/op of everything the pattern runs (None: not measured)
    parallel: bool  # its benchmark calls RunParallel


def _mem_plan(sel: Selection, sub: Path, cfg: ProfileSection, benchtime: str) -> tuple[
        list[tuple[str, list[str]]], tuple[int, int] | None]:
    """The memory profile runs of a selection, (benchtime, extra flags) each, and the memory loop's two
    counts (None: one run of the whole benchmark)."""
    counts = mem_iterations(benchtime, sel.ns_per_op) if cfg.memprofilerate == 1 and not sel.parallel else None
    if counts:  # the timed loop apart from setup: two runs, N/4 and N iterations
        return [(f"{counts[0]}x", [f"-test.memprofile={sub / 'mem-short.prof'}", "-test.memprofilerate=1"]),
                (f"{counts[1]}x", [f"-test.memprofile={sub / 'mem.prof'}", "-test.memprofilerate=1"])], counts
    return [(benchtime, [f"-test.memprofile={sub / 'mem.prof'}", f"-test.memprofilerate={cfg.memprofilerate}"])], None


def profile_benchmark(binary: Path, pkg: toolchain.Package, sel: Selection, sub: Path, profile_cfg: ProfileSection,
                      timeout: str, benchtime: str, stall_s: float = 0, module: str = "") -> dict[str, Any]:
    name, limit = sel.name, profile_cfg.top
    cpu_bt, cpu_why = cpu_benchtime(profile_cfg, benchtime, sel.ns_per_op, sel.parallel)
    cpu_flags = [f"-test.cpuprofile={sub / 'cpu.prof'}"] + ([f"-test.trace={sub / 'trace.out'}"] if profile_cfg.trace
                                                            else [])
    mem_runs, counts = _mem_plan(sel, sub, profile_cfg, benchtime)
    limit_s = profile_cfg.max_s + PROFILE_MARGIN_S

    def go(bt: str, extra: list[str], within_s: float = 0) -> toolchain.RunResult:
        return _profile_run(binary, pkg, name, toolchain.bench_args(sel.pattern, 1, bt, timeout=timeout,
                                                                    extra=tuple(extra)), stall_s, limit_s, within_s)

    cpu, cpu_bt, cpu_why = _cpu_run(lambda bt, within_s: go(bt, cpu_flags, within_s), benchtime, cpu_bt,
                                    cpu_why, sel.ns_per_op)
    for bt, extra in mem_runs:
        go(bt, extra)
    cpu_text = toolchain.split_output(cpu.output)
    (sub / "bench.txt").write_text(cpu_text)
    results = benchfmt.read_text(cpu_text).results
    entry: dict[str, Any] = {"package": pkg.import_path, "benchmark": name, "maxrss_kb": cpu.maxrss_kb,
                             "cpu_benchtime": cpu_bt, "cpu_benchtime_why": cpu_why, "trace": profile_cfg.trace,
                             "iterations": sum(r.iters for r in results),
                             "alloc_bytes_per_s": _bytes_per_s(results), "notes": [], "graphs": {}}
    ns = [v for r in results for v, u in r.values if u == "ns/op"]
    per_op = _per_op_ns(entry, ns[0] if len(ns) == 1 else None, sel.ns_per_op)
    try:
        _cpu_part(entry, pprof.load(sub / "cpu.prof"), sub, profile_cfg, per_op, module)
    except pprof.ProfileError as e:
        entry["notes"].append(str(e))
    try:
        if counts:
            entry["mem"] = summarize_mem_loop(pprof.load(sub / "mem-short.prof"), pprof.load(sub / "mem.prof"),
                                              counts[0], counts[1], limit)
        else:
            entry["mem"] = summarize_mem(pprof.load(sub / "mem.prof"), limit)
    except pprof.ProfileError as e:
        entry["notes"].append(str(e))
    entry["gc_pressure"] = gc_pressure((entry.get("cpu") or {}).get("gc_alloc_pct", 0.0),
                                       entry["alloc_bytes_per_s"], profile_cfg.gc_thresholds)
    return entry


PROFILER_NOTE_PCT = 10.0  # a CPU run this far from the benchmark run's ns/op gets a note


def _per_op_ns(entry: dict[str, Any], profiled: float | None, measured: float | None) -> float | None:
    """The ns/op a profile's per-function costs are scaled to: the benchmark run's own (what go test
    measures), else the profiled run's. The CPU profiler has a cost of its own (its signal, 100 times a
    CPU second: +12-20% on allocation-heavy operations here), so a profiled run whose ns/op is more than
    :data:`PROFILER_NOTE_PCT` away from the benchmark run's says so."""
    if profiled and measured:
        off = (profiled / measured - 1) * 100
        entry["profiled_ns_op"] = profiled
        if abs(off) > PROFILER_NOTE_PCT:
            entry["notes"].append(f"{entry['benchmark']}: {profiled:,.1f} ns/op under the CPU profiler vs "
                                  f"{measured:,.1f} in the benchmark run ({off:+.0f}%: the profiler's own cost); "
                                  "per-function ns/op are scaled to the benchmark run")
        return measured
    return profiled


def _cpu_part(entry: dict[str, Any], cprof: pprof.Profile, sub: Path, cfg: ProfileSection, ns_per_op: float | None,
              module: str) -> None:
    """The CPU tables, their notes and the call graph of one profiled selection, into ``entry``."""
    name = entry["benchmark"]
    entry["cpu"] = summarize_cpu(cprof, cfg.top, ns_per_op, module)
    if 0 < entry["cpu"]["samples"] < cfg.min_samples:
        entry["notes"].append(f"{name}: the CPU table rests on {entry['cpu']['samples']} samples (fewer than "
                              f"profile.min_samples {cfg.min_samples}): its order is noisy; raise profile.max_s")
    if not entry["cpu"]["total_ns"]:
        entry["notes"].append(f"{name}: CPU profile has no samples (benchmark too short? raise profile.benchtime)")
        return
    data = callgraph.gprof2dot_json(cprof, cprof.index_of("cpu"), "cpu", "ns")
    svg, note = callgraph.render(data, sub / "cpu.svg", cfg.node_threshold, cfg.edge_threshold)
    if svg:
        entry["graphs"]["cpu"] = "cpu.svg"
    if note:
        entry["notes"].append(f"{name}: {note}")


def _ns_per_op(bench_meta: Path | None) -> dict[Result, float]:
    """(package, result name without -N) -> its median ns/op in the bench stage (-cpu values summed: one run
    executes each of them N times)."""
    raw = bench_meta.with_suffix(".txt") if bench_meta is not None else None
    if raw is None or not raw.exists():
        return {}
    out: dict[Result, float] = {}
    for (pkg, name, unit), vals in benchfmt.read_samples(raw).values.items():
        if unit == "ns/op":
            key = (pkg, benchfmt.base_name(name))
            out[key] = out.get(key, 0.0) + stats.summarize(vals).center
    return out


def _selections(pkg: str, names: list[str], regex: str, flagged: set[Result] | None, measured: dict[Result, float],
                parallel: set[str]) -> list[Selection]:
    """The package's profiling units: each flagged result of this package exactly (never its family, never a
    same-named benchmark of another package), else each top-level benchmark the regex selects, with its
    sub-benchmarks as go test's levels select them. ns/op is that of what the pattern runs."""
    if flagged is not None:
        mine = sorted(n for p, n in flagged if p in (pkg, "") and benchfmt.top_level(n) in names)
        return [Selection(n, toolchain.name_pattern(n), measured.get((pkg, n)), benchfmt.top_level(n) in parallel)
                for n in mine]
    out = []
    for top in names:
        ns = [v for (p, n), v in measured.items() if p == pkg and benchfmt.top_level(n) == top]
        out.append(Selection(top, toolchain.restrict(regex, [top]), sum(ns) if ns else None, top in parallel))
    return out


def _profile_all(settings: Settings, cfg: Mode, target: Path, out_dir: Path, doc: dict[str, Any], cmp: CompareDoc,
                 meta: BenchMeta, baseline_profiles: Path | None, bench_meta: Path | None,
                 flagged: set[Result] | None) -> None:
    """Profile every selection of the mode's packages into ``doc`` (a ProfileDoc's fields); ``go_s`` counts
    every profiling run's time, stopped or failed ones included."""
    failed = {(f.package, f.benchmark) for f in meta.failures}
    measured = _ns_per_op(bench_meta)
    module = toolchain.module_path(target)
    pkgs, _, _ = toolchain.resolve_packages(target, cfg.package_list)
    for i, pkg in enumerate(pkgs, 1):  # numbered over all packages: a baseline's profiles are found by it
        if flagged is not None and not any(fp in (pkg.import_path, "") for fp, _ in flagged):
            continue
        pdir = out_dir / f"{i:02d}-{pkg.import_path.rsplit('/', 1)[-1]}"
        pdir.mkdir()
        binary = pdir / "pkg.test"
        doc["go_s"] += toolchain.build_test_binary(pkg, target, binary)
        names = toolchain.list_benchmarks(binary, pkg, doc["bench"])
        sels = _selections(pkg.import_path, names, doc["bench"], flagged, measured, benchsrc.parallel(pkg.dir))
        if not sels:
            shutil.rmtree(pdir)
            continue
        for sel in sels:
            if (pkg.import_path, benchfmt.top_level(sel.name)) in failed:
                doc["notes"].append(f"{sel.name}: not profiled (it did not finish in the bench stage)")
                continue
            _profile_one(settings, cfg, binary, pkg, sel, pdir, out_dir, doc, module, baseline_profiles, flagged)


def _profile_one(settings: Settings, cfg: Mode, binary: Path, pkg: toolchain.Package, sel: Selection, pdir: Path,
                 out_dir: Path, doc: dict[str, Any], module: str, baseline_profiles: Path | None,
                 flagged: set[Result] | None) -> None:
    """Profile one selection into ``doc``; a failure is a note, and its time still counts as profiling."""
    toolchain.progress(f"profile: {pkg.import_path} {sel.name}")
    sub = pdir / sel.name.replace("/", "__")
    sub.mkdir()
    t0 = time.monotonic()
    try:
        entry = profile_benchmark(binary, pkg, sel, sub, settings.profile, str(cfg.timeout), doc["benchtime"],
                                  settings.bench.stall_s, module)
    except BenchpipeError as e:
        shutil.rmtree(sub)
        doc["go_s"] += time.monotonic() - t0
        doc["notes"].append(f"{sel.name}: profile skipped: {e.message}")
        return
    doc["go_s"] += time.monotonic() - t0
    entry["dir"] = str(sub.relative_to(out_dir))
    doc["notes"] += entry["notes"]
    if flagged is not None and baseline_profiles is not None:
        entry["diff"] = profdiff.diff_dirs(baseline_profiles / pdir.name / sub.name, sub, module, settings.profile)
        if entry["diff"].get("note"):
            doc["notes"].append(f"{sel.name}: {entry['diff']['note']}")
    doc["benchmarks"].append(entry)


def run(settings: Settings, target: Path, out_dir: Path, compare_json: Path | None,
        baseline_profiles: Path | None = None, bench_meta: Path | None = None) -> ProfileDoc:
    cfg = settings.mode_settings()
    out_dir = out_dir.resolve()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    cmp = artifacts.read(compare_json, CompareDoc, missing_ok=True)
    regex, why, flagged = select_benchmarks(settings, cmp, str(cfg.bench))
    doc: dict[str, Any] = {"bench": regex, "why": why, "benchtime": profile_benchtime(settings.profile, cfg),
                           "memprofilerate": settings.profile.memprofilerate, "benchmarks": [], "notes": [],
                           "go_s": 0.0}
    ran = False
    if not settings.profile.enabled:
        doc["notes"].append("profiling disabled (profile.enabled: false)")
    elif cfg.profile == "flagged" and why == "the mode's benchmark set":
        doc["notes"].append(f"{settings.mode} mode profiles only the benchmarks compare flags, and "
                            + ("none was flagged" if cmp.verdict != "NONE" else "there is no baseline yet")
                            + ": `invoke profile` profiles every benchmark (and `invoke baseline` keeps "
                              "profiles with the baseline)")
    else:
        ran = True
        meta = artifacts.read(bench_meta, BenchMeta, missing_ok=True)
        _profile_all(settings, cfg, target, out_dir, doc, cmp, meta, baseline_profiles, bench_meta, flagged)
        doc["go_s"] = round(doc["go_s"], 3)
        if not doc["benchmarks"]:
            doc["notes"].append(f"no benchmark matched {regex!r}: nothing profiled")
    out = artifacts.convert(doc, ProfileDoc, str(out_dir / "profile.json"))
    artifacts.write(out_dir / "profile.json", out)
    for n in out.notes if ran else []:  # a stage that profiled nothing on purpose says so in the report only
        sys.stderr.write(f"profile: {n}\n")
    return out
