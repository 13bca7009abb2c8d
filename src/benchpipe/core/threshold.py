"""Is a change beyond the threshold? The one predicate every verdict rule asks (the verdict of a row, an
inconclusive row, early stopping of paired rounds, confirmation).

A change is measured as the verdict states it: the percent change ``new / old - 1`` (``delta_pct``; for a
paired row, the median per-round ratio's). It is *worse* by :func:`worse`: ``delta_pct`` for a unit where
lower is better, ``-delta_pct`` where higher is better (B/s, ops/s). A change is :func:`beyond` the threshold
when it is worse by more than the threshold. An interval of the change, ``[lo, hi]`` percent, is placed by
:func:`position`: ``BETTER`` (all of it better), ``BEYOND`` (all of it worse by more than the threshold),
``WITHIN`` (none of it worse by more than the threshold) or ``STRADDLES`` (it reaches both sides of the
threshold's edge: more data could move the verdict).
"""

from __future__ import annotations

from enum import Enum


class Position(Enum):
    BETTER = "better"
    WITHIN = "within"
    STRADDLES = "straddles"
    BEYOND = "beyond"


def worse(delta_pct: float, higher_better: bool) -> float:
    """How much worse a change of ``delta_pct`` percent is (negative: better)."""
    return -delta_pct if higher_better else delta_pct


def beyond(delta_pct: float, higher_better: bool, threshold_pct: float) -> bool:
    """The change is worse by more than the threshold."""
    return worse(delta_pct, higher_better) > threshold_pct


def ratio_pct(ratio: float) -> float:
    """A ratio ``new / old`` as a percent change."""
    return (ratio - 1) * 100


def reach(lo_pct: float, hi_pct: float, higher_better: bool) -> float:
    """How far an interval of the change reaches in the worse direction."""
    return max(worse(lo_pct, higher_better), worse(hi_pct, higher_better))


def position(lo_pct: float, hi_pct: float, higher_better: bool, threshold_pct: float) -> Position:
    """Where an interval of the change lies against the threshold."""
    least, most = sorted((worse(lo_pct, higher_better), worse(hi_pct, higher_better)))
    if most < 0:
        return Position.BETTER
    if least > threshold_pct:
        return Position.BEYOND
    if most <= threshold_pct:
        return Position.WITHIN
    return Position.STRADDLES
