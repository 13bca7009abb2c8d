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
    n = len(x)
    d = np.abs(x[:, None] - x[None, :])
    # 2-D prefix sums of the distance matrix for O(1) block sums.
    c = np.zeros((n + 1, n + 1))
    c[1:, 1:] = d.cumsum(0).cumsum(1)

    def block(r0: int, r1: int, c0: int, c1: int) -> float:
        return c[r1, c1] - c[r0, c1] - c[r1, c0] + c[r0, c0]

    best_tau, best_q = -1, -np.inf
    for tau in range(min_size, n - min_size + 1):
        m = n - tau
        between = block(0, tau, tau, n) / (tau * m)
        within_l = block(0, tau, 0, tau) / (tau * (tau - 1)) if tau > 1 else 0.0
        within_r = block(tau, n, tau, n) / (m * (m - 1)) if m > 1 else 0.0
        q = tau * m / n * (2 * between - within_l - within_r)
        if q > best_q:
            best_tau, best_q = tau, q
    return best_tau, best_q


def detect(series: list[float], level: float = 0.05, permutations: int = 199, min_size: int = 3,
           seed: int = 1, min_change_pct: float = 5.0) -> list[ChangePoint]:
    """Significant level shifts of ``series``, in order.

    A split is kept when the permutation test gives p <= level and the means on
    its two sides differ by at least ``min_change_pct`` (as Hunter/Otava's
    magnitude filter: a significant but tiny shift is not worth a report).
    """
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
        exceed = sum(1 for _ in range(permutations) if _best_split(rng.permutation(seg), min_size)[1] >= q)
        p = (exceed + 1) / (permutations + 1)
        cp = ChangePoint(a + tau, p, float(seg[:tau].mean()), float(seg[tau:].mean()))
        if p <= level and abs(cp.change_pct) >= min_change_pct:
            found.append(cp)
            segments += [(a, a + tau), (a + tau, b)]
    return sorted(found, key=lambda cp: cp.index)
