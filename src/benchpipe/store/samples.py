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
import tempfile
from collections.abc import Iterable
from pathlib import Path

import duckdb

from benchpipe.core.benchfmt import Result
from benchpipe.core.errors import BenchpipeError
from benchpipe.store import atomic, duck

COLUMNS = ["package", "benchmark", "base_name", "procs", "sample", "iters", "value", "unit", "file", "line"]
_TYPES = [
    "VARCHAR",
    "VARCHAR",
    "VARCHAR",
    "INTEGER",
    "INTEGER",
    "BIGINT",
    "DOUBLE",
    "VARCHAR",
    "VARCHAR",
    "INTEGER",
]


def write_parquet_stream(results: Iterable[Result], path: Path) -> int:
    """Write results to Parquet in bounded memory: rows are spooled to a CSV file on disk as
    they are read, then DuckDB converts that file to Parquet."""
    with tempfile.TemporaryDirectory(prefix="benchpipe-parse-") as td, atomic.replacing(path) as tmp:
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
        con = duck.connect()
        try:
            con.execute("SET memory_limit = '256MB'")
            cols = ", ".join(f"'{c}': '{t}'" for c, t in zip(COLUMNS, _TYPES, strict=True))
            con.execute(
                f"COPY (SELECT * FROM read_csv({sql_literal(spool)}, header = false, columns = {{{cols}}}, "
                f"quote = '\"', escape = '\"', delim = ',', auto_detect = false)) "  # an empty spool: no rows
                f"TO {sql_literal(tmp)} (FORMAT parquet)"
            )
        finally:
            con.close()
    return n


def query(path: Path, sql: str) -> list[tuple]:
    """Rows of ``sql`` over one samples file (``{src}`` in ``sql`` stands for it). A missing or unreadable
    file is one :class:`BenchpipeError` naming it (exit 2), never DuckDB's multi-line message."""
    if not Path(path).is_file():
        raise BenchpipeError(f"{path}: no samples file (run the parse stage: benchpipe parse)")
    con = duck.connect()
    try:
        return con.execute(sql.format(src=f"read_parquet({sql_literal(path)})")).fetchall()
    except duckdb.Error as e:
        raise BenchpipeError(f"{path}: not a readable samples file ({str(e).splitlines()[0]})") from None
    finally:
        con.close()


def with_iters(path: Path) -> dict[tuple[str, str, str], tuple[list[float], list[int]]]:
    """A samples file's values and the b.N of each, by (package, name without -N, unit), in sample order
    (the shape of :func:`benchpipe.core.benchfmt.with_iters`)."""
    rows = query(
        path,
        """
        SELECT package, base_name, unit, list(value ORDER BY benchmark, sample),
            list(iters ORDER BY benchmark, sample) FROM {src}
        GROUP BY package, base_name, unit ORDER BY min(line), unit""",
    )
    return {(pkg, name, unit): (list(vals), [int(n) for n in iters]) for pkg, name, unit, vals, iters in rows}


def sql_literal(p: Path | str) -> str:
    """A path (or any text) as a quoted SQL string literal for DuckDB (the one place paths are quoted)."""
    return "'" + str(p).replace("'", "''") + "'"


def sql_list(paths: list[Path]) -> str:
    """A DuckDB list literal of paths (``read_parquet([...])``)."""
    return "[" + ", ".join(sql_literal(p) for p in paths) + "]"
