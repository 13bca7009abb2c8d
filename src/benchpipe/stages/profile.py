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

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchpipe.core import benchfmt, pprof, stats
from benchpipe.core.artifacts import BenchMeta, CompareDoc, Graphs, ProfiledBenchmark, ProfileDoc
from benchpipe.core.benchtime import parse as bt_parse
from benchpipe.core.benchtime import seconds as bt_seconds
from benchpipe.core.errors import BenchpipeError
from benchpipe.core.profiling import (
    Choice,
    ResultKey,
    bytes_per_s,
    cpu_iterations,
    flagged_results,
    gc_pressure,
    mem_iterations,
    profile_benchtime,
    scale_to,
    summarize_cpu,
    summarize_mem,
    summarize_mem_loop,
)
from benchpipe.core.settings import Mode, ProfileSection, Settings
from benchpipe.go import benchsrc, toolchain
from benchpipe.render import callgraph
from benchpipe.stages import profdiff
from benchpipe.store import artifacts


def select_benchmarks(settings: Settings, cmp: CompareDoc, default: str) -> Choice:
    """What to profile: ``profile.bench`` when set, else the results compare flagged (each exactly, in the
    package it was measured in), else the mode's set."""
    explicit = str(settings.profile.bench or "")
    if explicit:
        return Choice("explicit", explicit)
    flagged = flagged_results(cmp)
    if flagged:
        return Choice(
            "flagged", toolchain.names_regex(sorted({benchfmt.top_level(n) for _, n in flagged})), flagged
        )
    return Choice("mode", default)


def cpu_benchtime(
    profile_cfg: ProfileSection, benchtime: str, ns_per_op: float | None, parallel: bool = False
) -> tuple[str, str]:
    """The CPU run's -benchtime as :func:`benchpipe.go.toolchain.run_rule` decides it from
    :func:`~benchpipe.core.profiling.cpu_iterations` (the user's own ``Nx`` stands; a RunParallel selection
    runs for the time those iterations take), and what it was chosen from."""
    n, why = cpu_iterations(profile_cfg, ns_per_op) if not bt_parse(benchtime).fixed else (None, "")
    if n is None or ns_per_op is None:
        return benchtime, why
    seconds = str(bt_seconds(n * ns_per_op / 1e9))
    rule = toolchain.run_rule(seconds, n, parallel)
    if parallel:
        why = f"{seconds}: RunParallel runs for a time (" + why.split(": ", 1)[-1] + ")"
    return rule.benchtime, why


PROFILE_MARGIN_S = 30.0  # beyond profile.max_s: process start, Go's b.N=1 probe and ramp-up, writing profiles


def _profile_run(
    binary: Path,
    pkg: toolchain.Package,
    name: str,
    args: list[str],
    stall_s: float,
    limit_s: float,
    within_s: float = 0,
) -> toolchain.RunResult:
    """One profiling run of one selection, stopped past ``limit_s``; a stall, a failure or the limit is one
    line naming it. With ``within_s`` (a check's bound, below the limit), a run past it raises
    :class:`~benchpipe.go.toolchain.Hung` for the caller."""
    checking = 0 < within_s < limit_s
    try:
        res = toolchain.run_binary(
            binary, pkg.dir, args, stall_s=stall_s, hard_timeout=within_s if checking else limit_s
        )
    except toolchain.Hung:
        if checking:
            raise
        raise BenchpipeError(
            f"{name}: profiling run stopped after {limit_s:.0f}s (profile.max_s plus "
            f"{PROFILE_MARGIN_S:.0f}s): raise profile.max_s, or profile fewer results "
            "(profile.bench)"
        ) from None
    if res.stall is not None:
        raise BenchpipeError(res.stall.describe(name, " under profiling"))
    if res.returncode != 0:
        raise BenchpipeError(
            toolchain.diagnose(res.output, pkg.import_path, res.returncode, toolchain.cwd_module(pkg.dir))
            + " (under profiling)"
        )
    return res


