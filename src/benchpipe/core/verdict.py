"""Compare two sets of benchmark results: per benchmark and unit, summaries,
the U test, the delta, and a PASS / WARN / FAIL verdict.

Verdict rules (configurable per unit and benchmark pattern, see :class:`Rule`):

* a row is a *regression* when the change is significant (p <= alpha) and
  worse than the threshold in the unit's better direction;
* *warn* when significant and worse but within the threshold, or when there
  are too few samples to judge;
* *improvement* when significant and better; *unchanged* otherwise.
* A timing row (ns/op, sec/op) is *unchanged* only when its interval of the
  change (:func:`change_bounds`) lies within the threshold in the worse
  direction; otherwise it is *inconclusive* (:func:`mark_inconclusive`): the
  data cannot rule a regression out. Confirmation re-measures it; what stays
  inconclusive makes the verdict at least WARN, with the reason (which side is
  noisy, by how much).
* Units assumed ``exact`` (allocs/op and B/op by default) are judged as exact
  only where the data is: when every sample on each side is one value, the
  center is that value and any change of it is significant. When the samples
  vary (a buffer reused across iterations amortises its growth over b.N, and
  b.N differs from run to run), the row is judged like any other unit: the
  U test, and at least the overall threshold; it says that its values vary
  with b.N (:data:`VARIES_WITH_N`), and confirmation re-measures it at a fixed
  b.N on both sides.
* An instructions/op row (:data:`~benchpipe.core.units.INSTRUCTIONS`, counted under valgrind) is exact
  at ``instructions.threshold_pct``; a change under :data:`INSTRUCTIONS_RESIDUE_PCT` is the count's
  residue (the runtime's background work), judged unchanged.
* An exact B/op change smaller than :data:`MIN_ALLOC_BYTES` while the same
  benchmark's allocs/op is unchanged cannot come from an allocation made in
  every iteration (Go's smallest size class is 8 bytes, and size classes are
  at least 8 bytes apart): it is runtime or amortised jitter (97 -> 98 B/op),
  judged unchanged with a note (:func:`sub_allocation`).

The overall verdict is FAIL if any row regressed, WARN if any row warns or
is inconclusive, else PASS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import msgspec

from benchpipe.core import selection, stats
from benchpipe.core.benchfmt import Parsed, samples
from benchpipe.core.errors import NothingToCompare
from benchpipe.core.settings import CompareSection, InstructionsSection
from benchpipe.core.threshold import Position, beyond, position, ratio_pct, reach
from benchpipe.core.units import INSTRUCTIONS, TIME_PER_OP, UnitInfo, higher_is_better

NEW_OLD_DIFFER = "benchmark set differs from baseline; geomeans may not be comparable"
VARIES_WITH_N = (
    "values vary with b.N (growth amortised over the iterations): judged by the U test, not as exact"
)


MIN_ALLOC_BYTES = 8
INSTRUCTIONS_RESIDUE_PCT = (
    0.1  # an instructions/op change smaller than this is the count's residue (A/A: <= 0.05%)
)
_DEFAULTS = CompareSection()


def constant(values: list[float]) -> bool:
    """All samples are one value (what an exact unit's data must be to be judged as exact)."""
    return values.count(values[0]) == len(values) if values else True


def data_exact(exact: bool, old: list[float], new: list[float]) -> bool:
    """A unit assumed exact is judged exact only when each side's samples are one value."""
    return exact and constant(old) and constant(new)


@dataclass
class Rule:
    """Overrides for rows whose benchmark matches ``benchmark`` and unit equals ``unit``."""

    benchmark: str = ""
    unit: str = ""
    threshold_pct: float | None = None
    assume: str | None = None  # "exact" or "nothing"
    ignore: bool = False

    def matches(self, name: str, unit: str) -> bool:
        if self.unit and self.unit != unit:
            return False
        return not self.benchmark or selection.selects(self.benchmark, name)


@dataclass
class Options:
    """The statistics options; their defaults are params.yaml's (:class:`CompareSection`, owned there)."""

    alpha: float = _DEFAULTS.alpha
    confidence: float = _DEFAULTS.confidence
    threshold_pct: float = _DEFAULTS.threshold_pct
    rules: list[Rule] = field(default_factory=list)
    warn_min_pct: float | None = (
        _DEFAULTS.warn_min_pct
    )  # smallest worse change that warns; None: half the row's threshold
    instructions_pct: float = InstructionsSection().threshold_pct  # instructions/op: exact, this threshold

    def warn_min(self, threshold: float) -> float:
        return self.warn_min_pct if self.warn_min_pct is not None else threshold / 2

    @classmethod
    def from_settings(
        cls, compare: CompareSection | None, instructions: InstructionsSection | None = None
    ) -> Options:
        """Options from params.yaml's ``compare`` section (and ``instructions``' threshold)."""
        c = compare or _DEFAULTS
        return cls(
            alpha=c.alpha,
            confidence=c.confidence,
            threshold_pct=c.threshold_pct,
            rules=[
                Rule(
                    benchmark=str(r.benchmark or ""),
                    unit=str(r.unit or ""),
                    threshold_pct=r.threshold_pct,
                    assume=r.assume,
                    ignore=r.ignore,
                )
                for r in c.rules
            ],
            warn_min_pct=c.warn_min_pct,
            instructions_pct=(instructions or InstructionsSection()).threshold_pct,
        )

    def summary(
        self, name: str, unit: str, values: list[float], info: UnitInfo | None = None
    ) -> stats.Summary:
        """The one summary of a benchmark's values in a unit, used by every section of the report, the
        comparison and the history: the mode for units judged exact, else the median with its interval."""
        _, exact, _ = self.resolve(name, unit, info or UnitInfo(unit))
        return stats.summarize(values, self.confidence, exact and constant(values))

    def inexact_threshold(self, threshold: float) -> float:
        """The threshold of a row assumed exact whose data varies: a threshold meant for exact counts (1%)
        is too tight for a sampled value, so at least the overall threshold applies."""
        return max(threshold, self.threshold_pct)

    def resolve(self, name: str, unit: str, info: UnitInfo) -> tuple[float, bool, bool]:
        """Threshold, exactness and ignore flag for one row (instructions/op: exact, at its own threshold)."""
        threshold, exact, ignore = self.threshold_pct, info.assume == "exact", False
        if unit == INSTRUCTIONS:
            threshold, exact = self.instructions_pct, True
        for r in self.rules:
            if r.matches(name, unit):
                if r.threshold_pct is not None:
                    threshold = r.threshold_pct
                if r.assume is not None:
                    exact = r.assume == "exact"
                ignore = ignore or r.ignore
        return threshold, exact, ignore


class Row(msgspec.Struct, kw_only=True):
    """One comparison row, from the verdict to every JSON file (compare.json's ``rows``): a result's unit,
    both sides' summaries, the change and its test, the verdict and why."""

    package: str = ""
    benchmark: str
    unit: str
    old: stats.Summary
    new: stats.Summary
    delta_pct: float | None = None  # None: undefined (from 0)
    p: float | None = None  # None: an exact unit, judged on its modes
    significant: bool = False
    verdict: str
    threshold_pct: float = 0.0
    higher_is_better: bool = False
    warnings: list[str] = []
    ratio: stats.Summary | None = None  # paired comparisons: per-round head/base ratio
    varies_with_n: bool = (
        False  # a unit assumed exact whose samples vary with b.N (judged like any other unit)
    )


@dataclass
class Comparison:
    rows: list[Row]
    verdict: str
    alpha: float
    threshold_pct: float
    added: list[str]
    removed: list[str]
    warnings: list[str]
    geomean: dict[str, dict[str, Any]]
    units: list[str]
    old_label: str = "old"
    new_label: str = "new"
    method: str = "Mann-Whitney U test on unpaired samples"
    not_comparable: list[str] = field(default_factory=list)  # shaping settings that differ (core.comparable)
    shift: str = ""  # the whole run moved one way (core.shift): said at the top of the verdict
    confidence: float = 0.95  # of the rows' intervals (their summaries' warnings name it)

    @property
    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.verdict == "regression"]


