"""Run history: every pipeline run stored as immutable Parquet objects, queried in place with DuckDB.

The store is a local directory (default ``reports/history``) or an object store
(``s3://bucket/prefix``): see :mod:`benchpipe.store.objstore`. Layout:

* ``runs/<run_id>[.<shard>].parquet`` — every sample of the run with its metadata
  (:class:`benchpipe.core.artifacts.HistoryRun`'s columns: run_id, time, commit, branch,
  dirty, go_version, machine, cpu, goos, goarch, mode, params, module, schema_version) and package,
  benchmark, unit, sample, value.
* ``summary/<run_id>[.<shard>].parquet`` — one row per benchmark and unit: run_id,
  time, commit, branch, machine, mode, module, package, benchmark, unit, center, lo,
  hi, n (the median and its 95% interval, as ``benchpipe compare``), and ``seconds`` (its top-level
  benchmark's wall time in the run, from bench.json: what shards are balanced by).
  ``benchpipe history compact`` merges summary objects into one sorted object.

Nothing is rewritten in place: a run is new objects under its own name (its id has a random or
content-derived part; the shards of one CI run share the id and add their shard), written summary
last, so any number of runners append at once without locks and without losing a run. Readers
drop duplicate (run_id, package, benchmark, unit) rows, so a run is never counted twice (a
compaction writes the merged object before it deletes the small ones), re-list when an object
disappears between listing and reading (a compaction), and skip a corrupt object with a warning.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from benchpipe.core import benchfmt, grouping, shards
from benchpipe.core.artifacts import BenchMeta, HistoryRun, RunSettings
from benchpipe.core.benchfmt import Parsed
from benchpipe.core.errors import BenchpipeError, NothingToCompare
from benchpipe.core.units import finite
from benchpipe.core.verdict import Options
from benchpipe.store import atomic
from benchpipe.store.objstore import Store, open_store
from benchpipe.store.samples import sql_list, sql_literal

SUMMARY_COLS = ["run_id", "time", "commit", "branch", "machine", "mode", "package", "benchmark", "unit",
                "center", "lo", "hi", "n"]
RUNS, SUMMARY = "runs", "summary"


def new_run_id(when: datetime, commit: str, suffix: str = "") -> str:
    """A run's id: its time, its commit and ``suffix`` (a digest of its output, or the CI run's id), or a
    random part."""
    return f"{when:%Y%m%dT%H%M%S}-{(commit or 'nocommit')[:8]}-{suffix or secrets.token_hex(3)}"


def _write(con: duckdb.DuckDBPyConnection, select: str, args: list[Any], store: Store, sub: str, name: str) -> None:
    """A new object ``sub/name`` holding the query's rows (local: written atomically in place)."""
    if not store.remote:
        with atomic.replacing(store.local(sub, name)) as tmp:
            con.execute(f"COPY ({select}) TO {sql_literal(tmp)} (FORMAT parquet)", args)
        return
    with tempfile.TemporaryDirectory(prefix="benchpipe-hist-") as d:
        tmp = Path(d) / name
        con.execute(f"COPY ({select}) TO {sql_literal(tmp)} (FORMAT parquet)", args)
        store.put_file(tmp, sub, name)


