"""The ``report`` stage: render ``reports/report.md`` (Jinja2) and ``reports/metrics.json``.

Every number comes from the run: benchmark figures are queried from the
samples Parquet file with DuckDB; comparison and profile figures come from
the compare and profile stages' artifacts (:class:`CompareDoc`,
:class:`ProfileDoc`); trends and stability from the history. This stage only
loads those inputs and writes the outputs; the sections are built in
:mod:`benchpipe.render.report`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from benchpipe.core import selection
from benchpipe.core.artifacts import BenchMeta, CompareDoc, ProfileDoc, RecordDoc
from benchpipe.core.errors import BenchpipeError
from benchpipe.core.settings import Settings
from benchpipe.render import culprit as render_culprit
from benchpipe.render import report
from benchpipe.render.report import health, trends
from benchpipe.render.report.fmt import Files
from benchpipe.store import artifacts, atomic, culprits, history
from benchpipe.store import samples as store
from benchpipe.store.objstore import Store


def load(
    meta_path: Path, raw_path: Path, samples: Path, compare_json: Path, profile_dir: Path, settings: Settings
) -> report.Inputs:
    rows = store.query(
        samples,
        """
        SELECT package, benchmark, unit, list(value ORDER BY sample) AS vals, min(line) AS first
        FROM {src} GROUP BY package, benchmark, unit ORDER BY first, unit""",
    )
    return report.Inputs(
        meta=artifacts.read(meta_path, BenchMeta),
        raw=raw_path.read_text() if raw_path.exists() else "",
        samples=[(p, b, u, list(v)) for p, b, u, v, _ in rows],
        cmp=artifacts.read(compare_json, CompareDoc, missing_ok=True),
        prof=artifacts.read(profile_dir / "profile.json", ProfileDoc, missing_ok=True),
        settings=settings,
        profile_dir=profile_dir,
        root=Path.cwd(),
    )


CULPRITS = 10  # the newest culprits the report lists
RECENT = 10  # the runs whose medians the health section compares


def _history(ctx: dict[str, Any], hist: Store, settings: Settings, threshold: float, files: Files) -> None:
    """The history's part of the report: trend charts and benchmarks unstable across recent runs."""
    cfg = settings.report
    names = [q["name"] for q in ctx["quick"]]
    n = history.count_runs(hist)
    if not n:
        return
    ctx["history_note"] = f"{n} run(s) in {hist}"
    keep = [n for n in names if selection.selects(str(cfg.trend_benchmarks), n)][: cfg.trend_max]
    # one query for both: the charts' last trend_runs runs and the health section's last RECENT
    series = history.series_many(hist, names, "ns/op", last=max(int(cfg.trend_runs), RECENT), lists=True)
    ctx["trends"] = trends.trends(
        {
            n: {k: v[max(0, len(v) - int(cfg.trend_runs)) :] for k, v in series[n].items()}
            for n in keep
            if n in series
        },
        keep,
        files,
    )
    found = [c for c in culprits.load(hist) if c.status in culprits.RECORDED]
    ctx["culprits"] = [render_culprit.md_line(c, settings.publish.commit_url) for c in found[-CULPRITS:]]
    ctx["health"] += health.history_rows(
        {
            n: [float(x) for x in cols["center"][max(0, len(cols["center"]) - RECENT) :]]
            for n, cols in series.items()
        },
        threshold,
    )


def run(
    meta_path: Path,
    raw_path: Path,
    samples: Path,
    compare_json: Path,
    profile_dir: Path,
    settings: Settings,
    out_md: Path,
    out_metrics: Path,
    history_dir: Store | None = None,
    record_json: Path | None = None,
) -> dict[str, Any]:
    inp = load(meta_path, raw_path, samples, compare_json, profile_dir, settings)
    graphs = out_md.parent / "graphs"
    if graphs.exists():
        shutil.rmtree(graphs)
    graphs.mkdir(parents=True)
    files = Files()
    ctx = report.build_context(inp, files)
    ctx["trends"], ctx["history_note"], ctx["culprits"] = [], "", []
    if history_dir is not None:
        try:
            _history(ctx, history_dir, settings, inp.cmp.threshold_pct, files)
        except BenchpipeError as e:  # the report is written even when the store cannot be read
            ctx["history_note"] = f"the history could not be read: {e.message}"
    rec = artifacts.read(record_json, RecordDoc, missing_ok=True) if record_json is not None else RecordDoc()
    if rec.error:
        ctx["history_note"] = f"this run was not stored in the history ({rec.error})" + (
            f"; {ctx['history_note']}" if ctx["history_note"] else ""
        )
    for name, src in files.copies.items():
        shutil.copyfile(src, graphs / name)
    for name, text in files.texts.items():
        atomic.write_text(graphs / name, text)
    atomic.write_json(graphs / "index.json", sorted(p.name for p in graphs.glob("*.svg")))
    atomic.write_text(out_md, report.render(ctx))
    metrics: dict[str, Any] = {
        "verdict": ctx["verdict"],
        "go_s": inp.meta.go_s,
        "peak_rss_mb": round(inp.meta.peak_rss_kb / 1024, 1),
        "benchmarks": {},
    }
    for (name, unit), v in ctx["medians"].items():
        metrics["benchmarks"].setdefault(name, {})[unit] = v
    atomic.write_json(out_metrics, metrics)
    return ctx
