"""The ``report`` stage: render ``reports/report.md`` (Jinja2) and ``reports/metrics.json``.

Every number comes from the run: benchmark figures are queried from the
samples Parquet file with DuckDB; comparison and profile figures come from
the compare and profile stages' JSON outputs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import jinja2

from benchpipe.core import benchfmt as bfmt
from benchpipe.core import comparable
from benchpipe.core.stats import Summary
from benchpipe.core.units import format_value, scale_for, tidy
from benchpipe.core.verdict import Options, Row
from benchpipe.render.text import md_escape
from benchpipe.stages.profile import GC_DEFAULTS
from benchpipe.store import atomic, cachedir
from benchpipe.store import samples as store

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "render" / "templates"


def code_escape(s: Any) -> str:
    """Text safe inside a single-backtick code span in a table."""
    return str(s).replace("`", "'").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def fmt_bytes(n: float) -> str:
    """Bytes with a binary prefix (benchstat's scaling)."""
    return format_value(n, scale_for("B", [n])) + "B"


def fmt_median(v: float | None, unit: str) -> str:
    """A median for the report's tables, in the unit as written."""
    if v is None:
        return ""
    if unit == "ns/op" and v < 100:
        return f"{v:,.1f}"
    if v >= 1000 or v == int(v):
        return f"{v:,.0f}"
    return f"{v:.4g}"


_SIZE = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}
_TIME = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9}


def parse_quantity(s: str | float, unit: str) -> float:
    """'1ms' -> 1e6 (ns) for ns/op; '10KB' -> 10240 for B/op; plain numbers as they are."""
    if isinstance(s, int | float):
        return float(s)
    m = re.fullmatch(r"\s*([\d.]+)\s*([a-zA-Zµ]*)\s*", str(s))
    if not m:
        raise ValueError(f"cannot read quantity {s!r}")
    num, suf = float(m.group(1)), m.group(2)
    if not suf:
        return num
    if suf.lower() in _SIZE:
        return num * _SIZE[suf.lower()]
    if suf in _TIME:
        return num * _TIME[suf]
    raise ValueError(f"unknown suffix in {s!r}")


def evaluate_targets(targets: list[dict[str, Any]], med: dict[tuple[str, str], float]) -> list[dict[str, Any]]:
    out = []
    for t in targets:
        unit = t.get("unit", "ns/op")
        pat = re.compile(t["benchmark"])
        vals = [v for (name, u), v in med.items() if u == unit and pat.search(name)]
        target, critical = parse_quantity(t["target"], unit), parse_quantity(t["critical"], unit)
        if not vals:
            measured, status = "not measured", "—"
        else:
            worst = max(vals)
            measured = fmt_median(worst, unit) + f" {unit}"
            status = "✅ PASS" if worst < target else "⚠️ WARN" if worst < critical else "❌ FAIL"
        out.append({"metric": t["metric"], "target": t["target"], "critical": t["critical"],
                    "measured": measured, "status": status})
    return out


def scaling_rows(centers: dict[tuple[str, str, str], float], rate_unit: str) -> list[dict[str, Any]]:
    """Benchmarks run at several GOMAXPROCS values (``-cpu``): ns/op, a rate unit and the speed-up vs 1."""
    procs: dict[tuple[str, str], dict[int, str]] = {}
    for pkg, name, _ in centers:
        procs.setdefault((pkg, bfmt.base_name(name)), {})[bfmt.procs(name)] = name
    out = []
    for (pkg, base), by_procs in sorted(procs.items(), key=lambda kv: kv[0][1]):
        if len(by_procs) < 2:
            continue
        one = centers.get((pkg, by_procs.get(1, ""), "ns/op"))
        for n in sorted(by_procs):
            ns = centers.get((pkg, by_procs[n], "ns/op"))
            rate = centers.get((pkg, by_procs[n], rate_unit)) if rate_unit else None
            out.append({"name": base, "procs": n, "ns": fmt_median(ns, "ns/op"),
                        "rate": fmt_median(rate, rate_unit) if rate is not None else "",
                        "speedup": f"{one / ns:.2f}×" if one and ns else ""})
    return out


