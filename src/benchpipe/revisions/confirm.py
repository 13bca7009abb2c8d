"""Confirm a sequential comparison's suspicions with paired, interleaved runs.

A saved baseline and today's run were measured minutes or days apart, and a
shared machine drifts in between (other tenants, frequency scaling, cache and
thermal state): timings move by several percent with U-test p-values that look
significant, on unchanged code. When the baseline was recorded on a clean
commit of the target's repository, every row the U test flags (a significant
``warn``, ``regression`` or ``improvement`` in a unit judged by the test,
including a B/op or allocs/op row whose values vary with b.N; a warn for too
few samples is no suspicion) is measured again the trustworthy way: the
baseline's commit and the working tree, built side by side, run interleaved
for ``rounds`` rounds (:mod:`benchpipe.revisions.paired`).

Only the flagged rows run, not their families: each result is selected by an
anchored per-level regex (``^BenchmarkX$/^case$``) and runs at a fixed b.N,
the smallest its benchmark reached in the run (so no calibration run, and a
buffer's growth is amortised over the same b.N on both sides), cut to the
pull-request flow's ``paired.benchtime`` of timed work (100 ms): many short
rounds pair a shared machine's noise off better than a few long ones. The
cost for k flagged rows is k x rounds x 2 runs of one result.

A flagged regression or warning stands only when the paired rounds also find
it significant and worse; its verdict is then the milder of the two (the
rounds confirm, they never worsen), and a regression stays one only with the
whole interval of the rounds' ratio worse by at least the smallest change that
warns, as an improvement needs it better by that much (a row whose interval
straddles the threshold gets up to seven times as many rounds again, each
result until more rounds cannot decide it, as the budget allows, and says so
when the budget ended them; a warning when its interval still reaches
below that minimum). An improvement stands only when the rounds find it too,
with the whole interval of the per-round ratio better by at least the
smallest change that would warn (half the threshold by default). A row they
do not confirm becomes ``unchanged``, with a note giving the paired result.
Exact rows (every sample one value on each side) are never re-run: a count
of allocations does not drift. When
confirmation is impossible (no commit recorded, a dirty baseline, the commit
not in this clone, a build failure) the sequential verdicts stay and a warning
says why.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from benchpipe.core import benchfmt
from benchpipe.core.artifacts import BenchMeta, ConfirmFacts, Explanation, RunSettings
from benchpipe.core.errors import BenchpipeError
from benchpipe.core.paired import MIN_PAIRS, holds, short_of
from benchpipe.core.settings import DEFAULT_MODE, ProfileSection
from benchpipe.core.units import go_duration_ns
from benchpipe.core.verdict import INCONCLUSIVE, SEVERITY, Comparison, Options, Row, overall
from benchpipe.go import git as gitrev
from benchpipe.go import toolchain
from benchpipe.render.text import measured_change
from benchpipe.revisions import paired


def _why_not(be: BenchMeta, ce: BenchMeta) -> str:
    """Why the baseline's commit cannot be re-run here ("" when it can)."""
    if not be.commit:
        return "the baseline records no commit"
    if be.dirty:
        return "the baseline was recorded with uncommitted changes in the module"
    if not ce.target:
        return "the run records no target module"
    target = Path(ce.target)
    if not target.is_dir():
        return f"the run's target {target} is not a directory"
    try:
        root = gitrev.toplevel(target)
        gitrev.resolve(root, be.commit)
    except BenchpipeError:
        return (
            f"the baseline's commit {be.commit[:12]} is not in this clone (fetch it: git fetch --unshallow)"
        )
    return ""


RUN_OVERHEAD_S = 0.05  # starting a test binary and its b.N=1 probe, per run
ROUNDS_SHARE = (
    0.6  # of the budget, for the rounds: building the baseline's revision and starting runs take the rest
)
MAX_WALL_FACTOR = 10.0


