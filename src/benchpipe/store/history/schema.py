"""The history's columns, in one place: what every row of a run repeats is
:class:`~benchpipe.core.artifacts.HistoryRun` (its fields become the columns, their types the SQL types), the
summary objects keep :data:`SUMMARY_RUN` of it, and :func:`select` writes the SQL that stores a run's rows."""

from __future__ import annotations

import msgspec

from benchpipe.core.artifacts import HistoryRun

RUNS, SUMMARY = "runs", "summary"  # the store's two kinds of objects
_SQL = {str: "VARCHAR", bool: "BOOLEAN", int: "INTEGER", float: "DOUBLE"}

Columns = list[tuple[str, str]]  # (name, SQL type)

RUN: Columns = [
    (f.name, "TIMESTAMP" if f.name == "time" else _SQL[f.type]) for f in msgspec.structs.fields(HistoryRun)
]
SAMPLE_ROW: Columns = [
    ("package", "VARCHAR"),
    ("benchmark", "VARCHAR"),
    ("unit", "VARCHAR"),
    ("sample", "INTEGER"),
    ("value", "DOUBLE"),
]
SUMMARY_RUN = (
    "run_id",
    "time",
    "commit",
    "branch",
    "machine",
    "mode",
    "module",
)  # of RUN, on every summary row
SUMMARY_ROW: Columns = [
    ("package", "VARCHAR"),
    ("benchmark", "VARCHAR"),
    ("unit", "VARCHAR"),
    ("center", "DOUBLE"),
    ("lo", "DOUBLE"),
    ("hi", "DOUBLE"),
    ("n", "INTEGER"),
    ("seconds", "DOUBLE"),
]
# what query() returns per row: the summary's columns but the module and the seconds
QUERY = [c for c in SUMMARY_RUN if c != "module"] + [c for c, _ in SUMMARY_ROW if c != "seconds"]
TIME = "strftime(time, '%Y-%m-%dT%H:%M:%S') AS time"  # how every query returns a row's time


def summary_run() -> Columns:
    types = dict(RUN)
    return [(c, types[c]) for c in SUMMARY_RUN]


def select(once: Columns, rows: Columns) -> str:
    """``SELECT $1::T AS c, ...`` for values given once (every row repeats them), then ``unnest`` of one list
    per row column: the parameters are ``once``'s values, then ``rows``' lists, in order."""
    parts = [f"${i}::{t} AS {c}" for i, (c, t) in enumerate(once, 1)]
    parts += [f"unnest(${len(once) + i}::{t}[]) AS {c}" for i, (c, t) in enumerate(rows, 1)]
    return "SELECT " + ", ".join(parts)


def columns(names: list[str]) -> str:
    """A SELECT list of ``names`` with the time formatted as every query returns it."""
    return ", ".join(TIME if n == "time" else n for n in names)
