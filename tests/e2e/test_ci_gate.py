"""The CI workflow `benchpipe init` writes, as a team runs it: exactly its `run:` steps, in order (its set-up
step included: benchpipe installed with pip, from a wheel of this checkout, in a venv of the team's own),
in fresh clones of a team's repository — google/uuid, fetched through the Go module proxy, set up by
`benchpipe init`, with a bare origin.

Pull requests: three shards, each a paired compare against the merge base, joined by the verdict job — a
real committed regression fails with a job summary, annotations, an explanation naming the changed
function and its lines, and a comment body; an A/A pull request passes; a lost shard is an error naming
it; none needs a store or the DVC remote (as for a fork). Default branch: two jobs for consecutive commits
of main at once, both appending to one history store on an S3 server on loopback: both green, both runs
stored, and a third clone's `invoke compare --baseline history:main` compares with the newest.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from ..conftest import CREDS, ROOT, exit_for, run
from ..forge_server import Forge
from .test_install import SPIN, team_repo

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}
FAST = {
    "modes.quick.bench": "^BenchmarkUUID_String$|^BenchmarkNew$",
    "modes.quick.benchtime": "30ms",
    "profile.benchtime": "100ms",
    "paired.rounds": 6,
    "paired.benchtime": "30ms",
    "profile.min_samples": 100,
    "profile.max_s": 2,
}


def job_steps(workflow: dict, job: str) -> list[tuple[str, dict[str, str]]]:
    """The job's `run:` steps with the names of their `env:` values."""
    return [(s["run"], dict(s.get("env") or {})) for s in workflow["jobs"][job]["steps"] if "run" in s]


def job_env(
    env: dict[str, str], workflow: dict, overrides: dict, values: dict[str, str], names: dict
) -> dict:
    return {
        **env,
        "BENCHPIPE_OVERRIDES": json.dumps(overrides),
        **GIT_ENV,
        **workflow.get("env", {}),
        "BENCHPIPE_PIP": env["BENCHPIPE_PIP"],
        **{k: values[k] for k in names},
        **values,
    }


def run_job(
    clone: Path, job: str, env: dict[str, str], overrides: dict, values: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run the job's steps until one fails; its exit code and all output."""
    workflow = yaml.safe_load((clone / ".github" / "workflows" / "benchmarks.yml").read_text())
    out = ""
    for script, names in job_steps(workflow, job):
        p = run(
            ["bash", "-e", "-c", script],
            cwd=clone,
            env=job_env(env, workflow, overrides, values or {}, names),
        )
        out += p.stdout + p.stderr
        if p.returncode != 0:
            return p.returncode, out
    return 0, out


def git(repo: Path, *args: str) -> str:
    p = run(["git", *args], cwd=repo, env=GIT_ENV)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def clone(origin: Path, dst: Path, branch: str = "main") -> Path:
    assert subprocess.run(["git", "clone", "-q", "-b", branch, str(origin), str(dst)]).returncode == 0
    return dst


@pytest.fixture
def origin(tmp_path: Path, team_env: dict[str, str]) -> Path:
    """A bare origin of the team's repository after `benchpipe init`: main, and two pull-request branches, a
    real regression (`UUID.String` does ~1 µs more work) and a comment only."""
    repo = team_repo(tmp_path)
    p = subprocess.run(
        ["benchpipe", "init", "--pip", team_env["BENCHPIPE_PIP"]],
        cwd=repo,
        env=team_env,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "benchpipe init")
    src = repo / "uuid.go"
    text = src.read_text()
    git(repo, "checkout", "-q", "-b", "pr-regress")
    m = re.search(r"^func \(uuid UUID\) String\(\) string \{\n", text, re.M)
    assert m
    src.write_text(text[: m.end()] + SPIN + text[m.end() :])
    git(repo, "commit", "-qam", "String: more work")
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-q", "-b", "pr-aa")
    src.write_text(text + "\n// a comment\n")
    git(repo, "commit", "-qam", "a comment")
    git(repo, "checkout", "-q", "main")
    bare = tmp_path / "origin.git"
    assert subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)]).returncode == 0
    return bare


def pr_jobs(
    pr: Path, env: dict[str, str], overrides: dict, values: dict[str, str], lose: int = 0
) -> tuple[int, str]:
    """The matrix of shard jobs (all in one clone, as the artifacts are downloaded into one place), then the
    verdict job; ``lose``: that shard's comparison never arrives."""
    out = ""
    for k in (1, 2, 3):
        code, o = run_job(pr, "pr", env, overrides, {**values, "SHARD": str(k)})
        out += o
        assert code == 0, o  # a shard's job passes; the verdict job decides
    if lose:
        (pr / "reports" / "shards" / f"paired-{lose}.json").unlink()
    code, o = run_job(pr, "verdict", env, overrides, values)
    return code, out + o


