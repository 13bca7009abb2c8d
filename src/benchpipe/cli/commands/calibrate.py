"""``benchpipe calibrate``: A/A paired runs of one revision, the noise floor per benchmark."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from benchpipe.cli.common import add_paired_opts, options
from benchpipe.core.errors import EXIT_OK
from benchpipe.store import params


def register(sub: Any) -> None:
    p = sub.add_parser("calibrate", help="A/A runs of one revision: the machine's noise floor per benchmark")
    p.add_argument("--rev", default="HEAD", help="revision to run against itself (default HEAD)")
    p.add_argument("--bench", help="benchmark regex")
    p.add_argument("--out", help="also write the result here (JSON)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    add_paired_opts(p)
    p.set_defaults(fn=run, head=None, no_confirm=True)


def run(args: argparse.Namespace) -> int:
    from benchpipe.revisions import calibrate, paired
    from benchpipe.store import atomic

    settings = params.load_optional(args.params)
    args.base = args.head = args.rev
    args.no_confirm, args.changed_only = True, False
    args.fixed_rounds = True  # the noise floor is measured over every round
    plan = paired.plan_from(args, settings)
    result = calibrate.calibrate(plan, options(args, settings))
    if args.out:
        atomic.write_json(args.out, result)
    if args.format == "json":
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return EXIT_OK
    rc = calibrate.ROUND_COUNTS
    lines = [
        f"A/A calibration of {plan.target} at {result['rev'][:12]}: {plan.rounds} rounds, "
        f"benchtime {plan.benchtime}",
        f"{'benchmark':<40} {'unit':<12} {'spread':>7}  noise floor (99% A/A) by rounds: "
        + " ".join(f"{n:>6}" for n in rc)
        + "  rounds for threshold",
    ]
    for e in result["benchmarks"].values():
        lines.append(
            f"{e['benchmark'][:40]:<40} {e['unit'][:12]:<12} {e['spread_pct']:>6.1f}%  "
            + " " * 33
            + " ".join(f"{e['noise_floor_pct'][str(n)]:>5.1f}%" for n in rc)
            + f"  {e['rounds_for_threshold'] or '>30'} (at {e['threshold_pct']:g}%)"
        )
    lines.append(f"stored: {result['stored']}")
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK
