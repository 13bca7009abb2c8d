"""``benchpipe record``: the record stage (append the run to the history store)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from benchpipe.cli.common import RUN
from benchpipe.core.errors import EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("record", help="append the run to the history store (pipeline stage)")
    p.add_argument("--params", default="params.yaml", help="compare rules: how each unit is summarised")
    p.add_argument("--raw", default=str(RUN / "bench.txt"))
    p.add_argument("--meta", default=str(RUN / "bench.json"))
    p.add_argument(
        "--history",
        help="history store: directory or URL (default BENCHPIPE_HISTORY, else params history.store)",
    )
    p.add_argument("--out", default=str(RUN / "record.json"), help="what was stored, or why not")
    p.add_argument(
        "--dvc-out",
        default="reports/history",
        help="the DVC output directory, made to exist (with STORE naming a remote store)",
    )
    p.add_argument(
        "--shard",
        default="",
        help="K/N: this run is shard K of N (default bench.shard; the CI run's shards share a run id)",
    )
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.core.verdict import Options
    from benchpipe.stages import record
    from benchpipe.store import objstore, params

    settings = params.load(args.params)
    store = objstore.open_store(args.history) if args.history else objstore.configured(settings.history.store)
    shard = args.shard or settings.bench.shard or ""
    doc = record.run(
        Path(args.raw),
        Path(args.meta),
        store,
        Options.from_settings(settings.compare, settings.instructions),
        Path(args.out),
        Path(args.dvc_out),
        shard,
    )
    if doc.stored:
        sys.stderr.write(f"record: run {doc.run_id} stored in {store.url}\n")
    return EXIT_OK