def _summary(d: dict[str, Any]) -> Summary:
    return Summary(d["center"] if d["center"] is not None else float("nan"),
                   d["lo"] if d["lo"] is not None else float("-inf"),
                   d["hi"] if d["hi"] is not None else float("inf"), d["n"])


def _cmp_context(cmp: dict[str, Any]) -> dict[str, Any]:
    from benchpipe.render.text import center_cells, delta_text

    table = []
    for r in cmp.get("rows", []):
        so, sn = _summary(r["old"]), _summary(r["new"])
        row = Row(r.get("package", ""), r["benchmark"], r["unit"], so, sn, r["delta_pct"], r["p"],
                  r["significant"], r["verdict"], r.get("threshold_pct", 0), r.get("higher_is_better", False))
        change = delta_text(row)
        if r["p"] is not None:
            change += f" (p={r['p']:.3f})"
        old_cell, new_cell = center_cells(row)
        table.append({"name": r["benchmark"], "unit": tidy(r["unit"])[0], "old": old_cell, "new": new_cell,
                      "change": change, "verdict": r["verdict"]})
    be, ce = cmp.get("baseline_env") or {}, cmp.get("current_env") or {}
    bs, cs = comparable.from_meta(be), comparable.from_meta(ce)
    env_rows = [{"label": lab, "old": bs.get(k, "?"), "new": cs.get(k, "?")} for k, lab in comparable.SHAPING]
    env_rows += [{"label": lab, "old": str(be.get(k, "?")), "new": str(ce.get(k, "?"))}
                 for k, lab in [("module", "Module"), ("commit", "Commit"), ("start_time", "Time")]]
    if cmp.get("paired"):
        title = (f"Paired comparison: base `{code_escape(cmp['paired'].get('base', '?'))[:12]}` vs head "
                 f"`{code_escape(cmp['paired'].get('head', '?'))[:12]}`")
    else:
        title = (f"Baseline `{code_escape(cmp.get('baseline', '?'))}` ({be.get('start_time') or 'unknown time'}, "
                 f"commit `{code_escape(be.get('commit') or '?')[:12]}`) vs current")
    return {**cmp, "table": table, "env_rows": env_rows, "baseline_env": be, "title": title}


