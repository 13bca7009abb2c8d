"""Sample tables in Parquet, written and queried with DuckDB.

Schema of a samples file (one row per sample per unit):

=========  =======  ==================================================
column     type     meaning
=========  =======  ==================================================
package    VARCHAR  ``pkg:`` config of the result ('' when absent)
benchmark  VARCHAR  full name as printed, e.g. ``BenchmarkEvaluate-2``
base_name  VARCHAR  name without the ``-N`` suffix
procs      INTEGER  GOMAXPROCS from the ``-N`` suffix (1 when absent)
sample     INTEGER  index of the result line among this benchmark's lines
iters      BIGINT   iteration count of the result line
value      DOUBLE   the measurement
unit       VARCHAR  unit as written (ns/op, B/op, p99-ns, ...)
file       VARCHAR  source file
line       INTEGER  line in the source file
=========  =======  ==================================================
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from .format import Parsed, Result

COLUMNS = ["package", "benchmark", "base_name", "procs", "sample", "iters", "value", "unit", "file", "line"]
_TYPES = ["VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "INTEGER", "BIGINT", "DOUBLE", "VARCHAR", "VARCHAR",
          "INTEGER"]


def columns(parsed: Parsed) -> dict[str, list[Any]]:
    return _columns(parsed.results, {})


def _columns(results: Iterable[Result], seen: dict[tuple[str, str], int]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    for r in results:
        key = (r.package, r.name)
        idx = seen.get(key, 0)
        seen[key] = idx + 1
        for v, unit in r.values:
            for c, x in zip(COLUMNS, (r.package, r.name, r.base_name, r.procs, idx, r.iters, v, unit,
                                      r.file, r.line), strict=True):
                cols[c].append(x)
    return cols


def write_parquet_stream(results: Iterable[Result], path: Path) -> int:
    """Write results to Parquet in bounded memory: rows are spooled to a CSV file on disk as
    they are read, then DuckDB converts that file to Parquet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tempfile.TemporaryDirectory(prefix="benchpipe-parse-") as td:
        spool = Path(td) / "rows.csv"
        n = 0
        seen: dict[tuple[str, str], int] = {}
        with open(spool, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            for r in results:
                pkg, name = r.config.get("pkg", ""), r.name
                idx = seen.get((pkg, name), 0)
                seen[(pkg, name)] = idx + 1
                base, procs = r.base_name, r.procs
                for v, unit in r.values:
                    w.writerow((pkg, name, base, procs, idx, r.iters, repr(v), unit, r.file, r.line))
                    n += 1
        con = duckdb.connect()
        try:
            con.execute("SET memory_limit = '256MB'")
            cols = ", ".join(f"'{c}': '{t}'" for c, t in zip(COLUMNS, _TYPES, strict=True))
            con.execute(f"COPY (SELECT * FROM read_csv('{_quote(spool)}', header = false, columns = {{{cols}}}, "
                        f"quote = '\"', escape = '\"', delim = ',')) TO '{_quote(tmp)}' (FORMAT parquet)")
        finally:
            con.close()
    os.replace(tmp, path)
    return n


def write_parquet(cols: dict[str, list[Any]], path: Path, extra: dict[str, Any] | None = None) -> int:
    """Write columns (plus constant ``extra`` columns) to Parquet atomically; return the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    con = duckdb.connect()
    try:
        selects = [f"unnest(${i + 1})::{t} AS {c}" for i, (c, t) in enumerate(zip(COLUMNS, _TYPES, strict=True))]
        args: list[Any] = [cols[c] for c in COLUMNS]
        for k, v in (extra or {}).items():
            args.append(v)
            selects.append(f"${len(args)} AS {k}")
        con.execute(f"CREATE TABLE t AS SELECT {', '.join(selects)}", args)
        con.execute(f"COPY t TO '{_quote(tmp)}' (FORMAT parquet)")
        n = con.execute("SELECT count(*) FROM t").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    os.replace(tmp, path)
    return int(n)


def _quote(p: Path | str) -> str:
    return str(p).replace("'", "''")


def connect() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def medians(parquet: Path) -> list[dict[str, Any]]:
    """Median, min, max and count per (package, benchmark, unit), in input order."""
    con = connect()
    try:
        rows = con.execute(
            f"""SELECT package, benchmark, unit, median(value), min(value), max(value), count(*),
                       min(line) AS first_line
                FROM read_parquet('{_quote(parquet)}')
                GROUP BY package, benchmark, unit ORDER BY first_line, unit""").fetchall()
    finally:
        con.close()
    return [{"package": r[0], "benchmark": r[1], "unit": r[2], "median": r[3], "min": r[4], "max": r[5],
             "n": r[6]} for r in rows]
