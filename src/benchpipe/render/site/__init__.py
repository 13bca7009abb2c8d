"""The published dashboard: a static site of the whole history (``benchpipe publish``).

Plain files that any web server or GitHub Pages serves and that open from disk without a network:

* ``index.html`` — every series (module, package, benchmark, unit, branch) in one real table: newest
  value, change against the previous run and against the baseline branch's newest run, a sparkline, the
  newest change point; search, filters (module, package, unit, branch), sorting by any column and a
  "moved" view (a change point in the last N runs), done by ``assets/site.js`` on the rendered rows;
* ``feed.html`` — every change point, newest first, with its size, p-value, commit (linked through
  ``publish.commit_url``) and whether it held or was later reversed;
* ``b/<id>.html`` — one series: its whole history as an SVG chart (medians, 95% intervals, change points;
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
    by_benchmark: dict[tuple[str, str, str, str], list[Series]] = {}
    for s in site.series:
        by_benchmark.setdefault((s.module, s.package, s.benchmark, s.branch), []).append(s)
    index = pages.index(site)
    atomic.write_text(tmp / "index.html", index)
    atomic.write_text(tmp / "feed.html", pages.feed(site))
    for s in site.series:
        siblings = [o for o in by_benchmark[(s.module, s.package, s.benchmark, s.branch)] if o is not s]
        page = pages.series_page(site, s, siblings, links.get(benchfmt.top_level(s.benchmark), []))
        (tmp / "b" / f"{s.id}.html").write_text(page, encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return {"series": len(site.series), "index_bytes": len(index.encode()), "pages": len(site.series)}


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