def wall_factors(
    c: Comparison, ce: BenchMeta, iters: dict[paired.BenchRef, int]
) -> dict[paired.BenchRef, float]:
    """Per RunParallel result (its benchmark calls ``b.RunParallel``: it runs at a time benchtime, with go
    test's ramp-up runs, in confirmation too), the run's wall seconds per second of timed work: its top-level
    benchmark's wall time in the run (``bench_s``) over what its results timed (count x b.N x ns/op). Ramp-up
    runs, setup outside the timer and the process's start make it above 1: fastcache's 5 ms operations at
    1s took 1.7 s a run (ramp-up through N=1 and N=100 first). Results without the data are absent (1)."""
    from benchpipe.go import benchsrc

    count = (ce.settings.count if ce.settings else None) or 1
    parallel = {(p.import_path, n) for p in ce.packages if p.dir for n in benchsrc.parallel(Path(p.dir))}
    timed: dict[paired.BenchRef, float] = {}
    for r in c.rows:
        ref = paired.bench_ref(r.package, r.benchmark)
        top = (r.package, benchfmt.top_level(ref[1]))
        if r.unit == "ns/op" and top in parallel and iters.get(ref):
            timed[top] = timed.get(top, 0.0) + count * iters[ref] * r.new.center / 1e9
    wall = {(p.import_path, top): s for p in ce.packages for top, s in p.bench_s.items()}
    out = {}
    for ref in iters:
        top = (ref[0], benchfmt.top_level(ref[1]))
        if timed.get(top) and wall.get(top, 0.0) > 0:
            out[ref] = min(max(wall[top] / timed[top], 1.0), MAX_WALL_FACTOR)
    return out


def within_budget(
    plan: paired.Plan, c: Comparison, budget_s: float, factors: dict[paired.BenchRef, float] | None = None
) -> str:
    """Scale the plan's runs so that confirmation (2 sides x rounds x results) costs at most ``budget_s``,
    the benchmark run it confirms (with one run more of each result, for a first round that a check
    runs again: :func:`benchpipe.revisions.rounds.check_first_round`): each result's b.N, and the time
    benchtime of RunParallel results, by one factor. Each run is estimated as b.N x the run's median ns/op
    (a RunParallel or unmeasured result: the benchtime, times its ``factors`` entry, :func:`wall_factors`).
    Returns a note when it scaled ("" otherwise)."""
    bt_ns = go_duration_ns(plan.benchtime)
    if budget_s <= 0 or not plan.refs or bt_ns is None:
        return ""
    factors = factors or {}
    ns = {(r.package, benchfmt.base_name(r.benchmark)): r.new.center for r in c.rows if r.unit == "ns/op"}

    bt = float(bt_ns)

    def run_ns(ref: paired.BenchRef) -> float:
        if ref in factors:  # RunParallel: its time benchtime, and what its runs took beyond it
            return bt * factors[ref]
        if ref in plan.iters and ref in ns:  # its fixed b.N
            return min(bt, plan.iters[ref] * ns[ref])
        return bt

    per_round = sum(run_ns(ref) for ref in plan.refs) / 1e9
    cost = (2 * plan.rounds + 1) * (per_round + RUN_OVERHEAD_S * len(plan.refs))
    if cost <= budget_s * ROUNDS_SHARE:
        return ""
    scale = max(budget_s * ROUNDS_SHARE / cost, 0.01)
    plan.iters = {k: max(1, int(v * scale)) for k, v in plan.iters.items()}
    plan.benchtime = f"{max(bt_ns * scale / 1e9, 0.01):.3g}s"
    return (
        f"confirmation scaled to {scale:.0%} of the run's b.N (RunParallel results: -benchtime "
        f"{plan.benchtime}) to cost at most the benchmark run it confirms ({budget_s:.0f}s)"
    )


