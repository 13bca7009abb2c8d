"""GitLab's REST API: one benchpipe note per merge request, created or updated.

Calls (``api`` is ``$CI_API_V4_URL``, e.g. ``https://gitlab.com/api/v4``): ``GET
/projects/{id}/merge_requests/{iid}`` (its head commit, ``sha``), ``GET /user`` (who the token is), ``GET
.../notes?per_page=100`` (its note that starts with the marker), ``POST .../notes`` and ``PUT
.../notes/{note_id}``. The token (a project access token with the ``api`` scope, in a *protected*, masked
CI/CD variable) goes in ``PRIVATE-TOKEN``.
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