def judge(
    delta_pct: float | None,
    old: float,
    new: float,
    significant: bool,
    higher_better: bool,
    threshold: float,
    too_few: bool,
    warn_min: float = 0.0,
) -> str:
    """The verdict of one row.

    regression: significant and worse beyond ``threshold``; warn: significant and worse by at least
    ``warn_min`` (and by a change that does not round to 0.00%), or too few samples to judge;
    improvement: significant and better; else unchanged.
    """
    if not significant:
        return "warn" if too_few else "unchanged"
    worse = new < old if higher_better else new > old
    if not worse:
        return "improvement" if new != old else "unchanged"
    if delta_pct is None or beyond(delta_pct, higher_better, threshold):
        return "regression"
    if abs(delta_pct) < max(warn_min, 0.005):
        return "unchanged"
    return "warn"


def _judge_shapes(
    shapes: dict[tuple[int, int], list[tuple[tuple[str, str, str], UnitInfo, float]]],
    old: dict[tuple[str, str, str], list[float]],
    new: dict[tuple[str, str, str], list[float]],
    opts: Options,
    judged: dict[tuple[str, str, str], Row],
) -> None:
    """Judge the rows of each sample shape (old n, new n) into ``judged``: at once, as arrays, when there
    are enough of them (:data:`benchpipe.core.stats.BATCH_MIN`), else one by one; the same values either
    way."""
    for group in shapes.values():
        if len(group) < stats.BATCH_MIN:
            for key, info, threshold in group:
                judged[key] = compare_row(*key, old[key], new[key], info, threshold, False, opts)
            continue
        olds, news = stats.matrix([old[k] for k, _, _ in group]), stats.matrix([new[k] for k, _, _ in group])
        tests = stats.mann_whitney_batch(olds, news)
        so = stats.summarize_batch(olds, opts.confidence)
        sn = stats.summarize_batch(news, opts.confidence)
        for (key, info, threshold), t, a, b in zip(group, tests, so, sn, strict=True):
            judged[key] = judge_row(*key, a, b, t, info, threshold, opts)


