"""JSON over HTTPS with the standard library: one request, its status and decoded body, pagination by the
``Link: <...>; rel="next"`` header. Errors are one line (method, path, status), never the token."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from benchpipe.core.errors import BenchpipeError

TIMEOUT_S = 30
MAX_PAGES = 50  # 5,000 comments at 100 a page: enough for any pull request's conversation


def quote(value: str) -> str:
    """``value`` as one query-string value."""
    return urllib.parse.quote(value, safe="")


def check_base(api: str) -> str:
    """The API base URL without a trailing slash; only http(s) URLs."""
    parts = urllib.parse.urlsplit(api)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise BenchpipeError(f"comment: the API URL must be an http(s) URL, not {api!r}")
    return api.rstrip("/")


def call(
    method: str, url: str, headers: dict[str, str], body: dict[str, Any] | None = None
) -> tuple[Any, str]:
    """One request: the decoded JSON body and the URL of the next page ("" when none)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={**headers, **({"Content-Type": "application/json"} if data else {})},
    )
    path = urllib.parse.urlsplit(url).path
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:  # noqa: S310 - check_base allows http(s) only
            raw = resp.read()
            link = resp.headers.get("Link", "")
    except urllib.error.HTTPError as e:
        raise BenchpipeError(f"comment: {method} {path}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise BenchpipeError(f"comment: {method} {path}: {reason}") from None
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        raise BenchpipeError(f"comment: {method} {path}: the answer is not JSON") from None
    m = re.search(r'<([^>]+)>;\s*rel="next"', link)
    return value, m.group(1) if m else ""


def pages(url: str, headers: dict[str, str]) -> list[Any]:
    """Every item of a paginated list (``GET``), following ``rel="next"`` links on the same host."""
    host = urllib.parse.urlsplit(url).netloc
    out: list[Any] = []
    for _ in range(MAX_PAGES):
        items, url = call("GET", url, headers)
        if not isinstance(items, list):
            raise BenchpipeError("comment: GET: the answer is not a list")
        out += items
        if not url or urllib.parse.urlsplit(url).netloc != host:
            break
    return out


def upsert(
    listing: str,
    create: str,
    update: Callable[[int], str],
    method: str,
    headers: dict[str, str],
    body: str,
    ours: Callable[[dict[str, Any]], bool],
) -> tuple[str, int]:
    """One comment kept up to date: the first of ``listing``'s items that ``ours`` claims is updated
    (``method`` on ``update(id)``), else one is created (``POST create``): ("updated" | "created", its id)."""
    mine = [c for c in pages(listing, headers) if ours(c)]
    if mine:
        cid = int(mine[0]["id"])
        call(method, update(cid), headers, {"body": body})
        return "updated", cid
    made, _ = call("POST", create, headers, {"body": body})
    return "created", int((made or {}).get("id") or 0)