def build_context(meta: dict[str, Any], samples: Path, cmp: dict[str, Any], prof: dict[str, Any],
                  params: dict[str, Any], report_dir: Path, profile_dir: Path) -> dict[str, Any]:
    opts = Options.from_params(params.get("compare"))
    rows = store.query(samples, """
        SELECT package, benchmark, unit, list(value ORDER BY sample) AS vals, min(line) AS first
        FROM {src} GROUP BY package, benchmark, unit ORDER BY first, unit""")
    n_samples = sum(len(r[3]) for r in rows)
    # Every center in the report (tables, targets, metrics.json) is Options.summary's: one owner.
    med: dict[tuple[str, str], float] = {}
    by_pkg: dict[tuple[str, str, str], float] = {}
    order: list[str] = []
    for pkg, name, unit, vals, _ in rows:
        center = opts.summary(name, unit, list(vals)).center
        med[(name, unit)] = center
        by_pkg[(pkg, name, unit)] = center
        if name not in order:
            order.append(name)
    quick = [{"name": n, "ns": fmt_median(med.get((n, "ns/op")), "ns/op"), "bytes": fmt_median(med.get((n, "B/op")), "B/op"),
              "allocs": fmt_median(med.get((n, "allocs/op")), "allocs/op")} for n in order]
    custom_units = sorted({u for (_, u) in med if u not in ("ns/op", "B/op", "allocs/op")})
    custom = [{"name": n, "vals": {u: fmt_median(med[(n, u)], u) for u in custom_units if (n, u) in med}}
              for n in order if any((n, u) in med for u in custom_units)]
    rate_unit = next((u for u in custom_units if u.endswith("/s")), "")
    scaling = scaling_rows(by_pkg, rate_unit)
    # Detailed results: raw lines grouped by package.
    detailed = []
    raw = Path(meta.get("_raw_path", ""))
    if raw.exists():
        groups: dict[str, list[str]] = {}
        pkg = ""
        for line in raw.read_text().splitlines():
            if line.startswith("pkg: "):
                pkg = line[5:].strip()
            if line.startswith("Benchmark"):
                groups.setdefault(pkg, []).append(line)
        for pkg, lines in groups.items():
            text = "\n".join(lines)
            fence = "```"
            while fence in text:
                fence += "`"
            detailed.append({"title": pkg or "results", "text": text, "fence": fence})
    # Comparison.
    cmp_ctx = _cmp_context(cmp) if cmp.get("rows") else None
    flagged = [f"{r['benchmark']} ({r['unit']} {r['delta_pct']:+.1f}%)" if r["delta_pct"] is not None
               else f"{r['benchmark']} ({r['unit']})" for r in cmp.get("rows", []) if r["verdict"] == "regression"]
    warned = [f"{r['benchmark']} {r['unit']}: {'; '.join(r['warnings']) or 'worse but within threshold'}"
              for r in cmp.get("rows", []) if r["verdict"] == "warn"]
    # Profiles: one entry per profiled benchmark.
    profiles = []
    alloc_hot: list[dict[str, Any]] = []
    mem_tables: dict[str, list[dict[str, Any]]] | None = None
    gc_levels = []
    diffs = []
    graphs = report_dir / "graphs"
    for p in prof.get("benchmarks", []):
        bdir = profile_dir / p["dir"]
        slug = re.sub(r"[^A-Za-z0-9_.-]", "_", p["dir"])
        entry: dict[str, Any] = {"package": p["package"], "benchmark": p["benchmark"], "flat": [], "cum": [],
                                 "svg": "", "trace": os.path.relpath(bdir / "trace.out", Path.cwd()),
                                 "iterations": p.get("iterations", 0), "own": [], "samples": 0,
                                 "per_op": False, "harness_pct": 0.0}
        cpu = p.get("cpu")
        if cpu:
            for key in ("flat", "cum", "own"):
                entry[key] = [{**f, "where": f"{Path(f['file']).name}:{f['line']}"} for f in cpu.get(key, [])[:8]]
            entry["samples"] = cpu.get("samples", 0)
            entry["per_op"] = bool(cpu.get("ns_per_op"))
            entry["ns_per_op"] = cpu.get("ns_per_op")
            entry["harness_pct"] = cpu.get("harness_pct", 0.0)
        if p.get("graphs", {}).get("cpu"):
            dest = graphs / f"cpu-{slug}.svg"
            shutil.copyfile(bdir / p["graphs"]["cpu"], dest)
            entry["svg"] = os.path.relpath(dest, report_dir)
        profiles.append(entry)
        mem = p.get("mem")
        if mem:
            space = mem["alloc_space"]["top"][:5]
            objs = mem["alloc_objects"]["top"][:5]
            per_op = bool(mem.get("per_op"))
            alloc_hot += [{**h, "benchmark": p["benchmark"], "per_op": per_op} for h in space[:2]]
            mem_tables = mem_tables or {"space": [], "objects": [], "setup": []}
            for key, rows_, unit in (("space", space, "B/op"), ("objects", objs, "allocs/op")):
                mem_tables[key] += [{**h, "benchmark": p["benchmark"], "where": f"{Path(h['file']).name}:{h['line']}",
                                     "value": f"{h['flat']:,.1f} {unit}" if per_op else f"{h['flat']:,} (whole run)"}
                                    for h in rows_]
            if per_op:
                setup_b, setup_n = mem["alloc_space"].get("setup", 0.0), mem["alloc_objects"].get("setup", 0.0)
                mem_tables["setup"].append({"benchmark": p["benchmark"], "bytes": fmt_bytes(setup_b),
                                            "objects": f"{setup_n:,.0f}", "loop": not space,
                                            "iterations": mem.get("iterations")})
        gc_levels.append((p.get("gc_pressure", "Low"), p["benchmark"], (cpu or {}).get("gc_alloc_pct", 0.0),
                          p.get("alloc_bytes_per_s", 0.0)))
        d = p.get("diff") or {}
        if d.get("rows"):
            svg = ""
            if d.get("graph"):
                dest = graphs / f"diff-{slug}.svg"
                shutil.copyfile(bdir / d["graph"], dest)
                svg = os.path.relpath(dest, report_dir)
            diffs.append({"benchmark": p["benchmark"], "base_ns": d["base_ns_per_op"], "cur_ns": d["cur_ns_per_op"],
                          "svg": svg, "rows": [{**r, "top": i == 0} for i, r in enumerate(d["rows"][:10])]})
    rank = {"Low": 0, "Medium": 1, "High": 2}
    if gc_levels:
        lvl = max(gc_levels, key=lambda g: (rank.get(g[0], 0), g[2]))
        th = {**GC_DEFAULTS, **((params.get("profile") or {}).get("gc_thresholds") or {})}
        gc = {"level": lvl[0], "detail": f"worst: {lvl[1]}, {lvl[2]:.1f}% of CPU samples in GC and allocation, "
                                         f"{lvl[3] / 1e6:.0f} MB/s allocated; High at >= {th['high_gc_pct']}% or "
                                         f"{th['high_mb_per_s']} MB/s, Medium at >= {th['medium_gc_pct']}% or "
                                         f"{th['medium_mb_per_s']} MB/s"}
    else:
        gc = {"level": "unknown", "detail": "no profile collected"}
    alloc_hot.sort(key=lambda h: -h["flat"])
    # Without a memory profile, the run's own B/op and allocs/op say which benchmarks allocate most.
    per_op = sorted(((med[(n, "B/op")], med.get((n, "allocs/op"), 0.0), n) for n in order
                     if med.get((n, "B/op"))), reverse=True)[:3]
    alloc_per_op = [{"benchmark": n, "bytes": fmt_median(b, "B/op"), "allocs": fmt_median(a, "allocs/op")}
                    for b, a, n in per_op]
    # Recommendations, from measured facts only.
    rec_opt = []
    # Ranked by the module's own code (the harness and the benchmark's own timer are overhead, not targets).
    own_hot = sorted(((f, p) for p in profiles for f in p["own"][:1]), key=lambda fp: -fp[0]["flat_pct"])
    for f, p in own_hot[:10]:  # one per profiled benchmark, the costliest share first
        cost = (f"costs {f['flat_ns_op']:,.0f} ns of {p['ns_per_op']:,.0f} ns/op ({f['flat_pct']:.1f}%)"
                if p["per_op"] else f"takes {f['flat_pct']:.1f}% of CPU")
        rec_opt.append(f"`{code_escape(f['function'])}` {cost} in {md_escape(p['benchmark'])} "
                       f"({md_escape(f['where'])}): the first place to look in your code.")
    for p in profiles:
        if p["harness_pct"] >= 10:
            rec_opt.append(f"Measurement overhead: timer and testing-harness frames (`time.Now`, "
                           f"`runtime.nanotime`, `testing.*`) take {p['harness_pct']:.1f}% of CPU in "
                           f"{md_escape(p['benchmark'])}: its ns/op includes the benchmark's own timing.")
    for d in diffs:
        top = d["rows"][0]
        rec_opt.append(f"{md_escape(d['benchmark'])} got slower mostly in `{code_escape(top['function'])}` "
                       f"({top['d_own']:+.0f} ns/op of own-code time, differential profile below).")
    for h in alloc_hot[:2]:
        amount = (f"{h['flat']:,.1f} B/op ({h['flat_pct']:.1f}% of the loop's bytes) in {md_escape(h['benchmark'])}"
                  if h.get("per_op") else f"{h['flat_pct']:.1f}% of bytes")
        rec_opt.append(f"`{code_escape(h['function'])}` allocates {amount}: consider reusing buffers or "
                       "preallocating.")
    if not profiles and alloc_per_op:
        a = alloc_per_op[0]
        rec_opt.append(f"{md_escape(a['benchmark'])} allocates the most per op ({a['bytes']} B/op in {a['allocs']} "
                       f"allocs/op): `invoke profile --bench '{code_escape(bfmt.base_name(a['benchmark']))}'` shows "
                       "where.")
    if gc["level"] in ("Medium", "High"):
        rec_opt.append(f"GC pressure is {gc['level']}: reduce allocations per op.")
    rec_reg = [f"{md_escape(f)} regressed beyond {cmp.get('threshold_pct', 10)}%." for f in flagged]
    if cmp.get("rows"):
        rec_base = (["The regressions above block the baseline update; if they are intended, save a new baseline "
                     "with `invoke baseline`."] if flagged else
                    ["No regression: if the changes are intentional, `invoke baseline` records this run as the "
                     "new baseline."])
    else:
        rec_base = [f"No baseline to compare with: `invoke baseline --name {md_escape(cmp.get('baseline') or 'main')}`"
                    " saves this run."]
    targets = evaluate_targets((params.get("report") or {}).get("targets", []), med)
    peak = meta.get("peak_rss_kb", 0)
    return {
        "run": meta, "n_samples": n_samples, "n_benchmarks": len(order), "quick": quick, "custom": custom,
        "custom_units": custom_units, "scaling": scaling, "alloc_per_op": alloc_per_op, "scaling_rate_unit": rate_unit, "detailed": detailed, "cmp": cmp_ctx,
        "cmp_note": cmp.get("note", "No baseline to compare with."),
        "verdict": cmp.get("verdict", "PASS") if cmp.get("rows") else "PASS (no baseline)",
        "threshold": cmp.get("threshold_pct", 10), "alpha": cmp.get("alpha", 0.05),
        "flagged": flagged, "warned": warned, "peak_rss": f"{peak / 1024:.1f} MB", "gc": gc,
        "alloc_hot": alloc_hot[:3], "mem_tables": mem_tables, "profiles": profiles, "prof": prof, "diffs": diffs,
        "prof_notes": prof.get("notes", []), "rec_opt": rec_opt, "rec_reg": rec_reg, "rec_base": rec_base,
        "targets": targets, "medians": med, "health": health_rows(cmp, prof),
    }