def test_shipped_example_workflows_are_the_templates_init_writes() -> None:
    from benchpipe.store import project

    assert (ROOT / "examples" / "ci" / "benchmarks.yml").read_text() == project.ci_template(
        "github-benchmarks.yml", ".[s3]"
    )


@pytest.mark.slow
def test_pull_requests_sharded_paired_and_fork_safe(
    origin: Path, tmp_path: Path, team_env: dict[str, str]
) -> None:
    pr = clone(origin, tmp_path / "pr", "pr-regress")
    # a fork's job has no access to the DVC remote: make it unreachable (the paired compare never needs it)
    assert (
        run(
            ["dvc", "remote", "modify", "--local", "local", "url", str(tmp_path / "no-such-remote")],
            cwd=pr,
            env=team_env,
        ).returncode
        == 0
    )
    summary = tmp_path / "summary.md"
    run_url = "https://ci.example/acme/app/actions/runs/7"
    code, out = pr_jobs(
        pr,
        team_env,
        FAST,
        {"BASE_REF": "main", "GITHUB_STEP_SUMMARY": str(summary), "RUN_URL": run_url, "PR_NUMBER": "7"},
    )
    assert code == 1, out
    assert "::error title=benchpipe regression::BenchmarkUUID_String-" in out
    text = summary.read_text()
    assert (
        text.startswith("<!-- benchpipe -->\n## benchpipe: FAIL")
        and "signed-rank" in text
        and "🔴 regression" in text
    )
    assert (pr / "reports" / "pr-comment.md").read_text() == text
    data = json.loads((pr / "reports" / "merged" / "compare.json").read_text())
    assert sorted(data["shards"]) == ["1/3", "2/3", "3/3"]
    ns = next(
        r for r in data["rows"] if r["unit"] == "ns/op" and r["benchmark"].startswith("BenchmarkUUID_String-")
    )
    assert ns["verdict"] == "regression" and ns["delta_pct"] > 10
    assert data["paired"]["base"] == git(pr, "merge-base", "HEAD", "origin/main")
    # the shard that ran it explained it, and the merge kept it: the changed function and its lines
    why = next(e for e in data["explanations"] if e["benchmark"] == "BenchmarkUUID_String")
    top = why["suspects"][0]
    assert (
        top["function"] == "github.com/google/uuid.UUID.String" and top["changed"][0]["file"] == "uuid.go"
    ), why
    assert "**Why**" in text and "`uuid.UUID.String` +" in text and f"](<{run_url}>) (`paired-" in text, text
    assert (pr / "reports" / "shards" / why["graph"]).exists()

    # the trusted workflow_run workflow posts it: its comment step, against a local server speaking GitHub's
    # API
    head = git(pr, "rev-parse", "HEAD")
    forge = Forge("ghs_token", {7: head})
    try:
        wf = yaml.safe_load((pr / ".github" / "workflows" / "benchpipe-comment.yml").read_text())
        step = wf["jobs"]["comment"]["steps"][-1]
        env = {
            **team_env,
            "GITHUB_TOKEN": "ghs_token",
            "REPO": "acme/app",
            "HEAD_SHA": head,
            "RUN_URL": run_url,
            "DIR": str(pr / "reports" / "comment"),
            "GITHUB_API_URL": forge.url,
        }
        assert set(step["env"]) == {"GITHUB_TOKEN", "REPO", "HEAD_SHA", "RUN_URL", "DIR"}
        for _ in range(2):  # a re-run updates the one comment
            p = run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env)
            assert p.returncode == 0, p.stdout + p.stderr
        assert len(forge.comments[7]) == 1 and "updated comment" in p.stderr
        posted = forge.comments[7][0]["body"]
        assert (
            posted.startswith("<!-- benchpipe -->\n## benchpipe: FAIL") and "`uuid.UUID.String` +" in posted
        )
        assert posted == text  # the trusted job renders what the verdict job showed, from the JSON
    finally:
        forge.close()

    aa = clone(origin, tmp_path / "aa", "pr-aa")
    code, out = pr_jobs(
        aa,
        team_env,
        FAST,
        {"BASE_REF": "main", "GITHUB_STEP_SUMMARY": str(tmp_path / "s2.md"), "RUN_URL": "", "PR_NUMBER": "8"},
    )
    assert code == 0, out
    # unchanged code never fails; on a shared machine a 30 ms row may be inconclusive (a WARN that says so)
    aa_text = (tmp_path / "s2.md").read_text()
    assert "::error" not in out and "🔴" not in aa_text, out
    assert aa_text.startswith("<!-- benchpipe -->\n## benchpipe: PASS") or (
        "## benchpipe: WARN" in aa_text and "🟠 inconclusive" in aa_text and "🟡" not in aa_text
    ), aa_text
    code, out = pr_jobs(
        aa,
        team_env,
        FAST,
        {"BASE_REF": "main", "GITHUB_STEP_SUMMARY": str(tmp_path / "s3.md"), "RUN_URL": "", "PR_NUMBER": "8"},
        lose=2,
    )
    assert code == 2 and "shard 2/3: missing" in out, out  # a lost shard never passes


