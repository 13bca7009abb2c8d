"""``benchpipe merge DIR... --shards N --out DIR``: join the run directories of a suite's N shards into one
run (``bench.txt``, ``bench.json``, ``compare.json``), then render its report; a missing or failed shard
is named and makes ``benchpipe gate`` on the merged verdict exit 2 (see :mod:`benchpipe.stages.merge`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from benchpipe.core.errors import EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("merge", help="join the shards of a suite into one run, verdict and report")
    p.add_argument(
        "dirs",
        nargs="*",
        metavar="DIR",
        help="each shard's run directory (its reports/run), or a paired shard's JSON",
    )
    p.add_argument(
        "--shards", type=int, required=True, metavar="N", help="how many shards the suite was split into"
    )
    p.add_argument("--out", default="reports/run", help="the merged run directory")
    p.add_argument("--report", default="reports/report.md", help="the merged report ('' for none)")
    p.add_argument("--params", help="params.yaml (default ./params.yaml if present, else every default)")
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.stages import merge, parse, report
    from benchpipe.store import params

    out = Path(args.out)
    doc = merge.merge([Path(d) for d in args.dirs], args.shards, out)
    sys.stderr.write(
        f"merge: {doc.verdict} from shard(s) {', '.join(doc.shards) or 'none'} "
        f"({len(doc.rows)} rows)"
        + "".join(f"; {f.message}" for f in doc.failures if f.kind == "shard")
        + "\n"
    )
    if args.report and (out / "bench.txt").stat().st_size:
        parse.run([out / "bench.txt"], out / "samples.parquet")
        settings = params.load_optional(args.params)
        md = Path(args.report)
        report.run(
            out / "bench.json",
            out / "bench.txt",
            out / "samples.parquet",
            out / "compare.json",
            out / "profile",
            settings,
            md,
            md.with_name("metrics.json"),
            None,
            None,
        )
        sys.stderr.write(f"merge: wrote {md}\n")
    return EXIT_OK
