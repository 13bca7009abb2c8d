"""Running results of two revisions in rounds: the sides, their test binaries, and each run.

A :class:`Side` is one revision's worktree with its test binaries (built once; a commit's are cached
by commit SHA, Go version and package) and the benchmarks ``-bench`` selects on it, level by level as
``go test`` selects them. One measuring run of the head side gives every selected result's b.N and
ns/op; each result then runs in rounds as :func:`benchpipe.go.toolchain.run_rule` says (its fixed b.N,
or a time for a RunParallel result); its first round's head run is the check that moves a result which
runs differently at its fixed b.N to a time too (:func:`check_first_round`). The statistics and the design are
:mod:`benchpipe.revisions.paired`'s.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchpipe.core import benchfmt, benchtime
from benchpipe.core.artifacts import Failure
from benchpipe.core.errors import BenchpipeError
from benchpipe.core.units import UnitInfo
from benchpipe.go import benchsrc, toolchain
from benchpipe.revisions.plan import BenchRef, NsRef, Plan
from benchpipe.store import atomic


@dataclass
class Side:
    label: str
    rev: str  # commit SHA, or "" for the working tree
    module: Path
    dirty: bool = False
    binaries: dict[str, Path] = field(default_factory=dict)
    dirs: dict[str, Path] = field(default_factory=dict)
    benchmarks: dict[str, list[str]] = field(default_factory=dict)  # import path -> top-level names
    parallel: set[BenchRef] = field(default_factory=set)  # (import path, top-level name) calling RunParallel

    @property
    def name(self) -> str:
        return self.rev[:12] if self.rev else "working tree"


def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", s)[-80:] + "-" + hashlib.sha1(s.encode()).hexdigest()[:8]


def prepare(
    side: Side,
    patterns: list[str],
    bench_re: str,
    cache: Path,
    go_version: str,
    scratch: Path,
    only: set[str] | None = None,
    skip: set[str] | None = None,
) -> None:
    """Build (or reuse) each package's test binary and list its benchmarks (``only`` those packages, none of
    ``skip``: import paths).

    A commit's binaries are cached under ``cache``; the working tree's go in ``scratch`` (the caller's
    temporary directory)."""
    pkgs, _, note = toolchain.resolve_packages(side.module, patterns)
    if note and side.label == "head":
        toolchain.progress(f"paired: {note}")
    if only is not None:
        pkgs = [p for p in pkgs if p.import_path in only]
    pkgs = [p for p in pkgs if p.import_path not in (skip or set())]
    for pkg in pkgs:
        if side.rev:
            build = f"{side.rev}-{_safe(go_version)}-trimpath"  # what the binary depends on
            binary = cache / "builds" / build / f"{_safe(pkg.import_path)}.test"
        else:
            binary = scratch / f"{side.label}-{_safe(pkg.import_path)}.test"
        if not binary.exists():
            toolchain.progress(f"paired: building {side.label} ({side.name}) {pkg.import_path}")
            try:
                with atomic.replacing(binary) as partial:
                    # -trimpath: the two sides are checked out in different directories, which would
                    # otherwise make the same code two binaries laid out apart (A/A differences at a small
                    # b.N); profiles still name functions and lines (module paths, file names)
                    toolchain.build_test_binary(pkg, side.module, partial, trimpath=True)
            except BenchpipeError as e:
                raise BenchpipeError(f"{side.label} side ({side.name}) does not build: {e.message}") from None
        try:
            names = toolchain.list_benchmarks(binary, pkg, bench_re)
        except BenchpipeError as e:
            raise BenchpipeError(f"{side.label} side ({side.name}): {e.message}") from None
        if names:
            side.parallel |= {(pkg.import_path, n) for n in benchsrc.parallel(pkg.dir) if n in names}
            side.binaries[pkg.import_path] = binary
            side.dirs[pkg.import_path] = pkg.dir
            side.benchmarks[pkg.import_path] = names


@dataclass
class RoundValues:
    """Values per side and key, indexed by round; the wall time each result's runs took, both sides."""

    values: dict[str, dict[benchfmt.Key, dict[int, float]]] = field(
        default_factory=lambda: {"base": {}, "head": {}}
    )
    units: dict[str, UnitInfo] = field(default_factory=dict)
    wall: dict[BenchRef, float] = field(default_factory=dict)
    runs: dict[BenchRef, int] = field(default_factory=dict)
    iters: dict[str, dict[benchfmt.Key, dict[int, int]]] = field(
        default_factory=lambda: {"base": {}, "head": {}}
    )  # each value's b.N, by side, key and round
    longest: dict[BenchRef, float] = field(default_factory=dict)  # each result's longest run so far, one side
    cut: int | None = None  # the round the plan's deadline ended the rounds before (None: it did not)
    failed: dict[BenchRef, list[tuple[str, Failure]]] = field(
        default_factory=dict
    )  # results that failed, with each failing side's label: they run no more

    def next_round(self) -> int:
        """The first round index no result has run yet: where fresh rounds start, after any extra ones."""
        return 1 + max((r for side in self.values.values() for by in side.values() for r in by), default=-1)

    def fail(self, ref: BenchRef, failures: list[tuple[str, Failure]]) -> None:
        """A result that failed on a side in some run: its failures kept, its values dropped (a row of a
        result that fails is not a measurement), and it runs no more."""
        self.failed.setdefault(ref, []).extend(failures)
        for side in ("base", "head"):
            for store in (self.values[side], self.iters[side]):
                for key in [k for k in store if bench_ref(k[0], k[1]) == ref]:
                    del store[key]


