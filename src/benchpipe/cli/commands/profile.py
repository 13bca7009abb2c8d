"""``benchpipe profile``: the profile stage; ``--web`` then opens ``go tool pprof -http`` on the first CPU
profile (what ``invoke profile --web BENCH`` does)."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import Any

from benchpipe.cli.common import RUN, parse_sets
from benchpipe.core.errors import EXIT_OK, NothingToCompare
from benchpipe.store import params


def register(sub: Any) -> None:
    p = sub.add_parser("profile", help="CPU/memory profiles, traces and call graphs (pipeline stage)")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--compare", default=str(RUN / "compare.json"))
    p.add_argument(
        "--bench-meta", default=str(RUN / "bench.json"), help="benchmarks that stalled are skipped"
    )
    p.add_argument("--out", default=str(RUN / "profile"))
    p.add_argument("--target", help="Go module directory (default params target)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="an override (dotted key)")
    p.add_argument(
        "--web", action="store_true", help="then serve the first CPU profile with go tool pprof -http"
    )
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.stages import profile

    extra: dict[str, Any] = {"target": str(Path(args.target).resolve())} if args.target else {}
    settings = params.load(args.params, {**extra, **parse_sets(args.set)})
    profile.run(
        settings,
        params.target_dir(settings),
        Path(args.out),
        Path(args.compare) if args.compare else None,
        _kept_profiles(str(settings.compare.baseline)),
        Path(args.bench_meta),
    )
    if args.web:
        profs = sorted(Path(args.out).glob("*/*/cpu.prof"))
        if not profs:
            raise NothingToCompare(
                f"no CPU profile in {args.out} for profile.bench {settings.profile.bench!r}"
            )
        return subprocess.run(
            [
                "go",
                "tool",
                "pprof",
                "-http=localhost:8080",
                str(profs[0].parent.parent / "pkg.test"),
                str(profs[0]),
            ]
        ).returncode
    return EXIT_OK


def _kept_profiles(name: str) -> Path | None:
    """The profiles a named baseline kept (for differential profiles); a history baseline keeps none."""
    from benchpipe.store import baselines

    return None if baselines.is_history(name) else baselines.profile_dir(name)
