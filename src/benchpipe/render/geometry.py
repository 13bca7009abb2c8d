"""The geometry both history charts share (the report's trend charts and the dashboard's series charts): the
value range a series is drawn in, and where a run, a value and a change point go.

A flat series is drawn in a band around its value that never goes below zero for a value that is not
negative (B/op, allocs/op and times cannot), so no axis reads ``-1e-09``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Frame:
    """A chart of ``runs`` points in a ``w`` x ``h`` box with padding, over values ``lo``..``hi``."""

    w: int
    h: int
    pad: tuple[int, int, int, int]  # left, right, top, bottom
    runs: int
    lo: float
    hi: float

    @classmethod
    def fit(cls, values: Iterable[float], runs: int, w: int, h: int, pad: tuple[int, int, int, int]) -> Frame:
        ys = list(values)
        lo, hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
        if hi == lo:
            hi, lo = (hi * 1.05 if hi else 1.0), (lo * 0.95 if lo > 0 else min(lo, 0.0) * 1.05)
        return cls(w, h, pad, runs, lo, hi)

    def x(self, i: float) -> float:
        """Where run ``i`` (0-based; fractions between runs) goes across."""
        left, right = self.pad[0], self.w - self.pad[1]
        return left + (right - left) * (i / max(1, self.runs - 1) if self.runs > 1 else 0.5)

    def y(self, v: float) -> float:
        top, bottom = self.pad[2], self.h - self.pad[3]
        return top + (bottom - top) * (1 - (v - self.lo) / (self.hi - self.lo))

    def change_x(self, index: int) -> float:
        """Where a change point that begins at run ``index`` is drawn: between it and the run before."""
        return self.x(index - 0.5) if index > 0 else self.x(0)

    def ticks(self) -> list[float]:
        """The values the axis labels: bottom, middle, top."""
        return [self.lo + (self.hi - self.lo) * f for f in (0.0, 0.5, 1.0)]