class SideFailed(BenchpipeError):
    """One run of a side's test binary failed, panicked, stalled or timed out (:attr:`failure` says how)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def side_failure(side: Side, pkg: str, name: str, res: toolchain.RunResult) -> Failure | None:
    """What went wrong in one run of a side's test binary, naming the side (``name`` is the benchmark a
    stall is reported under); None when the run finished and passed."""
    where = f"{side.label} side ({side.name}): "
    if res.stall is not None:
        return Failure(
            kind="stall", package=pkg, benchmark=name, message=f"{where}{pkg}: {res.stall.describe(name)}"
        )
    if res.returncode != 0:
        why = toolchain.diagnose(res.output, pkg, res.returncode, toolchain.cwd_module(side.dirs[pkg]))
        return Failure(kind="fail", package=pkg, benchmark=name, message=where + why)
    return None


def run_side(side: Side, pkg: str, args: list[str], stall_s: float) -> toolchain.RunResult:
    """One run of a side's test binary, as it started (``toolchain.run_binary``)."""
    return toolchain.run_binary(side.binaries[pkg], side.dirs[pkg], args, hard_timeout=3600, stall_s=stall_s)


def _run_side(side: Side, pkg: str, name: str, args: list[str], stall_s: float) -> toolchain.RunResult:
    """One run of a side's test binary; a stall, a time-out or a failure is :class:`SideFailed`."""
    try:
        res = run_side(side, pkg, args, stall_s)
    except toolchain.Hung as e:
        message = f"{side.label} side ({side.name}): {e}"
        raise SideFailed(Failure(kind="timeout", package=pkg, benchmark=name, message=message)) from None
    failed = side_failure(side, pkg, name, res)
    if failed is not None:
        raise SideFailed(failed)
    return res


def run_one(
    side: Side, ref: BenchRef, rule: toolchain.RunRule, round_no: int, samples: RoundValues, plan: Plan
) -> float:
    """One run of one result on one side, as ``rule`` says; its values go into ``samples`` at ``round_no``."""
    pkg, name = ref
    args = toolchain.bench_args(
        toolchain.name_pattern(name), 1, rule.benchtime, plan.cpu, timeout=plan.timeout
    )
    res = _run_side(side, pkg, name, args, plan.stall_s)
    parsed = benchfmt.read_text(toolchain.split_output(res.output), f"{side.label}:{pkg}:{name}")
    samples.units.update(parsed.units)
    store, ns = samples.values[side.label], samples.iters[side.label]
    for r in parsed.results:
        for v, u in r.values:
            store.setdefault((pkg, r.name, u), {})[round_no] = v
            ns.setdefault((pkg, r.name, u), {})[round_no] = r.iters
    return res.wall


def _selection(refs: list[BenchRef], bench: str) -> dict[str, str]:
    """Per package, the -test.bench regex of these refs: a top-level name selects what ``bench`` selects
    under it (go test's levels), a full result name exactly that result."""
    by_pkg: dict[str, list[str]] = {}
    for pkg, name in refs:
        by_pkg.setdefault(pkg, []).append(name)
    out = {}
    for pkg, names in by_pkg.items():
        tops = sorted(n for n in names if "/" not in n)
        parts = ([toolchain.restrict(bench, tops)] if tops else []) + [
            toolchain.name_pattern(n) for n in names if "/" in n
        ]
        out[pkg] = "|".join(parts)
    return out


