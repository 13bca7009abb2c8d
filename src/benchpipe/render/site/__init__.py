"""The published dashboard: a static site of the whole history (``benchpipe publish``).

Plain files that any web server or GitHub Pages serves and that open from disk without a network:

* ``index.html`` — one row per benchmark (module, package, name, GOMAXPROCS, branch: :class:`Group`) in
  one real table: its time unit first (newest value in benchstat's human units, change against the
  previous run and against the baseline branch's newest run, a sparkline, the newest change point), its
  other units in a compact cell; search, filters (module, package, branch, and a unit view: the
  benchmarks that have it), sorting by any column and a "moved" view (a change point of any of its units
  in the last N runs), done by ``assets/site.js`` on the rendered rows; names wrap only at ``/``;
* ``feed.html`` — the culprits the default-branch job named (result, commit linked, subject, the function
  named first, the change against its parent), then every change point, newest first, with its size,
  p-value, commit (linked through ``publish.commit_url``) and whether it held or was later reversed;
* ``b/<id>.html`` — one series (a benchmark's name links its time unit's page): its whole history as an SVG
  chart (medians, 95% intervals, change points; each point focusable, its run, commit, date and value shown on
  hover or focus), the table of runs behind it, the benchmark's other units, and the profiles a baseline kept.

Charts are SVG drawn here (no charting library, nothing to vendor): a few hundred points per chart need
no more. Every text from the history (benchmark names above all) is escaped for HTML, and the script only
ever sets ``textContent``: nothing from a name is executed as markup or script.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from benchpipe.core import benchfmt
from benchpipe.core.artifacts import Culprit
from benchpipe.core.changepoint import ChangePoint
from benchpipe.core.units import INSTRUCTIONS, TIME_PER_OP

ASSETS = Path(__file__).resolve().parent / "assets"


@dataclass
class Series:
    """One benchmark's unit on one branch: its runs, oldest first, and where its level changed."""

    module: str
    package: str
    benchmark: str
    unit: str
    branch: str
    run_id: list[str] = field(default_factory=list)
    time: list[str] = field(default_factory=list)
    commit: list[str] = field(default_factory=list)
    center: list[float] = field(default_factory=list)
    lo: list[float | None] = field(default_factory=list)
    hi: list[float | None] = field(default_factory=list)
    changes: list[ChangePoint] = field(default_factory=list)

    @property
    def id(self) -> str:
        """A file-name-safe id (the name itself may hold anything)."""
        key = "\x00".join((self.module, self.package, self.benchmark, self.unit, self.branch))
        return hashlib.sha1(key.encode()).hexdigest()[:16]


@dataclass
class Group:
    """One benchmark on one branch, as a reader thinks of it: its units' series, the time unit first."""

    name: str  # without the -N GOMAXPROCS suffix
    procs: str  # GOMAXPROCS from that suffix ("" when the name has none)
    series: list[Series]

    @property
    def primary(self) -> Series:
        return self.series[0]


def _unit_order(unit: str) -> tuple[int, str]:
    return (0 if unit in TIME_PER_OP else 1 if unit == INSTRUCTIONS else 2, unit)


def groups(series: list[Series]) -> list[Group]:
    """The series grouped per benchmark (module, package, name, branch), in the series' order, each group's
    units time first, then instructions, then the rest by name."""
    by: dict[tuple[str, str, str, str], list[Series]] = {}
    for s in series:
        by.setdefault((s.module, s.package, s.benchmark, s.branch), []).append(s)
    out = []
    for members in by.values():
        name = members[0].benchmark
        base = benchfmt.base_name(name)
        out.append(
            Group(
                base,
                name[len(base) + 1 :] if base != name else "",
                sorted(members, key=lambda s: _unit_order(s.unit)),
            )
        )
    return out


@dataclass
class Site:
    series: list[Series]
    commit_url: str = ""  # e.g. https://github.com/ORG/REPO/commit/{commit}
    moved_runs: int = 10
    baseline_branch: str = "main"
    profiles: dict[str, list[tuple[str, Path]]] = field(
        default_factory=dict
    )  # top-level name -> (label, file)
    store: str = ""
    generated: str = ""
    # the baseline branch's newest value of each (module, package, benchmark, unit)
    baseline_values: dict[tuple[str, str, str, str], float] = field(default_factory=dict)
    culprits: list[Culprit] = field(default_factory=list)  # recorded by the default-branch job, oldest first