def compare_samples(
    old: dict[tuple[str, str, str], list[float]],
    new: dict[tuple[str, str, str], list[float]],
    units: dict[str, UnitInfo],
    opts: Options,
) -> Comparison:
    """Compare samples keyed by (package, benchmark, unit)."""
    common = [k for k in old if k in new]
    old_names = {(k[0], k[1]) for k in old}
    new_names = {(k[0], k[1]) for k in new}
    added = sorted(n for p, n in new_names - old_names)
    removed = sorted(n for p, n in old_names - new_names)
    if not common:
        raise NothingToCompare("no benchmark in common between the two sides")
    judged: dict[tuple[str, str, str], Row] = {}
    shapes: dict[tuple[int, int], list[tuple[tuple[str, str, str], UnitInfo, float]]] = {}
    by_unit = not any(r.benchmark for r in opts.rules)  # no rule names benchmarks: one resolution per unit
    per_unit: dict[str, tuple[UnitInfo, tuple[float, bool, bool] | None]] = {}
    for key in common:
        pkg, name, unit = key
        got = per_unit.get(unit)
        if got is None:
            info = units.get(unit, UnitInfo(unit))
            got = per_unit[unit] = (info, opts.resolve(name, unit, info) if by_unit else None)
        info, resolved = got
        threshold, exact, ignore = resolved or opts.resolve(name, unit, info)
        if ignore:
            continue
        if exact and not data_exact(exact, old[key], new[key]):
            row = compare_row(
                pkg, name, unit, old[key], new[key], info, opts.inexact_threshold(threshold), False, opts
            )
            row.varies_with_n = True
            row.warnings.append(VARIES_WITH_N)
            judged[key] = row
        elif exact:
            judged[key] = compare_row(pkg, name, unit, old[key], new[key], info, threshold, exact, opts)
        else:
            shapes.setdefault((len(old[key]), len(new[key])), []).append((key, info, threshold))
    _judge_shapes(shapes, old, new, opts, judged)
    rows = [judged[k] for k in common if k in judged]
    for r, bounds in zip(rows, unpaired_bounds(rows, old, new, opts.confidence), strict=True):
        mark_inconclusive(r, bounds)
    sub_allocation(rows)
    warnings = [NEW_OLD_DIFFER] if added or removed else []
    old_units, new_units = {k[2] for k in old}, {k[2] for k in new}
    warnings += [
        f"unit {u} appears only in the old results; not compared" for u in sorted(old_units - new_units)
    ]
    warnings += [
        f"unit {u} appears only in the new results; not compared" for u in sorted(new_units - old_units)
    ]
    return assemble(rows, opts, added, removed, warnings)


