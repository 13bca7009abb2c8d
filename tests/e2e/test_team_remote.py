"""Baselines a teammate can pull: `benchpipe init --remote URL` sets the team's DVC remote (a shared
directory, and S3 on loopback); `invoke baseline` pushes to it; a second clone in another directory runs `dvc
pull` (exit 0: the baselines, and no per-run output, are pulled) and `invoke compare` against the pulled
baseline. Without `--remote` the local remote is inside the repository and `invoke compare` says in one line
how to share."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ..conftest import ROOT, exit_for, run

FIXTURE = ROOT / "tests" / "fixtures" / "envleak"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}
FAST = json.dumps(
    {
        "modes.quick.benchtime": "1000x",
        "modes.quick.count": 6,
        "profile.benchtime": "1000x",
        "profile.max_s": 2,
        "compare.confirm": False,
    }
)


def _ok(p: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert p.returncode == 0, (p.args, (p.stdout + p.stderr)[-3000:])
    return p


def _team_repo(tmp: Path, remote: str | None, env: dict[str, str]) -> Path:
    repo = tmp / "team" / "app"
    shutil.copytree(FIXTURE, repo)
    _ok(run(["git", "init", "-q", "-b", "main"], cwd=repo))
    _ok(
        run(
            ["benchpipe", "init", "--pip", "benchpipe", *(["--remote", remote] if remote else [])],
            cwd=repo,
            env=env,
        )
    )
    return repo


@pytest.mark.parametrize("kind", ["shared-directory", "s3"])
def test_a_teammate_pulls_the_baseline_and_compares(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = {**GIT_ENV, "BENCHPIPE_OVERRIDES": FAST}
    if kind == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        env["AWS_ENDPOINT_URL"] = endpoint
        remote = "s3://benchpipe/dvc"
    else:
        remote = str(tmp_path / "shared" / "dvc")
    repo = _team_repo(tmp_path, remote, env)
    if kind == "s3":  # an S3-compatible server's endpoint, as a team sets it
        _ok(run(["dvc", "remote", "modify", "team", "endpointurl", endpoint], cwd=repo, env=env))
    b = _ok(run(["invoke", "baseline"], cwd=repo, env=env))
    assert "pushed to the DVC remote" in b.stdout + b.stderr, b.stdout + b.stderr
    _ok(run(["git", "add", "-A"], cwd=repo, env=env))
    _ok(run(["git", "commit", "-qm", "benchpipe and a baseline"], cwd=repo, env=env))
    assert (repo / "baselines" / "main.dvc").exists()

    mate = tmp_path / "elsewhere" / "clone"  # another directory: a relative remote would resolve elsewhere
    mate.parent.mkdir()
    _ok(run(["git", "clone", "-q", str(repo), str(mate)], env=env))
    assert not (mate / "baselines" / "main").exists()
    _ok(run(["dvc", "pull"], cwd=mate, env=env))
    assert (mate / "baselines" / "main" / "bench.txt").read_text() == (
        repo / "baselines" / "main" / "bench.txt"
    ).read_text()
    assert not (
        mate / "reports" / "run" / "bench.txt"
    ).exists()  # per-run outputs are not pulled, and no error
    c = run(["invoke", "compare"], cwd=mate, env=env)
    doc = json.loads((mate / "reports" / "run" / "compare.json").read_text())
    assert c.returncode == exit_for(doc["verdict"]), (c.stdout + c.stderr)[-3000:]
    assert doc["baseline"] == "main" and doc["verdict"] in ("PASS", "WARN", "FAIL") and doc["rows"], doc[
        "verdict"
    ]
    assert "the DVC remote is local" not in c.stdout + c.stderr


def test_without_a_remote_the_local_one_is_inside_and_compare_says_how_to_share(tmp_path: Path) -> None:
    env = {**GIT_ENV, "BENCHPIPE_OVERRIDES": FAST}
    repo = _team_repo(tmp_path, None, env)
    assert "url = ../.dvcstore" in (repo / ".dvc" / "config").read_text()
    _ok(run(["invoke", "baseline"], cwd=repo, env=env))
    assert (repo / ".dvcstore").is_dir() and not (repo.parent / ".dvcstore").exists()
    assert run(["git", "check-ignore", "-q", ".dvcstore"], cwd=repo).returncode == 0
    c = run(["invoke", "compare"], cwd=repo, env=env)
    doc = json.loads((repo / "reports" / "run" / "compare.json").read_text())
    assert c.returncode == exit_for(doc["verdict"]) and doc["rows"], (c.stdout + c.stderr)[-3000:]
    hint = [ln for ln in (c.stdout + c.stderr).splitlines() if "the DVC remote is local" in ln]
    assert len(hint) == 1 and "benchpipe init --remote" in hint[0], c.stdout + c.stderr
