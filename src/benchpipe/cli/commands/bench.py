"""``benchpipe bench``: the bench stage (run the configured Go benchmarks)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchpipe.cli.common import RUN
from benchpipe.core.errors import EXIT_ERROR, EXIT_OK, BenchpipeError
from benchpipe.store import params

if TYPE_CHECKING:
    from benchpipe.core.settings import Settings


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="run the configured Go benchmarks (pipeline stage)")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--out", default=str(RUN / "bench.txt"), help="raw benchmark output (benchfmt)")
    p.add_argument("--meta", default=str(RUN / "bench.json"), help="run metadata (JSON)")
    p.add_argument(
        "--keep-going",
        action="store_true",
        help="exit 0 when a benchmark stalled but others have results (the gate exits 2 later)",
    )
    p.add_argument("--shard", help="K/N: run only shard K of N of the benchmark set (default bench.shard)")
    p.add_argument(
        "--measure",
        choices=["time", "instructions"],
        help="time (go test's ns/op) or instructions (instructions/op under valgrind); default params "
        "measure",
    )
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.cli import forkserver
    from benchpipe.core.artifacts import BenchMeta
    from benchpipe.stages import bench
    from benchpipe.store import artifacts, baselines

    settings = params.load(args.params)
    cfg = settings.mode_settings()
    note, measure = "", args.measure or settings.measure
    if settings.bench.like_baseline and not baselines.is_history(str(settings.bench.like_baseline)):
        _, meta = baselines.paths(str(settings.bench.like_baseline))
        recorded = artifacts.read(meta, BenchMeta, missing_ok=True)
        cfg, note = params.like_baseline(cfg, settings.mode, recorded, args.params)
        if not args.measure and recorded.settings and recorded.settings.measure:
            measure = recorded.settings.measure  # measured as the baseline was
        if note:
            sys.stderr.write(f"bench: {note}\n")
    shard = args.shard or settings.bench.shard
    durations = _recorded_durations(settings, params.target_dir(settings)) if shard else {}
    info = bench.run(
        cfg,
        settings.mode,
        params.target_dir(settings),
        Path(args.out),
        Path(args.meta),
        settings.bench.stall_s,
        [note] if note else [],
        shard,
        durations,
        settings.instructions if measure == "instructions" else None,
        forkserver.wait_quiet,
    )
    sys.stderr.write(
        f"bench: {info.results} results in {info.wall_s:.1f}s (go test {info.go_s:.1f}s) -> {args.out}\n"
    )
    for f in info.failures:
        sys.stderr.write(f"bench: error: {f.message}\n")
    if info.failures and not args.keep_going:
        return EXIT_ERROR
    return EXIT_OK


def _recorded_durations(settings: Settings, target: Path) -> dict[tuple[str, str], float]:
    """The module's recorded benchmark durations in the history store ({} without history: shards then
    split by package)."""
    from benchpipe.go import toolchain
    from benchpipe.store import history, objstore

    try:
        return history.durations(objstore.configured(settings.history.store), toolchain.module_path(target))
    except BenchpipeError as e:
        sys.stderr.write(f"bench: shards split by package: the history cannot be read ({e.message})\n")
        return {}
