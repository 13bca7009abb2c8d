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

The package by concern: :mod:`.schema` (the columns, derived from
:class:`~benchpipe.core.artifacts.HistoryRun`), :mod:`.write` (appending runs), :mod:`.read` (queries over
the summary objects), :mod:`.compact`, :mod:`.baseline` (a baseline pooled from recorded runs) and
:mod:`.export` (the CSV ``dvc plots`` draws).
"""

from benchpipe.store.history.baseline import baseline
from benchpipe.store.history.compact import compact
from benchpipe.store.history.export import write_plot_csv
from benchpipe.store.history.read import (
    count_runs,
    durations,
    everything,
    query,
    read_summary,
    runs,
    series,
    series_many,
)
from benchpipe.store.history.write import append, check_run_id, import_file, new_run_id, parse_time, stored

__all__ = [
    "append",
    "baseline",
    "check_run_id",
    "compact",
    "count_runs",
    "durations",
    "everything",
    "import_file",
    "new_run_id",
    "parse_time",
    "query",
    "read_summary",
    "runs",
    "series",
    "series_many",
    "stored",
    "write_plot_csv",
]