def sub_allocation(rows: list[Row]) -> None:
    """Exact B/op changes below :data:`MIN_ALLOC_BYTES` with allocs/op unchanged become unchanged, with a
    note."""
    allocs = {(r.package, r.benchmark): r for r in rows if r.unit == "allocs/op"}
    for r in rows:
        a = allocs.get((r.package, r.benchmark))
        if (
            r.unit == "B/op"
            and r.p is None
            and r.verdict != "unchanged"
            and a is not None
            and a.old.center == a.new.center
            and abs(r.new.center - r.old.center) < MIN_ALLOC_BYTES
        ):
            r.warnings.append(
                f"{r.old.center:g} -> {r.new.center:g} B/op with allocs/op unchanged: less than "
                f"the smallest allocation ({MIN_ALLOC_BYTES} bytes), so not one made in every "
                "iteration (runtime or amortised jitter)"
            )
            r.verdict, r.significant = "unchanged", False


def assemble(
    rows: list[Row], opts: Options, added: list[str], removed: list[str], warnings: list[str]
) -> Comparison:
    """Judged rows -> a Comparison: unit order, geomeans (overall and per package), overall verdict."""
    unit_order: list[str] = []
    for r in rows:
        if r.unit not in unit_order:
            unit_order.append(r.unit)
    geo: dict[str, dict[str, Any]] = {}
    for unit in unit_order:
        urows = [r for r in rows if r.unit == unit]
        geo[unit] = geomean_row(urows)
        pkgs = sorted({r.package for r in urows})
        if len(pkgs) == 1:  # one package: its geomean is the unit's
            geo[unit]["packages"] = {pkgs[0]: dict(geo[unit])}
        else:
            geo[unit]["packages"] = {p: geomean_row([r for r in urows if r.package == p]) for p in pkgs}
    counted = bool(rows) and unit_order == [
        INSTRUCTIONS
    ]  # instruction counts only: their threshold is the one
    return Comparison(
        rows,
        overall(rows),
        opts.alpha,
        opts.instructions_pct if counted else opts.threshold_pct,
        added,
        removed,
        warnings,
        geo,
        unit_order,
        confidence=opts.confidence,
    )


def overall(rows: list[Row]) -> str:
    """FAIL if any row regressed, WARN if any row warns or is inconclusive, else PASS."""
    verdicts = {r.verdict for r in rows}
    return "FAIL" if "regression" in verdicts else "WARN" if verdicts & {"warn", INCONCLUSIVE} else "PASS"


SEVERITY = {"improvement": 0, "unchanged": 0, "inconclusive": 1, "warn": 1, "regression": 2}
RANK = {"NONE": 0, "PASS": 1, "WARN": 2, "FAIL": 3}  # the verdicts of comparisons, mildest first


def worst(verdicts: list[str]) -> str:
    """The most severe of several comparisons' verdicts (shards joined); NONE when there are none."""
    return max(verdicts, key=lambda v: RANK.get(v, 0), default="NONE")


INCONCLUSIVE = "inconclusive"


