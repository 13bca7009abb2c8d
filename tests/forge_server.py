"""A local HTTP server that speaks the few GitHub and GitLab REST calls ``benchpipe comment`` makes, with
their real paths, headers, pagination (``Link: rel="next"``) and status codes, and keeps what was posted."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOT = "github-actions[bot]"  # who the token is (GitLab: GET /user answers it, with id 1)


class Forge:
    def __init__(self, token: str, heads: dict[int, str], page_size: int = 2) -> None:
        self.token, self.heads, self.page_size = token, heads, page_size
        self.comments: dict[int, list[dict[str, Any]]] = {n: [] for n in heads}
        self.calls: list[tuple[str, str]] = []
        self.issues: list[dict[str, Any]] = []  # GitHub's issues list holds pull requests too
        self.next_id = 1000
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, number: int, body: str, user: str = "someone") -> None:
        self.next_id += 1
        uid = 1 if user == BOT else 2
        self.comments[number].append(
            {
                "id": self.next_id,
                "body": body,
                "user": {"login": user},
                "author": {"id": uid, "username": user},
            }
        )

    def add_issue(self, title: str, body: str, user: str = "someone", pull: bool = False) -> dict[str, Any]:
        number = len(self.issues) + 1
        uid = 1 if user == BOT else 2
        item = {
            "number": number,
            "iid": number,
            "title": title,
            "body": body,
            "description": body,
            "user": {"login": user},
            "author": {"id": uid, "username": user},
            **({"pull_request": {"url": "..."}} if pull else {}),
        }
        self.issues.append(item)
        return item

    def _page(self, items: list[dict[str, Any]], path: str, query: str) -> tuple[list[dict[str, Any]], str]:
        m = re.search(r"(?:^|&)page=(\d+)", query)
        page = int(m.group(1)) if m else 1
        chunk = items[(page - 1) * self.page_size : page * self.page_size]
        rest = re.sub(r"&?page=\d+", "", query)
        link = f"{self.url}{path}?{rest}&page={page + 1}" if len(items) > page * self.page_size else ""
        return chunk, link

    def close(self) -> None:
        self.server.shutdown()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        forge = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _send(self, code: int, value: Any, link: str = "") -> None:
                raw = json.dumps(value).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                if link:
                    self.send_header("Link", f'<{link}>; rel="next"')
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _authorised(self) -> bool:
                ok = (
                    self.headers.get("Authorization") == f"Bearer {forge.token}"
                    or self.headers.get("PRIVATE-TOKEN") == forge.token
                )
                if not ok:
                    self._send(401, {"message": "Bad credentials"})
                return ok

            def _route(self, method: str) -> None:
                forge.calls.append((method, self.path))
                if not self._authorised():
                    return
                path, _, query = self.path.partition("?")
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                if path == "/user":
                    return self._send(200, {"id": 1, "username": BOT})
                if path in ("/repos/acme/app/issues", "/projects/acme%2Fapp/issues"):
                    if method == "POST":
                        text = body.get("body", body.get("description", ""))
                        return self._send(201, forge.add_issue(body["title"], text, BOT))
                    who = re.search(r"creator=([^&]+)", query) or re.search(r"author_id=(\d+)", query)
                    mine = [
                        i
                        for i in forge.issues
                        if who is None
                        or who.group(1)
                        in (
                            i["user"]["login"].replace("[", "%5B").replace("]", "%5D"),
                            str(i["author"]["id"]),
                        )
                    ]
                    chunk, link = forge._page(mine, path, query)
                    return self._send(200, chunk, link)
                if m := re.fullmatch(
                    r"/repos/acme/app/pulls/(\d+)|/projects/acme%2Fapp/merge_requests/(\d+)", path
                ):
                    n = int(m.group(1) or m.group(2))
                    if n not in forge.heads:
                        return self._send(404, {"message": "Not Found"})
                    return self._send(
                        200, {"number": n, "head": {"sha": forge.heads[n]}, "sha": forge.heads[n]}
                    )
                m = re.fullmatch(
                    r"/repos/acme/app/issues/(\d+)/comments|/projects/acme%2Fapp/merge_requests/(\d+)/notes",
                    path,
                )
                if m:
                    n = int(m.group(1) or m.group(2))
                    if n not in forge.heads:
                        return self._send(404, {"message": "Not Found"})
                    if method == "GET":
                        m = re.search(r"(?:^|&)page=(\d+)", query)
                        page = int(m.group(1)) if m else 1
                        items = forge.comments[n]
                        chunk = items[(page - 1) * forge.page_size : page * forge.page_size]
                        more = len(items) > page * forge.page_size
                        link = f"{forge.url}{path}?per_page=100&page={page + 1}" if more else ""
                        return self._send(200, chunk, link)
                    if method == "POST":
                        forge.add(n, body["body"], BOT)
                        return self._send(201, forge.comments[n][-1])
                m = re.fullmatch(
                    r"/repos/acme/app/issues/comments/(\d+)|/projects/acme%2Fapp/merge_requests/\d+/notes/(\d+)",
                    path,
                )
                if m and method in ("PATCH", "PUT"):
                    cid = int(m.group(1) or m.group(2))
                    for items in forge.comments.values():
                        for c in items:
                            if c["id"] == cid:
                                c["body"] = body["body"]
                                return self._send(200, c)
                    return self._send(404, {"message": "Not Found"})
                return self._send(404, {"message": "Not Found"})

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def do_PATCH(self) -> None:
                self._route("PATCH")

            def do_PUT(self) -> None:
                self._route("PUT")

        return H
