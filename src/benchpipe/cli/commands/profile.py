"""``benchpipe profile``: the profile stage."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from benchpipe.cli.common import RUN
from benchpipe.core.errors import EXIT_OK
from benchpipe.store import params


def register(sub: Any) -> None:
    p = sub.add_parser("profile", help="CPU/memory profiles, traces and call graphs (pipeline stage)")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--compare", default=str(RUN / "compare.json"))
    p.add_argument("--bench-meta", default=str(RUN / "bench.json"), help="benchmarks that stalled are skipped")
    p.add_argument("--out", default=str(RUN / "profile"))
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.stages import profile
    from benchpipe.store import baselines as baseline

    settings = params.load(args.params)
    cfg = params.mode_config(settings)
    name = str((settings.get("compare") or {}).get("baseline", "main"))
    profile.run(settings, cfg, params.target_dir(settings), Path(args.out), Path(args.compare) if args.compare else None,
                baseline.profile_dir(name), Path(args.bench_meta))
    return EXIT_OK
