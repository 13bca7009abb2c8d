"""The one way the store opens DuckDB: :func:`connect`, an in-memory connection that never draws a progress
bar. DuckDB draws one on standard output for a query that runs past about 2 s, and on a slow machine a
history compaction does: it landed in a command's output (a JSON document, a count) and in CI logs."""

from __future__ import annotations

import duckdb


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con
