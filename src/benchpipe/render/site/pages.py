"""The dashboard's HTML pages, built as strings (a thousand pages in seconds); every value from the history
goes through :func:`esc` (text and attributes) and the page's script only sets ``textContent``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchpipe.core import changepoint
from benchpipe.core.verdict import pct_change
from benchpipe.render.site.chart import chart
from benchpipe.render.site.text import esc, esc_all, value

if TYPE_CHECKING:
    from benchpipe.render.site import Group, Series, Site


def pct(v: float | None) -> str:
    return "" if v is None else f"{v:+.1f}%"


def _change_cls(v: float | None) -> str:
    return "" if v is None or abs(v) < 0.05 else ("up" if v > 0 else "down")


def commit_link(site: Site, commit: str) -> str:
    """A commit's short form, linked through ``publish.commit_url`` when it is an http(s) template."""
    short = esc(commit[:12] or "-")
    url = site.commit_url
    if commit and url.startswith(("https://", "http://")) and "{commit}" in url:
        return f'<a href="{esc(url.replace("{commit}", commit))}">{short}</a>'
    return short


def head(title: str, prefix: str = "") -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{esc(title)}</title><link rel="stylesheet" href="{prefix}assets/site.css"></head><body>'
        f'<header><nav aria-label="site"><a href="{prefix}index.html">All benchmarks</a>'
        f'<a href="{prefix}feed.html">Change points</a></nav></header><main>'
    )


def foot(prefix: str = "") -> str:
    return f'</main><script src="{prefix}assets/site.js"></script></body></html>\n'


def sparkline(values: list[float], w: int = 120, h: int = 24) -> str:
    vals = values[-30:]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    step = w / max(1, len(vals) - 1)
    pts = " ".join(f"{i * step:.1f},{h - 2 - (v - lo) / span * (h - 4):.1f}" for i, v in enumerate(vals))
    return f'<svg class="spark" width="{w}" height="{h}" aria-hidden="true"><polyline points="{pts}"/></svg>'


def _options(label: str, key: str, values: set[str], title: str = "") -> str:
    opts = "".join(f'<option value="{esc(v)}">{esc(v or "(none)")}</option>' for v in sorted(values))
    return (
        f'<label for="f-{key}">{title or label}<select id="f-{key}"><option '
        f'value="">all</option>{opts}</select>'
        "</label>"
    )


def name_html(name: str) -> str:
    """A benchmark name, escaped, that wraps only after a ``/`` (the stylesheet keeps words whole)."""
    return "/<wbr>".join(esc_all(name.split("/")))


def index(site: Site, grouped: list[Group]) -> str:
    if not site.series:
        return (
            head("benchpipe: benchmarks") + '<h1>Benchmarks</h1><div class="empty" id="empty"><p>No runs are '
            f"recorded in the history{(' (' + esc(site.store) + ')') if site.store else ''} "
            "yet.</p><p>Record "
            "one with <code>invoke quick</code> (the pipeline's <code>record</code> stage appends every "
            "run), "
            "then publish again with <code>invoke publish</code>.</p></div>" + foot()
        )
    rows = "".join(_index_row(site, g) for g in grouped)
    controls = (
        '<div class="controls" role="search"><label for="q">Search by name<input id="q" type="search" '
        'autocomplete="off"></label>'
        + _options("Module", "module", {s.module for s in site.series})
        + _options("Package", "package", {s.package for s in site.series})
        + _options("Unit", "unit", {s.unit for s in site.series}, "Has unit")
        + _options("Branch", "branch", {s.branch for s in site.series})
        + f'<label><span><input id="moved" type="checkbox"> Moved only</span></label>'
        f'<label for="within">change point in the last N runs<input id="within" type="number" min="1" '
        f'value="{site.moved_runs}" style="width:5em"></label><span id="shown" class="muted" '
        'aria-live="polite"></span></div>'
    )
    cols = [
        ("Benchmark", "str"),
        ("Procs", "num"),
        ("Module", "str"),
        ("Package", "str"),
        ("Branch", "str"),
        ("Newest", "num"),
        ("vs previous", "num"),
        ("vs baseline", "num"),
        ("Trend", ""),
        ("Other units", ""),
        ("Newest change point", "num"),
        ("Runs", "num"),
    ]
    th = "".join(
        f'<th scope="col" data-type="{t}">' + (f'<button type="button">{c}</button>' if t else c) + "</th>"
        for c, t in cols
    )
    return (
        head("benchpipe: benchmarks") + f'<h1>Benchmarks</h1><p class="muted">{len(grouped)} benchmarks '
        f"({len(site.series)} series) from "
        f"{esc(site.store)}; published {esc(site.generated)}. Change against the baseline: the newest run of "
        f"branch <code>{esc(site.baseline_branch)}</code>.</p>{controls}"
        f'<table id="benchmarks"><thead><tr>{th}</tr></thead><tbody>{rows}</tbody></table>' + foot()
    )


