"""Run history: every pipeline run stored as immutable Parquet files, queried with DuckDB.

Layout (under ``reports/history/``, a DVC output shared with ``dvc push/pull``):

* ``runs/<run_id>.parquet`` — every sample of the run with its metadata:
  run_id, time (UTC timestamp), commit, branch, dirty, go_version, machine,
  cpu, goos, goarch, mode, params (JSON), package, benchmark, unit, sample,
  value.
* ``summary/<run_id>.parquet`` — one row per benchmark and unit: run_id,
  time, commit, branch, machine, mode, package, benchmark, unit, center, lo,
  hi, n (the median and its 95% interval, as ``benchpipe compare``).
  ``benchpipe history compact`` merges summary files into one sorted file;
  readers drop duplicate (run_id, benchmark, unit) rows, so a compaction
  interrupted half way loses and doubles nothing.

Each file is written to a temporary name and renamed, so two writers never
collide and a killed run leaves no half file under a ``.parquet`` name. A
corrupt file is skipped with a warning; queries go on with the rest.
"""

from __future__ import annotations

import re
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from benchpipe.core import benchfmt
from benchpipe.core.artifacts import BenchMeta, HistoryRun
from benchpipe.core.benchfmt import Parsed
from benchpipe.core.errors import BenchpipeError, NothingToCompare
from benchpipe.core.verdict import Options
from benchpipe.store import atomic
from benchpipe.store.samples import sql_list, sql_literal

SUMMARY_COLS = ["run_id", "time", "commit", "branch", "machine", "mode", "package", "benchmark", "unit",
                "center", "lo", "hi", "n"]


def new_run_id(when: datetime, commit: str, suffix: str = "") -> str:
    """A run's id: its time, its commit and ``suffix`` (a digest of its output), or a random part."""
    return f"{when:%Y%m%dT%H%M%S}-{(commit or 'nocommit')[:8]}-{suffix or secrets.token_hex(3)}"


def _write(con: duckdb.DuckDBPyConnection, select: str, args: list[Any], path: Path) -> None:
    with atomic.replacing(path) as tmp:
        con.execute(f"COPY ({select}) TO {sql_literal(tmp)} (FORMAT parquet)", args)


def append(hist: Path, parsed: Parsed, meta: BenchMeta, when: datetime | None = None,
           run_id: str | None = None, opts: Options | None = None) -> str:
    """Store one run; returns its run id. A run without results is not stored.

    Each (package, benchmark, unit) is summarised by :meth:`Options.summary` (the rules of ``opts``),
    as in the report and the comparison."""
    if not parsed.results:
        raise NothingToCompare("run has no benchmark results; nothing stored in the history")
    when = when or parse_time(meta.start_time) or datetime.now(UTC)
    rid = run_id or new_run_id(when, meta.commit)
    head = HistoryRun.of(rid, when.isoformat(), meta)
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
              head.cpu, head.goos, head.goarch, head.mode, head.params, head.schema_version]
    con = duckdb.connect()
    try:
        _write(con, """SELECT $1::VARCHAR AS run_id, $2::TIMESTAMP AS time, $3::VARCHAR AS commit,
                   $4::VARCHAR AS branch, $5::BOOLEAN AS dirty, $6::VARCHAR AS go_version, $7::VARCHAR AS machine,
                   $8::VARCHAR AS cpu, $9::VARCHAR AS goos, $10::VARCHAR AS goarch, $11::VARCHAR AS mode,
                   $12::VARCHAR AS params, $13::INTEGER AS schema_version, unnest($14::VARCHAR[]) AS package,
                   unnest($15::VARCHAR[]) AS benchmark, unnest($16::VARCHAR[]) AS unit, unnest($17::INTEGER[]) AS sample,
                   unnest($18::DOUBLE[]) AS value""",
               consts + [pkgs, names, units, idx, values], hist / "runs" / f"{rid}.parquet")
        cols: dict[str, list[Any]] = {c: [] for c in ("package", "benchmark", "unit", "center", "lo", "hi", "n")}
        for (p, b, u), vals in benchfmt.samples(parsed).items():
            s = (opts or Options()).summary(b, u, vals, parsed.units.get(u))
            for c, x in zip(cols, (p, b, u, s.center, _finite(s.lo), _finite(s.hi), s.n), strict=True):
                cols[c].append(x)
        _write(con, """SELECT $1::VARCHAR AS run_id, $2::TIMESTAMP AS time, $3::VARCHAR AS commit,
                   $4::VARCHAR AS branch, $5::VARCHAR AS machine, $6::VARCHAR AS mode,
                   unnest($7::VARCHAR[]) AS package, unnest($8::VARCHAR[]) AS benchmark, unnest($9::VARCHAR[]) AS unit,
                   unnest($10::DOUBLE[]) AS center, unnest($11::DOUBLE[]) AS lo, unnest($12::DOUBLE[]) AS hi,
                   unnest($13::INTEGER[]) AS n""",
               [consts[0], consts[1], consts[2], consts[3], consts[6], consts[10]] + list(cols.values()),
               hist / "summary" / f"{rid}.parquet")
    finally:
        con.close()
    return rid