def history_health(hist: Path, names: list[str], threshold: float) -> list[dict[str, str]]:
    """Benchmark health from the history: benchmarks whose ns/op median moved between recent runs."""
    from benchpipe.core import health
    from benchpipe.store import history

    every = history.series_many(hist, names, "ns/op", last=10)
    centers = {n: [float(x) for x in cols["center"]] for n, cols in every.items()}
    return [_health_row(f) for f in health.from_history(centers, "ns/op", threshold)]


def _health_row(f: Any) -> dict[str, str]:
    return {**f.to_json(), "name": f.benchmark + (f" {f.unit}" if f.unit else "")}


def health_rows(cmp: dict[str, Any], prof: dict[str, Any]) -> list[dict[str, str]]:
    """The Benchmark health section: the compare stage's findings plus measurement overhead from profiles."""
    from benchpipe.core import health

    found = [health.Finding.from_json(f) for f in cmp.get("health") or []]
    harness = {(p["package"], p["benchmark"]): float((p.get("cpu") or {}).get("harness_pct", 0.0))
               for p in prof.get("benchmarks", [])}
    found += health.from_profiles(harness)
    return [_health_row(f) for f in found]


def trends(hist: Path, names: list[str], report_cfg: dict[str, Any], graphs: Path, report_dir: Path) -> list[dict[str, Any]]:
    """Trend charts with change points for the run's benchmarks (ns/op), from the history."""
    from benchpipe.core import changepoint
    from benchpipe.render import trend
    from benchpipe.store import history

    pattern = re.compile(str(report_cfg.get("trend_benchmarks", ".")))
    keep = [n for n in names if pattern.search(n)][: int(report_cfg.get("trend_max", 8))]
    if not keep:
        return []
    out = []
    every = history.series_many(hist, keep, "ns/op", last=int(report_cfg.get("trend_runs", 30)))
    for name in keep:
        cols = every.get(name)
        if not cols or not len(cols["center"]):
            continue
        pts = [{"run_id": str(cols["run_id"][i]), "time": str(cols["time"][i]), "commit": str(cols["commit"][i]),
                "center": float(cols["center"][i]), "lo": _opt(cols["lo"][i]), "hi": _opt(cols["hi"][i])}
               for i in range(len(cols["center"]))]
        cps = changepoint.detect([p["center"] for p in pts]) if len(pts) >= 6 else []
        slug = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        dest = graphs / f"trend-{slug}.svg"
        atomic.write_text(dest, trend.svg(name, "ns/op", pts, cps))
        out.append({"benchmark": name, "svg": os.path.relpath(dest, report_dir), "runs": len(pts),
                    "changes": [{"run_id": pts[c.index]["run_id"], "commit": pts[c.index]["commit"][:12],
                                 "time": pts[c.index]["time"], "change_pct": c.change_pct, "p": c.p,
                                 "before": c.before, "after": c.after} for c in cps]})
    return out


