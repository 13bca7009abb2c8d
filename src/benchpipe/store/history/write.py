"""Appending runs to the history: each run (or shard of one) is two new objects, its samples under ``runs/``
and its summary under ``summary/`` (written last), named by its run id; nothing is rewritten in place."""

from __future__ import annotations

import re
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from benchpipe.core import benchfmt, shards
from benchpipe.core.artifacts import BenchMeta, HistoryRun
from benchpipe.core.benchfmt import Parsed
from benchpipe.core.errors import BenchpipeError, NothingToCompare
from benchpipe.core.units import finite
from benchpipe.core.untrusted import visible
from benchpipe.core.verdict import Options
from benchpipe.store import duck
from benchpipe.store.history.schema import RUN, RUNS, SAMPLE_ROW, SUMMARY, SUMMARY_ROW, select, summary_run
from benchpipe.store.objstore import Store, open_store
from benchpipe.store.samples import sql_literal


def new_run_id(when: datetime, commit: str, suffix: str = "") -> str:
    """A run's id: its time, its commit and ``suffix`` (a digest of its output, or the CI run's id), or a
    random part."""
    return f"{when:%Y%m%dT%H%M%S}-{(commit or 'nocommit')[:8]}-{suffix or secrets.token_hex(3)}"


RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_run_id(rid: str) -> str:
    """``rid`` when it may name objects in a store (letters, digits, ``.``, ``_``, ``-``; at most 128)."""
    if not RUN_ID.fullmatch(rid):
        raise BenchpipeError(
            f"run id {visible(rid, 80)!r} is not allowed: letters, digits, '.', '_' and '-' only "
            "(at most 128, starting with a letter or digit)"
        )
    return rid


def object_name(rid: str, shard: str = "") -> str:
    """The name of a run's (or shard's) objects under ``runs/`` and ``summary/``."""
    return f"{rid}.{shards.suffix(shard)}.parquet" if shard else f"{rid}.parquet"


def stored(store: Store, rid: str, shard: str = "") -> bool:
    """Is this run (shard) in the store already? Its samples object is looked for (compaction merges summaries
    away, never samples)."""
    return store.exists(RUNS, object_name(check_run_id(rid), shard))


def write_object(
    con: duckdb.DuckDBPyConnection, query: str, args: list[Any], store: Store, sub: str, name: str
) -> None:
    """A new object ``sub/name`` holding the query's rows, never over an existing one
    (:meth:`Store.put_file`)."""
    with tempfile.TemporaryDirectory(prefix="benchpipe-hist-") as d:
        tmp = Path(d) / name
        con.execute(f"COPY ({query}) TO {sql_literal(tmp)} (FORMAT parquet)", args)
        store.put_file(tmp, sub, name)


def _sample_columns(parsed: Parsed) -> list[list[Any]]:
    """The run's samples as columns: package, benchmark, unit, sample index (per result name), value."""
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
    return [pkgs, names, units, idx, values]


def _summary_columns(parsed: Parsed, meta: BenchMeta, opts: Options) -> dict[str, list[Any]]:
    """Each (package, benchmark, unit)'s summary (:meth:`Options.summary`) as columns, with its top-level
    benchmark's wall seconds (on each of its rows): what shards are balanced by."""
    seconds = {(p.import_path, name): s for p in meta.packages for name, s in p.bench_s.items()}
    cols: dict[str, list[Any]] = {c: [] for c, _ in SUMMARY_ROW}
    for (p, b, u), vals in benchfmt.samples(parsed).items():
        sm = opts.summary(b, u, vals, parsed.units.get(u))
        row = (
            p,
            b,
            u,
            sm.center,
            finite(sm.lo),
            finite(sm.hi),
            sm.n,
            seconds.get((p, benchfmt.top_level(b))),
        )
        for c, x in zip(cols, row, strict=True):
            cols[c].append(x)
    return cols


def append(
    hist: Path | str | Store,
    parsed: Parsed,
    meta: BenchMeta,
    when: datetime | None = None,
    run_id: str | None = None,
    opts: Options | None = None,
    shard: str = "",
) -> str:
    """Store one run (or one shard of it: ``shard``, ``K/N`` as everywhere, ``KofN`` in object names); returns
    its run id. A run without results is not stored.

    Each (package, benchmark, unit) is summarised by :meth:`Options.summary` (the rules of ``opts``),
    as in the report and the comparison."""
    store = open_store(hist)
    if not parsed.results:
        raise NothingToCompare("run has no benchmark results; nothing stored in the history")
    when = when or parse_time(meta.start_time) or datetime.now(UTC)
    rid = check_run_id(run_id or new_run_id(when, meta.commit))
    head = HistoryRun.of(rid, when.isoformat(), meta)
    name = object_name(rid, shard)
    samples = _sample_columns(parsed)
    run = {c: when.replace(tzinfo=None) if c == "time" else getattr(head, c) for c, _ in RUN}
    con = duck.connect()
    try:
        write_object(
            con,
            select(RUN, SAMPLE_ROW),
            [run[c] for c, _ in RUN] + samples,
            store,
            RUNS,
            name,
        )
        cols = _summary_columns(parsed, meta, opts or Options())
        write_object(
            con,
            select(summary_run(), SUMMARY_ROW),
            [run[c] for c, _ in summary_run()] + list(cols.values()),
            store,
            SUMMARY,
            name,
        )
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


def import_file(
    hist: Path | str | Store, parsed: Parsed, commit: str, time: str, branch: str = "", machine: str = ""
) -> str:
    """Seed the history from an old benchfmt file; commit and time are required."""
    if not commit:
        raise BenchpipeError("history import: --commit is required (which commit produced these results?)")
    when = parse_time(time)
    if when is None:
        raise BenchpipeError(f"history import: --time must be an ISO 8601 time, got {time!r}")

    def config(key: str) -> str:
        return next((r.config.get(key, "") for r in parsed.results), "")

    meta = BenchMeta(
        commit=commit,
        branch=branch,
        hostname=machine,
        mode="import",
        goos=config("goos"),
        goarch=config("goarch"),
        cpu=config("cpu"),
    )
    return append(hist, parsed, meta, when)