def _run_ns_per_op(run: toolchain.RunResult) -> float:
    """The ns/op of a profiling run's output (its results summed: sub-benchmarks each run N times)."""
    return sum(
        v
        for r in benchfmt.read_text(toolchain.split_output(run.output)).results
        for v, u in r.values
        if u == "ns/op"
    )


FIXED_N_MARGIN_S = (
    10.0  # a fixed-b.N CPU run's allowance beyond its expected time: start, probe, profile writing
)


def _cpu_run(
    go: Callable[[str, float], toolchain.RunResult],
    benchtime: str,
    cpu_bt: str,
    why: str,
    ns_per_op: float | None,
) -> tuple[toolchain.RunResult, str, str]:
    """The CPU run at ``cpu_bt``, checked by :func:`benchpipe.go.toolchain.checked_rule` when benchpipe chose
    its b.N (the mode's ``benchtime`` is a time): a
    fixed-b.N run whose ns/op is far from the bench stage's, or that runs well past the time its iterations
    take there (stopped at :data:`~benchpipe.go.toolchain.FIXED_N_TOLERANCE` times it plus
    :data:`FIXED_N_MARGIN_S`), runs again for that time. A user's own ``Nx`` is never second-guessed.
    Returns the run, its benchtime and why."""
    chosen = bt_parse(cpu_bt)
    if not ns_per_op or bt_parse(benchtime).fixed or chosen.iters is None:
        return go(cpu_bt, 0), cpu_bt, why
    expected_s = chosen.iters * ns_per_op / 1e9
    seconds = str(bt_seconds(expected_s))
    try:
        run = go(cpu_bt, expected_s * toolchain.FIXED_N_TOLERANCE + FIXED_N_MARGIN_S)
    except toolchain.Hung:
        return (
            go(seconds, 0),
            seconds,
            (
                f"{seconds}: time: ran past {expected_s * toolchain.FIXED_N_TOLERANCE:.3g}s "
                f"at {cpu_bt} (expected {expected_s:.3g}s)"
            ),
        )
    rule = toolchain.checked_rule(
        toolchain.RunRule(cpu_bt, toolchain.RunKind.FIXED_N), seconds, _run_ns_per_op(run), ns_per_op
    )
    if rule.fixed:
        return run, cpu_bt, why
    return go(rule.benchtime, 0), rule.benchtime, f"{rule.benchtime}: {rule.how}"


@dataclass(frozen=True)
class Selection:
    """What one profiling unit runs: a result or a top-level benchmark, in one package."""

    name: str  # a full result name (flagged) or a top-level benchmark name
    pattern: str  # its -test.bench regex (go test's levels)
    ns_per_op: float | None  # measured ns/op of everything the pattern runs (None: not measured)
    parallel: bool  # its benchmark calls RunParallel


def _mem_plan(
    sel: Selection, sub: Path, cfg: ProfileSection, benchtime: str
) -> tuple[list[tuple[str, list[str]]], tuple[int, int] | None]:
    """The memory profile runs of a selection, (benchtime, extra flags) each, and the memory loop's two
    counts (None: one run of the whole benchmark)."""
    counts = (
        mem_iterations(benchtime, sel.ns_per_op) if cfg.memprofilerate == 1 and not sel.parallel else None
    )
    if counts:  # the timed loop apart from setup: two runs, N/4 and N iterations
        return [
            (f"{counts[0]}x", list(toolchain.profile_flags(mem=sub / "mem-short.prof", memrate=1))),
            (f"{counts[1]}x", list(toolchain.profile_flags(mem=sub / "mem.prof", memrate=1))),
        ], counts
    return [
        (benchtime, list(toolchain.profile_flags(mem=sub / "mem.prof", memrate=cfg.memprofilerate)))
    ], None