def _baseline(site: Site, s: Series) -> float | None:
    return (
        site.baseline_values.get((s.module, s.package, s.benchmark, s.unit))
        if s.branch != site.baseline_branch
        else None
    )


def _index_row(site: Site, g: Group) -> str:
    s = g.primary
    new = s.center[-1]
    prev = pct_change(s.center[-2], new) if len(s.center) > 1 else None
    base = _baseline(site, s)
    vs_base = pct_change(base, new) if base is not None else None
    cp = s.changes[-1] if s.changes else None
    cp_cell = (
        f"{esc(s.time[cp.index][:10])} {pct(cp.change_pct)} {commit_link(site, s.commit[cp.index])}"
        if cp
        else ""
    )
    moved = [len(o.center) - o.changes[-1].index for o in g.series if o.changes]
    since = min(moved) if moved else ""
    others = "".join(
        f'<span>{value(o.center[-1], o.unit)} <a href="b/{o.id}.html">{esc(o.unit)}</a></span>'
        for o in g.series[1:]
    )
    search = esc(f"{s.benchmark} {s.package} {s.module}".lower())
    return (
        f'<tr data-search="{search}" data-module="{esc(s.module)}" data-package="{esc(s.package)}" '
        f'data-units="{esc(" ".join(o.unit for o in g.series))}" data-branch="{esc(s.branch)}" '
        f'data-since="{since}">'
        f'<td class="name" data-v="{esc(g.name)}"><a href="b/{s.id}.html">{name_html(g.name)}</a></td>'
        f'<td class="num" data-v="{g.procs}">{esc(g.procs)}</td>'
        f'<td data-v="{esc(s.module)}">{esc(s.module)}</td><td '
        f'data-v="{esc(s.package)}">{esc(s.package)}</td>'
        f'<td data-v="{esc(s.branch)}">{esc(s.branch)}</td>'
        f'<td class="num" data-v="{new}">{value(new, s.unit)} <span class="muted">{esc(s.unit)}</span></td>'
        f'<td class="num {_change_cls(prev)}" data-v="{"" if prev is None else prev}">{pct(prev)}</td>'
        f'<td class="num {_change_cls(vs_base)}" '
        f'data-v="{"" if vs_base is None else vs_base}">{pct(vs_base)}</td>'
        f'<td>{sparkline(s.center)}</td><td class="units-cell">{others}</td>'
        f'<td data-v="{"" if cp is None else -(len(s.center) - cp.index)}">{cp_cell}</td>'
        f'<td class="num" data-v="{len(s.center)}">{len(s.center)}</td></tr>'
    )


def feed(site: Site) -> str:
    items = sorted(
        ((s.time[cp.index], s, cp) for s in site.series for cp in s.changes), key=lambda t: t[0], reverse=True
    )
    rows = "".join(
        f'<tr><td>{esc(t[:19])}</td><td class="name"><a href="b/{s.id}.html">{esc(s.benchmark)}</a></td>'
        f"<td>{esc(s.unit)}</td><td>{esc(s.branch)}</td>"
        f'<td class="num {_change_cls(cp.change_pct)}">{pct(cp.change_pct)}</td>'
        f'<td class="num">{cp.p:.3f}</td><td>{commit_link(site, s.commit[cp.index])}</td>'
        f"<td>{esc(s.run_id[cp.index])}</td><td>{changepoint.status(s.changes, len(s.center), cp)}</td></tr>"
        for t, s, cp in items
    )
    body = (
        (
            f'<table id="feed"><caption>{len(items)} change point(s), newest first</caption><thead><tr>'
            + "".join(
                f'<th scope="col">{c}</th>'
                for c in (
                    "Date",
                    "Benchmark",
                    "Unit",
                    "Branch",
                    "Size",
                    "p",
                    "Starts at commit",
                    "Run",
                    "Since",
                )
            )
            + f"</tr></thead><tbody>{rows}</tbody></table>"
        )
        if items
        else '<p class="empty">No change point in the history.</p>'
    )
    return head("benchpipe: change points") + culprits_table(site) + "<h1>Change points</h1>" + body + foot()


