"""A shift of the whole run: most unrelated benchmarks moved the same way.

Code changes move the benchmarks that run the changed code; a machine that is
slower or faster as a whole (another tenant, frequency scaling, a different
host behind the same runner label) moves everything. When the timing rows of
most *unrelated* benchmarks (distinct top-level benchmarks: sub-benchmarks of
one family share code, so a family counts once, by the median of its rows)
moved the same way by at least :data:`MIN_PCT`, the comparison says so at the
top of its verdict, with the size of the shift (the median of the families'
changes), and confirmation decides each flagged row by interleaved rounds.

Needs at least :data:`MIN_FAMILIES` families; "most" is :data:`SHARE` of them.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from benchpipe.core.benchfmt import top_level
from benchpipe.core.units import TIME_PER_OP
from benchpipe.core.verdict import Row

MIN_FAMILIES = 3
SHARE = 2 / 3
MIN_PCT = 2.0


@dataclass(frozen=True)
class Shift:
    pct: float  # median change of the families' timing rows (negative: the run is faster)
    moved: int  # families that moved that way by at least MIN_PCT
    families: int

    def describe(self, confirmed: bool = True) -> str:
        way = "slower" if self.pct > 0 else "faster"
        then = (
            "each flagged row is decided by interleaved rounds against the baseline's commit"
            if confirmed
            else "read flagged timing rows with care (a paired compare, --base REV, settles them)"
        )
        return (
            f"the whole run is {abs(self.pct):.1f}% {way} than the old side: {self.moved} of {self.families} "
            f"unrelated benchmarks moved the same way. That is the machine, not the code; {then}"
        )


def detect(rows: list[Row]) -> Shift | None:
    """The run-wide shift of ``rows``' timing rows, or None."""
    fam: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        if r.unit in TIME_PER_OP and r.delta_pct is not None and r.p is not None:
            fam.setdefault((r.package, top_level(r.benchmark)), []).append(r.delta_pct)
    if len(fam) < MIN_FAMILIES:
        return None
    changes = [statistics.median(v) for v in fam.values()]
    up = sum(1 for d in changes if d >= MIN_PCT)
    down = sum(1 for d in changes if d <= -MIN_PCT)
    moved = max(up, down)
    if moved < SHARE * len(changes):
        return None
    return Shift(statistics.median(changes), moved, len(changes))
