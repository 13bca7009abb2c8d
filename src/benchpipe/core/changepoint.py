"""Change points in a benchmark's history: E-divisive with means.

The method of Matteson & James (2014), as used for performance history by
MongoDB's signal processing work and Apache Otava (Hunter): for a series
x_1..x_n the divergence between the two sides of a split tau is

    Q(tau) = (tau (n - tau) / n) * [ 2 E|X - Y| - E|X - X'| - E|Y - Y'| ]

with X from the left part, Y from the right part (alpha = 1). The split with
the largest Q is a candidate; a permutation test (shuffle the series, take
the largest Q again) gives its significance. Accepted splits are searched
again within their parts until no significant split remains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@dataclass
class ChangePoint:
    index: int  # first index of the new level
    p: float
    before: float  # mean before, within the segment
    after: float  # mean after, within the segment

    @property
    def change_pct(self) -> float:
        return (self.after / self.before - 1) * 100 if self.before else float("nan")


def _best_split(x: np.ndarray, min_size: int) -> tuple[int, float]:
    """Index and Q of the best split of x (left part x[:tau])."""
    taus, q = _q_many(x[None, :], min_size)
    if not len(taus):
        return -1, float("-inf")
    i = int(q[0].argmax())
    return int(taus[i]), float(q[0, i])


def _q_many(xs: np.ndarray, min_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Q of every split (``taus``) of every row of ``xs`` (rows of one length n): (taus, Q[row, tau])."""
    import numpy as np  # only where a history is long enough to search

    n = xs.shape[1]
    d = np.abs(xs[:, :, None] - xs[:, None, :])
    # 2-D prefix sums of each distance matrix for O(1) block sums.
    c = np.zeros((len(xs), n + 1, n + 1))
    c[:, 1:, 1:] = d.cumsum(1).cumsum(2)
    tau = np.arange(min_size, n - min_size + 1)
    if not len(tau):
        return tau, np.zeros((len(xs), 0))
    m = n - tau
    # block sums from the prefix sums (rows/columns from 0 are 0): between = [0,tau)x[tau,n), the two withins
    ctt, ctn, cnt, cnn = c[:, tau, tau], c[:, tau, n], c[:, n, tau], c[:, n, n][:, None]
    between = (ctn - ctt) / (tau * m)
    within_l = np.where(tau > 1, ctt / np.maximum(tau * (tau - 1), 1), 0.0)
    within_r = np.where(m > 1, (cnn - ctn - cnt + ctt) / np.maximum(m * (m - 1), 1), 0.0)
    return tau, tau * m / n * (2 * between - within_l - within_r)


def detect(
    series: list[float],
    level: float = 0.05,
    permutations: int = 199,
    min_size: int = 3,
    seed: int = 1,
    min_change_pct: float = 5.0,
) -> list[ChangePoint]:
    """Significant level shifts of ``series``, in order.

    A split is kept when the permutation test gives p <= level and the means on
    its two sides differ by at least ``min_change_pct`` (as Hunter/Otava's
    magnitude filter: a significant but tiny shift is not worth a report).
    """
    import numpy as np  # only where a history is long enough to search

    x = np.asarray(series, dtype=float)
    rng = np.random.default_rng(seed)
    found: list[ChangePoint] = []
    segments = [(0, len(x))]
    while segments:
        a, b = segments.pop()
        seg = x[a:b]
        if len(seg) < 2 * min_size or np.ptp(seg) == 0:
            continue
        tau, q = _best_split(seg, min_size)
        shuffled = np.stack([rng.permutation(seg) for _ in range(permutations)])  # the same draws, in order
        exceed = int((_q_many(shuffled, min_size)[1].max(axis=1) >= q).sum())
        p = (exceed + 1) / (permutations + 1)
        cp = ChangePoint(a + tau, p, float(seg[:tau].mean()), float(seg[tau:].mean()))
        if p <= level and abs(cp.change_pct) >= min_change_pct:
            found.append(cp)
            segments += [(a, a + tau), (a + tau, b)]
    return sorted(found, key=lambda cp: cp.index)


