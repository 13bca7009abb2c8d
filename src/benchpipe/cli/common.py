"""What every subcommand shares: the run directory, statistics options, optional params."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from benchpipe.core.errors import EXIT_OK, EXIT_REGRESSION

if TYPE_CHECKING:  # the statistics load with the commands that compare, not for `benchpipe --help`
    from benchpipe.core.settings import Settings
    from benchpipe.core.verdict import Options

RUN = Path("reports/run")


def add_stat_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--alpha", type=float, help="significance level (default 0.05, or params)")
    p.add_argument("--confidence", type=float, help="confidence level of intervals (default 0.95)")
    p.add_argument(
        "--threshold", type=float, metavar="PCT", help="regression threshold in percent (default 10)"
    )


def options(args: argparse.Namespace, settings: Settings | None) -> Options:
    """The statistics options: command-line flags over params.yaml's ``compare`` section."""
    from benchpipe.core.verdict import Options

    o = Options.from_settings(settings.compare, settings.instructions) if settings is not None else Options()
    if args.alpha is not None:
        o.alpha = args.alpha
    if args.confidence is not None:
        o.confidence = args.confidence
    if args.threshold is not None:
        o.threshold_pct = args.threshold
    return o


def add_paired_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", help="Go module (inside a git work tree); default params target")
    p.add_argument("--params", help="params.yaml (default ./params.yaml if present)")
    p.add_argument("--rounds", type=int, help="rounds (default params paired.rounds)")
    p.add_argument("--packages", nargs="*", help="package patterns")
    p.add_argument("--benchtime", help="-benchtime of each run")
    p.add_argument("--cache-dir", help="cache directory (default ~/.cache/benchpipe)")
    add_stat_opts(p)


def verdict_code(verdict: str) -> int:
    return EXIT_REGRESSION if verdict == "FAIL" else EXIT_OK


def parse_sets(items: list[str]) -> dict[str, object]:
    """``--set KEY=JSON`` options as dotted-key overrides (a value that is not JSON is a string)."""
    import json

    from benchpipe.core.errors import BenchpipeError

    out: dict[str, object] = {}
    for kv in items:
        key, sep, value = kv.partition("=")
        if not sep or not key:
            raise BenchpipeError(f"--set {kv!r}: expected KEY=JSON")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out
