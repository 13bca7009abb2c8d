"""``benchpipe issue`` against a local HTTP server that speaks GitHub's and GitLab's issue calls: one issue
for the culprits a default-branch run found, never twice (its hidden marker is found on a later page, also
on a closed issue), never when nothing was found; the commit subject, untrusted, is escaped in the title
and the body; no token is one line, and the token never reaches output."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from benchpipe.core.artifacts import Culprit, CulpritDoc

from ..conftest import run
from ..forge_server import BOT, Forge

TOKEN = "ghs_not-a-real-token-0123456789"
SUBJECT = "speed up @octocat <img src=x onerror=alert(1)> `x` \u202eevil"


@pytest.fixture
def forge():
    f = Forge(TOKEN, {})
    yield f
    f.close()


def _doc(tmp: Path, status: str = "found") -> Path:
    c = Culprit(
        package="example.com/policyengine/pkg/core",
        benchmark="BenchmarkEvaluate",
        unit="ns/op",
        good="1" * 40,
        bad="4" * 40,
        status=status,
        commit="3" * 40 if status == "found" else "",
        subject=SUBJECT,
        change_pct=42.5,
        lo_pct=38.0,
        hi_pct=47.1,
        commits=3,
        why="" if status == "found" else "no regression between the two runs",
    )
    out = tmp / "culprit.json"
    out.write_bytes(msgspec.json.encode(CulpritDoc(good=c.good, bad=c.bad, culprits=[c])))
    return out


def _open(forge: Forge, *args: str, env: dict[str, str] | None = None):
    return run(
        ["benchpipe", "issue", *args, "--api", forge.url],
        env={"GITHUB_TOKEN": TOKEN, "BENCHPIPE_GITLAB_TOKEN": TOKEN, **(env or {})},
    )


def test_one_issue_per_culprit_never_twice_escaped(forge: Forge, tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    forge.add_issue("a pull request", "<!-- benchpipe-culprit -->", BOT, pull=True)
    forge.add_issue("someone's", "text", "mallory")
    args = ["github", "--repo", "acme/app", "--culprit", str(doc), "--commit-url", "https://x/c/{commit}"]
    p = _open(forge, *args)
    assert p.returncode == 0 and "opened #3" in p.stderr, p.stderr
    issue = forge.issues[-1]
    assert issue["user"]["login"] == BOT and issue["body"].startswith("<!-- benchpipe-culprit ")
    assert "BenchmarkEvaluate ns/op regressed +42.5%" in issue["title"] and "333333333333" in issue["title"]
    assert "\u202e" not in issue["title"] and "\\u202e" in issue["title"]  # shown, not obeyed
    assert "[`333333333333`](https://x/c/" + "3" * 40 + ")" in issue["body"]
    assert "\\<img" in issue["body"] and not re.search(r"(?<!\\)<img", issue["body"])  # markup escaped
    assert not re.search(r"(?<![\w\u200b])@octocat", issue["body"])  # no mention
    # a second job (a re-run, a later run): the marker is found on the second page; nothing is opened
    forge.add_issue("later", "another", "someone")
    issue["state"] = "closed"
    p = _open(forge, *args)
    assert p.returncode == 0 and "already open: #3" in p.stderr and len(forge.issues) == 4, p.stderr
    assert TOKEN not in p.stdout + p.stderr


def test_gitlab_nothing_found_and_no_token(forge: Forge, tmp_path: Path) -> None:
    p = _open(forge, "gitlab", "--project", "acme/app", "--culprit", str(_doc(tmp_path)))
    assert p.returncode == 0 and "opened #1" in p.stderr, p.stderr
    assert forge.issues[0]["description"].startswith("<!-- benchpipe-culprit ")
    p = _open(forge, "gitlab", "--project", "acme/app", "--culprit", str(_doc(tmp_path)))
    assert "already open: #1" in p.stderr and len(forge.issues) == 1
    p = _open(forge, "gitlab", "--project", "acme/app", "--culprit", str(_doc(tmp_path, "not reproduced")))
    assert p.returncode == 0 and "nothing to open" in p.stderr and len(forge.issues) == 1
    p = _open(
        forge, "github", "--repo", "acme/app", "--culprit", str(_doc(tmp_path)), env={"GITHUB_TOKEN": ""}
    )
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "no token" in p.stderr
    p = _open(forge, "github", "--repo", "acme/app", "--culprit", str(tmp_path / "none.json"))
    assert p.returncode == 2 and "no culprit document" in p.stderr