def shorten(plan: paired.Plan, c: Comparison, run_bt: str) -> str:
    """Cut each fixed-b.N result's b.N to ``run_bt`` of timed work (the pull-request flow's benchtime,
    ``paired.benchtime``) at the run's ns/op (:func:`cut_iters`): a shared machine's noise comes and goes
    over seconds, so many short interleaved rounds pair it off where a few long ones each catch it on one
    side. Both sides run the same b.N; the first round's check
    (:func:`benchpipe.revisions.rounds.check_first_round`) moves a result that measures apart at it to a
    time (``run_bt``, with go test's ramp-up: a drift between the run and its confirmation can fail the
    check too, and that time keeps such a result's runs short). Returns the progress line's words ("" when
    nothing was cut)."""
    ns = {(r.package, benchfmt.base_name(r.benchmark)): r.new.center for r in c.rows if r.unit == "ns/op"}
    cut = cut_iters(plan.iters, ns, run_bt)
    plan.iters.update(cut)
    return f"{len(cut)} of them at a b.N of {run_bt} each" if cut else ""


def cut_iters(
    iters: dict[paired.BenchRef, int], ns: dict[paired.BenchRef, float], run_bt: str
) -> dict[paired.BenchRef, int]:
    """The results whose b.N times their ns/op is past ``run_bt`` (a time; else none), each with the
    smallest b.N that times at least that much."""
    cap = go_duration_ns(run_bt)
    if not cap:
        return {}
    return {
        ref: max(1, math.ceil(cap / ns[ref]))
        for ref, n in iters.items()
        if ns.get(ref, 0.0) > 0 and n * ns[ref] > cap
    }


def suspects(c: Comparison) -> list[Row]:
    """The rows a test flagged (significant, judged by a test, not exact, and not unchanged), the rows that
    could not rule a regression out (inconclusive) and those with too few samples to judge."""
    return [
        r
        for r in c.rows
        if r.p is not None
        and ((r.significant and r.verdict != "unchanged") or r.verdict == INCONCLUSIVE)
        or too_few(r)
    ]


def too_few(r: Row) -> bool:
    """A row that warns only because its samples are too few for the test to decide: interleaved rounds
    decide it, as they decide an inconclusive row."""
    return r.p is not None and r.verdict == "warn" and not r.significant


def _plan(
    c: Comparison,
    flagged: list[Row],
    be: BenchMeta,
    ce: BenchMeta,
    iters: dict[paired.BenchRef, int],
    rounds: int,
    cache: Path,
    stall_s: float,
    profile: ProfileSection | None,
    explain_dir: Path | None,
) -> paired.Plan:
    """The paired run of the flagged rows' results only, against the baseline's commit, with the run's
    settings and each result's b.N."""
    settings = ce.settings or RunSettings()
    refs = sorted({paired.bench_ref(r.package, r.benchmark) for r in flagged})
    names = sorted({benchfmt.top_level(n) for _, n in refs})
    return paired.Plan(
        target=Path(ce.target),
        base_rev=be.commit,
        head_rev=None,
        patterns=sorted({r.package for r in flagged if r.package})
        or settings.packages
        or list(DEFAULT_MODE.package_list),
        bench=toolchain.names_regex(names),
        rounds=rounds,
        # for the rows these rounds leave undecided, each until more cannot decide it: as many in all as the
        # pull-request flow's most (16 + 2 x 16 at 6), as the budget allows
        extra_rounds=7 * rounds,
        confirm_rounds=0,
        benchtime=str(settings.benchtime or DEFAULT_MODE.benchtime),
        order="alternate",
        timeout=str(settings.timeout or DEFAULT_MODE.timeout),
        changed_only=False,
        cache=cache,
        stall_s=stall_s,
        cpu=str(settings.cpu or ""),
        refs=refs,
        iters={k: v for k, v in (iters or {}).items() if k in refs},
        reference_ns={(r.package, r.benchmark): r.new.center for r in c.rows if r.unit == "ns/op"},
        explain_dir=explain_dir,
        profile=profile or ProfileSection(),
    )


