"""GitLab's REST API: one benchpipe note per merge request, created or updated.

Calls (``api`` is ``$CI_API_V4_URL``, e.g. ``https://gitlab.com/api/v4``): ``GET
/projects/{id}/merge_requests/{iid}`` (its head commit, ``sha``), ``GET /user`` (who the token is), ``GET
.../notes?per_page=100`` (its note that starts with the marker), ``POST .../notes`` and ``PUT
.../notes/{note_id}``. The token (a project access token with the ``api`` scope, in a *protected*, masked
CI/CD variable) goes in ``PRIVATE-TOKEN``. Culprit issues (:func:`open_issue`): ``GET
/projects/{id}/issues?author_id=...&scope=all`` (an issue that holds the marker already) and ``POST
/projects/{id}/issues``.
"""

from __future__ import annotations

import urllib.parse

from benchpipe.forge import http


def _headers(token: str) -> dict[str, str]:
    return {"PRIVATE-TOKEN": token, "User-Agent": "benchpipe"}


def _mr(api: str, project: str, iid: int) -> str:
    return f"{http.check_base(api)}/projects/{urllib.parse.quote(project, safe='')}/merge_requests/{iid}"


def mr_head(api: str, project: str, iid: int, token: str) -> str:
    mr, _ = http.call("GET", _mr(api, project, iid), _headers(token))
    return str((mr or {}).get("sha") or "")


def upsert(api: str, project: str, iid: int, body: str, token: str, marker: str) -> tuple[str, int]:
    """Update the note this token's user wrote that starts with ``marker``, or create it: ("updated" |
    "created", its id). A note anyone else wrote is never touched."""
    base, headers = _mr(api, project, iid), _headers(token)
    me, _ = http.call("GET", f"{http.check_base(api)}/user", headers)
    return http.upsert(
        f"{base}/notes?per_page=100",
        f"{base}/notes",
        lambda nid: f"{base}/notes/{nid}",
        "PUT",
        headers,
        body,
        lambda n: (
            str(n.get("body") or "").startswith(marker)
            and (n.get("author") or {}).get("id") == (me or {}).get("id")
        ),
    )


def open_issue(api: str, project: str, title: str, body: str, token: str, marker: str) -> tuple[str, int]:
    """Open an issue, unless one this token's user opened holds ``marker`` already: ("created" | "exists",
    its iid)."""
    base = f"{http.check_base(api)}/projects/{urllib.parse.quote(project, safe='')}/issues"
    headers = _headers(token)
    me, _ = http.call("GET", f"{http.check_base(api)}/user", headers)
    who = int((me or {}).get("id") or 0)
    mine = [
        i
        for i in http.pages(f"{base}?author_id={who}&scope=all&per_page=100", headers)
        if marker in str(i.get("description") or "")
    ]
    if mine:
        return "exists", int(mine[0].get("iid") or 0)
    made, _ = http.call("POST", base, headers, {"title": title, "description": body})
    return "created", int((made or {}).get("iid") or 0)
