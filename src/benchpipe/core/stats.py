"""Statistics matching benchstat (golang.org/x/perf/benchmath) on the same input.

* :func:`summarize` — center and confidence interval of one sample. For
  ``assume=nothing`` units: the median (R8 quantile) and the order-statistic
  interval of the median from Binomial(n, 1/2), exact summation for n <= 30
  and a continuity-corrected normal approximation above. For ``assume=exact``
  units: the mode (smallest on ties) with min and max as bounds.
* :func:`mann_whitney` — two-sided Mann-Whitney U test. Exact distribution
  with no ties and both n <= 50 (counted with big-integer polynomials), or
  with ties and both n <= 25 (Cheung & Klotz's recursion over tie groups);
  normal approximation with tie-corrected variance and a 0.5 continuity
  correction otherwise. Like benchstat, p is not clamped at 1.

Written from the published algorithms and benchmath's documented behaviour.
The exact counts here use Python integers (a polynomial per number of
first-sample members, packed into one big integer per coefficient row), so the
distribution is exact where Go's uses floating point; the two agree at
benchstat's printed precision.
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import groupby
from statistics import NormalDist
from typing import Any, NamedTuple

import msgspec

_STD = NormalDist()

# Go's order-statistic bounds of the median CI at 0.95 for n = 1..30 (its
# lgamma-based binomial makes n > 20 differ from exact arithmetic).
_GO_CI95 = {
    1: (0, 2),
    2: (0, 3),
    3: (0, 4),
    4: (0, 5),
    5: (0, 5),
    6: (1, 6),
    7: (1, 7),
    8: (1, 7),
    9: (2, 8),
    10: (2, 9),
    11: (2, 9),
    12: (3, 10),
    13: (3, 11),
    14: (3, 11),
    15: (4, 12),
    16: (4, 12),
    17: (5, 13),
    18: (5, 14),
    19: (5, 14),
    20: (6, 15),
    21: (6, 16),
    22: (6, 16),
    23: (7, 17),
    24: (8, 18),
    25: (8, 18),
    26: (8, 19),
    27: (8, 19),
    28: (9, 20),
    29: (9, 20),
    30: (10, 21),
}

# Smallest p-value a two-sided U test can give with n samples on each side.
_UTEST_MIN_P = [1.0, 1.0, 1 / 3, 0.1, 2 / 70, 2 / 252, 2 / 924, 2 / 3432, 2 / 12870, 2 / 48620]


def _choose(n: int, k: int) -> float:
    """Binomial coefficient computed the way go-moremath does (lgamma above 20)."""
    if k == 0 or k == n:
        return 1.0
    if k < 0 or n < k:
        return 0.0
    if n <= 20:
        return float(math.comb(n, k))
    return math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1))


def _binom_pmf(n: int, k: int) -> float:
    if k < 0 or k > n:
        return 0.0
    return _choose(n, k) * 0.5**k * 0.5 ** (n - k)


@lru_cache(maxsize=4096)
def median_ci_orders(n: int, confidence: float) -> tuple[int, int]:
    """1-based order statistics bounding the median's CI (0 / n+1 mean infinite)."""
    if confidence >= 1:
        return 0, n + 1
    if abs(confidence - 0.95) < 1e-12 and n in _GO_CI95:
        return _GO_CI95[n]
    if n <= 30:
        x = math.ceil((n + 1) * 0.5) - 1
        accum = _binom_pmf(n, x)
        lo, hi = x, x + 1
        lp, rp = _binom_pmf(n, lo - 1), _binom_pmf(n, hi)
        while accum < confidence and (lp > 0 or rp > 0):
            if lp >= rp:
                accum += lp
                lo -= 1
                lp = _binom_pmf(n, lo - 1)
            else:
                accum += rp
                hi += 1
                rp = _binom_pmf(n, hi)
    else:
        mu, sigma = n * 0.5, math.sqrt(n * 0.25)
        norm = NormalDist(mu, sigma)
        l1 = norm.inv_cdf((1 - confidence) / 2)
        r1 = 2 * mu - l1
        lo = math.floor(math.floor(l1 - 0.5) + 0.5) + 1
        hi = math.floor(math.ceil(r1 - 0.5) + 0.5) + 1

        def cover(a: int, b: int) -> float:
            return norm.cdf(b - 0.5) - norm.cdf(a - 0.5)

        conf = cover(lo, hi)
        biased = cover(lo, hi - 1)
        if confidence <= biased < conf:
            hi -= 1
    return max(lo, 0), min(hi, n + 1)