def profile_benchmark(
    binary: Path,
    pkg: toolchain.Package,
    sel: Selection,
    sub: Path,
    profile_cfg: ProfileSection,
    timeout: str,
    benchtime: str,
    stall_s: float = 0,
    module: str = "",
) -> ProfiledBenchmark:
    """Run one selection's CPU run (checked, see :func:`_cpu_run`) and memory runs into ``sub``; what they
    say."""
    name = sel.name
    cpu_bt, cpu_why = cpu_benchtime(profile_cfg, benchtime, sel.ns_per_op, sel.parallel)
    cpu_flags = list(
        toolchain.profile_flags(cpu=sub / "cpu.prof", trace=sub / "trace.out" if profile_cfg.trace else None)
    )
    mem_runs, counts = _mem_plan(sel, sub, profile_cfg, benchtime)
    limit_s = profile_cfg.max_s + PROFILE_MARGIN_S

    def go(bt: str, extra: list[str], within_s: float = 0) -> toolchain.RunResult:
        return _profile_run(
            binary,
            pkg,
            name,
            toolchain.bench_args(sel.pattern, 1, bt, timeout=timeout, extra=tuple(extra)),
            stall_s,
            limit_s,
            within_s,
        )

    cpu, cpu_bt, cpu_why = _cpu_run(
        lambda bt, within_s: go(bt, cpu_flags, within_s), benchtime, cpu_bt, cpu_why, sel.ns_per_op
    )
    mem_out = [go(bt, extra) for bt, extra in mem_runs]
    cpu_text = toolchain.split_output(cpu.output)
    (sub / "bench.txt").write_text(cpu_text)
    results = benchfmt.read_text(cpu_text).results
    entry = ProfiledBenchmark(
        package=pkg.import_path,
        benchmark=name,
        maxrss_kb=cpu.maxrss_kb,
        cpu_benchtime=cpu_bt,
        cpu_benchtime_why=cpu_why,
        trace=profile_cfg.trace,
        iterations=sum(r.iters for r in results),
        alloc_bytes_per_s=bytes_per_s(results),
    )
    go_mem = None
    if counts:  # the long memory run's own B/op and allocs/op own its loop's total
        go_mem = _go_per_op(benchfmt.read_text(toolchain.split_output(mem_out[-1].output)).results)
    _read_profiles(entry, results, sel, sub, profile_cfg, counts, module, go_mem)
    return entry


def _go_per_op(results: list[benchfmt.Result]) -> dict[str, float] | None:
    """go test's own B/op and allocs/op of a memory run, summed over its results (the profile holds them
    all), by profile table; None when a result lacks one."""
    out = {"alloc_space": 0.0, "alloc_objects": 0.0}
    for r in results:
        units = {u: v for v, u in r.values}
        if "B/op" not in units or "allocs/op" not in units:
            return None
        out["alloc_space"] += units["B/op"]
        out["alloc_objects"] += units["allocs/op"]
    return out if results else None


def _read_profiles(
    entry: ProfiledBenchmark,
    results: list[benchfmt.Result],
    sel: Selection,
    sub: Path,
    profile_cfg: ProfileSection,
    counts: tuple[int, int] | None,
    module: str,
    go_mem: dict[str, float] | None = None,
) -> None:
    """What the CPU and memory profiles in ``sub`` say, into ``entry``: the CPU tables scaled to the
    benchmark's measured ns/op, the memory tables (per op from two runs' difference when ``counts``), GC
    pressure; a profile that cannot be read is a note. ``go_mem``: the long memory run's own B/op and
    allocs/op (:func:`benchpipe.core.profiling.summarize_mem_loop`)."""
    ns = [v for r in results for v, u in r.values if u == "ns/op"]
    profiled = ns[0] if len(ns) == 1 else None
    per_op, note = scale_to(sel.name, profiled, sel.ns_per_op)
    entry.profiled_ns_op = profiled if profiled and sel.ns_per_op else None
    entry.notes += [note] if note else []
    limit = profile_cfg.top
    try:
        _cpu_part(entry, pprof.load(sub / "cpu.prof"), sub, profile_cfg, per_op, module)
    except pprof.ProfileError as e:
        entry.notes.append(str(e))
    try:
        if counts:
            short, long = pprof.load(sub / "mem-short.prof"), pprof.load(sub / "mem.prof")
            entry.mem = summarize_mem_loop(short, long, counts[0], counts[1], limit, go_mem)
            if outside := entry.mem.alloc_space.outside_timer:
                entry.notes.append(
                    f"{outside:,.1f} B/op of the two memory runs' difference is allocated outside the timer "
                    f"in proportion to b.N (setup sized by b.N): not the loop's; go test's B/op is "
                    f"{entry.mem.alloc_space.total:,.0f}"
                )
        else:
            entry.mem = summarize_mem(pprof.load(sub / "mem.prof"), limit)
    except pprof.ProfileError as e:
        entry.notes.append(str(e))
    entry.gc_pressure = gc_pressure(
        entry.cpu.gc_alloc_pct if entry.cpu else 0.0, entry.alloc_bytes_per_s, profile_cfg.gc_thresholds
    )


