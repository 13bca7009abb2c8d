"""``benchpipe comment`` against a local HTTP server that speaks GitHub's and GitLab's REST calls: one comment
per pull request, created then updated (found by its marker on a later page), never another's comment; a
number that is not the run's pull request is not posted to; no token is one line; the token never reaches
output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..conftest import DATA, run
from ..forge_server import BOT, Forge

TOKEN = "ghs_not-a-real-token-0123456789"
HEAD, OTHER = "a" * 40, "b" * 40


@pytest.fixture
def forge():
    f = Forge(TOKEN, {7: HEAD, 8: OTHER})
    yield f
    f.close()


def _compare(tmp: Path) -> Path:
    """The comparison's JSON of two recorded real runs of the example (a FAIL), as the pipeline writes it."""
    from benchpipe.core import benchfmt
    from benchpipe.core.artifacts import compare_doc
    from benchpipe.core.verdict import Options, compare_parsed
    from benchpipe.store import artifacts

    c = compare_parsed(
        benchfmt.read_files([DATA / "example_fast.txt"]),
        benchfmt.read_files([DATA / "example_slow.txt"]),
        Options(),
    )
    out = tmp / "compare.json"
    artifacts.write(out, compare_doc(c))
    return out


def _post(forge: Forge, *args: str, env: dict[str, str] | None = None):
    return run(
        ["benchpipe", "comment", *args, "--api", forge.url, "--head-sha", HEAD],
        env={"GITHUB_TOKEN": TOKEN, "BENCHPIPE_GITLAB_TOKEN": TOKEN, **(env or {})},
    )


def test_one_comment_per_pull_request_created_then_updated(forge: Forge, tmp_path: Path) -> None:
    compare = _compare(tmp_path)
    for i in range(2):
        forge.add(7, f"a reviewer's comment {i} <!-- benchpipe -->")  # the marker elsewhere is not ours
    forge.add(
        7, "<!-- benchpipe -->\n## benchpipe: PASS (a stranger's forgery)", "mallory"
    )  # not ours either
    (tmp_path / "pr.json").write_text(json.dumps({"number": 7}))
    p = _post(
        forge,
        "github",
        "--repo",
        "acme/app",
        "--compare",
        str(compare),
        "--pr-file",
        str(tmp_path / "pr.json"),
        "--run-url",
        "https://ci.example/acme/app/actions/runs/5",
    )
    assert p.returncode == 0 and "created comment" in p.stderr, p.stderr
    ours = [c for c in forge.comments[7] if c["user"]["login"] == BOT]
    assert len(ours) == 1 and "## benchpipe: FAIL" in ours[0]["body"] and "🔴 regression" in ours[0]["body"]
    forge.add(7, "a later comment")  # ours is now on page 2 (two a page)
    body = tmp_path / "pr-comment.md"
    body.write_text("## benchpipe: PASS\n")
    p = _post(forge, "github", "--repo", "acme/app", "--body", str(body), "--pr", "7")
    assert p.returncode == 0 and "updated comment" in p.stderr, p.stderr
    ours = [c for c in forge.comments[7] if c["user"]["login"] == BOT]
    assert len(ours) == 1 and ours[0]["body"] == "<!-- benchpipe -->\n## benchpipe: PASS\n"
    assert forge.comments[7][2]["body"].endswith("(a stranger's forgery)")
    assert len(forge.comments[7]) == 5 and not forge.comments[8]
    assert ("GET", "/repos/acme/app/issues/7/comments?per_page=100&page=2") in forge.calls
    assert TOKEN not in p.stdout + p.stderr


def test_a_number_that_is_not_the_runs_pull_request_is_not_posted_to(forge: Forge, tmp_path: Path) -> None:
    body = tmp_path / "b.md"
    body.write_text("x\n")
    # a forged artifact names another pull request: its head is not this run's commit
    (tmp_path / "pr.json").write_text(json.dumps({"number": 8}))
    p = _post(
        forge, "github", "--repo", "acme/app", "--body", str(body), "--pr-file", str(tmp_path / "pr.json")
    )
    assert p.returncode == 3 and "not posted" in p.stderr and not forge.comments[8], p.stderr
    for bad in ("8; rm -rf /", "-1", "٣", "../7"):
        (tmp_path / "pr.json").write_text(json.dumps({"number": bad}))
        p = _post(
            forge, "github", "--repo", "acme/app", "--body", str(body), "--pr-file", str(tmp_path / "pr.json")
        )
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and "digits only" in p.stderr, p.stderr
    p = _post(
        forge, "github", "--repo", "acme/app", "--body", str(body), "--pr", "7", env={"GITHUB_TOKEN": ""}
    )
    assert p.returncode == 2 and "no token" in p.stderr and p.stderr.count("\n") == 1
    p = _post(
        forge, "github", "--repo", "acme/app", "--body", str(body), "--pr", "7", env={"GITHUB_TOKEN": "wrong"}
    )
    assert p.returncode == 2 and "HTTP 401" in p.stderr and "wrong" not in p.stderr, p.stderr
    assert not forge.comments[7]


def test_gitlab_merge_request_note_and_a_long_body_is_cut(forge: Forge, tmp_path: Path) -> None:
    body = tmp_path / "b.md"
    body.write_text("## benchpipe: FAIL\n" + "".join(f"| row {i} | {'x' * 90} |\n" for i in range(1500)))
    for _ in range(2):
        p = _post(
            forge,
            "gitlab",
            "--project",
            "acme/app",
            "--body",
            str(body),
            "--pr",
            "7",
            "--run-url",
            "https://gitlab.example/acme/app/-/pipelines/9",
        )
        assert p.returncode == 0, p.stderr
    ours = [c for c in forge.comments[7] if c["author"]["username"] == BOT]
    assert len(ours) == 1 and len(ours[0]["body"]) <= 65_536 < len(body.read_text())
    assert (
        ours[0]["body"]
        .rstrip()
        .endswith("the rest is in the [job summary](<https://gitlab.example/acme/app/-/pipelines/9>)._")
    )
    assert ("PUT", f"/projects/acme%2Fapp/merge_requests/7/notes/{ours[0]['id']}") in forge.calls