def culprits_table(site: Site) -> str:
    """The culprits the default-branch job found (``benchpipe culprit``), newest range first: the result,
    the commit (linked) and its subject, the function named first, the change against its parent; a range
    where no single commit was proven. Every name and subject is escaped text."""
    found = [c for c in site.culprits if c.status in ("found", "range")]
    if not found:
        return ""
    rows = []
    for c in reversed(found):
        top = c.explanations[0].suspects[0].function if c.explanations and c.explanations[0].suspects else ""
        span = f"{esc(c.last_good[:12])}..{esc(c.first_bad[:12])}"
        where = commit_link(site, c.commit) if c.commit else span
        rows.append(
            f'<tr><td class="name">{esc(c.benchmark)}</td><td>{esc(c.unit)}</td><td>{where}</td>'
            f"<td>{esc(c.subject or c.why)}</td><td>{esc(top)}</td>"
            f'<td class="num {_change_cls(c.change_pct)}">{pct(c.change_pct)}</td></tr>'
        )
    cols = ("Benchmark", "Unit", "Culprit", "Subject", "Function", "Change vs its parent")
    return (
        f'<h1>Culprits</h1><table id="culprits"><caption>{len(found)} regression(s) named to a commit'
        "</caption><thead><tr>"
        + "".join(f'<th scope="col">{c}</th>' for c in cols)
        + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def series_page(site: Site, s: Series, group: Group, profiles: list[tuple[str, str]]) -> str:
    """One series' page: its chart and runs, and every unit of its benchmark (this one marked)."""
    others = "".join(
        (
            f'<div aria-current="page"><strong>{esc(o.unit)}</strong>'
            if o is s
            else f'<div><a href="{o.id}.html">{esc(o.unit)}</a>'
        )
        + f" {sparkline(o.center)}"
        f'<span class="muted"> newest {value(o.center[-1], o.unit)}</span></div>'
        for o in group.series
    )
    links = "".join(f'<li><a href="{esc(href)}">{esc(label)}</a></li>' for label, href in profiles)
    times, run_ids = esc_all([t[:19] for t in s.time]), esc_all(s.run_id)
    commits = [commit_link(site, c) for c in s.commit]
    runs = "".join(
        f"<tr><td>{times[i]}</td><td>{commits[i]}</td><td>{run_ids[i]}</td>"
        f'<td class="num">{value(s.center[i], s.unit)}</td>'
        f'<td class="num">{value(s.lo[i], s.unit)} – {value(s.hi[i], s.unit)}</td></tr>'
        for i in range(len(s.center))
    )
    title = f"{s.benchmark} ({s.unit})"
    procs = f" · GOMAXPROCS {esc(group.procs)}" if group.procs else ""
    return (
        head(f"benchpipe: {title}", "../") + f"<h1>{name_html(group.name)}</h1>"
        f'<p class="muted">{esc(s.unit)}{procs} · {esc(s.package)} · {esc(s.module)} · branch '
        f"{esc(s.branch)} · "
        f"{len(s.center)} run(s), {len(s.changes)} change point(s)</p>"
        + chart(s)
        + '<p id="tip" aria-live="polite" class="muted">Hover or focus a point for its run.</p>'
        + f'<h2>Every unit of this benchmark</h2><div class="units" id="units">{others}</div>'
        + (f"<h2>Profiles kept with a baseline</h2><ul>{links}</ul>" if links else "")
        + '<table id="runs"><caption>Every run (the chart\'s data)</caption><thead><tr>'
        '<th scope="col">Date</th>'
        '<th scope="col">Commit</th><th scope="col">Run</th><th scope="col">Median</th>'
        f'<th scope="col">95% interval</th></tr></thead><tbody>{runs}</tbody></table>' + foot("../")
    )