def quantile_r8(xs: list[float], q: float) -> float:
    """The R8 quantile of sorted ``xs`` (the estimator benchstat uses)."""
    n = len(xs)
    if n == 0:
        return math.nan
    if n == 1:
        return xs[0]
    h = 1 / 3 + q * (n + 1 / 3)
    if h <= 1:
        return xs[0]
    if h >= n:
        return xs[-1]
    k = math.floor(h)
    return xs[k - 1] + (h - k) * (xs[k] - xs[k - 1])


@lru_cache(maxsize=64)
def min_samples_for_ci(confidence: float) -> tuple[str, int]:
    for n in range(2, 51):
        lo, hi = median_ci_orders(n, confidence)
        if 0 < lo and hi <= n:
            return ">=", n
    return ">", 50


@lru_cache(maxsize=64)
def min_samples_for_test(alpha: float) -> tuple[str, int]:
    for n in range(1, len(_UTEST_MIN_P)):
        if _UTEST_MIN_P[n] <= alpha:
            return ">=", n
    return ">", len(_UTEST_MIN_P)


class Summary(msgspec.Struct, kw_only=True):
    """Center and confidence interval of one sample, and its size: the one value every row, report and
    JSON file carries. In memory the three are floats (a NaN center: no samples; an infinite bound: too
    few samples for an interval); JSON has no such numbers, so they are written as null and read back as
    NaN, -inf and +inf (``__post_init__``)."""

    center: float | None = None
    lo: float | None = None
    hi: float | None = None
    n: int = 0

    def __post_init__(self) -> None:
        if self.center is None:
            self.center = math.nan
        if self.lo is None:
            self.lo = -math.inf
        if self.hi is None:
            self.hi = math.inf

    def pct_range(self) -> str:
        """The ``± x%`` benchstat prints (without the ``±``)."""
        lo, hi, c = self.lo, self.hi, self.center
        if not (lo > 0 and c > 0 and hi < _INF):  # not the common positive, finite interval
            if lo in _INFS or hi in _INFS:
                return "∞"
            sign = _sign(c)
            if sign != _sign(lo) or sign != _sign(hi):
                return "?"
            if c == 0:
                return "0%"
        return "%.0f%%" % (100 * max(hi / c - 1, 1 - lo / c))


_INF = math.inf
_INFS = (math.inf, -math.inf)


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def summarize(values: list[float], confidence: float = 0.95, exact: bool = False) -> Summary:
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        return Summary(center=math.nan, lo=math.nan, hi=math.nan, n=0)
    if exact:
        mode, count, best = xs[0], 0, 0
        cur = None
        for v in xs:
            count = count + 1 if v == cur else 1
            cur = v
            if count > best:
                mode, best = v, count
        return Summary(center=mode, lo=xs[0], hi=xs[-1], n=n)
    lo_o, hi_o = median_ci_orders(n, confidence)
    lo = xs[lo_o - 1] if lo_o >= 1 else -math.inf
    hi = xs[hi_o - 1] if hi_o <= n else math.inf
    return Summary(center=quantile_r8(xs, 0.5), lo=lo, hi=hi, n=n)


def summary_warnings(s: Summary, exact: bool, confidence: float = 0.95) -> list[str]:
    """What a summary cannot say, as benchstat warns it: no samples; an exact unit whose values differ
    (its bounds are the min and max); too few samples for an interval of the median at ``confidence``."""
    if s.n == 0:
        return ["no samples"]
    if exact:
        return (
            []
            if s.lo == s.hi
            else [f"exact distribution expected, but values range from {s.lo:g} to {s.hi:g}"]
        )
    if math.isinf(s.lo) or math.isinf(s.hi):
        op, need = min_samples_for_ci(confidence)
        return [f"need {op} {need} samples for confidence interval at level {confidence:g}"]
    return []


class UTest(NamedTuple):
    """Result of a two-sided Mann-Whitney U test (immutable: one result may be shared by many rows)."""

    p: float
    n1: int
    n2: int
    u: float
    error: str = ""


