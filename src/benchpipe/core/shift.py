"""A shift of the whole run: most unrelated benchmarks moved the same way.

It is called the machine's only from benchmarks the change cannot affect (packages that neither changed
nor depend on a package that did), and only when those agree by themselves; otherwise the verdict says
that several benchmarks moved, and interleaved rounds decide each flagged row.

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
    machine: bool = False  # the families moved are ones the change cannot affect, and they agree

    def describe(self, confirmed: bool = True) -> str:
        way = "slower" if self.pct > 0 else "faster"
        then = (
            "each flagged row is decided by interleaved rounds against the baseline's commit"
            if confirmed
            else "read flagged timing rows with care (a paired compare, --base REV, settles them)"
        )
        if self.machine:
            return (
                f"the whole run is {abs(self.pct):.1f}% {way} than the old side: {self.moved} of "
                f"{self.families} benchmarks the change cannot affect moved the same way. That is the "
                f"machine, not the code; {then}"
            )
        return (
            f"{self.moved} of {self.families} benchmarks moved the same way (median {self.pct:+.1f}%). "
            f"Whether that is the machine or a change they share, this run cannot tell; {then}"
        )


def _families(rows: list[Row], packages: set[str] | None) -> list[float]:
    """The median change of each family's timing rows (only ``packages``' when given)."""
    fam: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        if r.unit in TIME_PER_OP and r.delta_pct is not None and r.p is not None:
            if packages is None or r.package in packages:
                fam.setdefault((r.package, top_level(r.benchmark)), []).append(r.delta_pct)
    return [statistics.median(v) for v in fam.values()]


def _agree(changes: list[float]) -> tuple[int, float] | None:
    """How many of the changes moved the same way by at least MIN_PCT, and their median, when that is
    most of them (SHARE) and there are at least MIN_FAMILIES; else None."""
    if len(changes) < MIN_FAMILIES:
        return None
    up = sum(1 for d in changes if d >= MIN_PCT)
    down = sum(1 for d in changes if d <= -MIN_PCT)
    moved = max(up, down)
    return (moved, statistics.median(changes)) if moved >= SHARE * len(changes) else None


def detect(rows: list[Row], unaffected: set[str] | None = None) -> Shift | None:
    """The run-wide shift of ``rows``' timing rows, or None. It is the machine's only when the families of
    ``unaffected`` packages (those the change cannot affect: its packages and their dependents are the
    others) agree on it by themselves; without them (None: not known) it is only said that they moved."""
    changes = _families(rows, None)
    found = _agree(changes)
    if found is None:
        return None
    if unaffected:
        apart = _agree(_families(rows, unaffected))
        if apart is not None:
            return Shift(apart[1], apart[0], len(_families(rows, unaffected)), machine=True)
    return Shift(found[1], found[0], len(changes))
