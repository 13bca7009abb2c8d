"""Queries over the history's summary objects (one row per run, benchmark and unit), read in place by DuckDB:
a run is never counted twice (duplicate rows of a compaction are dropped), an object that vanishes between
listing and reading (a compaction) makes the read list again, and a corrupt object is skipped with a
warning."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import duckdb

from benchpipe.core import benchfmt, grouping, selection
from benchpipe.core.errors import BenchpipeError
from benchpipe.store.history.schema import QUERY, SUMMARY, columns
from benchpipe.store.objstore import Store, open_store
from benchpipe.store.samples import sql_list, sql_literal


def readable(store: Store, con: duckdb.DuckDBPyConnection, names: list[str]) -> tuple[list[str], list[str]]:
    """Of ``names`` (summary objects), those DuckDB can read, and warnings for corrupt ones; an object that
    disappeared since the listing (a compaction merged it) is dropped without a warning."""
    good, warnings = [], []
    for n in names:
        try:
            con.execute(
                f"SELECT count(*) FROM read_parquet({sql_literal(store.duck(SUMMARY, n))})"
            ).fetchone()
            good.append(n)
        except (duckdb.Error, OSError) as e:
            if store.exists(SUMMARY, n):
                warnings.append(
                    f"history: skipped unreadable file {store.duck(SUMMARY, n)}: "
                    f"{str(e).splitlines()[0][:120]}"
                )
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
                good, warnings = readable(store, con, names)
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
    rows = read_summary(
        store,
        lambda fs: f"DESCRIBE SELECT * FROM read_parquet({sql_list(fs)}, union_by_name=true)",
        [],
        False,
        lambda cur: cur.fetchall(),
    )
    return {r[0] for r in rows or []}


def count_runs(hist: Path | str | Store) -> int:
    """How many distinct runs the store holds (the shards of a run are one run)."""
    store = open_store(hist)
    n = read_summary(
        store,
        lambda fs: f"SELECT count(DISTINCT run_id) FROM read_parquet({sql_list(fs)}, union_by_name=true)",
        [],
        False,
        lambda cur: cur.fetchone()[0],
    )
    return int(n or 0)


def query(
    hist: Path | str | Store,
    benchmark: str | None = None,
    unit: str | None = None,
    last: int | None = None,
    warn: bool = True,
) -> list[dict[str, Any]]:
    """Per benchmark and unit, each run's center and interval, oldest first (the last N runs)."""
    return _query(hist, benchmark, unit, last, warn, lean=False)  # type: ignore[return-value]


def series(hist: Path | str | Store, benchmark: str, unit: str, last: int | None = None) -> dict[str, Any]:
    """One benchmark's trend as columns (run_id, time, commit, center, lo, hi, n), oldest first.

    ``benchmark`` is an exact name. This is the fast path for charts and change points: the
    data stays in columns (numpy arrays) instead of one Python dict per run.
    """
    return series_many(hist, [benchmark], unit, last).get(benchmark, {})


def series_many(
    hist: Path | str | Store, benchmarks: list[str], unit: str, last: int | None = None, lists: bool = False
) -> dict[str, dict[str, Any]]:
    """:func:`series` of several benchmarks (exact names) in one query: name -> its columns; a benchmark
    the history does not hold is absent. ``lists``: the columns as Python lists, not numpy arrays (a few
    runs each, as the report shows: no numpy to load)."""
    if not benchmarks:
        return {}
    cols = _query(hist, None, unit, last, True, lean="lists" if lists else True, names=benchmarks)
    if not cols or not len(cols["benchmark"]):
        return {}
    names = cols.pop("benchmark")
    return {
        str(name): {k: v[start:end] for k, v in cols.items()}
        for name, start, end in grouping.spans(list(names) if lists else names.tolist())
    }  # rows come ordered by benchmark


