"""``benchpipe annotate FILE``: a comparison's JSON shown the way CI shows things.

Appends the Markdown summary to ``--summary`` (default ``$GITHUB_STEP_SUMMARY`` when set), writes the
same text as a pull-request comment body to ``--comment``, and prints GitHub Actions annotations
(``::error::`` per regressed row, ``::warning::`` per warning) on stdout, where the runner reads them.
Always exits 0 when the file reads: the comparison's own exit code is the gate.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from benchpipe.core.errors import EXIT_OK, BenchpipeError


def register(sub: Any) -> None:
    p = sub.add_parser("annotate", help="job summary, PR comment and annotations from a comparison's JSON")
    p.add_argument("file", help="compare JSON (reports/run/compare.json, or a paired compare's --out)")
    p.add_argument(
        "--summary",
        default=os.environ.get("GITHUB_STEP_SUMMARY"),
        help="Markdown file to append the summary to (default $GITHUB_STEP_SUMMARY)",
    )
    p.add_argument("--comment", help="write the PR comment body here")
    p.add_argument("--title", default="benchpipe")
    p.add_argument(
        "--graphs-url",
        default="",
        help="where the workflow uploaded the call graphs beside the compare JSON: a URL with {graph} "
        "(the graph's path), or the run's page (the link names the path in the artifact)",
    )
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.cli import console
    from benchpipe.core.artifacts import CompareDoc
    from benchpipe.render import ci
    from benchpipe.store import artifacts, atomic

    path = Path(args.file)
    if not path.exists():
        raise BenchpipeError(f"{path}: no comparison to annotate (FileNotFoundError)")
    data = artifacts.read(path, CompareDoc)
    text = ci.summary_markdown(data, args.title, args.graphs_url)
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as f:
            f.write(text)
    if args.comment:
        atomic.write_text(args.comment, text)
    for line in ci.annotations(data):
        console.workflow_command(line)
    return EXIT_OK
