"""``benchpipe culprit``: after a default-branch run, the commit each confirmed regression came in with.

Reads the run's ``compare.json`` (judged against the history's last good run) and the history's new change
points on the default branch (``publish.baseline_branch``), searches the first-parent commits of each range
(:mod:`benchpipe.revisions.culprit`), skips a result a stored culprit already covers, stores what it finds
in the history store (``culprits/``), and writes ``culprit.json`` and a Markdown issue body for the team.
Exit 0 whatever it finds (the run's verdict is the gate's); 2 on an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from benchpipe.cli.common import RUN, add_paired_opts, options
from benchpipe.core.errors import EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser(
        "culprit", help="find the commit each confirmed regression of a default-branch run came in with"
    )
    p.add_argument("--compare", default=str(RUN / "compare.json"), help="the default-branch run's comparison")
    p.add_argument(
        "--history",
        help="history store: directory or URL (default BENCHPIPE_HISTORY, else params history.store)",
    )
    p.add_argument("--out", default=str(RUN / "culprit.json"))
    p.add_argument("--issue", default="reports/culprit.md", help="the Markdown issue body (when found)")
    p.add_argument("--max-s", type=float, help="the search's budget, seconds (default params culprit.max_s)")
    p.add_argument("--no-record", action="store_true", help="do not store what is found")
    add_paired_opts(p)
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.core.artifacts import CompareDoc
    from benchpipe.render import culprit as render
    from benchpipe.revisions import culprit, paired
    from benchpipe.stages import publish
    from benchpipe.store import artifacts, culprits, history, objstore, params

    settings = params.load_optional(args.params)
    doc = artifacts.read(Path(args.compare), CompareDoc)
    store = objstore.open_store(args.history) if args.history else objstore.configured(settings.history.store)
    for name, value in (("base", ""), ("head", None), ("bench", None), ("changed_only", False)):
        setattr(args, name, value)
    args.no_confirm = False
    plan = paired.plan_from(argparse.Namespace(**{**vars(args), "out": None}), settings)
    ran = Path(doc.current_env.target) if doc.current_env and doc.current_env.target else None
    if not args.target and ran is not None and ran.is_dir():  # the module the run measured
        plan.target = ran
    improvements = settings.culprit.improvements
    max_s = args.max_s if args.max_s is not None else settings.culprit.max_s
    points = culprit.from_change_points(
        publish.series_of(history.everything(store)), settings.publish.baseline_branch, improvements
    )
    out = culprit.attribute(
        doc, plan, options(args, settings), max_s, culprits.load(store), improvements, points
    )
    for c in out.culprits:
        sys.stdout.write(render.line(c) + "\n")
        if c.status in culprits.RECORDED and not args.no_record and culprits.record(store, c):
            sys.stderr.write(f"culprit: recorded in {store.url}\n")
    if out.note:
        sys.stdout.write(f"culprit: {out.note}\n")
    artifacts.write(args.out, out)
    if any(c.status in culprits.RECORDED for c in out.culprits):
        from benchpipe.store import atomic

        atomic.write_text(Path(args.issue), render.issue_body(out.culprits, settings.publish.commit_url))
        sys.stderr.write(f"culprit: issue body written to {args.issue}\n")
    return EXIT_OK
