"""``benchpipe report``: the report stage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from benchpipe.cli.common import RUN
from benchpipe.core.errors import EXIT_OK
from benchpipe.store import params


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="render reports/report.md and reports/metrics.json (pipeline stage)")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--meta", default=str(RUN / "bench.json"))
    p.add_argument("--raw", default=str(RUN / "bench.txt"))
    p.add_argument("--samples", default=str(RUN / "samples.parquet"))
    p.add_argument("--compare", default=str(RUN / "compare.json"))
    p.add_argument("--profile", default=str(RUN / "profile"))
    p.add_argument("--out", default="reports/report.md")
    p.add_argument("--metrics", default="reports/metrics.json")
    p.add_argument(
        "--history",
        help="history store the trend charts read: directory or URL (default "
        "BENCHPIPE_HISTORY, else params history.store)",
    )
    p.add_argument("--record", default=str(RUN / "record.json"), help="whether the run was stored")
    p.add_argument("--no-history", action="store_true", help="no trend charts")
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.stages import report
    from benchpipe.store import objstore

    settings = params.load(args.params)
    hist = (
        None
        if args.no_history
        else (
            objstore.open_store(args.history) if args.history else objstore.configured(settings.history.store)
        )
    )
    report.run(
        Path(args.meta),
        Path(args.raw),
        Path(args.samples),
        Path(args.compare),
        Path(args.profile),
        settings,
        Path(args.out),
        Path(args.metrics),
        hist,
        Path(args.record),
    )
    sys.stderr.write(f"report: wrote {args.out}\n")
    return EXIT_OK