def mann_whitney(x1: list[float], x2: list[float]) -> UTest:
    """Two-sided Mann-Whitney U test, as benchstat computes it.

    ``error`` is set ("all samples are equal" or "need at least one sample")
    when the test cannot be computed; ``p`` is then 1.
    """
    n1, n2 = len(x1), len(x2)
    if n1 == 0 or n2 == 0:
        return UTest(1.0, n1, n2, math.nan, "need at least one sample")
    s1, s2 = sorted(x1), sorted(x2)
    if s1[0] == s1[-1] == s2[0] == s2[-1]:  # every sample equal: U = n1*n2/2, nothing to test
        return UTest(1.0, n1, n2, n1 * n2 / 2, "all samples are equal")
    has_ties = len(set(s1).union(s2)) != n1 + n2
    # U1 counts pairs where the x1 value is larger, ties counting one half.
    if has_ties:
        allv = sorted(s1 + s2)
        ties = [len(list(g)) for _, g in groupby(allv)]
        u1 = 0.0
        for v in s1:
            lo = bisect_left(s2, v)
            u1 += lo + (bisect_right(s2, v) - lo) / 2
    else:
        ties = [1] * (n1 + n2)
        u1 = float(sum(map(partial(bisect_left, s2), s1)))
    u2 = n1 * n2 - u1
    usmall = min(u1, u2)
    exact = (not has_ties and n1 <= 50 and n2 <= 50) or (has_ties and n1 <= 25 and n2 <= 25)
    if exact:
        if len(ties) == 1:
            return UTest(1.0, n1, n2, u1, "all samples are equal")
        if u1 == u2:
            return UTest(1.0, n1, n2, u1)
        if has_ties:
            cdf = _klotz_count(int(2 * usmall), n1, tuple(ties)) / math.comb(n1 + n2, n1)
        else:
            cdf = _u_cdf(n1, n2, usmall)
        return UTest(2 * cdf, n1, n2, u1)
    t = sum(k * k * k - k for k in ties)
    big_n = n1 + n2
    sigma = math.sqrt(n1 * n2 * ((big_n + 1) - t / (big_n * (big_n - 1))) / 12)
    if sigma == 0:
        return UTest(1.0, n1, n2, u1, "all samples are equal")
    numer = u1 - n1 * n2 / 2
    numer -= _sign(numer) * 0.5
    z = numer / sigma
    c = _STD.cdf(z)
    return UTest(2 * min(c, 1 - c), n1, n2, u1)


@lru_cache(maxsize=1024)
def _u_cdf_table(n1: int, n2: int) -> list[float]:
    """P(U1 <= u) for u = 0 .. n1*n2 without ties: prefix sums of the arrangement counts, each divided once.

    The number of arrangements with U1 = u is the coefficient of q^u in the Gaussian binomial
    [n1+n2 choose n1]_q = prod_{i=1..n1} (1 - q^(n2+i)) / (1 - q^i), built one factor at a time in exact
    integers (after step i it is [n2+i choose i]_q, a polynomial of degree i*n2).
    """
    size = n1 * n2 + 1
    poly = [1] + [0] * (size - 1)
    for i in range(1, n1 + 1):
        up = n2 + i
        for k in range(min(size - 1, i * n2), up - 1, -1):  # times (1 - q^up)
            poly[k] -= poly[k - up]
        for k in range(i, min(size, i * n2 + 1)):  # divided by (1 - q^i)
            poly[k] += poly[k - i]
    total = math.comb(n1 + n2, n1)
    out, acc = [], 0
    for c in poly:
        acc += c
        out.append(acc / total)
    return out


def _u_cdf(n1: int, n2: int, u: float) -> float:
    """P(U1 <= u) under the null hypothesis, no ties."""
    table = _u_cdf_table(n1, n2)
    return table[min(int(u), len(table) - 1)]


def _bound_tables(n1: int, t: tuple[int, ...], a: list[int]) -> tuple[list[list[int]], list[list[int]]]:
    """For every k and m <= n1: the smallest and the largest 2U reachable with m members of sample 1 in the
    first k tie groups (lo[k][m], hi[k][m]). The smallest fills the groups in rank order, the largest in
    reverse; members beyond the groups' capacity add nothing."""
    lo: list[list[int]] = [[]]
    hi: list[list[int]] = [[]]
    for k in range(1, len(t) + 1):
        for order, out in ((range(1, k + 1), lo), (range(k, 0, -1), hi)):
            row, acc, m = [0] * (n1 + 1), 0, 0
            for j in order:
                take = min(t[j - 1], n1 - m)
                for _ in range(take):
                    m += 1
                    acc += a[j]
                    row[m] = acc - m * m
                if m == n1:
                    break
            for rest in range(m + 1, n1 + 1):
                row[rest] = acc - rest * rest
            out.append(row)
    return lo, hi