def measure_iterations(
    head: Side,
    refs: list[BenchRef],
    plan: Plan,
    ns: NsRef,
    failed: dict[BenchRef, list[tuple[str, Failure]]],
) -> dict[BenchRef, int]:
    """One run of the head side per package at the plan's benchtime: every result it selects (go test's
    selection, level by level) and its b.N (the smallest over ``-cpu`` values), keyed by its full name
    without the -N suffix; each result's ns/op goes into ``ns``. When that run fails, each ref of the
    package runs alone, and a ref that fails goes into ``failed``."""
    iters: dict[BenchRef, int] = {}
    for pkg, bench in _selection(refs, plan.bench).items():
        n = sum(1 for r in refs if r[0] == pkg)
        toolchain.progress(
            f"paired: measuring b.N of {n} benchmark(s) in {pkg} (head, benchtime {plan.benchtime})"
        )
        args = toolchain.bench_args(bench, 1, plan.benchtime, plan.cpu, timeout=plan.timeout)
        try:
            _read_iterations(_run_side(head, pkg, bench, args, plan.stall_s).output, pkg, iters, ns)
        except SideFailed:  # one benchmark failed (or panicked, taking the rest with it): each alone
            for ref in [r for r in refs if r[0] == pkg]:
                name = ref[1]
                top = toolchain.restrict(plan.bench, [name])
                alone = toolchain.name_pattern(name) if "/" in name else top
                args = toolchain.bench_args(
                    alone,
                    1,
                    plan.benchtime,
                    plan.cpu,
                    timeout=plan.timeout,
                )
                try:
                    _read_iterations(_run_side(head, pkg, ref[1], args, plan.stall_s).output, pkg, iters, ns)
                except SideFailed as e:
                    failed[ref] = [("head", e.failure)]
    return iters


def _read_iterations(output: str, pkg: str, iters: dict[BenchRef, int], ns: NsRef) -> None:
    for r in benchfmt.read_text(toolchain.split_output(output), f"head:{pkg}").results:
        key = (pkg, r.base_name)
        iters[key] = min(iters.get(key, r.iters), max(r.iters, 1))
        got = [v for v, u in r.values if u == "ns/op"]
        if got:
            ns[(pkg, r.name)] = got[0]


def check_first_round(
    rules: dict[BenchRef, toolchain.RunRule], reference: NsRef, plan: Plan, samples: RoundValues
) -> tuple[dict[BenchRef, toolchain.RunRule], list[BenchRef]]:
    """The fixed-b.N check, on the first round's head runs (no run of its own): a fixed-b.N result with a
    reference ns/op (measured at a time benchtime) whose first head run measured it differently runs at the
    time benchtime instead (:func:`benchpipe.go.toolchain.checked_rule`). Returns the rules and the results
    whose first round must run again under their new rule."""
    out, again = dict(rules), set()
    head = samples.values["head"]
    for (pkg, name, unit), by_round in head.items():
        ref = (pkg, benchfmt.base_name(name))
        rule = out.get(ref)
        if unit != "ns/op" or rule is None or not rule.fixed or 0 not in by_round or ref in samples.failed:
            continue
        if not _ns_of(ref, reference):  # no reference (a 0 one would check nothing)
            continue
        bt = plan.check_bt or plan.benchtime
        checked = toolchain.checked_rule(rule, bt, by_round[0], reference.get((pkg, name), 0.0))
        if checked is not rule:
            toolchain.progress(f"paired: {pkg} {name}: {checked.why}: runs at -benchtime {bt}")
            out[ref] = checked
            again.add(ref)
    return out, sorted(again)


def lengthen_parallel(
    head: Side,
    rules: dict[BenchRef, toolchain.RunRule],
    short: NsRef,
    plan: Plan,
    samples: RoundValues,
) -> dict[BenchRef, toolchain.RunRule]:
    """Each RunParallel result's rounds run long enough to measure what go test measures: its ns/op at its
    rule's time (``short``, else one run) against one run at go test's time (``plan.reference_bt``, else go
    test's default); when they differ (:func:`benchpipe.go.toolchain.parallel_agrees`), twice, the rounds
    run at 3x their time if one run there agrees, else at go test's time. Each choice is said, and is in the
    rule (``run_as``)."""
    out = dict(rules)
    long_bt = plan.reference_bt or toolchain.GO_DEFAULT_BENCHTIME
    whole = benchtime.parse(long_bt).ns
    for ref, rule in rules.items():
        now = benchtime.parse(rule.benchtime).ns
        if rule.kind is not toolchain.RunKind.PARALLEL or now is None or whole is None or now >= whole:
            continue
        try:
            long_ns = _one_ns(head, ref, long_bt, plan)
            short_ns = _ns_of(ref, short) or _one_ns(head, ref, rule.benchtime, plan)
            if toolchain.parallel_agrees(short_ns, long_ns):
                continue
            short_ns = _one_ns(head, ref, rule.benchtime, plan)  # one run more: the first may be noise
            if toolchain.parallel_agrees(short_ns, long_ns):
                continue
            why = f"{short_ns:.4g} ns/op at {rule.benchtime} vs {long_ns:.4g} at {long_bt}"
            chosen = toolchain.RunRule(long_bt, toolchain.RunKind.PARALLEL, why)
            if now * 3 < whole:
                mid = str(benchtime.seconds(now * 3 / 1e9))
                if toolchain.parallel_agrees(_one_ns(head, ref, mid, plan), long_ns):
                    chosen = toolchain.RunRule(mid, toolchain.RunKind.PARALLEL, why)
        except SideFailed as e:
            samples.fail(ref, [("head", e.failure)])
            continue
        toolchain.progress(f"paired: {ref[0]} {ref[1]}: RunParallel, {why}: runs at {chosen.benchtime}")
        out[ref] = chosen
    return out