def _finite(x: float) -> float | None:
    return None if x != x or x in (float("inf"), float("-inf")) else x


def parse_time(s: Any) -> datetime | None:
    if not s:
        return None
    try:
        t = datetime.fromisoformat(str(s).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def import_file(hist: Path, parsed: Parsed, commit: str, time: str, branch: str = "", machine: str = "") -> str:
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


def summary_files(hist: Path) -> tuple[list[Path], list[str]]:
    """Readable summary files, and warnings for the ones skipped."""
    files = sorted((hist / "summary").glob("*.parquet"))
    if not files:
        return [], []
    con = duckdb.connect()
    try:
        try:
            con.execute(f"SELECT count(*) FROM read_parquet({sql_list(files)})").fetchone()
            return files, []
        except duckdb.Error:
            pass
        good, warnings = [], []
        for f in files:
            try:
                con.execute(f"SELECT count(*) FROM read_parquet({sql_literal(f)})").fetchone()
                good.append(f)
            except duckdb.Error as e:
                warnings.append(f"history: skipped unreadable file {f}: {str(e).splitlines()[0][:120]}")
        return good, warnings
    finally:
        con.close()


def query(hist: Path, benchmark: str | None = None, unit: str | None = None, last: int | None = None,
          warn: bool = True) -> list[dict[str, Any]]:
    """Per benchmark and unit, each run's center and interval, oldest first (the last N runs)."""
    return _query(hist, benchmark, unit, last, warn, lean=False)  # type: ignore[return-value]


def series(hist: Path, benchmark: str, unit: str, last: int | None = None) -> dict[str, Any]:
    """One benchmark's trend as columns (run_id, time, commit, center, lo, hi, n), oldest first.

    ``benchmark`` is an exact name. This is the fast path for charts and change points: the
    data stays in columns (numpy arrays) instead of one Python dict per run.
    """
    return series_many(hist, [benchmark], unit, last).get(benchmark, {})


def series_many(hist: Path, benchmarks: list[str], unit: str, last: int | None = None) -> dict[str, dict[str, Any]]:
    """:func:`series` of several benchmarks (exact names) in one query: name -> its columns; a benchmark
    the history does not hold is absent."""
    if not benchmarks:
        return {}
    cols = _query(hist, None, unit, last, True, lean=True, names=benchmarks)
    if not cols or not len(cols["benchmark"]):
        return {}
    names = cols.pop("benchmark")
    out: dict[str, dict[str, Any]] = {}
    start = 0
    for i in range(1, len(names) + 1):  # rows come ordered by benchmark
        if i == len(names) or names[i] != names[start]:
            out[str(names[start])] = {k: v[start:i] for k, v in cols.items()}
            start = i
    return out


def _query(hist: Path, benchmark: str | None, unit: str | None, last: int | None, warn: bool,
           lean: bool, names: list[str] | None = None) -> list[dict[str, Any]] | dict[str, Any]:
    files = sorted((hist / "summary").glob("*.parquet"))
    if not files:
        return {} if lean else []
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

    def sql(fs: list[Path]) -> str:
        src = f"read_parquet({sql_list(fs)}, union_by_name=true)"
        base = f"SELECT DISTINCT ON (run_id, package, benchmark, unit) * FROM {src} {cond}"
        if last:
            base = (f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY package, benchmark, unit "
                    f"ORDER BY time DESC, run_id DESC) AS rk FROM ({base})) WHERE rk <= {int(last)}")
        return f"SELECT {cols} FROM ({base}) ORDER BY benchmark, unit, time, run_id"

    con = duckdb.connect()
    try:
        try:
            cur = con.execute(sql(files), args)
        except duckdb.Error:
            files, warnings = summary_files(hist)  # find and skip the unreadable files
            if warn:
                for w in warnings:
                    sys.stderr.write(w + "\n")
            if not files:
                return {} if lean else []
            cur = con.execute(sql(files), args)
        if lean:
            return cur.fetchnumpy()
        rows = cur.fetchall()
    finally:
        con.close()
    return [dict(zip(SUMMARY_COLS, r, strict=True)) for r in rows]


def compact(hist: Path) -> tuple[int, Path | None]:
    """Merge summary files into one, sorted by benchmark (fast trend queries); returns files merged."""
    files, warnings = summary_files(hist)
    for w in warnings:
        sys.stderr.write(w + "\n")
    if len(files) < 2:
        return len(files), None
    out = hist / "summary" / f"compact-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}.parquet"
    con = duckdb.connect()
    try:
        src = f"read_parquet({sql_list(files)}, union_by_name=true)"
        _write(con, f"SELECT DISTINCT ON (run_id, package, benchmark, unit) * FROM {src} "
                    "ORDER BY benchmark, unit, time", [], out)
    finally:
        con.close()
    for f in files:
        f.unlink()
    return len(files), out


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