@lru_cache(maxsize=4096)
def _klotz_count(two_u: int, n1: int, t: tuple[int, ...]) -> int:
    """Arrangements with 2*U1 <= two_u given tie groups t (Cheung & Klotz 1997).

    The recursion runs over tie groups: first which (members-in-sample-1, 2U)
    states of the first k groups can lead to the target, then their counts
    upward from two groups. It follows the published algorithm as benchstat
    implements it, including its integer division truncated toward zero when
    bounding the second group, so p-values agree with benchstat's digit for
    digit.
    """
    K = len(t)
    a = [0] * (K + 1)
    a[1] = t[0]
    for k in range(2, K + 1):
        a[k] = a[k - 1] + t[k - 2] + t[k - 1]
    least, most = _bound_tables(n1, t, a)

    # states[k]: (members of sample 1 in the first k groups, their 2U) -> count of arrangements
    states: list[dict[tuple[int, int], int]] = [{} for _ in range(K + 1)]
    states[K] = {(n1, two_u): 0}
    tsum = sum(t)
    for k in range(K - 1, 1, -1):
        tsum -= t[k]
        here, lo_k, hi_k, a_next, t_k = states[k], least[k], most[k], a[k + 1], t[k]
        for n1_next, u_next in states[k + 1]:
            for rk in range(max(0, n1_next - tsum), min(n1_next, t_k) + 1):
                u_k = u_next - rk * (a_next - 2 * n1_next + rk)
                n1_k = n1_next - rk
                if lo_k[n1_k] <= u_k <= hi_k[n1_k]:
                    here[(n1_k, u_k)] = 0
    n_2 = t[0] + t[1]
    for n1_2, u_2 in list(states[2]):
        num = u_2 - n1_2 * (t[0] - n1_2)
        hi = abs(num) // n_2 * (1 if num >= 0 else -1)  # truncate toward zero, as Go does
        states[2][(n1_2, u_2)] = sum(
            math.comb(t[0], n1_2 - r2) * math.comb(t[1], r2) for r2 in range(max(0, n1_2 - t[0]), hi + 1)
        )
    tsum = t[0]
    for k in range(3, K + 1):
        tsum += t[k - 2]
        here, prev, hi_prev, a_k, t_k = states[k], states[k - 1], most[k - 1], a[k], t[k - 1]
        ways = [math.comb(t_k, r) for r in range(t_k + 1)]
        full = [math.comb(tsum, m) for m in range(n1 + 1)]  # every arrangement of the first k-1 groups
        for n1_k, u_k in list(here):
            total = 0
            for rk in range(max(0, n1_k - tsum), min(n1_k, t_k) + 1):
                u_prev = u_k - rk * (a_k - 2 * n1_k + rk)
                n1_prev = n1_k - rk
                x = prev.get((n1_prev, u_prev))
                if x is None:
                    x = full[n1_prev] if hi_prev[n1_prev] < u_prev else 0
                total += x * ways[rk]
            here[(n1_k, u_k)] = total
    return states[K][(n1, two_u)]


def geomean(values: list[float]) -> float:
    """Geometric mean of positive values (NaN when any is not positive)."""
    if not values or any(map((0.0).__ge__, values)):  # a value <= 0 (float.__ge__ also takes ints)
        return math.nan
    return math.exp(sum(map(math.log, values)) / len(values))


@dataclass
class SignedRank:
    """Result of a two-sided Wilcoxon signed-rank test on paired differences."""

    p: float
    n: int  # non-zero differences used
    w_plus: float


@lru_cache(maxsize=1024)
def _signed_rank_counts(doubled_ranks: tuple[int, ...]) -> list[int]:
    """Number of sign assignments for each value of 2*W+ (subset sums of the doubled ranks)."""
    total = sum(doubled_ranks)
    counts = [0] * (total + 1)
    counts[0] = 1
    top = 0
    for r in doubled_ranks:
        for s in range(top, -1, -1):
            if counts[s]:
                counts[s + r] += counts[s]
        top += r
    return counts


