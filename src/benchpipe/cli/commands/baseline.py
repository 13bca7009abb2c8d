"""``benchpipe baseline``: save the current results as a baseline, or pull one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from benchpipe.cli.common import RUN
from benchpipe.core.errors import EXIT_OK, NothingToCompare


def register(sub: Any) -> None:
    p = sub.add_parser("baseline", help="save the current results as a baseline, or pull one")
    p.add_argument("action", choices=["save", "pull"])
    p.add_argument("--name", default="main")
    p.add_argument("--raw", default=str(RUN / "bench.txt"))
    p.add_argument("--meta", default=str(RUN / "bench.json"))
    p.add_argument("--profiles", default=str(RUN / "profile"), help="profiles to keep with the baseline")
    p.add_argument("--no-push", action="store_true")
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.store import baselines as baseline

    if args.action == "save":
        for n in baseline.save(
            args.name, Path(args.raw), Path(args.meta), push=not args.no_push, profiles=Path(args.profiles)
        ):
            sys.stderr.write(f"baseline: {n}\n")
        return EXIT_OK
    if baseline.is_history(args.name):
        sys.stderr.write(f"baseline: {args.name} is resolved from the history store by the compare stage\n")
        return EXIT_OK
    if baseline.pull(args.name):
        sys.stderr.write(f"baseline: {args.name} is present\n")
        return EXIT_OK
    raise NothingToCompare(
        f"baseline {args.name!r} not found locally or in the DVC remote "
        f"(save one with `invoke baseline --name {args.name}`)"
    )
