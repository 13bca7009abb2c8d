"""Compaction: the summary objects merged into one sorted object (fast trend queries), written before the
small ones are deleted, so a reader at any moment sees every run."""

from __future__ import annotations

import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from benchpipe.core.errors import BenchpipeError
from benchpipe.store.history.read import readable
from benchpipe.store.history.schema import SUMMARY
from benchpipe.store.history.write import write_object
from benchpipe.store.objstore import Store, open_store
from benchpipe.store.samples import sql_list


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
            good, warnings = readable(store, con, names)
            for w in warnings:
                sys.stderr.write(w + "\n")
            if len(good) < 2:
                return len(good), None
            out = f"compact-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}.parquet"
            src = f"read_parquet({sql_list([store.duck(SUMMARY, n) for n in good])}, union_by_name=true)"
            try:
                write_object(
                    con,
                    f"SELECT DISTINCT ON (run_id, package, benchmark, unit) * FROM {src} "
                    "ORDER BY benchmark, unit, time",
                    [],
                    store,
                    SUMMARY,
                    out,
                )
            except (duckdb.Error, OSError):
                continue  # an input vanished while reading (another compaction): start again
        finally:
            con.close()
        store.remove(SUMMARY, good)
        return len(good), out
    raise BenchpipeError(f"history store {store.url}: compaction kept racing with another one; try again")