def _cpu_part(
    entry: ProfiledBenchmark,
    cprof: pprof.Profile,
    sub: Path,
    cfg: ProfileSection,
    ns_per_op: float | None,
    module: str,
) -> None:
    """The CPU tables, their notes and the call graph of one profiled selection, into ``entry``."""
    name = entry.benchmark
    entry.cpu = summarize_cpu(cprof, cfg.top, ns_per_op, module)
    if 0 < entry.cpu.samples < cfg.min_samples:
        entry.notes.append(
            f"{name}: the CPU table rests on {entry.cpu.samples} samples (fewer than "
            f"profile.min_samples {cfg.min_samples}): its order is noisy; raise profile.max_s"
        )
    if not entry.cpu.total_ns:
        entry.notes.append(
            f"{name}: CPU profile has no samples (benchmark too short? raise profile.benchtime)"
        )
        return
    data = callgraph.gprof2dot_json(cprof, cprof.index_of("cpu"), "cpu", "ns")
    svg, note = callgraph.render(data, sub / "cpu.svg", cfg.node_threshold, cfg.edge_threshold)
    if svg:
        entry.graphs = Graphs(cpu="cpu.svg")
    if note:
        entry.notes.append(f"{name}: {note}")


def _ns_per_op(bench_meta: Path | None) -> dict[ResultKey, float]:
    """(package, result name without -N) -> its median ns/op in the bench stage (-cpu values summed: one run
    executes each of them N times)."""
    raw = bench_meta.with_suffix(".txt") if bench_meta is not None else None
    if raw is None or not raw.exists():
        return {}
    out: dict[ResultKey, float] = {}
    for (pkg, name, unit), vals in benchfmt.read_samples(raw).values.items():
        if unit == "ns/op":
            key = (pkg, benchfmt.base_name(name))
            out[key] = out.get(key, 0.0) + stats.summarize(vals).center
    return out


def _selections(
    pkg: str,
    names: list[str],
    regex: str,
    flagged: set[ResultKey] | None,
    measured: dict[ResultKey, float],
    parallel: set[str],
) -> list[Selection]:
    """The package's profiling units: each flagged result of this package exactly (never its family, never a
    same-named benchmark of another package), else each top-level benchmark the regex selects, with its
    sub-benchmarks as go test's levels select them. ns/op is that of what the pattern runs."""
    if flagged is not None:
        mine = sorted(n for p, n in flagged if p in (pkg, "") and benchfmt.top_level(n) in names)
        return [
            Selection(n, toolchain.name_pattern(n), measured.get((pkg, n)), benchfmt.top_level(n) in parallel)
            for n in mine
        ]
    out = []
    for top in names:
        ns = [v for (p, n), v in measured.items() if p == pkg and benchfmt.top_level(n) == top]
        out.append(Selection(top, toolchain.restrict(regex, [top]), sum(ns) if ns else None, top in parallel))
    return out


