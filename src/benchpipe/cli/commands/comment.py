"""``benchpipe comment github|gitlab``: post or update benchpipe's one comment on a pull (merge) request.

Run by a trusted job that never checks out or runs the pull request's code (the ``workflow_run`` workflow
``benchpipe init`` writes, or GitLab's comment job): it reads the verdict job's artifact as data. The body is
rendered here from the comparison's JSON (``--compare``: the escaping is this process's, not the pull
request's run's) or read from ``--body``; it starts with a hidden marker, by which the comment is found and
updated (one comment per pull request, also for pull requests from forks), and is cut to 65,536 characters.

The pull request's number comes from ``--pr`` or from the artifact (``--pr-file``, ``{"number": N}``), and is
untrusted: digits only, and the pull request's head commit must equal ``--head-sha`` (the commit the trusted
event names); otherwise nothing is posted (exit 3). The token is read from the environment (``GITHUB_TOKEN``;
GitLab: ``BENCHPIPE_GITLAB_TOKEN``), sent only to ``--api``, never printed. Exit codes: 0 posted, 2 bad input,
a missing token or a failed call, 3 not posted (the number does not name this run's pull request).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from benchpipe.core.errors import EXIT_NOTHING, EXIT_OK, BenchpipeError

_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "comment", help="post or update benchpipe's one comment on a pull request (trusted jobs)"
    )
    forges = p.add_subparsers(dest="forge", required=True)
    gh = forges.add_parser("github", help="a pull request's comment, through GitHub's REST API")
    gh.add_argument("--repo", required=True, help="owner/name (github.repository)")
    gh.add_argument("--api", default=os.environ.get("GITHUB_API_URL") or "https://api.github.com")
    gh.add_argument("--token-env", default="GITHUB_TOKEN", help="the environment variable holding the token")
    gh.add_argument(
        "--author",
        default="github-actions[bot]",
        help="who the token posts as: only that author's marked comment is updated",
    )
    gl = forges.add_parser("gitlab", help="a merge request's note, through GitLab's REST API")
    gl.add_argument("--project", required=True, help="the project's id or path (CI_PROJECT_ID)")
    gl.add_argument("--api", default=os.environ.get("CI_API_V4_URL") or "https://gitlab.com/api/v4")
    gl.add_argument(
        "--token-env",
        default="BENCHPIPE_GITLAB_TOKEN",
        help="the environment variable holding the token (a protected, masked variable)",
    )
    for f in (gh, gl):
        body = f.add_mutually_exclusive_group(required=True)
        body.add_argument(
            "--compare", help="a comparison's JSON (merged compare.json): the body is rendered here"
        )
        body.add_argument("--body", help="a Markdown file to post as it is")
        num = f.add_mutually_exclusive_group(required=True)
        num.add_argument("--pr", help="the pull (merge) request's number")
        num.add_argument(
            "--pr-file", help='a JSON file {"number": N} from the verdict job\'s artifact (untrusted)'
        )
        f.add_argument(
            "--head-sha",
            required=True,
            help="the commit the trusted event names; the request's head must be it",
        )
        f.add_argument(
            "--run-url", default="", help="the run's page: links to the call graphs and the whole summary"
        )
        f.set_defaults(fn=run)


def _number(args: argparse.Namespace) -> int:
    raw: object = args.pr
    if args.pr_file:
        try:
            raw = json.loads(Path(args.pr_file).read_text()).get("number")
        except (OSError, ValueError, AttributeError) as e:
            raise BenchpipeError(
                f"comment: {args.pr_file}: no pull request number ({type(e).__name__})"
            ) from None
    text = str(raw)
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 10**9:
        raise BenchpipeError("comment: the pull request number must be digits only")
    return int(text)


def _body(args: argparse.Namespace) -> str:
    from benchpipe.render import ci

    if args.compare:
        from benchpipe.core.artifacts import CompareDoc
        from benchpipe.store import artifacts

        path = Path(args.compare)
        if not path.exists():
            raise BenchpipeError(f"comment: {path}: no comparison")
        text = ci.summary_markdown(artifacts.read(path, CompareDoc), graphs_url=args.run_url)
    else:
        try:
            text = Path(args.body).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise BenchpipeError(f"comment: {args.body}: {type(e).__name__}") from None
    return ci.comment_body(text, args.run_url)


def run(args: argparse.Namespace) -> int:
    from benchpipe.forge import github, gitlab
    from benchpipe.render import ci

    token = os.environ.get(args.token_env, "")
    if not token:
        raise BenchpipeError(f"comment: no token: set {args.token_env} in this step's environment")
    if not _SHA.fullmatch(args.head_sha):
        raise BenchpipeError("comment: --head-sha must be a full commit hash")
    number, body = _number(args), _body(args)
    if args.forge == "github":
        if not _REPO.fullmatch(args.repo):
            raise BenchpipeError("comment: --repo must be owner/name")
        head = github.pull_head(args.api, args.repo, number, token)
    else:
        head = gitlab.mr_head(args.api, args.project, number, token)
    if head != args.head_sha:
        sys.stderr.write(
            f"comment: not posted: request #{number} is at {head[:12] or 'no commit'}, this run measured "
            f"{args.head_sha[:12]} (a newer push, or a number that is not this run's)\n"
        )
        return EXIT_NOTHING
    if args.forge == "github":
        what, cid = github.upsert(args.api, args.repo, number, body, token, ci.MARKER, args.author)
    else:
        what, cid = gitlab.upsert(args.api, args.project, number, body, token, ci.MARKER)
    sys.stderr.write(f"comment: {what} comment {cid} on #{number} ({len(body)} characters)\n")
    return EXIT_OK