def _query(
    hist: Path | str | Store,
    benchmark: str | None,
    unit: str | None,
    last: int | None,
    warn: bool,
    lean: bool | str,
    names: list[str] | None = None,
) -> list[dict[str, Any]] | dict[str, Any]:
    store = open_store(hist)
    where, args = [], []
    if benchmark:
        selection.check(benchmark, "--benchmark")
        literal = re.fullmatch(r"\^((?:[^\\.^$*+?()\[\]{}|]|\\.)+)\$", benchmark)
        if literal:  # an exact stored name (with its -N suffix)
            exact = re.sub(r"\\(.)", r"\1", literal.group(1))
        # else Go's selection, not a second regex engine: the store's names the pattern selects, as a list
        if literal and re.search(r"-\d+$", exact):
            found = [exact]  # a stored result name: equality lets DuckDB skip row groups
        else:
            found = [
                n for n in _names(store, warn) if selection.selects(benchmark, n) or (literal and n == exact)
            ]
        names = [*(names or []), *found]
        if not names:
            return {} if lean else []
    if names:  # exact names: equality lets DuckDB skip row groups of the sorted, compacted file
        where.append(f"benchmark IN ({', '.join(f'${len(args) + 1 + i}' for i in range(len(names)))})")
        args += names
    if unit:
        where.append(f"unit = ${len(args) + 1}")
        args.append(unit)
    cond = ("WHERE " + " AND ".join(where)) if where else ""
    lean_cols = ["run_id", "time", "commit", "benchmark", "center", "lo", "hi", "n"]
    cols = columns(QUERY if not lean else lean_cols)

    def sql(fs: list[str]) -> str:
        src = f"read_parquet({sql_list(fs)}, union_by_name=true)"
        base = f"SELECT DISTINCT ON (run_id, package, benchmark, unit) * FROM {src} {cond}"
        if last:
            base = (
                f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY package, benchmark, unit "
                f"ORDER BY time DESC, run_id DESC) AS rk FROM ({base})) WHERE rk <= {int(last)}"
            )
        return f"SELECT {cols} FROM ({base}) ORDER BY benchmark, unit, time, run_id"

    fetch = (lambda cur: cur.fetchnumpy()) if lean is True else (lambda cur: cur.fetchall())
    got = read_summary(store, sql, args, warn, fetch)
    if got is None:
        return {} if lean else []
    if lean == "lists":
        return {c: [r[i] for r in got] for i, c in enumerate(lean_cols)}
    if lean:
        return got
    return [dict(zip(QUERY, r, strict=True)) for r in got]


def _names(store: Store, warn: bool) -> list[str]:
    """Every benchmark name in the store."""
    rows = (
        read_summary(
            store,
            lambda fs: f"SELECT DISTINCT benchmark FROM read_parquet({sql_list(fs)}, union_by_name=true)",
            [],
            warn,
            lambda cur: cur.fetchall(),
        )
        or []
    )
    return [str(r[0]) for r in rows]


def runs(hist: Path | str | Store) -> list[dict[str, Any]]:
    """The runs in the store, oldest first: run_id, time, commit, branch, module, mode, machine, the shards
    stored and how many results."""
    store = open_store(hist)
    module = "any_value(module)" if "module" in _columns(store) else "''"  # stores written before modules

    def sql(fs: list[str]) -> str:
        src = f"read_parquet({sql_list(fs)}, union_by_name=true, filename=true)"
        return (
            f"SELECT run_id, strftime(min(time), '%Y-%m-%dT%H:%M:%S'), any_value(commit), any_value(branch), "
            f"{module}, any_value(mode), any_value(machine), count(DISTINCT filename), "
            f"count(DISTINCT (package, benchmark)) FROM {src} GROUP BY run_id ORDER BY min(time), run_id"
        )

    rows = read_summary(store, sql, [], True, lambda cur: cur.fetchall()) or []
    keys = ["run_id", "time", "commit", "branch", "module", "mode", "machine", "objects", "benchmarks"]
    return [dict(zip(keys, r, strict=True)) for r in rows]


def durations(hist: Path | str | Store, module: str) -> dict[tuple[str, str], float]:
    """(package, top-level benchmark) -> its wall seconds in the newest run of ``module`` that recorded it (a
    shard's run counts for its part): what ``--shard`` balances by."""
    store = open_store(hist)
    if not {"seconds", "module"} <= _columns(store):
        return {}

    def sql(fs: list[str]) -> str:
        src = f"read_parquet({sql_list(fs)}, union_by_name=true)"
        return (
            f"SELECT package, benchmark, arg_max(seconds, time) FROM {src} WHERE module = $1 "
            f"AND seconds IS NOT NULL GROUP BY package, benchmark"
        )

    out: dict[tuple[str, str], float] = {}
    for pkg, name, secs in read_summary(store, sql, [module], False, lambda cur: cur.fetchall()) or []:
        key = (pkg, benchfmt.top_level(name))
        out[key] = max(
            out.get(key, 0.0), float(secs)
        )  # every row of a top-level benchmark carries its seconds
    return out


def everything(hist: Path | str | Store) -> dict[str, Any]:
    """Every summary row of the store as columns (module, package, benchmark, unit, branch, run_id, time,
    commit, center, lo, hi), one row per run and series, ordered by series and time: what the published
    site is built from ({} for an empty store)."""
    store = open_store(hist)
    module = "coalesce(module, '')" if "module" in _columns(store) else "''"

    def sql(fs: list[str]) -> str:
        src = f"read_parquet({sql_list(fs)}, union_by_name=true)"
        return (
            f"SELECT {module} AS module, package, benchmark, unit, coalesce(branch, '') AS branch, run_id, "
            f"strftime(time, '%Y-%m-%dT%H:%M:%S') AS time, commit, center, lo, hi FROM "
            f"(SELECT DISTINCT ON (run_id, package, benchmark, unit) * FROM {src}) "
            f"ORDER BY module, package, benchmark, unit, branch, time, run_id"
        )

    return read_summary(store, sql, [], True, lambda cur: cur.fetchnumpy()) or {}