def signed_rank(diffs: list[float]) -> SignedRank:
    """Two-sided Wilcoxon signed-rank test that the median difference is zero.

    Zero differences are dropped (Wilcoxon's convention); tied absolute
    differences get mid-ranks. The null distribution is exact for any n: each
    non-zero difference is positive or negative with probability 1/2, so the
    distribution of 2*W+ is that of the subset sums of the doubled ranks.
    """
    d = [x for x in diffs if x != 0]
    n = len(d)
    if n == 0:
        return SignedRank(1.0, 0, 0.0)
    order = sorted(range(n), key=lambda i: abs(d[i]))
    doubled = [0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and abs(d[order[j + 1]]) == abs(d[order[i]]):
            j += 1
        for k in range(i, j + 1):
            doubled[order[k]] = (i + 1) + (j + 1)  # twice the mid-rank
        i = j + 1
    w2 = sum(doubled[k] for k in range(n) if d[k] > 0)
    counts = _signed_rank_counts(tuple(sorted(doubled)))
    total = 2**n
    lower = sum(counts[: w2 + 1]) / total
    upper = sum(counts[w2:]) / total
    return SignedRank(min(1.0, 2 * min(lower, upper)), n, w2 / 2)


def walsh_interval(xs: list[float], alpha: float) -> tuple[float, float] | None:
    """The Hodges-Lehmann interval of the center of symmetry, the inversion of the signed-rank test: the
    Walsh averages ``(x_i + x_j) / 2`` (i <= j), sorted, cut at the largest c with ``P(W+ <= c) <= alpha``
    under the exact null law of ranks 1..n, giving ``[W_(c+1), W_(N-c)]`` of coverage at least
    ``1 - 2 alpha`` (Hollander and Wolfe). None when n is too small for any c (``2**-n > alpha``)."""
    n = len(xs)
    if n == 0:
        return None
    counts = _signed_rank_counts(tuple(2 * r for r in range(1, n + 1)))  # indexed by 2 W+
    total, cum, c = 2**n, 0, -1
    for w in range(0, len(counts), 2):
        cum += counts[w]
        if cum / total > alpha:
            break
        c = w // 2
    if c < 0:
        return None
    walsh = sorted((xs[i] + xs[j]) / 2 for i in range(n) for j in range(i, n))
    return walsh[c], walsh[len(walsh) - 1 - c]


BATCH_MIN = 32  # rows of one shape worth computing as arrays (numpy's setup costs more below this)


def load_batch() -> None:
    """Import what the batch functions need (numpy) ahead of their first call, e.g. while waiting on I/O."""
    import numpy  # noqa: F401


def matrix(rows: Sequence[Sequence[float]]) -> Any:
    """Samples of one size as a float64 array, one row each: what the batch functions take (they also take
    the lists), converted once when both are called on the same samples."""
    import numpy as np

    return np.asarray(rows, dtype=np.float64)


def _row_list(row: Any) -> list[float]:
    return row.tolist() if hasattr(row, "tolist") else list(row)


def summarize_batch(rows: Sequence[Sequence[float]], confidence: float = 0.95) -> list[Summary]:
    """:func:`summarize` (not exact) of many samples of one size n, as arrays: the same R8 median and
    order-statistic interval, by the same floating-point operations, so every value is identical."""
    import numpy as np

    s = np.sort(np.asarray(rows, dtype=np.float64), axis=1)
    n = s.shape[1]
    h = 1 / 3 + 0.5 * (n + 1 / 3)
    if n == 1 or h <= 1:
        centers = s[:, 0]
    elif h >= n:
        centers = s[:, -1]
    else:
        k = math.floor(h)
        centers = s[:, k - 1] + (h - k) * (s[:, k] - s[:, k - 1])
    lo_o, hi_o = median_ci_orders(n, confidence)
    lo = s[:, lo_o - 1].tolist() if lo_o >= 1 else [-math.inf] * len(rows)
    hi = s[:, hi_o - 1].tolist() if hi_o <= n else [math.inf] * len(rows)
    return [Summary(center=c, lo=a, hi=b, n=n) for c, a, b in zip(centers.tolist(), lo, hi, strict=True)]


def mann_whitney_batch(x1: Sequence[Sequence[float]], x2: Sequence[Sequence[float]]) -> list[UTest]:
    """:func:`mann_whitney` of many pairs of samples of sizes (n1, n2): U and the tie groups as arrays,
    p from the same cached exact distributions (no ties and n <= 50; ties and n <= 25); the normal
    approximation's pairs go through :func:`mann_whitney` itself. p-values are identical to it."""
    import numpy as np

    a = np.asarray(x1, dtype=np.float64)
    b = np.asarray(x2, dtype=np.float64)
    n1, n2 = a.shape[1], b.shape[1]
    if n1 == 0 or n2 == 0 or n1 > 50 or n2 > 50:
        return [mann_whitney(_row_list(p), _row_list(q)) for p, q in zip(x1, x2, strict=True)]
    both = np.sort(np.concatenate([a, b], axis=1), axis=1)
    same = (both[:, 0] == both[:, -1]).tolist()  # every value of the row equal: nothing to test
    steps = both[:, 1:] != both[:, :-1]
    tied = ~steps.all(axis=1)
    gt = (a[:, :, None] > b[:, None, :]).sum(axis=(1, 2))
    eq = (a[:, :, None] == b[:, None, :]).sum(axis=(1, 2))
    u1 = gt + eq / 2
    u1s = u1.tolist()
    # One value on each side, the two different (a B/op or allocs/op change): two tie groups and U at an
    # extreme (every value of one sample below every value of the other), so the groups are n1 and n2.
    apart_a = (steps.sum(axis=1) == 1) & ((u1 == 0) | (u1 == n1 * n2)) & (n1 <= 25 and n2 <= 25)
    apart = apart_a.tolist()
    # Tie groups of each other tied row: run lengths of its sorted values.
    tied_rows = np.flatnonzero(tied & ~apart_a)
    rows_i, cols_i = np.nonzero(steps[tied_rows])
    cuts: dict[int, list[int]] = {}
    for r, col in zip(tied_rows[rows_i].tolist(), cols_i.tolist(), strict=True):
        cuts.setdefault(r, []).append(col + 1)
    total = math.comb(n1 + n2, n1)
    out: list[UTest] = []
    big = n1 + n2
    equal = UTest(1.0, n1, n2, n1 * n2 / 2, "all samples are equal")
    for i, (t, u) in enumerate(zip(tied.tolist(), u1s, strict=True)):
        if same[i]:
            out.append(equal)
            continue
        u2 = n1 * n2 - u
        if not t:
            out.append(UTest(1.0 if u == u2 else 2 * _u_cdf(n1, n2, min(u, u2)), n1, n2, u))
            continue
        if apart[i]:  # tie groups (n1, n2) when sample 1 holds the lower value, else (n2, n1)
            ties = (n1, n2) if u == 0 else (n2, n1)
        else:
            edges = [0, *cuts.get(i, []), big]
            ties = tuple(map(operator.sub, edges[1:], edges[:-1]))
        if len(ties) == 1:
            out.append(UTest(1.0, n1, n2, u, "all samples are equal"))
        elif n1 > 25 or n2 > 25:
            out.append(mann_whitney(_row_list(x1[i]), _row_list(x2[i])))
        elif u == u2:
            out.append(UTest(1.0, n1, n2, u))
        else:
            out.append(UTest(2 * (_klotz_count(int(2 * min(u, u2)), n1, ties) / total), n1, n2, u))
    return out


@lru_cache(maxsize=1024)
def shift_k(m: int, n: int, confidence: float) -> int:
    """The order statistic of :func:`shift_interval`: k - 1 is the largest u with P(U <= u) <= (1 -
    confidence) / 2 under the null hypothesis of the Mann-Whitney U test (exact, no ties); 1 (the whole range)
    with too few samples for that level."""
    table = _u_cdf_table(m, n)
    tail = (1 - confidence) / 2
    below = bisect_right(table, tail)  # the table is non-decreasing: u < below have P <= tail
    return min(max(1, below), (m * n + 1) // 2)


def shift_interval(x1: Sequence[float], x2: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """The distribution-free confidence interval of the shift from ``x1`` to ``x2`` (the Hodges-Lehmann
    estimator's interval, Moses 1965): order statistics k and m*n+1-k of the m*n differences x2[j] - x1[i]
    (:func:`shift_k`)."""
    m, n = len(x1), len(x2)
    if not m or not n:
        return -_INF, _INF
    k = shift_k(m, n, confidence)
    diffs = sorted([b - a for a in x1 for b in x2])
    return diffs[k - 1], diffs[len(diffs) - k]


def shift_interval_batch(x1: Any, x2: Any, confidence: float = 0.95) -> tuple[Any, Any]:
    """:func:`shift_interval` of many rows of one shape at once (``x1``: rows x m, ``x2``: rows x n arrays):
    the two order statistics of each row's differences, by a partial sort (the same values)."""
    import numpy as np

    rows, m = x1.shape
    n = x2.shape[1]
    k = shift_k(m, n, confidence)
    diffs = (x2[:, None, :] - x1[:, :, None]).reshape(rows, m * n)
    lo_i, hi_i = k - 1, m * n - k
    part = np.partition(diffs, (lo_i, hi_i), axis=1)
    return part[:, lo_i], part[:, hi_i]
