"""A baseline from the history (``--baseline history:BRANCH``): the newest matching runs pooled into
benchfmt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from benchpipe.core.artifacts import BenchMeta, RunSettings
from benchpipe.store.history.read import runs
from benchpipe.store.history.schema import RUNS
from benchpipe.store.objstore import Store, open_store
from benchpipe.store.samples import sql_list


def baseline(
    hist: Path | str | Store, branch: str, module: str, like: dict[str, str], min_samples: int, max_runs: int
) -> tuple[str, BenchMeta, list[str]] | None:
    """A baseline from the history (``--baseline history:BRANCH``): the newest runs of ``module`` on
    ``branch`` with a recorded commit and the shaping settings ``like`` (benchtime, -cpu list: those the
    run records), pooled newest first until every benchmark has ``min_samples`` samples or ``max_runs``
    runs are used. Returns benchfmt text (iteration counts are not kept: 1), the newest run's metadata and
    the run ids used; None when no run matches."""
    store = open_store(hist)
    candidates = [
        r
        for r in reversed(runs(store))
        if r["branch"] == branch and r["commit"] and (not module or not r["module"] or r["module"] == module)
    ]
    if not candidates:
        return None
    con = store.connect()
    try:
        heads = _run_heads(store, con, [r["run_id"] for r in candidates[:50]])
        chosen, counts = [], {}
        for r in candidates[:50]:
            head = heads.get(r["run_id"])
            if head is None or any(head["settings"].get(k) not in (None, v) for k, v in like.items()):
                continue
            chosen.append(r["run_id"])
            for key, n in head["counts"].items():
                counts[key] = counts.get(key, 0) + n
            if len(chosen) >= max_runs or min(counts.values()) >= min_samples:
                break
        if not chosen:
            return None
        text = _benchfmt(store, con, chosen)
    finally:
        con.close()
    newest = heads[chosen[0]]
    s = newest["settings"]
    meta = BenchMeta(
        mode=newest["mode"],
        commit=newest["commit"],
        branch=branch,
        module=newest["module"] or module,
        go_version=newest["go_version"] or None,
        goos=newest["goos"] or None,
        goarch=newest["goarch"] or None,
        cpu=newest["cpu"] or None,
        hostname=newest["machine"] or None,
        start_time=newest["time"],
        settings=RunSettings(**{k: v for k, v in s.items() if k in RunSettings.__struct_fields__}),
    )
    return text, meta, chosen


def _run_objects(store: Store, run_ids: list[str]) -> list[str]:
    names = store.names(RUNS)
    return [store.duck(RUNS, n) for n in names if n.split(".", 1)[0] in set(run_ids)]


def _run_heads(store: Store, con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each run's recorded facts (commit, settings, ...) and its samples per (package, benchmark)."""
    files = _run_objects(store, run_ids)
    if not files:
        return {}
    src = f"read_parquet({sql_list(files)}, union_by_name=true)"
    rows = con.execute(f"""SELECT run_id, any_value(commit), any_value(mode), any_value(params),
        any_value(go_version), any_value(goos), any_value(goarch), any_value(cpu), any_value(machine),
        strftime(min(time), '%Y-%m-%dT%H:%M:%S'), any_value(module),
        list(DISTINCT package || ' ' || benchmark), count(*) FROM {src} GROUP BY run_id""").fetchall()
    counts = dict(
        ((rid, key), n)
        for rid, key, n in con.execute(
            f"SELECT run_id, package || ' ' || benchmark, count(DISTINCT sample) FROM {src} GROUP BY ALL"
        ).fetchall()
    )
    out = {}
    for rid, commit, mode, params, gov, goos, goarch, cpu, machine, t, module, keys, _ in rows:
        out[rid] = {
            "commit": commit,
            "mode": mode,
            "settings": json.loads(params or "{}"),
            "go_version": gov,
            "goos": goos,
            "goarch": goarch,
            "cpu": cpu,
            "machine": machine,
            "time": t,
            "module": module,
            "counts": {k: counts.get((rid, k), 0) for k in keys},
        }
    return out


def _benchfmt(store: Store, con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> str:
    """The samples of ``run_ids`` as benchfmt text: one line per sample, every unit of it on the line."""
    src = f"read_parquet({sql_list(_run_objects(store, run_ids))}, union_by_name=true)"
    sql = f"""SELECT package, benchmark, run_id, sample, list(value ORDER BY unit), list(unit ORDER BY unit)
        FROM {src} GROUP BY ALL ORDER BY package, benchmark, run_id, sample"""
    rows = con.execute(sql).fetchall()
    out, pkg = [], None
    for package, bench, _, _, values, units in rows:
        if package != pkg:
            out.append(f"pkg: {package}")
            pkg = package
        order = sorted(zip(units, values, strict=True), key=lambda uv: (uv[0] != "ns/op", uv[0]))
        out.append(f"{bench}\t1\t" + "\t".join(f"{v!r} {u}" for u, v in order))
    return "\n".join(out) + "\n"
