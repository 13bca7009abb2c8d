"""The store never loses or misplaces an object: run ids are checked before they name anything; an object is
never overwritten (a local store links, S3 puts with If-None-Match), so two jobs with one run id leave the
first run whole and the second fails in one line, on S3 on loopback too; GitLab's run id names the job;
`publish` deletes only a site it wrote."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from benchpipe.store import history

from ..conftest import DATA, ROOT, run


def _record(
    tmp: Path,
    store: str,
    rid_env: dict[str, str],
    name: str,
    data: str = "example_fast.txt",
    popen: bool = False,
):
    meta = tmp / f"{name}.json"
    meta.write_text(json.dumps({"commit": "deadbeef" * 5, "branch": "main"}))
    argv = [
        "benchpipe",
        "record",
        "--params",
        str(ROOT / "params.yaml"),
        "--raw",
        str(DATA / data),
        "--meta",
        str(meta),
        "--history",
        store,
        "--out",
        str(tmp / f"{name}-rec.json"),
        "--dvc-out",
        str(tmp / f"{name}-h"),
    ]
    if popen:
        import os

        return subprocess.Popen(
            argv, env={**os.environ, **rid_env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    return run(argv, env=rid_env)


@pytest.mark.parametrize("rid", ["../x", "a/b", "", " x", "x\n::error::y", "é", "-x", "a" * 129])
def test_run_ids_that_could_misplace_an_object_are_refused(tmp_path: Path, rid: str) -> None:
    env = {"BENCHPIPE_RUN_ID": rid, "GITHUB_RUN_ID": ""}
    if not rid:  # empty: the id derived from the output is used
        assert _record(tmp_path, str(tmp_path / "h"), env, "r").returncode == 0
        return
    p = _record(tmp_path, str(tmp_path / "h"), env, "r")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "is not allowed" in p.stderr, p.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "h").exists()


def test_gitlab_run_id_names_the_job_and_sharded_runs_share_the_pipelines(tmp_path: Path) -> None:
    gl = {"GITHUB_RUN_ID": "", "CI_PIPELINE_ID": "77", "CI_JOB_ID": "901"}
    assert _record(tmp_path, str(tmp_path / "h"), gl, "a").returncode == 0
    retried = {**gl, "CI_JOB_ID": "902"}  # a retried job: a new job id, a second run, the first kept
    assert _record(tmp_path, str(tmp_path / "h"), retried, "b").returncode == 0
    assert sorted(r["run_id"] for r in history.runs(tmp_path / "h")) == [
        "gl77.901-deadbeef",
        "gl77.902-deadbeef",
    ]


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_two_jobs_with_one_run_id_never_overwrite(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = str(tmp_path / "h") if kind == "local" else "s3://benchpipe/h"
    s3 = {"AWS_ENDPOINT_URL": request.getfixturevalue("s3_endpoint")} if kind == "s3" else {}
    for k, v in s3.items():
        monkeypatch.setenv(k, v)
    env = {"BENCHPIPE_RUN_ID": "ci-7", "GITHUB_RUN_ID": "", **s3}
    # one after the other: the second is refused in one line (the gate then exits 2), the first stays whole
    assert _record(tmp_path, store, env, "one").returncode == 0
    assert json.loads((tmp_path / "one-rec.json").read_text())["stored"] is True
    p = _record(tmp_path, store, env, "two", data="example_slow.txt")
    assert p.returncode == 0 and "exists already (a run id used twice)" in p.stderr, p.stderr
    rec = json.loads((tmp_path / "two-rec.json").read_text())
    assert rec["stored"] is False and "exists already" in rec["error"]
    g = run(
        [
            "benchpipe",
            "gate",
            "--compare",
            str(ROOT / "tests" / "fixtures" / "golden" / "report" / "reports" / "run" / "compare.json"),
            "--record",
            str(tmp_path / "two-rec.json"),
        ]
    )
    assert g.returncode == 2 and "not stored" in g.stdout
    fast = {r["benchmark"]: r["center"] for r in history.query(store, warn=False) if r["unit"] == "ns/op"}
    assert len(history.runs(store)) == 1 and fast  # the first run, whole
    # at once: exactly one lands, the other says so in one line
    env = {"BENCHPIPE_RUN_ID": "ci-8", "GITHUB_RUN_ID": "", **s3}
    jobs = [_record(tmp_path, store, env, f"c{i}", popen=True) for i in range(2)]
    outs = [j.communicate(timeout=300) for j in jobs]
    recs = [json.loads((tmp_path / f"c{i}-rec.json").read_text()) for i in range(2)]
    assert sorted(r["stored"] for r in recs) == [False, True], (recs, outs)
    assert len([r for r in history.runs(store) if r["run_id"] == "ci-8"]) == 1


def test_publish_deletes_only_a_site_it_wrote(tmp_path: Path) -> None:
    store = tmp_path / "h"
    assert _record(tmp_path, str(store), {"GITHUB_RUN_ID": ""}, "a").returncode == 0
    work = tmp_path / "work"
    work.mkdir()
    (work / "go.mod").write_text("module x\n")
    for out in (".", str(work)):
        p = run(["benchpipe", "publish", "--store", str(store), "--out", out], cwd=work)
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and "nothing deleted" in p.stderr, p.stderr
        assert (work / "go.mod").read_text() == "module x\n"
    site = work / "site"
    for _ in range(2):  # a site it wrote is replaced
        p = run(["benchpipe", "publish", "--store", str(store), "--out", str(site)], cwd=work)
        assert p.returncode == 0 and (site / "index.html").exists() and (site / ".benchpipe-site").exists(), (
            p.stderr
        )
