"""The published dashboard: a static site of the whole history (``benchpipe publish``).

Plain files that any web server or GitHub Pages serves and that open from disk without a network:

* ``index.html`` — one row per benchmark (module, package, name, GOMAXPROCS, branch: :class:`Group`) in
  one real table: its time unit first (newest value in benchstat's human units, change against the
  previous run and against the baseline branch's newest run, a sparkline, the newest change point), its
  other units in a compact cell; search, filters (module, package, branch, and a unit view: the
  benchmarks that have it), sorting by any column and a "moved" view (a change point of any of its units
  in the last N runs), done by ``assets/site.js`` on the rendered rows; names wrap only at ``/``;
* ``feed.html`` — every change point, newest first, with its size, p-value, commit (linked through
  ``publish.commit_url``) and whether it held or was later reversed;
* ``b/<id>.html`` — one series (a benchmark's name links its time unit's page): its whole history as an SVG chart (medians, 95% intervals, change points;
  each point focusable, its run, commit, date and value shown on hover or focus), the table of runs
  behind it, the benchmark's other units, and the profiles a baseline kept.

Charts are SVG drawn here (no charting library, nothing to vendor): a few hundred points per chart need
no more. Every text from the history (benchmark names above all) is escaped for HTML, and the script only
ever sets ``textContent``: nothing from a name is executed as markup or script.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from benchpipe.core import benchfmt
from benchpipe.core.changepoint import ChangePoint
from benchpipe.core.units import INSTRUCTIONS, TIME_PER_OP
from benchpipe.render.site import pages
from benchpipe.store import atomic

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
        out.append(Group(base, name[len(base) + 1:] if base != name else "",
                         sorted(members, key=lambda s: _unit_order(s.unit))))
    return out


@dataclass
class Site:
    series: list[Series]
    commit_url: str = ""  # e.g. https://github.com/ORG/REPO/commit/{commit}
    moved_runs: int = 10
    baseline_branch: str = "main"
    profiles: dict[str, list[tuple[str, Path]]] = field(default_factory=dict)  # top-level name -> (label, file)
    store: str = ""
    generated: str = ""
    # the baseline branch's newest value of each (module, package, benchmark, unit)
    baseline_values: dict[tuple[str, str, str, str], float] = field(default_factory=dict)


def write(site: Site, out: Path) -> dict[str, int]:
    """Write the site into ``out`` (replaced whole); returns the sizes of what was written."""
    tmp = out.with_name(f".{out.name}.new")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "b").mkdir(parents=True)
    shutil.copytree(ASSETS, tmp / "assets")
    links = _copy_profiles(site.profiles, tmp / "profiles")
    grouped = groups(site.series)
    index = pages.index(site, grouped)
    atomic.write_text(tmp / "index.html", index)
    atomic.write_text(tmp / "feed.html", pages.feed(site))
    for g in grouped:
        for s in g.series:
            page = pages.series_page(site, s, g, links.get(benchfmt.top_level(s.benchmark), []))
            (tmp / "b" / f"{s.id}.html").write_text(page, encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return {"series": len(site.series), "benchmarks": len(grouped), "index_bytes": len(index.encode()),
            "pages": len(site.series)}


def _copy_profiles(profiles: dict[str, list[tuple[str, Path]]], dest: Path) -> dict[str, list[tuple[str, str]]]:
    """Copy the baselines' profile files into the site; top-level benchmark name -> (label, link from b/)."""
    links: dict[str, list[tuple[str, str]]] = {}
    for name, items in profiles.items():
        for label, src in items:
            if not src.is_file():
                continue
            d = dest / hashlib.sha1(str(src).encode()).hexdigest()[:12]
            d.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, d / src.name)
            links.setdefault(name, []).append((label, f"../profiles/{d.name}/{src.name}"))
    return links