def spread_pct(s: stats.Summary) -> float:
    """How far a side's confidence interval reaches from its median, in percent (infinite when unbounded)."""
    if not (s.center > 0 and s.lo > -math.inf and s.hi < math.inf):
        return math.inf
    return max(s.hi - s.center, s.center - s.lo) / s.center * 100


def change_bounds(
    r: Row, old: list[float] | None = None, new: list[float] | None = None, confidence: float = 0.95
) -> tuple[float, float] | None:
    """The interval of a row's change in percent: a paired row's from its per-round ratio's interval, an
    unpaired row's from the distribution-free interval of the shift of the logarithms
    (:func:`benchpipe.core.stats.shift_interval`); None when there is none (values not all positive)."""
    if r.ratio is not None:
        return ratio_pct(r.ratio.lo), ratio_pct(r.ratio.hi)
    if not old or not new or min(old) <= 0 or min(new) <= 0:
        return None
    lo, hi = stats.shift_interval([math.log(v) for v in old], [math.log(v) for v in new], confidence)
    return (math.exp(lo) - 1) * 100, (math.exp(hi) - 1) * 100


def unpaired_bounds(
    rows: list[Row],
    old: dict[tuple[str, str, str], list[float]],
    new: dict[tuple[str, str, str], list[float]],
    confidence: float,
) -> list[tuple[float, float] | None]:
    """:func:`change_bounds` of each unpaired row that :func:`mark_inconclusive` may mark (an unchanged timing
    row), None for the others; rows of one shape at once
    (:func:`benchpipe.core.stats.shift_interval_batch`)."""
    out: list[tuple[float, float] | None] = [None] * len(rows)
    shapes: dict[tuple[int, int], list[int]] = {}
    for i, r in enumerate(rows):
        if r.verdict != "unchanged" or r.p is None or r.unit not in TIME_PER_OP:
            continue
        key = (r.package, r.benchmark, r.unit)
        a, b = old[key], new[key]
        if r.ratio is not None or not a or not b or min(a) <= 0 or min(b) <= 0:
            out[i] = change_bounds(r, a, b, confidence)
        else:
            shapes.setdefault((len(a), len(b)), []).append(i)
    if not shapes:
        return out
    import numpy as np

    for idx in shapes.values():
        keys = [(rows[i].package, rows[i].benchmark, rows[i].unit) for i in idx]
        lo, hi = stats.shift_interval_batch(
            np.log(stats.matrix([old[k] for k in keys])),
            np.log(stats.matrix([new[k] for k in keys])),
            confidence,
        )
        for i, a, b in zip(idx, np.expm1(lo).tolist(), np.expm1(hi).tolist(), strict=True):
            out[i] = (a * 100, b * 100)
    return out


def mark_inconclusive(r: Row, bounds: tuple[float, float] | None) -> None:
    """An unchanged timing row whose interval of change reaches past its threshold in the worse direction
    becomes inconclusive, with the reason: how far the interval reaches and each side's spread."""
    if r.verdict != "unchanged" or r.p is None or r.unit not in TIME_PER_OP or bounds is None:
        return
    if position(*bounds, r.higher_is_better, r.threshold_pct) in (Position.BETTER, Position.WITHIN):
        return
    r.verdict = INCONCLUSIVE
    r.warnings.append(inconclusive_reason(r, reach(*bounds, r.higher_is_better)))


def inconclusive_reason(r: Row, worse: float) -> str:
    """Why a row cannot rule a regression out: the reach of its interval, and which side is noisy."""
    if r.ratio is not None:
        noise = f"the per-round ratios spread ±{spread_pct(r.ratio):.0f}%"
    else:
        noise = f"spread: old ±{spread_pct(r.old):.0f}%, new ±{spread_pct(r.new):.0f}%"
    return (
        f"inconclusive: the interval of the change reaches {'+' if worse > 0 else ''}{worse:.0f}% worse, "
        "past the "
        f"{r.threshold_pct:g}% threshold ({noise.replace('±inf%', 'unbounded')}): a regression is not ruled "
        "out"
    )


