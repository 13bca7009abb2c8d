"""``benchpipe bisect``: the first commit on which a benchmark regressed."""

from __future__ import annotations

import argparse
from typing import Any

from benchpipe.cli.common import add_paired_opts, options
from benchpipe.store import params


def register(sub: Any) -> None:
    p = sub.add_parser("bisect", help="first commit on which a benchmark regressed beyond the threshold")
    p.add_argument("--good", required=True, help="a revision without the regression")
    p.add_argument("--bad", required=True, help="a revision with the regression")
    p.add_argument(
        "--bench",
        dest="bench_name",
        required=True,
        help="go test's -bench pattern of the results to bisect, e.g. '^BenchmarkEvaluate$' or "
        "'DigestBytes/16B$'",
    )
    p.add_argument("--no-confirm", action="store_true")
    p.add_argument("--format", choices=["text", "json"], default="text")
    add_paired_opts(p)
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.revisions import bisect

    settings = params.load_optional(args.params)
    return bisect.main(args, options(args, settings), settings)
