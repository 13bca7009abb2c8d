"""``benchpipe issue github|gitlab``: open one issue for the culprits a default-branch run found.

Run by a trusted job after the default-branch job, with only the permission to open issues and no
checkout: it reads that job's ``culprit.json`` (``--culprit``) as data and renders the title and the body
here (:mod:`benchpipe.render.culprit`: commit subjects, benchmark names and Go's messages are untrusted text,
escaped by this process). The body starts with a hidden marker naming its culprits; an issue that holds it
already (open or closed, opened by the same account) is never opened again, so a re-run job or a later run
that meets the same culprit posts nothing. The token is read from the environment (``GITHUB_TOKEN``;
GitLab: ``BENCHPIPE_GITLAB_TOKEN``), sent only to ``--api``, never printed.

Exit codes: 0 opened, already open, or nothing to open (no culprit found or range proven); 2 bad input, a
missing token or a failed call.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

from benchpipe.core.errors import EXIT_OK, BenchpipeError

_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def register(sub: Any) -> None:
    p = sub.add_parser("issue", help="open one issue for the culprits a default-branch run found")
    forges = p.add_subparsers(dest="forge", required=True)
    gh = forges.add_parser("github", help="through GitHub's REST API")
    gh.add_argument("--repo", required=True, help="owner/name (github.repository)")
    gh.add_argument("--api", default=os.environ.get("GITHUB_API_URL") or "https://api.github.com")
    gh.add_argument("--token-env", default="GITHUB_TOKEN", help="the environment variable holding the token")
    gl = forges.add_parser("gitlab", help="through GitLab's REST API")
    gl.add_argument("--project", required=True, help="the project's id or path (CI_PROJECT_ID)")
    gl.add_argument("--api", default=os.environ.get("CI_API_V4_URL") or "https://gitlab.com/api/v4")
    gl.add_argument("--token-env", default="BENCHPIPE_GITLAB_TOKEN")
    for f in (gh, gl):
        f.add_argument("--culprit", default="reports/run/culprit.json", help="benchpipe culprit's JSON")
        f.add_argument("--commit-url", default="", help="a commit's URL, with {commit} for its hash")
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.core.artifacts import CulpritDoc
    from benchpipe.forge import github, gitlab
    from benchpipe.render import culprit as render
    from benchpipe.store import artifacts, culprits

    path = Path(args.culprit)
    if not path.exists():
        raise BenchpipeError(f"issue: {path}: no culprit document (benchpipe culprit writes it)")
    doc = artifacts.read(path, CulpritDoc)
    found = [c for c in doc.culprits if c.status in culprits.RECORDED]
    if not found:
        sys.stderr.write("issue: no culprit found or range proven: nothing to open\n")
        return EXIT_OK
    token = os.environ.get(args.token_env, "")
    if not token:
        raise BenchpipeError(f"issue: no token: set {args.token_env} in this step's environment")
    title, body, mark = (
        render.issue_title(found),
        render.issue_body(found, args.commit_url),
        render.marker(found),
    )
    if args.forge == "github":
        if not _REPO.fullmatch(args.repo):
            raise BenchpipeError("issue: --repo must be owner/name")
        what, number = github.open_issue(args.api, args.repo, title, body, token, mark)
    else:
        what, number = gitlab.open_issue(args.api, args.project, title, body, token, mark)
    sys.stderr.write(f"issue: {'opened' if what == 'created' else 'already open:'} #{number}\n")
    return EXIT_OK
