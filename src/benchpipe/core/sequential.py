"""Group-sequential design for paired rounds: stop early when every row is decided.

Looking at a test after every round and stopping at the first p <= alpha
inflates the false-alarm rate far above alpha. A group-sequential design fixes
the looks in advance (after :data:`FIRST_LOOK` rounds, then every
:data:`LOOK_EVERY` rounds up to three quarters of ``rounds``, and at
``rounds``, the maximum: a last look close to the one before it would take
most of the remaining alpha for little information) and spends alpha
across them with the Lan-DeMets alpha-spending function of O'Brien-Fleming
type, ``alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t))`` at information
fraction ``t = n / rounds``.

The boundary ``c_k`` of look k is the two-sided z value with
``P(|Z_1| < c_1, ..., |Z_{k-1}| < c_{k-1}, |Z_k| >= c_k) = alpha(t_k) -
alpha(t_{k-1})`` under no change, where ``Z_k = B(t_k) / sqrt(t_k)`` for a
Brownian motion B (the large-sample law of a rank statistic observed at
increasing sample sizes; Armitage, McPherson and Rowe's recursive
integration, done on a grid). The probability of ever crossing a boundary
when nothing changed is therefore ``alpha(1) = alpha``: the false-alarm rate
of the fixed design. A row is tested at look k at the nominal level
``2 (1 - Phi(c_k))`` (with an exact signed-rank p-value); O'Brien-Fleming
spending keeps early looks strict (a few rounds cannot call a change) and the
last look close to alpha, so a design that runs to the end loses almost no
power.

A significant row is decided only when its verdict is settled: the interval
of its median ratio lies wholly beyond the threshold (a regression) or wholly
within it (a warning), or on the better side (an improvement); a change near
the threshold runs on, so that stopping does not turn a regression measured
more precisely later into a warning.

Stopping for futility is the other half of the saving: a row whose
confidence interval of the median ratio lies within the smallest change that
would warn cannot become a regression or a warning, and is decided
unchanged; so is a row that an equivalence test (:func:`equivalent`: two
one-sided signed-rank tests at alpha, the margin that smallest change) shows
unchanged while its interval stays within the threshold (so the row is not
inconclusive either). Futility stops only remove rejections, so they never raise the
false-alarm rate. Exact rows (one value per side) are decided at the first look.
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

from benchpipe.core import stats
from benchpipe.core.threshold import Position, position, ratio_pct

FIRST_LOOK = 6  # the smallest n at which a two-sided signed-rank test can reach p <= 0.05
LOOK_EVERY = (
    1  # O'Brien-Fleming spends little early: more looks barely lower the last level (0.0404 vs 0.0404)
)
_NORMAL = NormalDist()


def looks(rounds: int) -> list[int]:
    """Round counts after which the rows are examined; the last is ``rounds``."""
    if rounds <= FIRST_LOOK:
        return [rounds]
    return [*range(FIRST_LOOK, math.floor(rounds * 0.75) + 1, LOOK_EVERY), rounds]


def spent(t: float, alpha: float) -> float:
    """Alpha spent by information fraction ``t`` (Lan-DeMets, O'Brien-Fleming type)."""
    if t <= 0:
        return 0.0
    z = _NORMAL.inv_cdf(1 - alpha / 2)
    return 2 * (1 - _NORMAL.cdf(z / math.sqrt(min(t, 1.0))))


@lru_cache(maxsize=64)
def levels(rounds: int, alpha: float) -> tuple[tuple[int, float], ...]:
    """(round count, nominal two-sided significance level) of every look."""
    import numpy as np

    ns = looks(rounds)
    if len(ns) == 1:  # one look: the fixed design
        return ((rounds, alpha),)
    ts = [n / rounds for n in ns]
    step = 0.01
    grid = np.arange(-10.0, 10.0 + step / 2, step)  # the Brownian motion's value B(t), t <= 1
    density: np.ndarray | None = None
    out: list[tuple[int, float]] = []
    prev_t = 0.0
    for n, t in zip(ns, ts, strict=True):
        gain = spent(t, alpha) - spent(prev_t, alpha)
        dt = t - prev_t
        if density is None:
            g = np.exp(-(grid**2) / (2 * dt)) / math.sqrt(2 * math.pi * dt)
        else:
            kernel = np.exp(-((grid[:, None] - grid[None, :]) ** 2) / (2 * dt)) / math.sqrt(2 * math.pi * dt)
            g = kernel @ density * step
        c = _boundary(grid, g, step, math.sqrt(t), gain)
        out.append((n, 2 * (1 - _NORMAL.cdf(c))))
        density = np.where(np.abs(grid) < c * math.sqrt(t), g, 0.0)
        prev_t = t
    return tuple(out)


def _boundary(grid, g, step: float, scale: float, gain: float) -> float:  # noqa: ANN001 - numpy arrays
    """The z boundary whose two tails (|B| >= c * scale) hold probability ``gain`` under density ``g``."""
    lo, hi = 0.0, 10.0
    if gain <= 0:
        return hi
    for _ in range(60):
        mid = (lo + hi) / 2
        tail = float(g[abs(grid) >= mid * scale].sum() * step)
        if tail > gain:
            lo = mid
        else:
            hi = mid
    return hi


def settled(ratio_lo: float, ratio_hi: float, threshold_pct: float, higher_better: bool) -> bool:
    """A significant change's verdict cannot move: better, or worse with the interval of the median ratio
    wholly beyond the threshold (a regression) or wholly within it (a warning), as the verdict measures the
    change (:func:`benchpipe.core.threshold.position`)."""
    return (
        position(ratio_pct(ratio_lo), ratio_pct(ratio_hi), higher_better, threshold_pct) != Position.STRADDLES
    )


def equivalent(log_ratios: list[float], margin_pct: float, alpha: float) -> bool:
    """Two one-sided signed-rank tests (TOST) reject a change of ``margin_pct`` or more either way at level
    ``alpha`` each: the Hodges-Lehmann interval of the log ratio at ``1 - 2 alpha``
    (:func:`benchpipe.core.stats.walsh_interval`) lies within +-``margin_pct``. Narrower than the median's
    order-statistic interval at a few rounds (at 6 rounds that one is the whole range of the ratios), so a
    noisy unchanged row is decided at the first looks."""
    ci = stats.walsh_interval(log_ratios, alpha)
    m = margin_pct / 100
    return ci is not None and math.log(1 - m) < ci[0] and ci[1] < math.log(1 + m)


def futile(ratio_lo: float, ratio_hi: float, margin_pct: float) -> bool:
    """The interval of the median ratio lies within +-``margin_pct``: the row cannot warn or regress."""
    m = margin_pct / 100
    return 1 - m < ratio_lo and ratio_hi < 1 + m
