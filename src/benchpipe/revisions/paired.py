"""Paired, interleaved base-vs-head comparison of two git revisions of a Go module.

Each revision is checked out into its own worktree (the head defaults to the
working tree, uncommitted changes included) and each package's test binary is
built once per side (``go test -c``; builds of a commit are cached by commit
SHA, Go version and package). One calibration run of the head side per
package (``-test.benchtime`` as given, the ``-bench`` regex selecting level by
level as ``go test`` does) measures every result's b.N; each result
(sub-benchmarks apart, its name anchored level by level) then runs in rounds
as :func:`benchpipe.go.toolchain.run_rule` says: at that fixed iteration count
on both sides (``-test.benchtime=<N>x -test.count=1``: no b.N ramp-up in any
round, and both sides do exactly the same work), except a result whose
benchmark calls ``b.RunParallel``, which runs at the time benchtime (at ``Nx``
its grain would come from the b.N=1 probe). ``run_as`` in the facts says how
each result ran. In every round each benchmark runs once on each side, base first in
even rounds and head first in odd ones (or shuffled), so slow machine drift
hits both sides alike.

The verdict uses the pairing. For every benchmark and unit, the per-round
ratio head/base is formed; a two-sided Wilcoxon signed-rank test on the log
ratios gives p, and the median ratio with that test's own interval (its
inversion, :func:`benchpipe.core.paired.ratio_summary`) gives the change. A
row regresses when p <= alpha and the median ratio is worse than the
threshold. Exact units (allocs/op) compare modes.
Before a FAIL, the suspected benchmarks run again for fresh rounds, and only
regressions that hold in those rounds too stand ("confirmed"); fresh rounds
that lean the flagged way without deciding it get as many again, once.

With ``early_stop``, rounds stop early when every row is decided: at the
looks of a group-sequential design (:mod:`benchpipe.core.sequential`), a row
significant at the look's nominal level, a row whose interval lies within
the smallest change that warns, and an exact row are decided; a benchmark
whose rows are all decided runs no more rounds; ``rounds`` is the maximum.
A plan with ``refs`` runs only those results (confirmation of flagged rows),
and ``iters`` fixes their b.N without a calibration run.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchpipe.core import benchfmt, sequential, setup, stats
from benchpipe.core.artifacts import Explanation, Failure, PairedFacts
from benchpipe.core.errors import BenchpipeError, NothingSelected, NothingToCompare
from benchpipe.core.paired import METHOD, holds, leans, moved, paired_row, settle
from benchpipe.core.settings import DEFAULT_MODE, Settings
from benchpipe.core.units import TIME_PER_OP, UnitInfo
from benchpipe.core.verdict import (
    INCONCLUSIVE,
    MIN_ALLOC_BYTES,
    Comparison,
    Options,
    Row,
    assemble,
    better_higher,
    data_exact,
    sub_allocation,
)
from benchpipe.go import git as gitrev
from benchpipe.go import machine, toolchain
from benchpipe.render.text import measured_change
from benchpipe.revisions import profiles
from benchpipe.revisions.plan import Plan
from benchpipe.revisions.rounds import (
    BenchRef,
    NsRef,
    RoundValues,
    Side,
    bench_ref,
    check_first_round,
    lengthen_parallel,
    measure_iterations,
    prepare,
    run_rounds,
    run_rules,
    run_side,
    side_failure,
)
from benchpipe.store import params
from benchpipe.store.cachedir import cache_root

Decision = tuple[int, float]  # (rounds the row was decided after, nominal significance level there)


def analyze(
    samples: RoundValues,
    opts: Options,
    rounds: set[int] | None = None,
    decisions: dict[benchfmt.Key, Decision] | None = None,
    level: float | None = None,
    pairs: dict[benchfmt.Key, tuple[list[float], list[float]]] | None = None,
) -> list[Row]:
    """Paired rows for every key present on both sides; a key in ``decisions`` is judged on its first n
    rounds at its level, others at ``level`` (default alpha). ``pairs``, when given, receives the values
    each tested row was judged on (base, head)."""
    rows: list[Row] = []
    base_v, head_v = samples.values["base"], samples.values["head"]
    for key in base_v:
        if key not in head_v:
            continue
        pkg, name, unit = key
        info = samples.units.get(unit, UnitInfo(unit))
        threshold, exact, ignore = opts.resolve(name, unit, info)
        if ignore:
            continue
        use, lvl = rounds, level
        if decisions and key in decisions:
            n, lvl = decisions[key]
            use = set(range(n))
        common = sorted(r for r in base_v[key] if r in head_v[key] and (use is None or r in use))
        if not common:
            continue
        b = [base_v[key][r] for r in common]
        h = [head_v[key][r] for r in common]
        apart = setup_apart(samples, key, common, b, h) if exact else None
        if apart is not None and apart.same:
            rows.append(apart.unchanged_row(key, info, threshold))
            continue
        if apart is not None:
            b, h = apart.base, apart.head
        row = paired_row(pkg, name, unit, b, h, info, threshold, exact, opts, lvl)
        if pairs is not None:
            pairs[key] = (b, h)
        if apart is not None:
            apart.mark(row)
        too_short(row, [samples.iters["head"].get(key, {}).get(r, 0) for r in common])
        rows.append(row)
    sub_allocation(rows)
    return rows


MIN_TIMED_NS = 1e6  # a run whose timed loop took less than this (1 ms) measures the process, not the code


def too_short(row: Row, iters: list[int]) -> None:
    """A timing row whose runs each timed under :data:`MIN_TIMED_NS` of work (ns/op x b.N: ``-benchtime
    200x`` of a 100 ns operation is 20 us) cannot regress or warn: at that length the process's own
    effects (first touches of code and data, the timer, the scheduler) are a large share of what is timed,
    and two identical binaries measured +28% apart in 12 interleaved rounds (google/uuid at 200x). It is
    inconclusive, saying so; a longer -benchtime decides it."""
    if (
        row.unit not in TIME_PER_OP
        or row.verdict not in ("regression", "warn")
        or not iters
        or min(iters) <= 0
    ):
        return
    n = statistics.median(iters)
    timed = n * row.new.center * (1e9 if row.unit == "sec/op" else 1)
    if timed >= MIN_TIMED_NS:
        return
    row.verdict = INCONCLUSIVE
    row.warnings.append(
        f"inconclusive: each run timed {timed / 1e3:.3g} us of work ({n:.0f} iterations), too short to tell "
        f"the code from the process (at least {MIN_TIMED_NS / 1e6:g} ms): run with a longer -benchtime"
    )


# The smallest change of one operation's cost that is real in a unit counted in whole things (Go's smallest
# size class is 8 bytes; one allocation): a smaller per-op difference is the setup line's rounding.
GRAIN = {"B/op": float(MIN_ALLOC_BYTES), "allocs/op": 1.0}


@dataclass
class Apart:
    """An exact unit whose sides ran at different b.N, split into per-op cost and setup / b.N
    (:mod:`benchpipe.core.setup`); ``base``/``head`` are the rounds' per-op parts (None: not separable)."""

    unit: str
    base: list[float]
    head: list[float]
    split: tuple[setup.Split, setup.Split] | None
    iters: tuple[int, int]  # the median b.N of each side

    @property
    def same(self) -> bool:
        """The per-op cost is the same on both sides: the difference is under the unit's grain, or under
        twice its standard error (the two lines' scatter: a setup that is not the same every run, or not
        linear in 1/b.N, as a cache that fills over its first runs; Go's whole-number values), so the
        rounds do not show a per-op change."""
        if self.split is None:
            return False
        b, h = self.split
        noise = 2 * math.hypot(b.per_op_se, h.per_op_se)
        return abs(h.per_op - b.per_op) < max(GRAIN.get(self.unit, 0.0), noise, 1e-9)

    def note(self) -> str:
        if self.split is None:
            return (
                f"{self.unit} varies with b.N and the sides ran at different b.N ({self.iters[0]} vs "
                f"{self.iters[1]}) too close together within each side to tell setup from per-op cost"
            )
        b, h = self.split
        floor = 0.0 if self.unit in GRAIN else -math.inf  # counted things: an estimate below 0 is 0

        def per_op(s: setup.Split) -> str:  # with its standard error: b.N close together make it loose
            se = f"± {s.per_op_se:,.1f}" if math.isfinite(s.per_op_se) else "two rounds: no error estimate"
            return f"{max(s.per_op, floor):,.1f} ({se})"

        return (
            f"setup apart (value = per op + setup / b.N, from the rounds' b.N {self.iters[0]} vs "
            f"{self.iters[1]}): per op {per_op(b)} -> {per_op(h)}, setup "
            f"{b.setup:,.0f} -> {h.setup:,.0f} per run"
        )

    def mark(self, row: Row) -> None:
        """The judged row says how it was split; one that could not be split is neither a regression
        (inconclusive) nor an improvement (unchanged): its values moved with the sides' b.N, which is the
        machine's speed, not the code's allocations (on unchanged code, fastcache's CacheSet allocs/op was
        "improved" by a side that ran faster, so more iterations shared the setup)."""
        row.warnings.append(self.note())
        if self.split is None and row.verdict in ("regression", "warn"):
            row.verdict = INCONCLUSIVE
        elif self.split is None and row.verdict == "improvement":
            row.verdict, row.significant = "unchanged", False

    def unchanged_row(self, key: benchfmt.Key, info: UnitInfo, threshold: float) -> Row:
        """The row of a unit whose cost per op is the same on both sides: unchanged, its summaries those of
        the rounds' per-op parts, with the split said."""
        pkg, name, unit = key
        old, new = stats.summarize(self.base), stats.summarize(self.head)
        return Row(
            package=pkg,
            benchmark=name,
            unit=unit,
            old=old,
            new=new,
            delta_pct=0.0,  # the same cost per op, within the unit's grain
            verdict="unchanged",
            threshold_pct=threshold,
            higher_is_better=better_higher(info, unit),
            warnings=[self.note() + ": the same cost per op; only b.N moved the per-op value"],
            varies_with_n=True,
        )


