"""The ``record`` stage: append the run to the history and write the DVC plots file.

Reads the run's ``bench.txt`` and ``bench.json``; writes one immutable
Parquet file per run under the history directory (see
:mod:`benchpipe.store.history`) and ``history.csv`` (``dvc plots``). The run
id is derived from the raw output, so recording the same run again never
stores it twice.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from benchpipe.core import benchfmt
from benchpipe.core.artifacts import BenchMeta
from benchpipe.core.verdict import Options
from benchpipe.store import artifacts, history


def run(raw: Path, meta_path: Path, history_dir: Path, plots_csv: Path | None, opts: Options) -> str:
    """Store the run; returns its run id."""
    meta = artifacts.read(meta_path, BenchMeta)
    parsed = benchfmt.read_files([raw])
    digest = hashlib.sha1(raw.read_bytes()).hexdigest()[:6]
    when = history.parse_time(meta.start_time) or datetime.now(UTC)
    rid = history.append(history_dir, parsed, meta, when,
                         history.new_run_id(when, meta.commit, digest), opts)
    if plots_csv is not None:
        history.write_plot_csv(history.query(history_dir, unit="ns/op", warn=False), plots_csv)
    return rid
