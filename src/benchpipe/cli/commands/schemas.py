"""``benchpipe schemas``: write the JSON Schemas of benchpipe's artifacts
(``docs/schemas/<name>.schema.json``), generated from the models (:mod:`benchpipe.core.artifacts`), so that
other tools can read benchpipe's JSON. ``--check`` writes nothing and exits 2, naming the files, when the
checked-in schemas are not current."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchpipe.core.errors import EXIT_OK, BenchpipeError


def register(sub: Any) -> None:
    p = sub.add_parser("schemas", help="write (or --check) the JSON Schemas of the artifacts")
    p.add_argument("--out", default="docs/schemas")
    p.add_argument("--check", action="store_true", help="exit 2 if the schemas in --out are not current")
    p.set_defaults(fn=run)


def texts() -> dict[str, str]:
    """Each schema file's name and its text."""
    from benchpipe.core.artifacts import schemas

    return {
        f"{name}.schema.json": json.dumps(s, indent=2, sort_keys=True) + "\n" for name, s in schemas().items()
    }


def run(args: argparse.Namespace) -> int:
    from benchpipe.store import atomic

    out = Path(args.out)
    want = texts()
    if args.check:
        stale = [n for n, t in want.items() if not (out / n).exists() or (out / n).read_text() != t]
        if stale:
            raise BenchpipeError(
                f"{out}: not current: {', '.join(stale)} (run `benchpipe schemas --out {out}`)"
            )
        return EXIT_OK
    for name, text in want.items():
        atomic.write_text(out / name, text)
    sys.stderr.write(f"schemas: wrote {len(want)} schema(s) to {out}\n")
    return EXIT_OK
