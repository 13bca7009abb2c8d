"""``benchpipe publish --out reports/site [--store URL]``: the whole run history as a static site (index,
change-point feed, a page per series) that any web server or GitHub Pages serves and that opens from disk."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from benchpipe.core.errors import EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("publish", help="the run history as a static site (dashboard)")
    p.add_argument("--out", default="reports/site")
    p.add_argument(
        "--store",
        help="history store: directory or URL (default BENCHPIPE_HISTORY, else params history.store)",
    )
    p.add_argument("--params", help="params.yaml (default ./params.yaml if present, else every default)")
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.stages import publish
    from benchpipe.store import objstore, params

    publish.check_out(
        Path(args.out)
    )  # before anything is read: a directory that is not a site is never touched
    settings = params.load_optional(args.params)
    store = objstore.open_store(args.store) if args.store else objstore.configured(settings.history.store)
    store.check()
    facts = publish.run(store, Path(args.out), settings.publish)
    sys.stderr.write(
        f"publish: {facts['series']} series from {store.url} -> {args.out}/index.html "
        f"({facts['index_bytes'] / 1e6:.2f} MB)\n"
    )
    return EXIT_OK