def detect_long(
    series: list[float],
    level: float = 0.05,
    permutations: int = 199,
    min_size: int = 3,
    window: int = 60,
    screen_t: float = 4.0,
    min_change_pct: float = 5.0,
) -> list[ChangePoint]:
    """:func:`detect` for long histories (hundreds of runs, thousands of series: the published site).

    The exact test costs O(n^2) per permutation, too much for a whole history. A screen finds the
    split with the largest Welch t statistic of the log values (prefix sums: O(n)); only where it
    exceeds ``screen_t`` is E-divisive run, on ``window`` runs either side of that split, and a change
    it confirms (same test, same magnitude filter) splits the series for a further search on both sides.
    A series without a clear shift is dismissed by the screen alone."""
    import numpy as np  # only where a history is long enough to search

    x = np.log(np.maximum(np.asarray(series, dtype=float), 1e-300))
    raw = np.asarray(series, dtype=float)
    found: list[ChangePoint] = []
    segments = [(0, len(x))]
    while segments:
        a, b = segments.pop()
        if b - a < 2 * min_size or np.ptp(x[a:b]) == 0:
            continue
        tau = _t_split(x[a:b], min_size, screen_t, min_change_pct)
        if tau is None:
            continue
        lo, hi = max(a, a + tau - window), min(b, a + tau + window)
        local = detect(raw[lo:hi].tolist(), level, permutations, min_size, min_change_pct=min_change_pct)
        if not local:
            continue
        best = min(local, key=lambda cp: abs(lo + cp.index - (a + tau)))
        at = lo + best.index
        found.append(ChangePoint(at, best.p, float(raw[a:at].mean()), float(raw[at:b].mean())))
        segments += [(a, at), (at, b)]
    return sorted(found, key=lambda cp: cp.index)


MIN_RUNS = 6  # fewer runs than this: no change point is looked for (each side needs min_size 3)
LONG = 120  # longer series take the screened search (the exact test is O(n^2) per permutation)


def changes(series: list[float]) -> list[ChangePoint]:
    """The change points of a history's series: the one policy the report, ``benchpipe history --changes``
    and the dashboard use, so they agree on a series. None below :data:`MIN_RUNS` runs; :func:`detect` up to
    :data:`LONG` runs, :func:`detect_long` beyond."""
    if len(series) < MIN_RUNS:
        return []
    return detect(series) if len(series) <= LONG else detect_long(series)


def _t_split(x: np.ndarray, min_size: int, screen_t: float = 4.0, min_change_pct: float = 5.0) -> int | None:
    """The split of ``x`` (log values) with the largest Welch t statistic, if it exceeds ``screen_t`` and the
    means on its two sides differ by at least ``min_change_pct`` (what :func:`detect` would keep)."""
    import numpy as np  # only where a history is long enough to search

    n = len(x)
    s1, s2 = np.cumsum(x), np.cumsum(x * x)
    k = np.arange(min_size, n - min_size + 1)
    if not len(k):
        return None
    m1 = s1[k - 1] / k
    m2 = (s1[-1] - s1[k - 1]) / (n - k)
    v1 = np.maximum(s2[k - 1] / k - m1 * m1, 0) * k / np.maximum(k - 1, 1)
    v2 = np.maximum((s2[-1] - s2[k - 1]) / (n - k) - m2 * m2, 0) * (n - k) / np.maximum(n - k - 1, 1)
    se = np.sqrt(v1 / k + v2 / (n - k))
    t = np.abs(m1 - m2) / np.maximum(se, 1e-12)
    i = int(np.argmax(t))
    if t[i] < screen_t or abs(np.expm1(m2[i] - m1[i])) * 100 < min_change_pct * 0.8:
        return None
    return int(k[i])


HELD_RUNS = 3  # a new level that lasted this many runs has held


def status(changes: list[ChangePoint], runs: int, cp: ChangePoint) -> str:
    """A change point of a series of ``runs`` runs: ``reversed`` when a later one moved the series back the
    other way, ``held`` when the new level lasted :data:`HELD_RUNS` runs or more, else ``new``."""
    if any((c.change_pct > 0) != (cp.change_pct > 0) for c in changes if c.index > cp.index):
        return "reversed"
    return "held" if runs - cp.index >= HELD_RUNS else "new"
