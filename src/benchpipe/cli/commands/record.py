"""``benchpipe record``: the record stage (append the run to the history)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from benchpipe.cli.common import RUN
from benchpipe.core.errors import EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("record", help="append the run to the history, write history.csv (pipeline stage)")
    p.add_argument("--params", default="params.yaml", help="compare rules: how each unit is summarised")
    p.add_argument("--raw", default=str(RUN / "bench.txt"))
    p.add_argument("--meta", default=str(RUN / "bench.json"))
    p.add_argument("--history", default="reports/history")
    p.add_argument("--plots", default="reports/history.csv", help="DVC plots file (ns/op per run)")
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.core.verdict import Options
    from benchpipe.stages import record
    from benchpipe.store import params

    opts = Options.from_settings(params.load(args.params).compare)
    rid = record.run(Path(args.raw), Path(args.meta), Path(args.history), Path(args.plots) if args.plots else None,
                     opts)
    sys.stderr.write(f"record: run {rid} stored in {args.history}\n")
    return EXIT_OK
