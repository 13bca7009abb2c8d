"""``benchpipe impact``: the coverage map of a commit, and the benchmarks a diff can make slower.

- ``impact map [--rev REV]``: build the map of REV (default HEAD) and store it in the history store
  (``coverage/<commit>.json``) and the local cache: what the default-branch job runs after its run, so that
  pull requests find their merge base's map. Exit 0; 2 on an error.
- ``impact select --base REV [--head REV]``: the selection ``compare --base`` would make (which map, what runs
  and why, what is skipped and why) as JSON on stdout or in ``--out``. Exit 0; 2 on an error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchpipe.core.errors import EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("impact", help="coverage maps and impact selection (which benchmarks a diff can slow)")
    isub = p.add_subparsers(dest="impact_cmd", required=True)
    for name, helptext in (
        ("map", "build and store the coverage map of a commit"),
        ("select", "the benchmarks a diff selects, and those it skips (JSON)"),
    ):
        q = isub.add_parser(name, help=helptext)
        q.add_argument("--target", help="Go module (inside a git work tree); default params target")
        q.add_argument("--params", help="params.yaml (default ./params.yaml if present)")
        q.add_argument("--packages", nargs="*", help="package patterns (default the mode's)")
        q.add_argument("--bench", help="benchmark regex (default the mode's)")
        q.add_argument(
            "--history", help="history store: directory or URL (default BENCHPIPE_HISTORY, else params)"
        )
        q.add_argument("--cache-dir", help="cache directory (default ~/.cache/benchpipe)")
        q.add_argument("--out", help="also write the JSON here")
        if name == "map":
            q.add_argument("--rev", default="HEAD", help="the commit (default HEAD)")
        else:
            q.add_argument("--base", required=True, help="base revision (its merge base with head)")
            q.add_argument("--head", help="head revision (default: the working tree)")
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.core.settings import DEFAULT_MODE
    from benchpipe.revisions import impact
    from benchpipe.store import atomic, objstore, params
    from benchpipe.store import coverage as maps
    from benchpipe.store.cachedir import cache_root

    settings = params.load_optional(args.params)
    cfg = settings.mode_settings() if settings.modes else DEFAULT_MODE
    target = Path(args.target or params.target_dir(settings))
    own = not args.target or target.resolve() == params.target_dir(settings).resolve()
    patterns = args.packages or (cfg.package_list if own else ["./..."])
    bench = args.bench or str(cfg.bench)
    cache = cache_root(args.cache_dir)
    store = objstore.open_store(args.history) if args.history else objstore.configured(settings.history.store)
    if args.impact_cmd == "map":
        cmap = impact.build(target, args.rev, patterns, bench, cache)
        stored = maps.save(cmap, cache, store)
        sys.stderr.write(
            f"impact: map of {cmap.commit[:12]} ({len(cmap.benchmarks)} benchmarks, {cmap.seconds:.1f}s) "
            + (f"stored in {store.url}\n" if stored else f"already in {store.url}\n")
        )
        doc: Any = cmap
    else:
        req = impact.Request(target, args.base, args.head, patterns, bench, cache, store, settings.impact)
        doc = impact.choose(req)
    import msgspec

    text = json.dumps(msgspec.to_builtins(doc), indent=2, sort_keys=True) + "\n"
    if args.out:
        atomic.write_text(Path(args.out), text)
    if args.impact_cmd == "select" or not args.out:
        sys.stdout.write(text)
    return EXIT_OK
