"""``benchpipe gate``: the verdict of the last comparison as an exit code."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchpipe.cli.common import RUN, verdict_code
from benchpipe.core.errors import EXIT_ERROR, EXIT_NOTHING, EXIT_OK, BenchpipeError


def register(sub: Any) -> None:
    p = sub.add_parser("gate", help="print the verdict of the last comparison; exit 1 on FAIL")
    p.add_argument("--compare", default=str(RUN / "compare.json"))
    p.add_argument("--require-baseline", action="store_true", help="exit 3 when there was no baseline")
    p.add_argument("--strict-env", action="store_true",
                   help="exit 3 when the baseline was recorded with other settings (not comparable)")
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    p = Path(args.compare)
    if not p.exists():
        raise BenchpipeError(f"{p}: no comparison (run the pipeline first)")
    data = json.loads(p.read_text())
    verdict = data.get("verdict", "NONE")
    failures = data.get("failures") or []
    if failures:
        for f in failures:
            sys.stdout.write(f"error: {f['message']}\n")
        sys.stdout.write(f"verdict: ERROR ({len(failures)} benchmark(s) did not finish; the other results "
                         "are in the report)\n")
        return EXIT_ERROR
    if verdict == "NONE":
        sys.stdout.write(f"verdict: no baseline ({data.get('note', '')})\n")
        return EXIT_NOTHING if args.require_baseline else EXIT_OK
    diffs = data.get("not_comparable") or []
    for d in diffs:
        sys.stdout.write(f"not comparable: {d}\n")
    if diffs and args.strict_env:
        sys.stdout.write("verdict: not comparable (--strict-env)\n")
        return EXIT_NOTHING
    from benchpipe.render.text import verdict_text

    bad = [f"{r['benchmark']} {r['unit']} {r['delta_pct']:+.2f}%" if r.get("delta_pct") is not None
           else f"{r['benchmark']} {r['unit']}" for r in data.get("rows", []) if r["verdict"] == "regression"]
    sys.stdout.write(verdict_text(verdict, float(data.get("threshold_pct", 10)), float(data.get("alpha", 0.05)), bad)
                     + "\n")
    return verdict_code(verdict)
