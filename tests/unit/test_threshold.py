"""One threshold predicate (core.threshold): early stopping, the verdict of a row and the inconclusive rule
measure a change the same way, so a row stopped early as settled gets the verdict the stop assumed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from benchpipe.core import sequential
from benchpipe.core.threshold import Position, position, ratio_pct
from benchpipe.core.verdict import judge


def test_the_interval_the_issue_found() -> None:
    """Higher is better, threshold 10%: the ratio interval [0.895, 0.908] is -10.5% .. -9.2%, across the edge
    at -10% where the verdict draws it. Early stopping called it settled (1 / 0.908 = 1.101 > 1.10)."""
    assert position(ratio_pct(0.895), ratio_pct(0.908), True, 10) is Position.STRADDLES
    assert not sequential.settled(0.895, 0.908, 10, True)
    assert judge(ratio_pct(0.895), 1, 0.895, True, True, 10, False) == "regression"
    assert judge(ratio_pct(0.908), 1, 0.908, True, True, 10, False) == "warn"
    assert sequential.settled(0.85, 0.89, 10, True) and sequential.settled(1.11, 1.2, 10, False)
    assert sequential.settled(1.2, 1.5, 10, True)  # better
    assert not sequential.settled(1.05, 1.15, 10, False)


ratios = st.floats(min_value=0.5, max_value=2.0, allow_nan=False)


@given(
    a=ratios,
    b=ratios,
    t=st.sampled_from([1.0, 5.0, 10.0, 20.0]),
    hb=st.booleans(),
    f=st.floats(min_value=0, max_value=1),
)
def test_a_settled_interval_gets_the_verdict_it_settled_on(
    a: float, b: float, t: float, hb: bool, f: float
) -> None:
    lo, hi = min(a, b), max(a, b)
    center = lo + (hi - lo) * f  # any point of the interval may be the median the verdict judges
    verdict = judge(ratio_pct(center), 1.0, center, True, hb, t, False)
    where = position(ratio_pct(lo), ratio_pct(hi), hb, t)
    if where is Position.BEYOND:
        assert verdict == "regression" and sequential.settled(lo, hi, t, hb)
    elif where is Position.WITHIN:
        assert verdict in ("warn", "unchanged", "improvement") and sequential.settled(lo, hi, t, hb)
    elif where is Position.BETTER:
        assert verdict in ("improvement", "unchanged") and sequential.settled(lo, hi, t, hb)
    else:
        assert not sequential.settled(lo, hi, t, hb)


@given(
    st.lists(
        st.lists(st.floats(min_value=-5, max_value=5, allow_nan=False), min_size=3, max_size=3),
        min_size=1,
        max_size=4,
    ),
    st.lists(st.floats(min_value=-5, max_value=5, allow_nan=False), min_size=7, max_size=7),
    st.sampled_from([0.9, 0.95, 0.99]),
)
def test_the_batch_interval_is_the_one_by_one_interval(
    olds: list[list[float]], new: list[float], level: float
) -> None:
    """The verdict's interval of the change is computed a shape at a time; it must be each row's own."""
    import numpy as np

    from benchpipe.core import stats

    news = [new[i:] + new[:i] for i in range(len(olds))]
    lo, hi = stats.shift_interval_batch(np.array(olds), np.array(news), level)
    assert [(a, b) for a, b in zip(lo.tolist(), hi.tolist(), strict=True)] == [
        stats.shift_interval(o, n, level) for o, n in zip(olds, news, strict=True)
    ]