def _ns_of(ref: BenchRef, ns: NsRef) -> float:
    """A result's ns/op in ``ns`` (keyed by the printed name, -N included): its first, 0.0 when absent."""
    found = (v for (pkg, name), v in ns.items() if pkg == ref[0] and benchfmt.base_name(name) == ref[1])
    return next(found, 0.0)


def _one_ns(head: Side, ref: BenchRef, bt: str, plan: Plan) -> float:
    """One run of a result on the head side at ``bt``: its ns/op (0.0 without one)."""
    pkg, name = ref
    args = toolchain.bench_args(toolchain.name_pattern(name), 1, bt, plan.cpu, timeout=plan.timeout)
    res = _run_side(head, pkg, name, args, plan.stall_s)
    for r in benchfmt.read_text(toolchain.split_output(res.output), f"head:{pkg}").results:
        return next((v for v, u in r.values if u == "ns/op"), 0.0)
    return 0.0


def run_rules(
    iters: dict[BenchRef, int], benchtime: str, base: Side, head: Side
) -> dict[BenchRef, toolchain.RunRule]:
    """How each result runs in the rounds (:func:`benchpipe.go.toolchain.run_rule`): its b.N, or a time for
    a result whose benchmark calls RunParallel on either side."""
    par = base.parallel | head.parallel
    return {
        ref: toolchain.run_rule(benchtime, n, (ref[0], benchfmt.top_level(ref[1])) in par)
        for ref, n in iters.items()
    }


def run_rounds(
    base: Side,
    head: Side,
    refs: list[BenchRef],
    rounds: range,
    rules: dict[BenchRef, toolchain.RunRule],
    plan: Plan,
    samples: RoundValues,
    rng: random.Random,
    of: int = 0,
) -> None:
    """Each ref once per side per round, as its rule says; a ref that fails on either side stops
    (:meth:`RoundValues.fail`). ``of``: the planned number of rounds, for
    progress lines (default ``rounds.stop``). A ref's two runs do not start when they would end past the
    plan's deadline, each run as long as its longest so far (a time benchtime's ramp-up makes one run
    longer than another): the rounds stop there, and ``samples.cut`` says in which round."""
    t0 = time.monotonic()
    for r in rounds:
        if samples.cut is not None:
            return
        seq = list(refs)
        if plan.order == "shuffle":
            rng.shuffle(seq)
        for ref in seq:
            if ref in samples.failed:
                continue
            if plan.deadline and time.monotonic() + 2 * samples.longest.get(ref, 0.0) > plan.deadline:
                samples.cut = r
                toolchain.progress(f"paired: the budget ends in round {r + 1}: no more runs")
                return
            sides = [base, head] if r % 2 == 0 else [head, base]
            if plan.order == "shuffle":
                rng.shuffle(sides)
            failures = []
            for side in sides:  # both run though one fails: a base failure the head fixes is no error
                try:
                    wall = run_one(side, ref, rules[ref], r, samples, plan)
                    samples.wall[ref] = samples.wall.get(ref, 0.0) + wall
                    samples.longest[ref] = max(samples.longest.get(ref, 0.0), wall)
                except SideFailed as e:
                    failures.append((side.label, e.failure))
                samples.runs[ref] = samples.runs.get(ref, 0) + 1
            if failures:
                toolchain.progress(f"paired: {failures[0][1].message.splitlines()[0]}: no more rounds of it")
                samples.fail(ref, failures)
        toolchain.progress(
            f"paired: round {r + 1}/{of or rounds.stop} done ({len(refs)} benchmarks, "
            f"{time.monotonic() - t0:.1f}s)"
        )


def bench_ref(pkg: str, name: str) -> BenchRef:
    return pkg, benchfmt.base_name(name)
