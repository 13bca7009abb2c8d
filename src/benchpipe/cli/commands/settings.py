"""``benchpipe settings --run JSON``: record the overrides of the run about to start in ``params.run.yaml``.

``invoke`` calls it before ``dvc repro``: the overrides (dotted keys, as ``BENCHPIPE_OVERRIDES``) are
validated together with params.yaml (a misspelt key or a bad value is one line and exit 2, before any
benchmark runs) and written, nested, beside params.yaml. The stages declare that file in dvc.yaml, so
dvc.lock records the settings that really ran and ``dvc params diff`` shows them. ``--run '{}'`` resets it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchpipe.core.errors import EXIT_OK, BenchpipeError
from benchpipe.store import atomic, params


def register(sub: Any) -> None:
    p = sub.add_parser("settings", help="record a run's overrides in params.run.yaml (for DVC)")
    p.add_argument("--run", required=True, metavar="JSON", help="overrides as a JSON object of dotted keys")
    p.add_argument("--params", default="params.yaml")
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    try:
        overrides = json.loads(args.run)
    except ValueError:
        raise BenchpipeError("settings --run: not valid JSON") from None
    if not isinstance(overrides, dict):
        raise BenchpipeError("settings --run: expected a JSON object of dotted keys")
    target = Path(args.params).with_name(params.RUN_FILE)
    params.load(
        args.params, overrides, run_file=False
    )  # the new overrides replace the old; one line naming a bad key
    import yaml

    body = yaml.safe_dump(params.nest(overrides), sort_keys=True) if overrides else "{}\n"
    atomic.write_text(target, params.RUN_FILE_HEADER + body)
    return EXIT_OK
