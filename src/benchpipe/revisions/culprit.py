"""The commit a regression that landed came in with, found by itself: culprit finding on the default branch.

A result the default-branch run regressed (confirmed against the history's last good run), or left
inconclusive with a change worse than its threshold (:func:`suspected`: the search's first step decides
it), names a range, ``good..bad``: the commit of the run it was judged against and this run's commit. A
new change point in the history of the default branch (:func:`from_change_points`: detected within the
last runs, not reversed) names one too: the commits of the runs on either side of it. It catches what no
single run confirmed (a change too small for one run's verdict, several pushes batched). With one
first-parent commit in a range, that commit is the culprit. With more, the first bad one is found by binary
search over the first-parent commits: each step a paired run (:func:`benchpipe.revisions.paired.execute`,
the same run rules and confirmation as every mode) of ``good`` against the candidate, of the flagged result
only, with no profiling. When another result's search of this run found a culprit in the range, it is tried
first (:func:`tried_first`: the result unchanged up to its parent, regressed at it), and the search runs
only when that does not hold. A candidate that does not build, or where the result is missing, is skipped as
``git bisect skip`` does: the search moves to a neighbour, and when the skipped commits sit between the
last good and the first bad, the range is what it names. The search stops at its budget
(``culprit.max_s``), naming the narrowest range it proved. Found, the culprit is explained as a pull
request is: a paired run of its parent against it, with the differential profile tied to its diff.

The contract: :func:`find` returns one :class:`benchpipe.core.artifacts.Culprit` per flagged result, never
raises for a commit that cannot be measured (that is a skipped step), and never runs past the deadline by
more than the step it is in.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

from benchpipe.core import benchfmt
from benchpipe.core.artifacts import BisectStep, CompareDoc, Culprit, CulpritDoc
from benchpipe.core.changepoint import HELD_RUNS, status
from benchpipe.core.errors import BenchpipeError
from benchpipe.core.units import higher_is_better
from benchpipe.core.verdict import Options, Row
from benchpipe.go import git as gitrev
from benchpipe.go import toolchain
from benchpipe.render.site import Series
from benchpipe.render.text import measured_change
from benchpipe.revisions import counted, paired
from benchpipe.revisions.plan import BenchRef, Plan
from benchpipe.store import culprits

Verdict = tuple[str, str, Row | None]  # ("bad" | "good" | "skipped", why, the result's row)


def step(
    plan: Plan, opts: Options, ref: BenchRef, unit: str, base: str, head: str, explain: bool
) -> tuple[Verdict, paired.Outcome | None]:
    """One paired run of ``base`` against ``head`` for one result: bad (the unit changed as the plan's
    ``sign`` says: regressed, or improved), good, undecided (the row stayed inconclusive through a second
    run at twice the rounds: noise), or skipped (a side does not build, the result is missing, or it fails
    there)."""
    verdict, out = _step_once(plan, opts, ref, unit, base, head, explain)
    if verdict[0] == "undecided":
        toolchain.progress(f"culprit: {head[:12]} undecided ({verdict[1]}); once more at twice the rounds")
        more = replace(plan, rounds=plan.rounds * 2, seed=plan.seed + 1)
        verdict, out = _step_once(more, opts, ref, unit, base, head, explain)
    return verdict, out


def _step_once(
    plan: Plan, opts: Options, ref: BenchRef, unit: str, base: str, head: str, explain: bool
) -> tuple[Verdict, paired.Outcome | None]:
    wanted = "improvement" if plan.explain_improvements else "regression"
    bench = toolchain.names_regex([benchfmt.top_level(ref[1])])
    p = replace(plan, base_rev=base, head_rev=head, patterns=[ref[0]], bench=bench, refs=[ref])
    p.explain = explain
    p.explain_inconclusive = explain  # the search proved the commit: explained though noisy vs its parent
    try:
        out = counted.execute_as_measured(p, opts)
    except BenchpipeError as e:
        return ("skipped", e.message.splitlines()[0], None), None
    if out.failures:
        return ("skipped", out.failures[0].message.splitlines()[0], None), out
    rows = (r for r in out.comparison.rows if r.unit == unit and benchfmt.base_name(r.benchmark) == ref[1])
    row = next(rows, None)
    if row is None:
        return ("skipped", f"{ref[1]} {unit} was not measured there", None), out
    if row.verdict == wanted:
        return ("bad", f"{ref[1]} {unit} {measured_change(row)}", row), out
    if row.verdict == "inconclusive":
        return ("undecided", f"{ref[1]} {unit} inconclusive ({measured_change(row)})", row), out
    return ("good", f"{ref[1]} {unit} {row.verdict} ({measured_change(row)})", row), out


def find(
    plan: Plan,
    opts: Options,
    ref: BenchRef,
    unit: str,
    good: str,
    bad: str,
    max_s: float,
) -> Culprit:
    """The first bad first-parent commit of ``good..bad`` for one result and unit (see the module)."""
    t0 = time.monotonic()
    root = gitrev.toplevel(plan.target.resolve())
    good, bad = gitrev.resolve(root, good), gitrev.resolve(root, bad)
    commits = gitrev.log(root, good, bad)
    c = Culprit(
        package=ref[0], benchmark=ref[1], unit=unit, good=good, bad=bad, status="range", commits=len(commits)
    )
    deadline = t0 + max_s
    if len(commits) > 1:
        verdict, _ = step(plan, opts, ref, unit, good, bad, False)
        c.steps.append(BisectStep(commit=bad, outcome=verdict[0], why=verdict[1]))
        if verdict[0] != "bad":
            c.status = "undecided" if verdict[0] == "undecided" else "not reproduced"
            c.why = f"{good[:12]} against {bad[:12]}: {verdict[1]}"
            c.seconds = round(time.monotonic() - t0, 1)
            return c
    lo, hi = -1, len(commits) - 1  # commits[hi] is bad; lo is good (-1: the good commit itself)
    skipped: set[int] = set()  # could not be measured, or noise left undecided (both: git bisect skip)
    while hi - lo > 1 and time.monotonic() < deadline:
        mid = _candidate(lo, hi, skipped)
        if mid is None:
            break
        verdict, _ = step(plan, opts, ref, unit, good, commits[mid], False)
        c.steps.append(BisectStep(commit=commits[mid], outcome=verdict[0], why=verdict[1]))
        toolchain.progress(f"culprit: {commits[mid][:12]} {verdict[0]}: {verdict[1]}")
        if verdict[0] == "bad":
            hi = mid
        elif verdict[0] == "good":
            lo = mid
        else:
            skipped.add(mid)
    c.last_good = good if lo < 0 else commits[lo]
    c.first_bad = commits[hi] if commits else bad
    if hi - lo == 1 and commits:
        c.status, c.commit = "found", commits[hi]
        c.subject = gitrev.git(["log", "-1", "--format=%s", c.commit], root)
        _explain(c, plan, opts, ref, unit, deadline)
    elif time.monotonic() >= deadline:
        c.why = f"the budget ({max_s:g}s, culprit.max_s) ended with {hi - lo} commits undecided"
    else:
        undecided = sum(1 for st in c.steps if st.outcome == "undecided")
        c.why = (
            f"{len(skipped)} commit(s) between could not be decided ({undecided} left inconclusive by noise; "
            "the others: no build, or no such result there)"
        )
    c.seconds = round(time.monotonic() - t0, 1)
    return c


def _candidate(lo: int, hi: int, skipped: set[int]) -> int | None:
    """The middle of ``(lo, hi)`` not yet skipped, the nearest to it (None: every commit between is
    skipped)."""
    mid = (lo + hi) // 2
    for d in range(hi - lo):
        for i in (mid - d, mid + d):
            if lo < i < hi and i not in skipped:
                return i
    return None


def _explain(
    c: Culprit,
    plan: Plan,
    opts: Options,
    ref: BenchRef,
    unit: str,
    deadline: float,
) -> None:
    """The culprit against its parent, as a pull request is compared: its change and interval, and the
    differential profile tied to its diff. A parent that cannot be measured, or a change that does not show
    against the parent alone (several commits added up), is said in ``why``."""
    root = gitrev.toplevel(plan.target.resolve())
    parent = gitrev.resolve(root, c.commit + "^")
    if time.monotonic() >= deadline:
        c.why = "the budget ended before the culprit could be profiled against its parent"
        return
    verdict, out = step(plan, opts, ref, unit, parent, c.commit, True)
    _explained(c, verdict, out)


def _explained(c: Culprit, verdict: Verdict, out: paired.Outcome | None) -> None:
    """``c`` with what the run of its commit against the parent measured: the change, its interval and the
    explanation of its result."""
    row = verdict[2]
    if row is not None and row.delta_pct is not None:
        c.change_pct = row.delta_pct
        if row.ratio is not None:
            c.lo_pct, c.hi_pct = (row.ratio.lo - 1) * 100, (row.ratio.hi - 1) * 100
    if out is not None:
        c.explanations = [e for e in out.explanations if e.benchmark == c.benchmark]
    c.why = f"against its parent: {verdict[1]}"


def tried_first(
    plan: Plan, opts: Options, ref: BenchRef, unit: str, good: str, bad: str, commit: str
) -> Culprit | None:
    """The culprit another result's search found in ``good..bad``, tried first for this result: it is this
    result's culprit too when the result is unchanged from ``good`` to the commit's parent and then regresses
    at the commit (its paired run against the parent, explained): the two steps a bisection would end with,
    instead of the whole search. None when either does not hold (undecided included): the result is bisected
    as usual."""
    t0 = time.monotonic()
    root = gitrev.toplevel(plan.target.resolve())
    parent = gitrev.resolve(root, commit + "^")
    c = Culprit(
        package=ref[0],
        benchmark=ref[1],
        unit=unit,
        good=good,
        bad=bad,
        status="range",
        commits=len(gitrev.log(root, good, bad)),
    )
    if parent != good:
        verdict, _ = step(plan, opts, ref, unit, good, parent, False)
        c.steps.append(BisectStep(commit=parent, outcome=verdict[0], why=verdict[1]))
        if verdict[0] != "good":
            return None
    verdict, out = step(plan, opts, ref, unit, parent, commit, True)
    c.steps.append(BisectStep(commit=commit, outcome=verdict[0], why=verdict[1]))
    if verdict[0] != "bad":
        return None
    c.status, c.commit, c.last_good, c.first_bad = "found", commit, parent, commit
    c.subject = gitrev.git(["log", "-1", "--format=%s", commit], root)
    _explained(c, verdict, out)
    c.why += " (another result's culprit in this range, tried first)"
    c.seconds = round(time.monotonic() - t0, 1)
    return c


def suspected(r: Row) -> bool:
    """An inconclusive row whose change itself is worse than its threshold: the run could not decide it
    (noise, or a confirmation budget that ended), and a search's first step (``good`` against ``bad``, in
    paired rounds) will."""
    if r.verdict != "inconclusive" or r.delta_pct is None or not r.threshold_pct:
        return False
    worse = -r.delta_pct if r.higher_is_better else r.delta_pct
    return worse > r.threshold_pct


def flagged(doc: CompareDoc, improvements: bool) -> list[tuple[BenchRef, str]]:
    """The results a run flagged, one unit each (ns/op where it is among them): its confirmed regressions,
    the inconclusive rows :func:`suspected` of one, and its improvements when asked."""
    wanted = {"regression"} | ({"improvement"} if improvements else set())
    units: dict[BenchRef, list[str]] = {}
    for r in doc.rows:
        if r.verdict in wanted or suspected(r):
            units.setdefault((r.package, benchfmt.base_name(r.benchmark)), []).append(r.unit)
    return [(ref, "ns/op" if "ns/op" in us else us[0]) for ref, us in sorted(units.items())]


@dataclass
class Suspect:
    """A result to attribute over its own range: the run's flag (``why`` "run"), or a change point of the
    history (:func:`from_change_points`)."""

    ref: BenchRef
    unit: str
    good: str  # the commit of the last run before the new level
    bad: str  # the commit of the first run at it
    why: str
    improved: bool = False


RECENT_RUNS = 2 * HELD_RUNS  # a change point this close to the newest run is new (older ones were tried)


def from_change_points(series: list[Series], branch: str, improvements: bool) -> list[Suspect]:
    """The default branch's change points that are new (detected within the last runs), not reversed, and
    worse (or better, with ``improvements``), each with the range of commits between its two runs; one per
    result and range (ns/op where it moved)."""
    out = []
    for s in series:
        if s.branch != branch:
            continue
        for cp in s.changes:
            worse = (cp.change_pct > 0) != higher_is_better(s.unit)
            fresh = len(s.center) - cp.index < RECENT_RUNS
            if not fresh or status(s.changes, len(s.center), cp) == "reversed" or not (worse or improvements):
                continue
            good, bad = s.commit[cp.index - 1], s.commit[cp.index]
            if good and bad and good != bad:
                why = f"change point at run {s.run_id[cp.index]}: {cp.change_pct:+.1f}% (p={cp.p:.3f})"
                ref = (s.package, benchfmt.base_name(s.benchmark))
                out.append(Suspect(ref, s.unit, good, bad, why, improved=not worse))
    # one search per result and range, as for a run's flags: ns/op where it moved, else the first unit
    best: dict[tuple[BenchRef, str, str], Suspect] = {}
    for x in out:
        k = (x.ref, x.good, x.bad)
        if k not in best or (x.unit == "ns/op" and best[k].unit != "ns/op"):
            best[k] = x
    return list(best.values())


def attribute(
    doc: CompareDoc,
    plan: Plan,
    opts: Options,
    max_s: float,
    records: list[Culprit],
    improvements: bool,
    change_points: list[Suspect] | None = None,
) -> CulpritDoc:
    """Each result the run flagged, and each new change point of the history (``change_points``),
    attributed (see the module): searched, or covered by a record."""
    good = doc.baseline_env.commit if doc.baseline_env else ""
    bad = doc.current_env.commit if doc.current_env else ""
    out = CulpritDoc(good=good, bad=bad)
    out.culprits += reverted(doc, records, improvements)
    todo = [
        Suspect(ref, unit, good, bad, "run", _improved(doc, ref, unit))
        for ref, unit in flagged(doc, improvements)
    ]
    if todo and (not good or not bad or good == bad):
        out.note = "the run and its baseline do not name two commits: no range to search"
        todo = []
    seen = {(s.ref, s.unit) for s in todo}
    todo += [s for s in change_points or [] if (s.ref, s.unit) not in seen]
    if not todo:
        out.note = out.note or "no confirmed regression and no new change point: nothing to attribute"
        return out
    root = gitrev.toplevel(plan.target.resolve())
    deadline = time.monotonic() + max_s
    found_here: list[tuple[str, bool]] = []  # (commit, improved) of the culprits this run found, in order
    for s in todo:
        good, bad = gitrev.resolve(root, s.good), gitrev.resolve(root, s.bad)
        if s.why == "run":
            out.good, out.bad = good, bad
        in_range = set(gitrev.log(root, good, bad))
        ref, unit = s.ref, s.unit
        c = Culprit(package=ref[0], benchmark=ref[1], unit=unit, good=good, bad=bad, status="attributed")
        c.trigger = "run" if s.why == "run" else "change point"
        if (r := culprits.covering(records, c, in_range)) is not None:
            c.commit, c.first_bad, c.last_good = r.commit, r.first_bad, r.last_good
            c.why = f"already attributed by the run of {r.bad[:12]}: not searched again"
            out.culprits.append(c)
            continue
        if c.trigger != "run":
            toolchain.progress(f"culprit: {ref[1]} {unit}: {s.why}; searching {good[:12]}..{bad[:12]}")
        p = replace(plan, explain_improvements=s.improved)
        known = next((k for k, imp in found_here if k in in_range and imp == s.improved), "")
        t0 = time.monotonic()
        found = tried_first(p, opts, ref, unit, good, bad, known) if known and t0 < deadline else None
        if found is None:
            found = find(p, opts, ref, unit, good, bad, max(0.0, deadline - time.monotonic()))
            found.seconds = round(time.monotonic() - t0, 1)  # a first try that did not hold included
        found.trigger = c.trigger
        out.culprits.append(found)
        if found.status == "found":
            found_here.append((found.commit, s.improved))
    return out


def reverted(doc: CompareDoc, records: list[Culprit], improvements: bool) -> list[Culprit]:
    """A result the run improved for which a culprit is recorded, by at least half the culprit's change
    (:func:`undoes`: a small improvement is noise or another change, not the regression going away): said
    to look reverted (status ``reverted``, the recorded culprit's commit), unless improvements are attributed
    themselves."""
    if improvements:
        return []
    out = []
    for r in doc.rows:
        if r.verdict != "improvement":
            continue
        name = benchfmt.base_name(r.benchmark)
        for rec in records:
            same = (rec.package, rec.benchmark, rec.unit) == (r.package, name, r.unit)
            if same and rec.status == "found" and undoes(r.delta_pct, rec.change_pct):
                change = f"{r.delta_pct:+.1f}%" if r.delta_pct is not None else "better"
                out.append(
                    Culprit(
                        package=r.package,
                        benchmark=name,
                        unit=r.unit,
                        good=rec.good,
                        bad=rec.bad,
                        status="reverted",
                        commit=rec.commit,
                        subject=rec.subject,
                        why=f"{name} {r.unit} improved {change} in this run: the regression of "
                        f"{rec.commit[:12]} looks reverted",
                    )
                )
                break
    return out


def undoes(delta_pct: float | None, change_pct: float | None) -> bool:
    """An improvement of ``delta_pct`` takes back at least half of a regression of ``change_pct`` (in log
    ratio, either direction of "better"); True when either is unknown."""
    if delta_pct is None or change_pct is None or min(delta_pct, change_pct) <= -100:
        return True
    regressed = abs(math.log1p(change_pct / 100))
    return abs(math.log1p(delta_pct / 100)) >= regressed / 2


def _improved(doc: CompareDoc, ref: BenchRef, unit: str) -> bool:
    return any(
        r.verdict == "improvement" and r.unit == unit and (r.package, benchfmt.base_name(r.benchmark)) == ref
        for r in doc.rows
    )
