"""GitHub's REST API: one benchpipe comment per pull request, created or updated.

Calls (``api`` is ``https://api.github.com`` or ``$GITHUB_API_URL`` on GitHub Enterprise):
``GET /repos/{repo}/pulls/{n}`` (the pull request's head commit: the number given is checked, since it comes
from an artifact of the pull request's own run), ``GET /repos/{repo}/issues/{n}/comments?per_page=100`` (the
comment that starts with the marker), ``POST /repos/{repo}/issues/{n}/comments`` and
``PATCH /repos/{repo}/issues/comments/{id}``. Culprit issues (:func:`open_issue`): ``GET
/repos/{repo}/issues?state=all&creator=...`` (an issue that holds the marker already) and ``POST
/repos/{repo}/issues``. Authorization: ``Bearer`` token.
"""

from __future__ import annotations

from benchpipe.forge import http

BOT = "github-actions[bot]"  # the author of comments posted with a workflow's GITHUB_TOKEN


def _headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "benchpipe",
    }


def pull_head(api: str, repo: str, number: int, token: str) -> str:
    """The head commit of pull request ``number``."""
    pr, _ = http.call("GET", f"{http.check_base(api)}/repos/{repo}/pulls/{number}", _headers(token))
    return str(((pr or {}).get("head") or {}).get("sha") or "")


def upsert(
    api: str, repo: str, number: int, body: str, token: str, marker: str, author: str = BOT
) -> tuple[str, int]:
    """Update the comment ``author`` wrote that starts with ``marker``, or create it: ("updated" | "created",
    its id). A comment anyone else wrote is never touched, whatever it starts with."""
    base = f"{http.check_base(api)}/repos/{repo}/issues"
    return http.upsert(
        f"{base}/{number}/comments?per_page=100",
        f"{base}/{number}/comments",
        lambda cid: f"{base}/comments/{cid}",
        "PATCH",
        _headers(token),
        body,
        lambda c: (
            str(c.get("body") or "").startswith(marker)
            and str((c.get("user") or {}).get("login") or "") == author
        ),
    )


def open_issue(
    api: str, repo: str, title: str, body: str, token: str, marker: str, author: str = BOT
) -> tuple[str, int]:
    """Open an issue, unless one ``author`` opened holds ``marker`` already (open or closed): ("created" |
    "exists", its number)."""
    base = f"{http.check_base(api)}/repos/{repo}/issues"
    mine = [
        i
        for i in http.pages(f"{base}?state=all&creator={http.quote(author)}&per_page=100", _headers(token))
        if marker in str(i.get("body") or "") and "pull_request" not in i
    ]
    if mine:
        return "exists", int(mine[0].get("number") or 0)
    made, _ = http.call("POST", base, _headers(token), {"title": title, "body": body})
    return "created", int((made or {}).get("number") or 0)
