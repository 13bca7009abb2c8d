"""Baselines pushed to and pulled from an S3-protocol server on loopback (moto), through DVC."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from ..conftest import DATA, run


def test_baseline_round_trip_through_s3(repo: Path, tmp_path: Path, s3_endpoint: str) -> None:
    for cmd in (
        ["dvc", "remote", "add", "-f", "-d", "s3", "s3://benchpipe/baselines"],
        ["dvc", "remote", "modify", "s3", "endpointurl", s3_endpoint],
    ):
        assert run(cmd, cwd=repo).returncode == 0
    raw = tmp_path / "bench.txt"
    raw.write_text((DATA / "example_fast.txt").read_text())
    meta = tmp_path / "bench.json"
    meta.write_text(json.dumps({"go_version": "go1.26", "goos": "linux"}))
    p = run(
        ["benchpipe", "baseline", "save", "--name", "main", "--raw", str(raw), "--meta", str(meta)], cwd=repo
    )
    assert p.returncode == 0, p.stderr
    assert "pushed to the DVC remote" in p.stderr
    keys = [
        o["Key"]
        for o in boto3.client("s3", endpoint_url=s3_endpoint)
        .list_objects_v2(Bucket="benchpipe")
        .get("Contents", [])
    ]
    # one DVC output: the directory's manifest, bench.txt and meta.json
    assert (
        len(keys) == 3
        and all(k.startswith("baselines/") for k in keys)
        and sum(k.endswith(".dir") for k in keys) == 1
    )

    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    assert run(["git", "add", "-A"], cwd=repo).returncode == 0
    assert run(["git", "commit", "-qm", "baseline in s3"], cwd=repo, env=env).returncode == 0
    clone = tmp_path / "clone"
    assert run(["git", "clone", "-q", str(repo), str(clone)]).returncode == 0
    pulled = run(["benchpipe", "baseline", "pull", "--name", "main"], cwd=clone)
    assert pulled.returncode == 0, pulled.stderr
    assert (clone / "baselines" / "main" / "bench.txt").read_text() == raw.read_text()
    assert json.loads((clone / "baselines" / "main" / "meta.json").read_text())["go_version"] == "go1.26"