def geomean_row(rows: list[Row]) -> dict[str, Any]:
    """benchstat's geomean row: geomeans of the centers and of the per-row ratios.

    Undefined (None) when a center is not positive, or a ratio has a zero base.
    """

    def gm(xs: list[float]) -> float | None:
        v = stats.geomean(xs)
        return None if math.isnan(v) else v

    ratios: list[float] = []
    bad = False
    for r in rows:
        if r.new.center == r.old.center:
            ratios.append(1.0)
        elif r.old.center == 0:
            bad = True
        else:
            ratios.append(r.new.center / r.old.center)
    ratio = None if bad else gm(ratios)
    return {
        "old": gm([r.old.center for r in rows]),
        "new": gm([r.new.center for r in rows]),
        "delta_pct": None if ratio is None else (ratio - 1) * 100,
    }


def pct_change(old: float, new: float) -> float | None:
    """The change in percent; 0 when equal, None when it is undefined (from 0)."""
    if old == new:
        return 0.0
    return None if old == 0 else (new / old - 1) * 100


@lru_cache(maxsize=256)
def better_higher(info: UnitInfo, unit: str) -> bool:
    """Whether higher is better: the unit's metadata (``Unit x better=``) when given, else by its name."""
    return info.higher_better if info.better else higher_is_better(unit)


def compare_row(
    pkg: str,
    name: str,
    unit: str,
    old_v: list[float],
    new_v: list[float],
    info: UnitInfo,
    threshold: float,
    exact: bool,
    opts: Options,
) -> Row:
    so = stats.summarize(old_v, opts.confidence, exact)
    sn = stats.summarize(new_v, opts.confidence, exact)
    return judge_row(
        pkg, name, unit, so, sn, None if exact else stats.mann_whitney(old_v, new_v), info, threshold, opts
    )


def judge_row(
    pkg: str,
    name: str,
    unit: str,
    so: stats.Summary,
    sn: stats.Summary,
    t: stats.UTest | None,
    info: UnitInfo,
    threshold: float,
    opts: Options,
) -> Row:
    """A row from its two summaries and its U test (None: an exact unit, judged on the modes)."""
    exact = t is None
    warnings = stats.summary_warnings(so, exact, opts.confidence) + stats.summary_warnings(
        sn, exact, opts.confidence
    )
    too_few = False
    if t is None:
        p: float | None = None
        significant = so.center != sn.center
        if unit == INSTRUCTIONS and abs(pct_change(so.center, sn.center) or 0.0) < INSTRUCTIONS_RESIDUE_PCT:
            significant = False  # within what the runtime's background work leaves in a count
    else:
        p = t.p
        if t.error:
            warnings.append(t.error)
        significant = p <= opts.alpha
        if not significant:
            need, message = _too_few(opts.alpha)
            if t.n1 < need and t.n2 < need:
                too_few = True
                warnings.append(message)
    delta = pct_change(so.center, sn.center)
    higher_better = better_higher(info, unit)
    verdict = judge(
        delta, so.center, sn.center, significant, higher_better, threshold, too_few, opts.warn_min(threshold)
    )
    return Row(
        package=pkg,
        benchmark=name,
        unit=unit,
        old=so,
        new=sn,
        delta_pct=delta,
        p=p,
        significant=significant,
        verdict=verdict,
        threshold_pct=threshold,
        higher_is_better=higher_better,
        warnings=warnings,
    )


@lru_cache(maxsize=16)
def _too_few(alpha: float) -> tuple[int, str]:
    """The sample count below which a U test cannot reach ``alpha``, and the warning that says so."""
    op, need = stats.min_samples_for_test(alpha)
    return need, f"need {op} {need} samples to detect a difference at alpha level {alpha:g}"


def compare_parsed(old: Parsed, new: Parsed, opts: Options) -> Comparison:
    units = dict(old.units)
    units.update(new.units)
    return compare_samples(samples(old), samples(new), units, opts)