def append(hist: Path | str | Store, parsed: Parsed, meta: BenchMeta, when: datetime | None = None,
           run_id: str | None = None, opts: Options | None = None, shard: str = "") -> str:
    """Store one run (or one shard of it: ``shard``, ``K/N`` as everywhere, ``KofN`` in object names); returns
    its run id. A run without
    results is not stored.

    Each (package, benchmark, unit) is summarised by :meth:`Options.summary` (the rules of ``opts``),
    as in the report and the comparison."""
    store = open_store(hist)
    if not parsed.results:
        raise NothingToCompare("run has no benchmark results; nothing stored in the history")
    when = when or parse_time(meta.start_time) or datetime.now(UTC)
    rid = run_id or new_run_id(when, meta.commit)
    head = HistoryRun.of(rid, when.isoformat(), meta)
    name = f"{rid}.{shards.suffix(shard)}.parquet" if shard else f"{rid}.parquet"
    pkgs, names, units, idx, values = [], [], [], [], []
    seen: dict[tuple[str, str], int] = {}
    for r in parsed.results:
        key = (r.package, r.name)
        i = seen.get(key, 0)
        seen[key] = i + 1
        for v, u in r.values:
            pkgs.append(r.package)
            names.append(r.name)
            units.append(u)
            idx.append(i)
            values.append(v)
    consts = [rid, when.replace(tzinfo=None), head.commit, head.branch, head.dirty, head.go_version, head.machine,
              head.cpu, head.goos, head.goarch, head.mode, head.params, head.schema_version, head.module]
    # each top-level benchmark's wall seconds (on each of its rows): what shards are balanced by
    seconds = {(p.import_path, name): s for p in meta.packages for name, s in p.bench_s.items()}
    con = duckdb.connect()
    try:
        _write(con, """SELECT $1::VARCHAR AS run_id, $2::TIMESTAMP AS time, $3::VARCHAR AS commit,
                   $4::VARCHAR AS branch, $5::BOOLEAN AS dirty, $6::VARCHAR AS go_version, $7::VARCHAR AS machine,
                   $8::VARCHAR AS cpu, $9::VARCHAR AS goos, $10::VARCHAR AS goarch, $11::VARCHAR AS mode,
                   $12::VARCHAR AS params, $13::INTEGER AS schema_version, $14::VARCHAR AS module,
                   unnest($15::VARCHAR[]) AS package, unnest($16::VARCHAR[]) AS benchmark, unnest($17::VARCHAR[]) AS unit,
                   unnest($18::INTEGER[]) AS sample, unnest($19::DOUBLE[]) AS value""",
               consts + [pkgs, names, units, idx, values], store, RUNS, name)
        cols: dict[str, list[Any]] = {c: [] for c in ("package", "benchmark", "unit", "center", "lo", "hi", "n",
                                                      "seconds")}
        for (p, b, u), vals in benchfmt.samples(parsed).items():
            sm = (opts or Options()).summary(b, u, vals, parsed.units.get(u))
            for c, x in zip(cols, (p, b, u, sm.center, finite(sm.lo), finite(sm.hi), sm.n,
                                   seconds.get((p, benchfmt.top_level(b)))),
                            strict=True):
                cols[c].append(x)
        _write(con, """SELECT $1::VARCHAR AS run_id, $2::TIMESTAMP AS time, $3::VARCHAR AS commit,
                   $4::VARCHAR AS branch, $5::VARCHAR AS machine, $6::VARCHAR AS mode, $7::VARCHAR AS module,
                   unnest($8::VARCHAR[]) AS package, unnest($9::VARCHAR[]) AS benchmark, unnest($10::VARCHAR[]) AS unit,
                   unnest($11::DOUBLE[]) AS center, unnest($12::DOUBLE[]) AS lo, unnest($13::DOUBLE[]) AS hi,
                   unnest($14::INTEGER[]) AS n, unnest($15::DOUBLE[]) AS seconds""",
               [consts[0], consts[1], consts[2], consts[3], consts[6], consts[10], consts[13]] + list(cols.values()),
               store, SUMMARY, name)
    finally:
        con.close()
    return rid