def confirm(
    c: Comparison,
    be: BenchMeta,
    ce: BenchMeta,
    iters: dict[paired.BenchRef, int],
    *,
    opts: Options,
    rounds: int,
    cache: Path,
    stall_s: float,
    profile: ProfileSection | None = None,
    explain_dir: Path | None = None,
    min_budget_s: float = 0.0,
    run_bt: str = "",
) -> tuple[ConfirmFacts, list[Explanation]]:
    """Re-judge ``c``'s flagged rows by paired rounds of those rows only; updates ``c`` in place, returns the
    facts and the explanations of what the rounds found regressed (profiled on both sides, tied to the diff
    from the baseline's commit; kept in ``explain_dir``). ``iters`` fixes each result's b.N (from the run,
    :func:`benchpipe.core.benchfmt.iterations`), cut to ``run_bt`` of timed work (:func:`shorten`)."""
    flagged = suspects(c)
    facts = ConfirmFacts()
    if not flagged or rounds <= 0:
        return facts, []
    why = _why_not(be, ce)
    if why:
        c.warnings.append(f"{len(flagged)} flagged row(s) not re-run interleaved: {why}")
        return facts, []
    plan = _plan(c, flagged, be, ce, iters, rounds, cache, stall_s, profile, explain_dir)
    refs = plan.refs
    budget_s = max(ce.go_s, min_budget_s)
    facts.budget_s = round(budget_s, 1)
    _size(plan, c, ce, iters, budget_s, run_bt)
    t0 = time.monotonic()
    if budget_s > 0:  # a hard budget: no pair of runs starts that would end past it (rounds.run_rounds)
        plan.deadline = t0 + budget_s
    try:
        out = paired.execute(plan, opts)
    except BenchpipeError as e:
        c.warnings.append(f"{len(flagged)} flagged row(s) could not be re-run interleaved: {e.message}")
        return facts, []
    # what decided the rows is held to the budget; profiling what they confirmed is reported on its own
    facts.explain_s = out.facts.phases.get("explain", 0.0)
    facts.seconds = round(time.monotonic() - t0 - facts.explain_s, 1)
    facts.rounds, facts.results = rounds, len(refs)
    facts.runs = out.facts.runs  # benchmark runs per side: results x rounds
    facts.run_as = out.facts.run_as
    by_key = {(r.package, r.benchmark, r.unit): r for r in out.comparison.rows}
    against = "{n} interleaved rounds against the baseline's commit " + plan.base_rev[:12]
    _judge_all(flagged, by_key, out.samples.cut, budget_s, rounds, against, opts, facts)
    c.verdict = overall(c.rows)
    return facts, out.explanations


def _size(
    plan: paired.Plan,
    c: Comparison,
    ce: BenchMeta,
    iters: dict[paired.BenchRef, int],
    budget_s: float,
    run_bt: str,
) -> None:
    """Each run's length: cut to ``run_bt`` (:func:`shorten`), then scaled to the budget
    (:func:`within_budget`, a warning when it scales); said on the progress line."""
    cut = shorten(plan, c, run_bt)
    if cut:  # a cut result that fails the first round's check runs at that time too, as go test would
        plan.check_bt = run_bt
    note = within_budget(plan, c, budget_s, wall_factors(c, ce, iters or {}))
    if note:
        c.warnings.append(note)
    # RunParallel results run at the (scaled) time as they are: lengthening them toward go test's time
    # (what a pull request's rounds do) would undo the budget; both sides run alike, which is what counts
    plan.reference_bt = plan.benchtime
    toolchain.progress(
        f"compare: re-running {len(plan.refs)} flagged result(s) interleaved with the baseline's commit "
        f"{plan.base_rev[:12]} ({plan.rounds} rounds, {cut or 'each as the run measured it'})"
    )


def _judge_all(
    flagged: list[Row],
    by_key: dict[tuple[str, str, str], Row],
    cut: int | None,
    budget_s: float,
    rounds: int,
    against: str,
    opts: Options,
    facts: ConfirmFacts,
) -> None:
    """Each flagged row after the rounds (:func:`_judge`); when the budget ended them (``cut``) before a row
    had the rounds a decision needs, it is inconclusive (an improvement: unchanged), said so; a row the
    rounds it had leave inconclusive says too that the budget ended the rounds that could decide it."""
    for r in flagged:
        p = by_key.get((r.package, r.benchmark, r.unit))
        if cut is not None and (p is None or p.old.n < MIN_PAIRS):
            r.verdict = INCONCLUSIVE if r.verdict != "improvement" else "unchanged"
            r.warnings.append(
                f"not decided: confirmation's budget ({budget_s:.3g}s) ended after {cut} "
                f"interleaved round(s) of {rounds}"
            )
            facts.inconclusive.append(f"{r.benchmark} {r.unit}")
            continue
        _judge(r, p, against.format(n=p.old.n if p is not None else rounds), opts, facts)
        if cut is not None and r.verdict == INCONCLUSIVE:
            r.warnings.append(
                f"confirmation's budget ({budget_s:.3g}s: the run it confirms) ended the rounds in round "
                f"{cut + 1}; more could decide it"
            )


