"""Paired statistics: per-round head/base ratios of interleaved runs.

For each benchmark and unit, the rounds both sides ran give pairs (base,
head). A two-sided Wilcoxon signed-rank test on the logarithms of the ratios
gives p (exact null distribution, ties by mid-ranks, zeros dropped); the
median ratio gives the change, with that test's own interval (its inversion,
Hodges-Lehmann: :func:`ratio_summary`). Units assumed
exact compare their values when each side's rounds give one value (at a fixed
b.N, a buffer's amortised growth is the same on both sides); when they still
vary, the row is tested like any other unit, at least at the overall
threshold (:func:`benchpipe.core.verdict.data_exact`). The verdict is
:func:`benchpipe.core.verdict.judge`'s, as for unpaired samples; ``level``
replaces alpha as the significance level when a group-sequential design
stops early (:mod:`benchpipe.core.sequential`).
"""

from __future__ import annotations

import math

from benchpipe.core import stats
from benchpipe.core.threshold import beyond
from benchpipe.core.units import UnitInfo
from benchpipe.core.verdict import (
    VARIES_WITH_N,
    Options,
    Row,
    better_higher,
    change_bounds,
    data_exact,
    judge,
    mark_inconclusive,
    pct_change,
)

METHOD = "paired interleaved rounds; Wilcoxon signed-rank test on per-round head/base ratios"
MIN_PAIRS = 6  # smallest n for which a two-sided signed-rank test can reach p <= 0.05


def _ratio_test(
    b: list[float], h: list[float], confidence: float
) -> tuple[stats.Summary | None, float, float | None]:
    """The per-round head/base ratio's summary, the signed-rank test's p (on the log ratios; on the
    differences when a base is 0) and the change in percent (None without a ratio)."""
    ratios = [1.0 if x == y else (y / x if x > 0 else math.inf) for x, y in zip(b, h, strict=True)]
    if any(math.isinf(r) for r in ratios):
        return None, stats.signed_rank([y - x for x, y in zip(b, h, strict=True)]).p, None
    logs = [math.log(r) if r > 0 else -math.inf for r in ratios]
    ratio, test = ratio_summary(ratios, logs, confidence), stats.signed_rank(logs)
    return ratio, test.p, (ratio.center - 1) * 100


def ratio_summary(ratios: list[float], logs: list[float], confidence: float) -> stats.Summary:
    """The median ratio with the interval of the signed-rank test that gives the row's p: its inversion,
    the Hodges-Lehmann interval of the log ratios (:func:`benchpipe.core.stats.walsh_interval`) at
    ``confidence``, widened to hold the median where it does not. At the same confidence it is narrower
    than the median's order-statistic interval (in a Monte Carlo of heavy-tailed rounds spreading 12%,
    1.1x at 16 rounds to 1.2x at 38), so a noisy unchanged row is settled in fewer rounds; below 6
    rounds, or with a ratio of 0, it is the median's."""
    ratio = stats.summarize(ratios, confidence)
    ci = stats.walsh_interval(logs, (1 - confidence) / 2) if min(logs) > -math.inf else None
    if ci is None:
        return ratio
    lo, hi = math.exp(ci[0]), math.exp(ci[1])
    return stats.Summary(center=ratio.center, lo=min(lo, ratio.center), hi=max(hi, ratio.center), n=ratio.n)


def paired_row(
    pkg: str,
    name: str,
    unit: str,
    b: list[float],
    h: list[float],
    info: UnitInfo,
    threshold: float,
    exact: bool,
    opts: Options,
    level: float | None = None,
) -> Row:
    varies = exact and not data_exact(exact, b, h)
    if varies:
        exact, threshold = False, opts.inexact_threshold(threshold)
    alpha = opts.alpha if level is None else level
    so = stats.summarize(b, opts.confidence, exact)
    sn = stats.summarize(h, opts.confidence, exact)
    higher_better = better_higher(info, unit)
    warnings: list[str] = [VARIES_WITH_N] if varies else []
    if exact:
        ratio, p, too_few = None, None, False
        significant, delta = so.center != sn.center, pct_change(so.center, sn.center)
        old_c, new_c = so.center, sn.center
    else:
        ratio, p, delta = _ratio_test(b, h, opts.confidence)
        significant = p <= alpha
        too_few = len(b) < MIN_PAIRS and not significant
        if len(b) < MIN_PAIRS:
            warnings.append(
                f"need >= {MIN_PAIRS} rounds to detect a difference at alpha level {opts.alpha:g}"
            )
        old_c, new_c = (1.0, ratio.center) if ratio else (so.center, sn.center)
    verdict = judge(
        delta, old_c, new_c, significant, higher_better, threshold, too_few, opts.warn_min(threshold)
    )
    row = Row(
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
        ratio=ratio,
        varies_with_n=varies,
    )
    mark_inconclusive(row, change_bounds(row))
    return row


def worse_than_threshold(r: Row) -> bool:
    """The row's change is in the worse direction and beyond its threshold (significance aside)."""
    if r.delta_pct is None:
        return r.new.center != r.old.center and (
            (r.new.center < r.old.center) if r.higher_is_better else (r.new.center > r.old.center)
        )
    return beyond(r.delta_pct, r.higher_is_better, r.threshold_pct)