def _profile_all(
    settings: Settings,
    cfg: Mode,
    target: Path,
    out_dir: Path,
    doc: ProfileDoc,
    meta: BenchMeta,
    baseline_profiles: Path | None,
    bench_meta: Path | None,
    flagged: set[ResultKey] | None,
) -> None:
    """Profile every selection of the mode's packages into ``doc``; ``go_s`` counts every profiling run's
    time, stopped or failed ones included."""
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
        doc.go_s += toolchain.build_test_binary(pkg, target, binary)
        names = toolchain.list_benchmarks(binary, pkg, doc.bench)
        sels = _selections(pkg.import_path, names, doc.bench, flagged, measured, benchsrc.parallel(pkg.dir))
        if not sels:
            shutil.rmtree(pdir)
            continue
        for sel in sels:
            if (pkg.import_path, benchfmt.top_level(sel.name)) in failed:
                doc.notes.append(f"{sel.name}: not profiled (it did not finish in the bench stage)")
                continue
            _profile_one(
                settings, cfg, binary, pkg, sel, pdir, out_dir, doc, module, baseline_profiles, flagged
            )


def _profile_one(
    settings: Settings,
    cfg: Mode,
    binary: Path,
    pkg: toolchain.Package,
    sel: Selection,
    pdir: Path,
    out_dir: Path,
    doc: ProfileDoc,
    module: str,
    baseline_profiles: Path | None,
    flagged: set[ResultKey] | None,
) -> None:
    """Profile one selection into ``doc``; a failure is a note, and its time still counts as profiling."""
    toolchain.progress(f"profile: {pkg.import_path} {sel.name}")
    sub = pdir / sel.name.replace("/", "__")
    sub.mkdir()
    t0 = time.monotonic()
    try:
        entry = profile_benchmark(
            binary,
            pkg,
            sel,
            sub,
            settings.profile,
            str(cfg.timeout),
            doc.benchtime,
            settings.bench.stall_s,
            module,
        )
    except BenchpipeError as e:
        shutil.rmtree(sub)
        doc.go_s += time.monotonic() - t0
        doc.notes.append(f"{sel.name}: profile skipped: {e.message}")
        return
    doc.go_s += time.monotonic() - t0
    entry.dir = str(sub.relative_to(out_dir))
    doc.notes += entry.notes
    if flagged is not None and baseline_profiles is not None:
        entry.diff = profdiff.diff_dirs(
            baseline_profiles / pdir.name / sub.name, sub, module, settings.profile
        )
        if entry.diff.note:
            doc.notes.append(f"{sel.name}: {entry.diff.note}")
    doc.benchmarks.append(entry)


def run(
    settings: Settings,
    target: Path,
    out_dir: Path,
    compare_json: Path | None,
    baseline_profiles: Path | None = None,
    bench_meta: Path | None = None,
) -> ProfileDoc:
    cfg = settings.mode_settings()
    out_dir = out_dir.resolve()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    cmp = artifacts.read(compare_json, CompareDoc, missing_ok=True)
    choice = select_benchmarks(settings, cmp, str(cfg.bench))
    doc = ProfileDoc(
        bench=choice.regex,
        why=choice.why,
        benchtime=profile_benchtime(settings.profile, cfg),
        memprofilerate=settings.profile.memprofilerate,
    )
    ran = False
    if not settings.profile.enabled:
        doc.notes.append("profiling disabled (profile.enabled: false)")
    elif cfg.profile == "flagged" and choice.kind == "mode":
        doc.notes.append(
            f"{settings.mode} mode profiles only the benchmarks compare flags, and "
            + ("none was flagged" if cmp.verdict != "NONE" else "there is no baseline yet")
            + ": `invoke profile` profiles every benchmark (and `invoke baseline` keeps "
            "profiles with the baseline)"
        )
    else:
        ran = True
        meta = artifacts.read(bench_meta, BenchMeta, missing_ok=True)
        _profile_all(settings, cfg, target, out_dir, doc, meta, baseline_profiles, bench_meta, choice.results)
        doc.go_s = round(doc.go_s, 3)
        if not doc.benchmarks:
            doc.notes.append(f"no benchmark matched {choice.regex!r}: nothing profiled")
    artifacts.write(out_dir / "profile.json", doc)
    for n in doc.notes if ran else []:  # a stage that profiled nothing on purpose says so in the report only
        sys.stderr.write(f"profile: {n}\n")
    return doc