@pytest.mark.slow
def test_two_default_branch_jobs_at_once_both_land_in_the_store(
    origin: Path, tmp_path: Path, s3_endpoint: str, team_env: dict[str, str]
) -> None:
    """The race that a commit-back workflow loses: job 2 starts before job 1 finished."""
    work = clone(origin, tmp_path / "work")
    (work / "NOTES").write_text("second commit of main\n")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "second commit")
    git(work, "push", "-q", "origin", "main")
    first, second = git(work, "rev-parse", "HEAD~1"), git(work, "rev-parse", "HEAD")
    s3 = {**CREDS, "BENCHPIPE_HISTORY": "s3://benchpipe/team/history", "AWS_ENDPOINT_URL": s3_endpoint}
    jobs = []
    hold = (
        tmp_path / "release-first"
    )  # the first job waits before it stores its run: the second runs whole meanwhile
    for i, rev in enumerate((first, second)):
        c = clone(origin, tmp_path / f"main{i}")
        git(c, "checkout", "-q", "-B", "main", rev)  # as actions/checkout leaves a push's commit
        workflow = yaml.safe_load((c / ".github" / "workflows" / "benchmarks.yml").read_text())
        steps = job_steps(workflow, "main")
        env = {
            **job_env(team_env, workflow, FAST, s3, {}),
            **({"BENCHPIPE_TEST_HOLD_RECORD": str(hold)} if i == 0 else {}),
        }
        with open(
            tmp_path / f"main{i}.log", "w"
        ) as log:  # a file, not a pipe: a held job never blocks on output
            jobs.append(
                subprocess.Popen(
                    ["bash", "-e", "-c", "\n".join(step for step, _ in steps)],
                    cwd=c,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        if i == 0:  # the second job starts once the first is mid-run (benchmarked, not yet stored)
            deadline = time.monotonic() + 600
            while not Path(f"{hold}.waiting").exists():
                assert jobs[0].poll() is None and time.monotonic() < deadline, (
                    "the first job never reached its record"
                )
                time.sleep(0.1)
    jobs[1].wait(timeout=900)
    assert jobs[0].poll() is None  # the first job was still running all along the second
    hold.touch()
    jobs[0].wait(timeout=900)
    outs = [(tmp_path / f"main{i}.log").read_text() for i in (0, 1)]
    assert [j.returncode for j in jobs] == [0, 0], outs
    assert all("record: run" in o and "stored in s3://benchpipe/team/history" in o for o in outs), outs
    assert (tmp_path / "main1" / "reports" / "site" / "index.html").exists()  # the dashboard, from the store
    env = {**team_env, **s3}
    runs = json.loads(
        run(
            ["benchpipe", "history", "runs", "--dir", "s3://benchpipe/team/history", "--format", "json"],
            env=env,
        ).stdout
    )
    assert sorted(r["commit"] for r in runs) == sorted([first, second]) and {r["branch"] for r in runs} == {
        "main"
    }
    third = clone(origin, tmp_path / "third")
    g = run(
        ["invoke", "compare", "--baseline", "history:main", "--benchtime", "30ms"],
        cwd=third,
        env={**env, "BENCHPIPE_OVERRIDES": json.dumps(FAST)},
    )
    doc = json.loads((third / "reports" / "run" / "compare.json").read_text())
    assert g.returncode == exit_for(doc["verdict"]), g.stdout + g.stderr
    assert doc["baseline"] == "history:main" and doc["baseline_env"]["commit"] == second


def test_compare_gate_and_job_summary_print_the_same_verdict_line() -> None:
    """One formatter for the verdict line: `benchpipe compare`'s text, `benchpipe gate` and the job
    summary."""
    from benchpipe.cli.commands import gate
    from benchpipe.core import benchfmt
    from benchpipe.core.artifacts import compare_doc
    from benchpipe.core.verdict import Options, Rule, compare_parsed
    from benchpipe.render import ci
    from benchpipe.render.text import render_text

    from ..conftest import DATA

    opts = Options(rules=[Rule(unit="allocs/op", assume="exact", threshold_pct=1)])
    c = compare_parsed(
        benchfmt.read_files([DATA / "example_fast.txt"]),
        benchfmt.read_files([DATA / "example_slow.txt"]),
        opts,
    )
    assert c.verdict == "FAIL" and c.regressions
    line = render_text(c).rstrip("\n").splitlines()[-1]
    assert line.startswith("verdict: FAIL (threshold 10%, alpha 0.05): regressed ")
    assert c.regressions[0].benchmark.removeprefix("Benchmark") in line
    data = compare_doc(c)
    code, lines = gate.decide(data, require_baseline=True, strict_env=False)
    assert code == 1 and line in lines
    assert f"`{line}`" in ci.summary_markdown(data)
