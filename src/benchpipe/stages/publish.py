"""``benchpipe publish``: the whole history as a static site (see :mod:`benchpipe.render.site`).

Reads every summary row of the history store (local or object store), splits it into series (module,
package, benchmark, unit, branch), finds each series' change points over its whole history
(:func:`benchpipe.core.changepoint.changes`), takes the baseline branch's newest values and the
profiles the saved baselines kept (``baselines/*/profile/**/{cpu,diff}.svg``), and writes the site.
An empty history gives a site whose index says how to record a run.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchpipe.core import benchfmt, grouping
from benchpipe.core.changepoint import changes
from benchpipe.core.errors import BenchpipeError
from benchpipe.core.settings import PublishSection
from benchpipe.core.units import finite
from benchpipe.render import site
from benchpipe.render.site import pages
from benchpipe.store import atomic, culprits, history
from benchpipe.store.objstore import Store


def series_of(cols: dict[str, Any]) -> list[site.Series]:
    """The store's rows (ordered by series, then time) as series with their change points."""
    if not cols or not len(cols["center"]):
        return []
    keys = list(
        zip(*(cols[k].tolist() for k in ("module", "package", "benchmark", "unit", "branch")), strict=True)
    )
    out: list[site.Series] = []
    for key, start, end in grouping.spans(keys):
        s = site.Series(*key)
        s.run_id, s.time, s.commit = (cols[k][start:end].tolist() for k in ("run_id", "time", "commit"))
        s.center = [float(v) for v in cols["center"][start:end]]
        s.lo, s.hi = ([finite(v) for v in cols[k][start:end]] for k in ("lo", "hi"))
        s.commit = [c or "" for c in s.commit]
        s.changes = changes(s.center)
        out.append(s)
    return out


def kept_profiles(root: Path) -> dict[str, list[tuple[str, Path]]]:
    """Top-level benchmark name -> the call graphs saved baselines kept for it (label, file)."""
    out: dict[str, list[tuple[str, Path]]] = {}
    for svg in sorted(root.glob("baselines/*/profile/*/*/*.svg")):
        name, baseline = svg.parent.name, svg.parents[3].name
        label = (
            f"{'CPU call graph' if svg.stem == 'cpu' else 'differential call graph'} (baseline {baseline})"
        )
        out.setdefault(name, []).append((label, svg))
    return out


def run(store: Store, out: Path, cfg: PublishSection, root: Path = Path(".")) -> dict[str, int]:
    series = series_of(history.everything(store))
    newest = {}
    for s in series:
        if s.branch == cfg.baseline_branch:
            newest[(s.module, s.package, s.benchmark, s.unit)] = s.center[-1]
    return write(
        site.Site(
            series=series,
            commit_url=cfg.commit_url,
            moved_runs=cfg.moved_runs,
            baseline_branch=cfg.baseline_branch,
            profiles=kept_profiles(root),
            store=store.url,
            generated=datetime.now(UTC).isoformat(timespec="seconds"),
            baseline_values=newest,
            culprits=culprits.load(store),
        ),
        out,
    )


MARKER = ".benchpipe-site"  # in every site written: a directory without it is never deleted


def check_out(out: Path) -> Path:
    """``out`` (resolved) when a site may be written there: absent, empty, or a site written before (it holds
    :data:`MARKER`). Any other directory, or a file, is one line and exit 2, and nothing is deleted."""
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise BenchpipeError(f"publish: {out} is a file; --out must be a directory for the site")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise BenchpipeError(
            f"publish: {out} is not empty and is not a site benchpipe wrote ({MARKER} missing): "
            "nothing deleted; choose an empty or new directory"
        )
    return out


def write(s: site.Site, out: Path) -> dict[str, int]:
    """Write the site into ``out`` (a previous site there is replaced whole: :func:`check_out`); returns the
    sizes of what was written."""
    out = check_out(out)
    tmp = out.with_name(f".{out.name}.new")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "b").mkdir(parents=True)
    (tmp / MARKER).write_text(
        "a dashboard written by benchpipe publish; the next publish replaces this directory\n"
    )
    shutil.copytree(site.ASSETS, tmp / "assets")
    links = _copy_profiles(s.profiles, tmp / "profiles")
    grouped = site.groups(s.series)
    index = pages.index(s, grouped)
    atomic.write_text(tmp / "index.html", index)
    atomic.write_text(tmp / "feed.html", pages.feed(s))
    for g in grouped:
        for one in g.series:
            page = pages.series_page(s, one, g, links.get(benchfmt.top_level(one.benchmark), []))
            (tmp / "b" / f"{one.id}.html").write_text(page, encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return {
        "series": len(s.series),
        "benchmarks": len(grouped),
        "index_bytes": len(index.encode()),
        "pages": len(s.series),
    }


def _copy_profiles(
    profiles: dict[str, list[tuple[str, Path]]], dest: Path
) -> dict[str, list[tuple[str, str]]]:
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