def _judge(r: Row, p: Row | None, against: str, opts: Options, facts: ConfirmFacts) -> None:
    """One flagged row after the interleaved rounds, by the one rule (:func:`benchpipe.core.paired.holds`):
    kept at the milder of the two verdicts, unchanged, or inconclusive when the rounds neither hold it nor
    rule it out (their interval still reaches past the threshold)."""
    label = f"{r.benchmark} {r.unit}"
    if p is None:
        r.warnings.append(f"not re-run: missing from the {against}")
        return
    shown = measured_change(p) + (f", p={p.p:.3f}" if p.p is not None else "")
    if r.verdict == INCONCLUSIVE or too_few(r):
        _resolve(r, p, against, shown, opts, facts)
        return
    kept = holds(r.verdict, p, opts)
    if kept == "unchanged" and r.verdict != "improvement" and p.verdict == INCONCLUSIVE:
        reason = _inconclusive_reason(p)
        r.warnings.append(
            f"sequential {r.verdict} not confirmed by {against} ({shown}), nor ruled out"
            + (f": {reason}" if reason else "")
        )
        r.verdict = INCONCLUSIVE
        facts.unconfirmed.append(label)
        facts.inconclusive.append(label)
        return
    if kept == "unchanged":
        r.warnings.append(
            f"sequential {r.verdict} not confirmed by {against} ({shown}): "
            "drift between the two runs, not the code"
        )
        r.verdict = "unchanged"
        facts.unconfirmed.append(label)
        return
    short = short_of(p, opts.warn_min(p.threshold_pct)) if r.verdict == p.verdict == "regression" else ""
    if r.verdict != "improvement":
        r.verdict = min(r.verdict, kept, key=SEVERITY.__getitem__)
    r.warnings.append(
        f"{'improvement ' if kept == 'improvement' else ''}confirmed by {against} ({shown})"
        + (f"; {short}" if kept == "warn" and short else "")
    )
    facts.confirmed.append(label)


def _resolve(r: Row, p: Row, against: str, shown: str, opts: Options, facts: ConfirmFacts) -> None:
    """An inconclusive row after the interleaved rounds: unchanged when their interval of the change lies
    within the threshold; a regression or warning when they find one (:func:`benchpipe.core.paired.holds`
    on the paired row); else still inconclusive, with the rounds' reason (at least WARN)."""
    label = f"{r.benchmark} {r.unit}"
    found = holds(p.verdict, p, opts) if p.verdict in ("regression", "warn") else "unchanged"
    if found != "unchanged":
        r.verdict = found
        r.warnings.append(f"{found} found by {against} ({shown})")
        facts.confirmed.append(label)
    elif p.verdict == "unchanged" or p.verdict == "improvement":
        r.verdict = "unchanged"
        r.warnings.append(
            f"resolved by {against}: the interval of the change lies within the threshold ({shown})"
        )
        facts.resolved.append(label)
    else:
        reason = _inconclusive_reason(p)
        r.warnings.append(f"still inconclusive after {against} ({shown}){': ' + reason if reason else ''}")
        facts.inconclusive.append(label)


def _inconclusive_reason(p: Row) -> str:
    """The rounds' own reasons a row is inconclusive, joined ("" without one): why the data do not decide
    it, and whether the extra rounds' share ended the rounds that could have."""
    return "; ".join(w for w in p.warnings if w.startswith("inconclusive"))