def _opt(x: Any) -> float | None:
    """A nullable float column value (masked or NaN) as float or None."""
    if x is None or getattr(x, "mask", False) is True or type(x).__name__ == "MaskedConstant":
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if v != v else v


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """The compiled template, kept in the user's cache (Jinja checks it against the template's source)."""
    path = cachedir.cache_root() / "templates"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # no writable cache: compile every time
    return jinja2.FileSystemBytecodeCache(str(path))


def render(ctx: dict[str, Any]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=False,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             bytecode_cache=_bytecode_cache())
    env.filters["md"] = lambda s: md_escape(str(s))
    env.filters["code"] = code_escape
    text = env.get_template("report.md.j2").render(**ctx)
    return re.sub(r"\n{3,}", "\n\n", text)


def run(meta_path: Path, raw_path: Path, samples: Path, compare_json: Path, profile_dir: Path,
        params: dict[str, Any], out_md: Path, out_metrics: Path, history_dir: Path | None = None) -> dict[str, Any]:
    meta = json.loads(meta_path.read_text())
    meta["_raw_path"] = str(raw_path)
    cmp = atomic.read_json(compare_json)
    pj = profile_dir / "profile.json"
    prof = atomic.read_json(pj)
    graphs = out_md.parent / "graphs"
    if graphs.exists():
        shutil.rmtree(graphs)
    graphs.mkdir(parents=True)
    ctx = build_context(meta, samples, cmp, prof, params, out_md.parent, profile_dir)
    report_cfg = params.get("report") or {}
    ctx["trends"], ctx["history_note"] = [], ""
    if history_dir is not None and history_dir.exists():

        n_runs = len(list((history_dir / "runs").glob("*.parquet")))
        ctx["history_note"] = f"{n_runs} run(s) in {history_dir}"
        ctx["trends"] = trends(history_dir, [q["name"] for q in ctx["quick"]], report_cfg, graphs, out_md.parent)
        ctx["health"] += history_health(history_dir, [q["name"] for q in ctx["quick"]],
                                        float(cmp.get("threshold_pct") or Options.from_params(params.get("compare"))
                                              .threshold_pct))
    atomic.write_json(graphs / "index.json", sorted(p.name for p in graphs.glob("*.svg")))
    atomic.write_text(out_md, render(ctx))
    metrics: dict[str, Any] = {"verdict": ctx["verdict"], "go_s": meta.get("go_s"),
                               "peak_rss_mb": round(meta.get("peak_rss_kb", 0) / 1024, 1), "benchmarks": {}}
    for (name, unit), v in ctx["medians"].items():
        metrics["benchmarks"].setdefault(name, {})[unit] = v
    atomic.write_json(out_metrics, metrics)
    return ctx