def setup_apart(
    samples: RoundValues, key: benchfmt.Key, common: list[int], b: list[float], h: list[float]
) -> Apart | None:
    """For an exact unit whose values vary and whose sides ran at different b.N (a RunParallel result's
    rounds run for a time, and a slower side reaches a smaller b.N), each side's per-op cost apart from
    its setup / b.N; None when the b.N are the same on both sides (the setup's share is then equal)."""
    bi = [samples.iters["base"].get(key, {}).get(r, 0) for r in common]
    hi = [samples.iters["head"].get(key, {}).get(r, 0) for r in common]
    if not all(bi) or not all(hi) or bi == hi or data_exact(True, b, h):
        return None
    sb, sh = setup.split(b, bi), setup.split(h, hi)
    med = (sorted(bi)[len(bi) // 2], sorted(hi)[len(hi) // 2])
    if sb is None or sh is None:
        return Apart(key[2], b, h, None, med)
    return Apart(key[2], sb.per_op_parts(b, bi), sh.per_op_parts(h, hi), (sb, sh), med)


def decided(row: Row, opts: Options, pairs: tuple[list[float], list[float]] | None = None) -> bool:
    """A row needs no more rounds: exact; significant at the look's level with its verdict settled (better;
    or worse with the whole interval of the median ratio on one side of the threshold, so more rounds
    cannot turn a warning into a regression or back); or futile: the interval within the smallest change
    that warns, or (given the row's per-round ``pairs``, base and head) shown equivalent within it by
    :func:`benchpipe.core.sequential.equivalent` with the interval inside the threshold."""
    r = row.ratio
    if row.p is None:
        return True
    if row.significant:
        return r is None or sequential.settled(r.lo, r.hi, row.threshold_pct, row.higher_is_better)
    return shown_unchanged(row, opts, pairs)


def unsettled(row: Row, opts: Options) -> bool:
    """A row the design's last round left open: inconclusive, or a significant worse change whose interval
    still straddles the threshold (not :func:`decided`: more rounds narrow it to one side or the other, and
    a regression is confirmed only with its whole interval clearly worse,
    :func:`benchpipe.core.paired.clearly_worse`)."""
    if row.verdict == INCONCLUSIVE:
        return True
    return row.verdict in ("regression", "warn") and not decided(row, opts)


def shown_unchanged(row: Row, opts: Options, pairs: tuple[list[float], list[float]] | None = None) -> bool:
    """A row that cannot warn or regress, whatever more rounds measure: exact, or futile (the interval of its
    median ratio within the smallest change that warns), or shown equivalent within it by
    :func:`benchpipe.core.sequential.equivalent` (given its per-round ``pairs``) with that interval inside
    the threshold."""
    r = row.ratio
    if row.p is None:
        return True
    if r is None:
        return False
    margin = opts.warn_min(row.threshold_pct)
    if sequential.futile(r.lo, r.hi, margin):
        return True
    return (
        pairs is not None
        and sequential.futile(r.lo, r.hi, row.threshold_pct)
        and sequential.equivalent(_log_ratios(*pairs), margin, opts.alpha)
    )


def _log_ratios(b: list[float], h: list[float]) -> list[float]:
    return [math.log(y / x) for x, y in zip(b, h, strict=True) if x > 0 and y > 0]


def run_design(
    base: Side,
    head: Side,
    refs: list[BenchRef],
    plan: Plan,
    samples: RoundValues,
    opts: Options,
    rng: random.Random,
    rules: dict[BenchRef, toolchain.RunRule],
    start: int = 0,
) -> tuple[dict[benchfmt.Key, Decision], int]:
    """Rounds with early stopping at the looks of :func:`benchpipe.core.sequential.levels`, from round
    ``start`` (the ones before it ran already); returns each row's decision and the benchmark runs (per
    side) that were made."""
    looks = dict(sequential.levels(plan.rounds, opts.alpha))
    decisions: dict[benchfmt.Key, Decision] = {}
    active, runs = [r for r in refs if r not in samples.failed], len(refs) * start
    for r in range(start, plan.rounds):
        run_rounds(base, head, active, range(r, r + 1), rules, plan, samples, rng, of=plan.rounds)
        if samples.cut is not None:
            break
        runs += len(active)
        active = [ref for ref in active if ref not in samples.failed]
        level = looks.get(r + 1)
        if level is None:
            continue
        live, pairs = set(active), {}
        for row in analyze(samples, opts, set(range(r + 1)), level=level, pairs=pairs):
            key = (row.package, row.benchmark, row.unit)
            if (
                key not in decisions
                and bench_ref(row.package, row.benchmark) in live
                and (r + 1 == plan.rounds or decided(row, opts, pairs.get(key)))
            ):
                decisions[key] = (r + 1, level)
        keys = [
            k for k in samples.values["head"] if k in samples.values["base"] and bench_ref(k[0], k[1]) in live
        ]
        open_refs = {bench_ref(k[0], k[1]) for k in keys if k not in decisions}
        stopped = [ref for ref in active if ref not in open_refs]
        if stopped and r + 1 < plan.rounds:
            toolchain.progress(
                f"paired: {len(stopped)} benchmark(s) decided after {r + 1} rounds (nominal level "
                f"{level:.4f}); {len(open_refs)} continue"
            )
        active = [ref for ref in active if ref in open_refs]
        if not active:
            break
    return decisions, runs


def build_comparison(rows: list[Row], opts: Options, added: list[str], removed: list[str]) -> Comparison:
    warnings = ["benchmark set differs between base and head"] if added or removed else []
    c = assemble(rows, opts, added, removed, warnings)
    c.method = METHOD
    return c


def changed_packages(
    root: Path, rel: Path, base_sha: str, head_rev: str | None, head: Side
) -> set[str] | None:
    """Import paths whose files, or whose in-module dependencies' files, differ; None means all."""
    return toolchain.affected_packages(head.module, gitrev.module_changes(root, base_sha, head_rev, rel))


@dataclass
class Outcome:
    """A paired comparison: its verdict and rows, its facts (the JSON's ``paired``) and the raw rounds."""

    comparison: Comparison
    facts: PairedFacts
    samples: RoundValues
    explanations: list[Explanation] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)  # benchmarks that failed (the comparison's exit 2)


@dataclass
class _Sides:
    base: Side
    head: Side
    refs: list[BenchRef]
    added: list[str]
    removed: list[str]
    root: Path  # the repository
    rel: Path  # the module's directory in it


def open_sides(plan: Plan, wt: gitrev.WorktreeSet, scratch: Path, facts: PairedFacts) -> _Sides:
    """Check out and build both sides; the refs both have (the plan's own refs when it names them)."""
    target = plan.target.resolve()
    root = gitrev.toplevel(target)
    rel = target.relative_to(root)
    base_sha = gitrev.resolve(root, plan.base_rev)
    head_sha = gitrev.resolve(root, plan.head_rev) if plan.head_rev else ""
    facts.base, facts.head, facts.target = base_sha, head_sha or "working tree", str(target)
    base = Side("base", base_sha, wt.add(root, base_sha, "base") / rel)
    if head_sha:
        head = Side("head", head_sha, wt.add(root, head_sha, "head") / rel)
    else:
        head = Side("head", "", target, dirty=gitrev.is_dirty(root, rel))
    facts.head_dirty = head.dirty
    only = None
    if plan.changed_only:
        only = changed_packages(root, rel, base_sha, plan.head_rev, head)
        facts.changed_packages = sorted(only) if only is not None else "all (go.mod changed)"
        if only is not None and not only:
            raise NothingToCompare("no package changed between base and head (--changed-only)")
    if not base.module.exists():
        raise BenchpipeError(f"base side ({base.name}): {rel} does not exist at that revision")
    facts.impact = plan.impact
    skip = set(plan.impact.skipped_packages) if plan.impact is not None and not plan.impact.run_all else set()
    go_version = machine.go_env()["go_version"]
    for side in (base, head):
        prepare(side, plan.patterns, plan.bench, plan.cache, go_version, scratch, only, skip)
    base_refs = {(p, n) for p, names in base.benchmarks.items() for n in names}
    head_refs = {(p, n) for p, names in head.benchmarks.items() for n in names}
    refs = sorted(base_refs & head_refs)
    added = sorted(n for _, n in head_refs - base_refs)
    removed = sorted(n for _, n in base_refs - head_refs)
    if plan.impact is not None:
        runs = set(plan.impact.kept(sorted({(r[0], benchfmt.top_level(r[1])) for r in refs})))
        refs = [r for r in refs if (r[0], benchfmt.top_level(r[1])) in runs]
        if not refs:
            raise NothingSelected("no benchmark executes the changed code")
    if plan.refs is not None:  # chosen results: their top-level benchmark must exist on both sides
        both = set(refs)
        refs = sorted(r for r in plan.refs if (r[0], benchfmt.top_level(r[1])) in both)
        added, removed = [], []
    if not refs:
        raise NothingToCompare(f"no benchmark matching {plan.bench!r} exists on both sides")
    return _Sides(base, head, refs, added, removed, root, rel)


def _iterations(s: _Sides, plan: Plan, ns: NsRef, samples: RoundValues) -> dict[BenchRef, int]:
    """Each result's b.N: the plan's own where it fixes them, else one measuring run of the head side (which
    also expands top-level names into the results go test's selection runs, and gives their ns/op); a result
    that fails there goes into ``samples.failed``."""
    missing = [r for r in s.refs if r not in plan.iters]
    iters = {r: plan.iters[r] for r in s.refs if r in plan.iters}
    return {**iters, **measure_iterations(s.head, missing, plan, ns, samples.failed)} if missing else iters


def _confirm(
    s: _Sides,
    rows: list[Row],
    rules: dict[BenchRef, toolchain.RunRule],
    plan: Plan,
    samples: RoundValues,
    opts: Options,
    rng: random.Random,
    facts: PairedFacts,
    cut: set[BenchRef],
) -> None:
    """Fresh rounds of the flagged and the inconclusive rows' results; each flag is kept or dropped by
    :func:`settle`, each inconclusive row judged again on all its rounds (:func:`_resolve`). Fresh rounds
    that lean the flagged way without deciding it get as many again (:func:`_second_look`), and the flag is
    then judged on all the fresh rounds."""
    flagged = [
        i for i, r in enumerate(rows) if r.verdict in ("regression", "warn", "improvement") and r.significant
    ]
    unsure = [i for i, r in enumerate(rows) if r.verdict == INCONCLUSIVE]
    suspects = sorted({bench_ref(rows[i].package, rows[i].benchmark) for i in flagged + unsure})
    if not suspects or plan.confirm_rounds <= 0:
        return
    toolchain.progress(
        f"paired: confirming {len(flagged)} flagged row(s) of {len(suspects)} benchmark(s) with "
        f"{plan.confirm_rounds} fresh rounds"
    )
    first = range(samples.next_round(), samples.next_round() + plan.confirm_rounds)  # after any extra rounds
    run_rounds(s.base, s.head, suspects, first, rules, plan, samples, rng)
    facts.confirm_runs, facts.confirm_rounds = len(suspects) * plan.confirm_rounds, plan.confirm_rounds
    fresh_rows = _second_look(
        s, [rows[i] for i in flagged], set(first), rules, plan, samples, opts, rng, facts, cut
    )
    all_rows = {_key(r): r for r in analyze(samples, opts)}
    for i in flagged:
        r = rows[i]
        key, was = _key(r), r.verdict
        f = fresh_rows.get(key)
        n_fresh = _rounds_of(f, plan.confirm_rounds)
        rows[i], ok = settle(r, f, all_rows.get(key), opts)
        label = f"{r.benchmark} {r.unit}"
        if ok:
            a = rows[i]
            a.warnings.append(
                f"confirmed by {n_fresh} fresh rounds (median {measured_change(f)}; all "
                f"{_rounds_of(a, n_fresh + plan.rounds)} rounds p="
                + (f"{a.p:.3f}" if a.p is not None else "exact")
                + ")"
            )
            facts.confirmed.append(label)
        else:
            rows[i].warnings.append(
                f"{was} not confirmed by {n_fresh} fresh rounds (median {measured_change(f)})"
            )
            facts.unconfirmed.append(label)
            if rows[i].verdict == INCONCLUSIVE:
                facts.inconclusive.append(label)
    for i in unsure:
        key = _key(rows[i])
        every = all_rows.get(key)
        rows[i] = _resolve(rows[i], fresh_rows.get(key), every, opts, _rounds_of(every, plan.rounds), facts)


def _second_look(
    s: _Sides,
    flagged: list[Row],
    fresh: set[int],
    rules: dict[BenchRef, toolchain.RunRule],
    plan: Plan,
    samples: RoundValues,
    opts: Options,
    rng: random.Random,
    facts: PairedFacts,
    cut: set[BenchRef],
) -> dict[benchfmt.Key, Row]:
    """The rows of the fresh rounds, after as many fresh rounds again of the flagged results whose first
    fresh rounds lean the flagged way without deciding it (:func:`benchpipe.core.paired.leans`), while
    those runs are at most :data:`EXTRA_SHARE` of the rounds' runs (at least one result's) and the budget
    has not ended. Until 2026-12-07 only a quarter of the suspects could: on uuid, two real +25..+30%
    slowdowns of four suspects were left inconclusive by a disturbed fresh round each. Leaning results the
    share leaves out go into ``cut``."""
    rows = {_key(r): r for r in analyze(samples, opts, fresh)}
    leaning = sorted(
        {bench_ref(r.package, r.benchmark) for r in flagged if leans(r.verdict, rows.get(_key(r)), opts)}
    )
    allowance = extra_allowance(facts.runs, plan.confirm_rounds)
    if not leaning or samples.cut is not None:
        return rows
    if len(leaning) * plan.confirm_rounds > allowance:
        cut.update(leaning)
        return rows
    toolchain.progress(
        f"paired: {len(leaning)} flagged result(s) lean the flagged way without deciding it: "
        f"{plan.confirm_rounds} more fresh rounds of them"
    )
    start = max(fresh) + 1
    more = range(start, start + plan.confirm_rounds)
    run_rounds(s.base, s.head, leaning, more, rules, plan, samples, rng)
    facts.confirm_runs += len(leaning) * plan.confirm_rounds
    return {_key(r): r for r in analyze(samples, opts, fresh | set(more))}


def _key(r: Row) -> benchfmt.Key:
    """A row's (package, benchmark, unit)."""
    return (r.package, r.benchmark, r.unit)


def _rounds_of(r: Row | None, otherwise: int) -> int:
    """The rounds a row was judged on (its ratio's n), ``otherwise`` when it has no ratio."""
    return r.ratio.n if r is not None and r.ratio is not None else otherwise


def _resolve(r: Row, fresh: Row | None, every: Row | None, opts: Options, n: int, facts: PairedFacts) -> Row:
    """An inconclusive row after fresh rounds, judged on all its rounds: unchanged (resolved) when their
    interval lies within the threshold, a regression or warning only when the fresh rounds hold it too
    (:func:`benchpipe.core.paired.holds`), else still inconclusive."""
    label = f"{r.benchmark} {r.unit}"
    if every is None:
        return r
    kept = holds(every.verdict, fresh, opts, every) if every.verdict in ("regression", "warn") else ""
    if kept == "unchanged":
        every.verdict = INCONCLUSIVE
        every.warnings.append(
            f"inconclusive: all {n} rounds find {measured_change(every)}, the fresh rounds alone do not"
        )
    elif kept:
        every.verdict = kept
    if every.verdict in ("unchanged", "improvement"):
        every.verdict = "unchanged"
        every.warnings.append(
            f"inconclusive after the first rounds, resolved by all {n} (interval within the threshold)"
        )
        facts.resolved.append(label)
    elif every.verdict == INCONCLUSIVE:
        facts.inconclusive.append(label)
    else:
        facts.confirmed.append(label)
    return every


def _lap(facts: PairedFacts, phase: str, since: float) -> float:
    """Add the time since ``since`` to ``phase`` in ``facts.phases``; now."""
    now = time.monotonic()
    facts.phases[phase] = round(facts.phases.get(phase, 0.0) + now - since, 2)
    return now


def _measure(
    s: _Sides, plan: Plan, opts: Options, facts: PairedFacts
) -> tuple[list[Row], RoundValues, dict[BenchRef, toolchain.RunRule]]:
    """The rounds (fixed, or with early stopping), then confirmation of what they flagged."""
    samples, rng, t0 = RoundValues(), random.Random(plan.seed), time.monotonic()
    reference = dict(plan.reference_ns)
    iters = _iterations(s, plan, reference, samples)
    t = _lap(facts, "calibrate", t0)
    refs = sorted(iters) or [r for r in s.refs if r not in samples.failed]  # one per result, run by its rule
    rules = lengthen_parallel(
        s.head, run_rules(iters, plan.benchtime, s.base, s.head), reference, plan, samples
    )
    t = _lap(facts, "rules", t)
    refs = [r for r in refs if r not in samples.failed]
    # the first round's head runs are the fixed-b.N check; a result that fails it runs that round again
    run_rounds(s.base, s.head, refs, range(1), rules, plan, samples, rng, of=plan.rounds)
    rules, again = check_first_round(rules, reference, plan, samples)
    if again:
        run_rounds(s.base, s.head, again, range(1), rules, plan, samples, rng, of=plan.rounds)
    facts.iterations = {f"{p} {n}": k for (p, n), k in sorted(iters.items())}
    facts.run_as = {f"{p} {n}": rule.describe() for (p, n), rule in sorted(rules.items())}
    cut: set[BenchRef] = set()  # results the extra rounds' share left unsettled
    if plan.early_stop:
        decisions, runs = run_design(s.base, s.head, refs, plan, samples, opts, rng, rules, start=1)
        rows = analyze(samples, opts, decisions=decisions)
        rows, more = _settle_undecided(s, rows, decisions, rules, plan, samples, opts, rng, runs, cut)
        runs, extra = more, more - runs
        facts.design = {
            "looks": [n for n, _ in sequential.levels(plan.rounds, opts.alpha)],
            "runs": runs,
            "max_runs": len(refs) * plan.rounds,
            "extra_runs": extra,  # of the undecided results, after the last look
            "stopped_at": {f"{k[1]} {k[2]}": n for k, (n, _) in sorted(decisions.items())},
        }
        facts.runs = runs
    else:
        run_rounds(s.base, s.head, refs, range(1, plan.rounds), rules, plan, samples, rng)
        rows = analyze(samples, opts)
        facts.runs = sum(_ran(samples, refs, r) for r in range(plan.rounds))
        rows = _more_rounds(s, rows, rules, plan, samples, opts, rng, facts)
    t = _lap(facts, "rounds", t)
    _confirm(s, rows, rules, plan, samples, opts, rng, facts, cut)
    _say_cut(rows, cut)
    _lap(facts, "confirm", t)
    facts.seconds, facts.rounds = round(time.monotonic() - t0, 1), plan.rounds
    return rows, samples, rules


def _say_cut(rows: list[Row], cut: set[BenchRef]) -> None:
    """An inconclusive row of a result the extra rounds' share left out says so: more rounds could have
    decided it, and the share (not the data) ended them."""
    for r in rows:
        if r.verdict == INCONCLUSIVE and bench_ref(r.package, r.benchmark) in cut:
            r.warnings.append(
                "inconclusive where more rounds could decide: the extra rounds' share (at most "
                f"{EXTRA_SHARE:.0%} of the design's runs again) ended first"
            )


EXTRA_SHARE = 0.5  # extra rounds (the undecided's, a second look) make at most this share of the runs again


def extra_allowance(runs: int, at_least: int) -> int:
    """The runs per side that extra rounds may make after ``runs``: :data:`EXTRA_SHARE` of them, and at
    least ``at_least`` (one round of what asks for them)."""
    return max(at_least, int(runs * EXTRA_SHARE))


def _settle_undecided(
    s: _Sides,
    rows: list[Row],
    decisions: dict[benchfmt.Key, Decision],
    rules: dict[BenchRef, toolchain.RunRule],
    plan: Plan,
    samples: RoundValues,
    opts: Options,
    rng: random.Random,
    runs: int,
    cut: set[BenchRef],
) -> tuple[list[Row], int]:
    """After the design's last round, up to ``plan.extra_rounds`` more rounds of only the results with an
    undecided row (:func:`unsettled`), while their runs stay within :data:`EXTRA_SHARE` of the runs the
    design made (so a whole noisy suite is not run again; a few undecided results get all their rounds): a
    result stops once each of its rows is shown unchanged (:func:`shown_unchanged`: more rounds cannot make
    it warn) or settled. No significance is looked at before the last of them, so the false-alarm rate is the
    design's but for one look: every row of those results is then judged on all its rounds at the design's
    last nominal level. Returns the rows and the runs (per side) made in all; the results still unsettled
    when the share ended go into ``cut`` (their rows say so if they end inconclusive)."""
    undecided = sorted({bench_ref(r.package, r.benchmark) for r in rows if unsettled(r, opts)})
    if not plan.extra_rounds or not undecided:
        return rows, runs
    allowance = extra_allowance(runs, len(undecided))  # one round of them at least
    level = sequential.levels(plan.rounds, opts.alpha)[-1][1]
    for key in [k for k in decisions if bench_ref(k[0], k[1]) in undecided]:
        del decisions[key]  # judged on all their rounds from now on
    toolchain.progress(
        f"paired: {len(undecided)} result(s) undecided after {plan.rounds} rounds: up to {plan.extra_rounds} "
        "more rounds of them"
    )
    active, end, made = list(undecided), plan.rounds + plan.extra_rounds, runs
    for r in range(plan.rounds, end):
        if runs - made + len(active) > allowance:
            toolchain.progress(f"paired: the extra rounds' share ({allowance} runs) ends after round {r}")
            cut.update(active)
            break
        run_rounds(s.base, s.head, active, range(r, r + 1), rules, plan, samples, rng, of=end)
        if samples.cut is not None:
            break
        runs += len(active)
        active = still_open(samples, opts, active, decisions=decisions, level=level)
        if not active:
            break
    return analyze(samples, opts, decisions=decisions, level=level), runs


def still_open(
    samples: RoundValues,
    opts: Options,
    active: list[BenchRef],
    decisions: dict[benchfmt.Key, Decision] | None = None,
    level: float | None = None,
    worse_stops: bool = True,
) -> list[BenchRef]:
    """The ``active`` results that more rounds may still decide: a row :func:`unsettled` and not
    :func:`shown_unchanged` on its rounds so far (a result whose rows each lie inside the threshold, or
    clearly past it, stops). With ``worse_stops`` False, a row found worse keeps its result running too:
    only rows shown within the threshold end early, so looking after every round cannot turn noise into a
    regression (rounds without a design's levels for their looks)."""
    pairs: dict[benchfmt.Key, tuple[list[float], list[float]]] = {}
    still = {
        bench_ref(row.package, row.benchmark)
        for row in analyze(samples, opts, decisions=decisions, level=level, pairs=pairs)
        if (
            unsettled(row, opts)
            and not shown_unchanged(row, opts, pairs.get((row.package, row.benchmark, row.unit)))
        )
        or (not worse_stops and row.verdict in ("regression", "warn"))
    }
    return [ref for ref in active if ref in still and ref not in samples.failed]


def _ran(samples: RoundValues, refs: list[BenchRef], r: int) -> int:
    """How many of ``refs`` ran round ``r`` on both sides (a deadline can end a round part way)."""
    base = samples.values["base"]
    done = {
        bench_ref(k[0], k[1]) for k, by in samples.values["head"].items() if r in by and r in base.get(k, {})
    }
    return sum(1 for ref in refs if ref in done)


def _more_rounds(
    s: _Sides,
    rows: list[Row],
    rules: dict[BenchRef, toolchain.RunRule],
    plan: Plan,
    samples: RoundValues,
    opts: Options,
    rng: random.Random,
    facts: PairedFacts,
) -> list[Row]:
    """Up to ``plan.extra_rounds`` more rounds of only the results with an undecided row (:func:`unsettled`:
    the few undecided ones; decided rows keep their rounds), as the deadline allows; a result stops once
    more rounds cannot decide it (:func:`still_open`) and none of its rows is found worse (these looks have
    no design's levels: a worse row is judged on every round the budget allows). Every row is judged again
    on all its rounds."""
    active = sorted({bench_ref(r.package, r.benchmark) for r in rows if unsettled(r, opts)})
    if not plan.extra_rounds or not active:
        return rows
    toolchain.progress(f"paired: {len(active)} result(s) undecided: up to {plan.extra_rounds} more rounds")
    end = plan.rounds + plan.extra_rounds
    for r in range(plan.rounds, end):
        run_rounds(s.base, s.head, active, range(r, r + 1), rules, plan, samples, rng, of=end)
        facts.runs += _ran(samples, active, r)
        if samples.cut is not None:
            break
        active = still_open(samples, opts, active, worse_stops=False)
        if not active:
            break
    return analyze(samples, opts)


def _explain(
    s: _Sides,
    rows: list[Row],
    rules: dict[BenchRef, toolchain.RunRule],
    plan: Plan,
    samples: RoundValues,
    scratch: Path,
) -> list[Explanation]:
    """Each regressed (and with ``explain_improvements``, improved; with ``explain_inconclusive``,
    inconclusive and moved the worse way) result profiled on both sides and tied to the diff
    (:mod:`benchpipe.revisions.profiles`); nothing runs when no row changed."""
    signs = {"regression": 1, **({"improvement": -1} if plan.explain_improvements else {})}
    wanted: dict[BenchRef, tuple[set[str], int]] = {}
    for r in rows:
        verdict = r.verdict
        if verdict == INCONCLUSIVE and plan.explain_inconclusive and moved(r, True, 0.0):
            verdict = "regression"
        if verdict in signs:
            units, sign = wanted.setdefault(bench_ref(r.package, r.benchmark), (set(), signs[verdict]))
            units.add(r.unit)
    if not plan.explain or not wanted or (plan.deadline and time.monotonic() > plan.deadline):
        return []
    todo = profiles.jobs(
        [(ref, units, sign) for ref, (units, sign) in sorted(wanted.items())],
        rules,
        samples,
        scratch / "explain",
    )
    diff = profiles.Diff.between(s.root, s.rel, s.head.module, s.base.rev, s.head.rev or None)
    out = profiles.explain_all(
        s.base, s.head, todo, samples, diff, plan.profile, plan.cpu, plan.timeout, plan.stall_s
    )
    profiles.keep(scratch / "explain", plan.explain_dir, out)
    return out


def run_added(s: _Sides, plan: Plan) -> list[Failure]:
    """Each benchmark only the head side has runs once there, as go test would run it (the plan's benchtime):
    a new benchmark that fails, panics, stalls or times out is a failure, named with Go's message."""
    out = []
    for pkg, names in sorted(s.head.benchmarks.items()):
        for name in names:
            if name not in s.added or name in s.base.benchmarks.get(pkg, []):
                continue
            args = toolchain.bench_args(
                toolchain.name_pattern(name), 1, plan.benchtime, plan.cpu, timeout=plan.timeout
            )
            toolchain.progress(f"paired: running {name}, new on the head side, once")
            try:
                failed = side_failure(s.head, pkg, name, run_side(s.head, pkg, args, plan.stall_s))
            except toolchain.Hung as e:
                failed = Failure(kind="timeout", package=pkg, benchmark=name, message=f"head side: {e}")
            out += [failed] if failed is not None else []
    return out


def execute(plan: Plan, opts: Options) -> Outcome:
    """Run a paired comparison: both sides built, every result measured as its rule says, rows judged."""
    facts = PairedFacts()
    t = time.monotonic()
    with gitrev.worktrees() as wt, tempfile.TemporaryDirectory(prefix="benchpipe-paired-") as scratch:
        s = open_sides(plan, wt, Path(scratch), facts)
        t = _lap(facts, "build", t)
        failures = run_added(s, plan)
        t = _lap(facts, "added", t)
        rows, samples, rules = _measure(s, plan, opts, facts)
        t = time.monotonic()
        explanations = _explain(s, rows, rules, plan, samples, Path(scratch))
        _lap(facts, "explain", t)
    fixed = [ref for ref, fs in samples.failed.items() if all(side == "base" for side, _ in fs)]
    failures += [f for ref, fs in sorted(samples.failed.items()) if ref not in fixed for _, f in fs]
    c = build_comparison(rows, opts, s.added, s.removed)
    for ref in fixed:
        c.warnings.append(
            f"{ref[1]} fails on the base side and passes on the head side (the head fixes it): not compared; "
            + samples.failed[ref][0][1].message
        )
    c.old_label = f"base {s.base.name}"
    c.new_label = f"head {s.head.name}" + (" (dirty)" if s.head.dirty else "")
    if s.head.dirty:
        c.warnings.append("head is the working tree with uncommitted changes")
    if samples.cut is not None:
        c.warnings.append(f"the budget ended the rounds after {samples.cut} of {plan.rounds}")
    if times := sorted({v.split(" ", 1)[0] for v in facts.run_as.values() if "(time: RunParallel" in v}):
        c.warnings.append(
            f"RunParallel results ran at -benchtime {' or '.join(times)} (a time, as go test runs them; "
            f"longer than {plan.benchtime} where that measured apart from go test), the others at their "
            "fixed b.N"
        )
    return Outcome(c, facts, samples, explanations, failures)


def shard_packages(plan: Plan, shard: str) -> list[str]:
    """Shard K/N of the plan's packages with benchmarks that impact selection keeps (import paths; balanced
    by package: a pull request's job needs no history, and a fork's job has none)."""
    from benchpipe.core import shards

    pkgs, _, _ = toolchain.resolve_packages(plan.target, plan.patterns)
    sel = plan.impact
    skipped = set(sel.skipped_packages) if sel is not None and not sel.run_all else set()
    return shards.part(shard, {p.import_path: 1.0 for p in pkgs if p.import_path not in skipped})


def plan_from(args: argparse.Namespace, settings: Settings) -> Plan:
    cfg = settings.mode_settings() if settings.modes else DEFAULT_MODE
    pc = settings.paired
    target = Path(args.target or params.target_dir(settings))
    if not (target / "go.mod").is_file():  # before any revision is checked out: name the user's directory
        raise BenchpipeError(
            f"{target}: not a Go module (no go.mod); run in the module's directory or pass --target"
        )
    # The mode's package patterns belong to the params' target; another module defaults to all its packages.
    own = not args.target or Path(args.target).resolve() == params.target_dir(settings).resolve()
    return Plan(
        target=target,
        base_rev=args.base,
        head_rev=args.head,
        patterns=args.packages or (cfg.package_list if own else ["./..."]),
        bench=args.bench or str(cfg.bench),
        rounds=int(args.rounds or pc.rounds),
        confirm_rounds=0 if args.no_confirm else pc.confirm_rounds,
        benchtime=args.benchtime or str(pc.benchtime),
        order=pc.order,
        timeout=str(cfg.timeout),
        changed_only=bool(args.changed_only),
        cache=cache_root(args.cache_dir),
        stall_s=settings.bench.stall_s,
        early_stop=pc.early_stop and not getattr(args, "fixed_rounds", False),
        explain=not getattr(args, "no_explain", False),
        explain_improvements=bool(getattr(args, "explain_improvements", False)),
        explain_dir=Path(args.out).with_name(Path(args.out).stem + "-explain")
        if getattr(args, "out", None)
        else None,
        profile=settings.profile,
        measure=getattr(args, "measure", None) or settings.measure,
        budget=settings.instructions.budget,
    )