def parse_time(s: Any) -> datetime | None:
    if not s:
        return None
    try:
        t = datetime.fromisoformat(str(s).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def import_file(hist: Path | str | Store, parsed: Parsed, commit: str, time: str, branch: str = "", machine: str = "") -> str:
    """Seed the history from an old benchfmt file; commit and time are required."""
    if not commit:
        raise BenchpipeError("history import: --commit is required (which commit produced these results?)")
    when = parse_time(time)
    if when is None:
        raise BenchpipeError(f"history import: --time must be an ISO 8601 time, got {time!r}")

    def config(key: str) -> str:
        return next((r.config.get(key, "") for r in parsed.results), "")

    meta = BenchMeta(commit=commit, branch=branch, hostname=machine, mode="import", goos=config("goos"),
                     goarch=config("goarch"), cpu=config("cpu"))
    return append(hist, parsed, meta, when)


def _readable(store: Store, con: duckdb.DuckDBPyConnection, names: list[str]) -> tuple[list[str], list[str]]:
    """Of ``names`` (summary objects), those DuckDB can read, and warnings for corrupt ones; an object that
    disappeared since the listing (a compaction merged it) is dropped without a warning."""
    good, warnings = [], []
    for n in names:
        try:
            con.execute(f"SELECT count(*) FROM read_parquet({sql_literal(store.duck(SUMMARY, n))})").fetchone()
            good.append(n)
        except (duckdb.Error, OSError) as e:
            if store.exists(SUMMARY, n):
                warnings.append(f"history: skipped unreadable file {store.duck(SUMMARY, n)}: "
                                f"{str(e).splitlines()[0][:120]}")
    return good, warnings


def read_summary(store: Store, sql: Any, args: list[Any], warn: bool, fetch: Any) -> Any:
    """Run ``sql(paths)`` over the store's summary objects, listing again when one vanished between the
    listing and the read (a concurrent compaction) and skipping corrupt ones with a warning; None when
    the store holds no summary."""
    con = store.connect()
    try:
        for _ in range(5):
            names = store.names(SUMMARY)
            if not names:
                return None
            try:
                return fetch(con.execute(sql([store.duck(SUMMARY, n) for n in names]), args))
            except (duckdb.Error, OSError) as e:  # through fsspec a vanished object may surface as OSError
                good, warnings = _readable(store, con, names)
                if good == names:  # every object reads: the query itself is wrong
                    raise BenchpipeError(f"history store {store.url}: {str(e).splitlines()[0]}") from None
                if len(warnings) < len(set(names) - set(good)):
                    continue  # objects vanished: a compaction replaced them; list again
                if warn:
                    for w in warnings:
                        sys.stderr.write(w + "\n")
                if not good:
                    return None
                try:
                    return fetch(con.execute(sql([store.duck(SUMMARY, n) for n in good]), args))
                except (duckdb.Error, OSError):
                    continue
        raise BenchpipeError(f"history store {store.url}: the summary objects kept changing while being read")
    finally:
        con.close()


def _columns(store: Store) -> set[str]:
    """The columns the store's summary objects hold between them (older stores lack the newer ones)."""
    rows = read_summary(store, lambda fs: f"DESCRIBE SELECT * FROM read_parquet({sql_list(fs)}, union_by_name=true)",
                        [], False, lambda cur: cur.fetchall())
    return {r[0] for r in rows or []}


def count_runs(hist: Path | str | Store) -> int:
    """How many distinct runs the store holds (the shards of a run are one run)."""
    store = open_store(hist)
    n = read_summary(store, lambda fs: f"SELECT count(DISTINCT run_id) FROM read_parquet({sql_list(fs)}, "
                                       "union_by_name=true)", [], False, lambda cur: cur.fetchone()[0])
    return int(n or 0)


def query(hist: Path | str | Store, benchmark: str | None = None, unit: str | None = None, last: int | None = None,
          warn: bool = True) -> list[dict[str, Any]]:
    """Per benchmark and unit, each run's center and interval, oldest first (the last N runs)."""
    return _query(hist, benchmark, unit, last, warn, lean=False)  # type: ignore[return-value]


def series(hist: Path | str | Store, benchmark: str, unit: str, last: int | None = None) -> dict[str, Any]:
    """One benchmark's trend as columns (run_id, time, commit, center, lo, hi, n), oldest first.

    ``benchmark`` is an exact name. This is the fast path for charts and change points: the
    data stays in columns (numpy arrays) instead of one Python dict per run.
    """
    return series_many(hist, [benchmark], unit, last).get(benchmark, {})


def series_many(hist: Path | str | Store, benchmarks: list[str], unit: str, last: int | None = None) -> dict[str, dict[str, Any]]:
    """:func:`series` of several benchmarks (exact names) in one query: name -> its columns; a benchmark
    the history does not hold is absent."""
    if not benchmarks:
        return {}
    cols = _query(hist, None, unit, last, True, lean=True, names=benchmarks)
    if not cols or not len(cols["benchmark"]):
        return {}
    names = cols.pop("benchmark")
    return {str(name): {k: v[start:end] for k, v in cols.items()}
            for name, start, end in grouping.spans(names.tolist())}  # rows come ordered by benchmark


def _query(hist: Path | str | Store, benchmark: str | None, unit: str | None, last: int | None, warn: bool,
           lean: bool, names: list[str] | None = None) -> list[dict[str, Any]] | dict[str, Any]:
    store = open_store(hist)
    where, args = [], []
    if benchmark:
        try:
            re.compile(benchmark)
        except re.error as e:
            raise BenchpipeError(f"--benchmark: invalid regex {benchmark!r}: {e}") from None
        literal = re.fullmatch(r"\^((?:[^\\.^$*+?()\[\]{}|]|\\.)+)\$", benchmark)
        if literal:  # an exact name
            names = [*(names or []), re.sub(r"\\(.)", r"\1", literal.group(1))]
        else:
            where.append(f"regexp_matches(benchmark, ${len(args) + 1})")
            args.append(benchmark)
    if names:  # exact names: equality lets DuckDB skip row groups of the sorted, compacted file
        where.append(f"benchmark IN ({', '.join(f'${len(args) + 1 + i}' for i in range(len(names)))})")
        args += names
    if unit:
        where.append(f"unit = ${len(args) + 1}")
        args.append(unit)
    cond = ("WHERE " + " AND ".join(where)) if where else ""
    cols = ("run_id, strftime(time, '%Y-%m-%dT%H:%M:%S') AS time, commit, branch, machine, mode, package, "
            "benchmark, unit, center, lo, hi, n") if not lean else \
        "run_id, strftime(time, '%Y-%m-%dT%H:%M:%S') AS time, commit, benchmark, center, lo, hi, n"

    def sql(fs: list[str]) -> str:
        src = f"read_parquet({sql_list(fs)}, union_by_name=true)"
        base = f"SELECT DISTINCT ON (run_id, package, benchmark, unit) * FROM {src} {cond}"
        if last:
            base = (f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY package, benchmark, unit "
                    f"ORDER BY time DESC, run_id DESC) AS rk FROM ({base})) WHERE rk <= {int(last)}")
        return f"SELECT {cols} FROM ({base}) ORDER BY benchmark, unit, time, run_id"

    got = read_summary(store, sql, args, warn, (lambda cur: cur.fetchnumpy()) if lean else (lambda cur: cur.fetchall()))
    if got is None:
        return {} if lean else []
    if lean:
        return got
    return [dict(zip(SUMMARY_COLS, r, strict=True)) for r in got]


def compact(hist: Path | str | Store) -> tuple[int, str | None]:
    """Merge the summary objects into one, sorted by benchmark (fast trend queries); returns how many were
    merged and the new object's name.

    The merged object is written before the small ones are deleted, and it holds every row they held:
    a reader at any moment sees each run (twice at most, and readers drop duplicates). Objects that
    appear while it runs are left for the next compaction; one that vanishes (another compaction) makes
    it start again."""
    store = open_store(hist)
    for _ in range(5):
        con = store.connect()
        try:
            names = store.names(SUMMARY)
            good, warnings = _readable(store, con, names)
            for w in warnings:
                sys.stderr.write(w + "\n")
            if len(good) < 2:
                return len(good), None
            out = f"compact-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}.parquet"
            src = f"read_parquet({sql_list([store.duck(SUMMARY, n) for n in good])}, union_by_name=true)"
            try:
                _write(con, f"SELECT DISTINCT ON (run_id, package, benchmark, unit) * FROM {src} "
                            "ORDER BY benchmark, unit, time", [], store, SUMMARY, out)
            except (duckdb.Error, OSError):
                continue  # an input vanished while reading (another compaction): start again
        finally:
            con.close()
        store.remove(SUMMARY, good)
        return len(good), out
    raise BenchpipeError(f"history store {store.url}: compaction kept racing with another one; try again")


def runs(hist: Path | str | Store) -> list[dict[str, Any]]:
    """The runs in the store, oldest first: run_id, time, commit, branch, module, mode, machine, the shards
    stored and how many results."""
    store = open_store(hist)
    module = "any_value(module)" if "module" in _columns(store) else "''"  # stores written before modules

    def sql(fs: list[str]) -> str:
        src = f"read_parquet({sql_list(fs)}, union_by_name=true, filename=true)"
        return (f"SELECT run_id, strftime(min(time), '%Y-%m-%dT%H:%M:%S'), any_value(commit), any_value(branch), "
                f"{module}, any_value(mode), any_value(machine), count(DISTINCT filename), "
                f"count(DISTINCT (package, benchmark)) FROM {src} GROUP BY run_id ORDER BY min(time), run_id")

    rows = read_summary(store, sql, [], True, lambda cur: cur.fetchall()) or []
    keys = ["run_id", "time", "commit", "branch", "module", "mode", "machine", "objects", "benchmarks"]
    return [dict(zip(keys, r, strict=True)) for r in rows]


def write_plot_csv(rows: list[dict[str, Any]], path: Path, unit: str = "ns/op") -> None:
    """A long CSV for ``dvc plots``: one row per run and benchmark (``run,time,commit,benchmark,value``),
    ``run`` numbering the runs oldest first; ``dvc.yaml`` draws one line per benchmark from it
    (``.dvc/plots/benchpipe_trend.json``: x ``run``, y ``value``, colour ``benchmark``)."""
    runs: dict[str, tuple[str, str]] = {}
    for r in rows:
        if r["unit"] == unit:
            runs.setdefault(r["run_id"], (str(r["time"]), str(r["commit"])[:12]))
    order = sorted(runs, key=lambda rid: (runs[rid][0], rid))
    index = {rid: i for i, rid in enumerate(order)}
    body = sorted((index[r["run_id"]], r["benchmark"], r["center"], r["run_id"]) for r in rows if r["unit"] == unit)
    lines = ["run,time,commit,benchmark,value"]
    for i, name, center, rid in body:
        t, commit = runs[rid]
        lines.append(f"{i},{t},{commit},{name.replace(',', ';')},{center!r}")
    atomic.write_text(path, "\n".join(lines) + "\n")


def baseline(hist: Path | str | Store, branch: str, module: str, like: dict[str, str], min_samples: int,
             max_runs: int) -> tuple[str, BenchMeta, list[str]] | None:
    """A baseline from the history (``--baseline history:BRANCH``): the newest runs of ``module`` on
    ``branch`` with a recorded commit and the shaping settings ``like`` (benchtime, -cpu list: those the
    run records), pooled newest first until every benchmark has ``min_samples`` samples or ``max_runs``
    runs are used. Returns benchfmt text (iteration counts are not kept: 1), the newest run's metadata and
    the run ids used; None when no run matches."""
    store = open_store(hist)
    candidates = [r for r in reversed(runs(store)) if r["branch"] == branch and r["commit"]
                  and (not module or not r["module"] or r["module"] == module)]
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
    meta = BenchMeta(mode=newest["mode"], commit=newest["commit"], branch=branch, module=newest["module"] or module,
                     go_version=newest["go_version"] or None, goos=newest["goos"] or None,
                     goarch=newest["goarch"] or None, cpu=newest["cpu"] or None, hostname=newest["machine"] or None,
                     start_time=newest["time"], settings=RunSettings(**{k: v for k, v in s.items()
                                                                        if k in RunSettings.__struct_fields__}))
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
    rows = con.execute(f"""SELECT run_id, any_value(commit), any_value(mode), any_value(params), any_value(go_version),
        any_value(goos), any_value(goarch), any_value(cpu), any_value(machine), strftime(min(time), '%Y-%m-%dT%H:%M:%S'),
        any_value(module), list(DISTINCT package || ' ' || benchmark), count(*) FROM {src} GROUP BY run_id""").fetchall()
    counts = dict(((rid, key), n) for rid, key, n in con.execute(
        f"SELECT run_id, package || ' ' || benchmark, count(DISTINCT sample) FROM {src} GROUP BY ALL").fetchall())
    out = {}
    for rid, commit, mode, params, gov, goos, goarch, cpu, machine, t, module, keys, _ in rows:
        out[rid] = {"commit": commit, "mode": mode, "settings": json.loads(params or "{}"), "go_version": gov,
                    "goos": goos, "goarch": goarch, "cpu": cpu, "machine": machine, "time": t, "module": module,
                    "counts": {k: counts.get((rid, k), 0) for k in keys}}
    return out


def _benchfmt(store: Store, con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> str:
    """The samples of ``run_ids`` as benchfmt text: one line per sample, every unit of it on the line."""
    src = f"read_parquet({sql_list(_run_objects(store, run_ids))}, union_by_name=true)"
    rows = con.execute(f"""SELECT package, benchmark, run_id, sample, list(value ORDER BY unit), list(unit ORDER BY unit)
        FROM {src} GROUP BY ALL ORDER BY package, benchmark, run_id, sample""").fetchall()
    out, pkg = [], None
    for package, bench, _, _, values, units in rows:
        if package != pkg:
            out.append(f"pkg: {package}")
            pkg = package
        order = sorted(zip(units, values, strict=True), key=lambda uv: (uv[0] != "ns/op", uv[0]))
        out.append(f"{bench}\t1\t" + "\t".join(f"{v!r} {u}" for u, v in order))
    return "\n".join(out) + "\n"


def durations(hist: Path | str | Store, module: str) -> dict[tuple[str, str], float]:
    """(package, top-level benchmark) -> its wall seconds in the newest run of ``module`` that recorded it (a
    shard's run counts for its part): what ``--shard`` balances by."""
    store = open_store(hist)
    if not {"seconds", "module"} <= _columns(store):
        return {}

    def sql(fs: list[str]) -> str:
        src = f"read_parquet({sql_list(fs)}, union_by_name=true)"
        return (f"SELECT package, benchmark, arg_max(seconds, time) FROM {src} WHERE module = $1 "
                f"AND seconds IS NOT NULL GROUP BY package, benchmark")

    out: dict[tuple[str, str], float] = {}
    for pkg, name, secs in read_summary(store, sql, [module], False, lambda cur: cur.fetchall()) or []:
        key = (pkg, benchfmt.top_level(name))
        out[key] = max(out.get(key, 0.0), float(secs))  # every row of a top-level benchmark carries its seconds
    return out


def everything(hist: Path | str | Store) -> dict[str, Any]:
    """Every summary row of the store as columns (module, package, benchmark, unit, branch, run_id, time,
    commit, center, lo, hi), one row per run and series, ordered by series and time: what the published
    site is built from ({} for an empty store)."""
    store = open_store(hist)
    module = "coalesce(module, '')" if "module" in _columns(store) else "''"

    def sql(fs: list[str]) -> str:
        src = f"read_parquet({sql_list(fs)}, union_by_name=true)"
        return (f"SELECT {module} AS module, package, benchmark, unit, coalesce(branch, '') AS branch, run_id, "
                f"strftime(time, '%Y-%m-%dT%H:%M:%S') AS time, commit, center, lo, hi FROM "
                f"(SELECT DISTINCT ON (run_id, package, benchmark, unit) * FROM {src}) "
                f"ORDER BY module, package, benchmark, unit, branch, time, run_id")

    return read_summary(store, sql, [], True, lambda cur: cur.fetchnumpy()) or {}