def moved(r: Row, worse: bool, at_least: float) -> bool:
    """The row's change is in the worse (or better) direction by at least ``at_least`` percent."""
    if r.delta_pct is None:
        hi = r.new.center > r.old.center
        return r.new.center != r.old.center and (hi != r.higher_is_better) == worse
    d = -r.delta_pct if r.higher_is_better else r.delta_pct
    return (d > 0 if worse else d < 0) and abs(d) >= at_least


def clearly_better(r: Row, margin_pct: float) -> bool:
    """The whole confidence interval of the per-round ratio is better than ``margin_pct`` (the median when
    there is no ratio): what an improvement needs to be confirmed, since among many rows one will look
    better by chance in a few rounds."""
    if r.ratio is None:
        return moved(r, False, margin_pct)
    m = margin_pct / 100
    return r.ratio.lo >= 1 + m if r.higher_is_better else r.ratio.hi <= 1 - m


def clearly_worse(r: Row, margin_pct: float) -> bool:
    """The whole confidence interval of the per-round ratio is worse than ``margin_pct`` (the median when
    there is no ratio): with a median beyond the threshold, what a regression needs to be confirmed, as
    :func:`clearly_better` is what an improvement needs. With 6 rounds that is every ratio worse by the
    margin; all six merely worse, with a median past the threshold, happens by chance to about 1 row in 80
    on unchanged code at a noisy machine's spread, and a run flags several."""
    if r.ratio is None:
        return moved(r, True, margin_pct)
    m = margin_pct / 100
    return r.ratio.hi <= 1 - m if r.higher_is_better else r.ratio.lo >= 1 + m


def short_of(r: Row, margin_pct: float) -> str:
    """Why a significant change past the threshold holds as a warning, not a regression: how far toward no
    change its interval reaches ("" when it does not, or has no ratio)."""
    if r.ratio is None or clearly_worse(r, margin_pct):
        return ""
    edge = (r.ratio.hi if r.higher_is_better else r.ratio.lo) - 1
    return (
        f"held as a warning: the interval of the change reaches {edge * 100:+.1f}%, not worse by the "
        f"{margin_pct:g}% a warning needs throughout, so the threshold is not shown passed"
    )


def leans(flag: str, fresh: Row | None, opts: Options) -> bool:
    """Fresh rounds that point the flag's way without showing it: not significant, with their median
    changed in the flagged direction by at least the smallest change that warns. More fresh rounds can
    decide such a flag; a fresh median on the other side, or within that margin, already answers it."""
    if fresh is None or fresh.significant:
        return False
    return moved(fresh, flag != "improvement", opts.warn_min(fresh.threshold_pct))


MILDER = {"regression": 1, "warn": 0}


def holds(flag: str, fresh: Row | None, opts: Options, every: Row | None = None) -> str:
    """The one rule for confirming a flagged row by fresh interleaved rounds (paired mode's own confirmation
    and the confirmation of a baseline comparison): the verdict the flag keeps, ``unchanged`` when it does not
    hold; it never worsens.

    The fresh rounds must find a change on their own (significant: with 6 rounds, every fresh ratio on the
    same side), which a row flagged by chance among many rows rarely repeats. A regression then holds when
    the fresh change is worse than the threshold and the whole interval of the ratio is worse by at least
    the smallest change that warns (:func:`clearly_worse`, on all the rounds, ``every``, when given: the
    row reported), and as a warning when it is worse by at least that minimum; a warning when it is worse
    by that minimum; an improvement when the whole interval of the fresh ratio is better by that minimum (a
    smaller gain is not reported, as a smaller loss does not warn)."""
    if fresh is None or not fresh.significant:
        return "unchanged"
    warn_min = opts.warn_min(fresh.threshold_pct)
    if flag == "improvement":
        return (
            "improvement"
            if fresh.verdict == "improvement" and clearly_better(fresh, warn_min)
            else "unchanged"
        )
    if flag == "regression" and worse_than_threshold(fresh) and clearly_worse(every or fresh, warn_min):
        return "regression"
    if flag in ("regression", "warn") and moved(fresh, True, warn_min):
        return "warn"
    return "unchanged"


def settle(first: Row, fresh: Row | None, every: Row | None, opts: Options) -> tuple[Row, bool]:
    """A flagged row of a paired comparison after fresh rounds: (the row to report, whether the flag held).

    :func:`holds` decides on the fresh rounds; the test over all rounds (``every``) must still find the
    change, and the reported verdict is the milder of the two. A flag that does not hold is judged on all
    rounds as an unflagged row is: unchanged when their interval lies within the threshold, inconclusive
    when it still reaches past it (a +19% median that six fresh rounds did not confirm is not "unchanged")."""
    kept = holds(first.verdict, fresh, opts, every)
    if every is not None and kept == "improvement" and every.verdict == "improvement":
        return every, True
    if every is not None and kept in MILDER and every.verdict in MILDER:
        if kept == "warn" and first.verdict == every.verdict == "regression" and worse_than_threshold(fresh):
            every.warnings.append(short_of(every, opts.warn_min(every.threshold_pct)))
        every.verdict = min(kept, every.verdict, key=MILDER.__getitem__)
        return every, True
    row = every if every is not None else first
    row.verdict, row.significant = "unchanged", False
    mark_inconclusive(row, change_bounds(row))
    return row, False
