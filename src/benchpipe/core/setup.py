"""Setup apart from per-op cost.

A benchmark that does work once before its loop without ``b.ResetTimer`` (a cache built, a buffer
allocated) reports that work divided by b.N in every per-op unit: at b.N = N a value is
``per_op + setup / N``. When an operation gets slower, a benchmark run for a time reaches a smaller b.N,
so B/op, allocs/op (and ns/op) grow with no change to what one operation does. From runs at different
b.N, the line through (1/N, value) separates the two: its intercept is the per-op cost, its slope the
setup (in the unit times ops: bytes, allocations, ns). With one b.N, or b.N values too close together,
the two cannot be told apart (:func:`split` gives None, and the caller says so).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_SPREAD = 1.05  # the largest b.N at least this many times the smallest, or the line is not defined


@dataclass(frozen=True)
class Split:
    """A side's values as per-op cost plus setup / b.N."""

    per_op: float
    setup: float  # per run: the unit's total (bytes, allocations, ns) done once, before the loop
    per_op_se: float = 0.0  # the per-op estimate's standard error (the line's scatter: a setup that is not
    # the same every run, Go's whole-number B/op and allocs/op, a cost that is not linear in 1/b.N)

    def per_op_parts(self, values: list[float], iters: list[int]) -> list[float]:
        """Each value with its run's share of the setup taken out (what one op costs, run by run)."""
        return [v - self.setup / n for v, n in zip(values, iters, strict=True)]


def split(values: list[float], iters: list[int]) -> Split | None:
    """The least-squares line of ``values`` against 1/b.N (``iters``), or None when the b.N values are
    too close together to define it (:data:`MIN_SPREAD`)."""
    if len(values) < 2 or min(iters) <= 0 or max(iters) < MIN_SPREAD * min(iters):
        return None
    xs = [1.0 / n for n in iters]
    mx, my = sum(xs) / len(xs), sum(values) / len(values)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, values, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    n = len(values)
    resid = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, values, strict=True))
    se = (resid / (n - 2) * (1 / n + mx * mx / sxx)) ** 0.5 if n > 2 else float("inf")
    return Split(per_op=intercept, setup=slope, per_op_se=se)
