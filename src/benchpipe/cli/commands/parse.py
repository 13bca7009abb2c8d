"""``benchpipe parse``: the parse stage (benchmark text to a Parquet samples table)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from benchpipe.cli.common import RUN
from benchpipe.core.errors import EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("parse", help="benchfmt / go test -json to a Parquet samples table (pipeline stage)")
    p.add_argument("inputs", nargs="+")
    p.add_argument("--out", default=str(RUN / "samples.parquet"))
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.stages import parse

    parse.run([Path(p) for p in args.inputs], Path(args.out))
    return EXIT_OK
