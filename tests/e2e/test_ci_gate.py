"""The shipped GitHub Actions workflow (examples/ci/benchmarks.yml) as teams run it: exactly its `run:`
steps, in order, in fresh clones of a repository with a bare origin.

Pull requests: three shards, each a paired compare against the merge base, joined by the verdict job — a
real committed regression fails with a job summary, annotations and a comment body; an A/A pull request
passes; a lost shard is an error naming it; none needs a store or the DVC remote (as for a fork).
Default branch: two jobs for consecutive commits of main at once, both appending to one history store on
an S3 server on loopback: both green, both runs stored, and a third clone's
`invoke compare --baseline history:main` compares with the newest.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from ..conftest import ROOT, make_repo, run

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
FAST = {"modes.quick.bench": "^BenchmarkEvaluate$", "modes.quick.packages": ["./pkg/core"],
        "modes.quick.benchtime": "30ms", "profile.benchtime": "100ms", "paired.rounds": 6,
        "paired.benchtime": "30ms", "profile.min_samples": 100}


WORKFLOW = yaml.safe_load((ROOT / "examples" / "ci" / "benchmarks.yml").read_text())


def job_steps(job: str) -> list[tuple[str, dict[str, str]]]:
    """The job's `run:` steps with the names of their `env:` values (set-up skipped: this machine has it)."""
    return [(s["run"], dict(s.get("env") or {})) for s in WORKFLOW["jobs"][job]["steps"]
            if "run" in s and not s.get("name", "").startswith("Set up benchpipe")]


def run_job(clone: Path, job: str, overrides: dict, values: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the job's steps until one fails; its exit code and all output."""
    out = ""
    for script, names in job_steps(job):
        env = {"BENCHPIPE_OVERRIDES": json.dumps(overrides), **GIT_ENV, **WORKFLOW.get("env", {}),
               **{k: (values or {})[k] for k in names}, **(values or {})}
        p = run(["bash", "-e", "-c", script], cwd=clone, env=env)
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
def origin(tmp_path: Path) -> Path:
    """A bare origin holding main and two pull-request branches: a real regression, and a comment only."""
    repo = make_repo(tmp_path)
    ev = repo / "examples" / "policyengine" / "pkg" / "core" / "evaluate.go"
    git(repo, "checkout", "-q", "-b", "pr-regress")
    ev.write_text(ev.read_text().replace("const auditDefault = false", "const auditDefault = true"))
    git(repo, "commit", "-qam", "audit every decision")
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-q", "-b", "pr-aa")
    ev.write_text(ev.read_text() + "\n// a comment\n")
    git(repo, "commit", "-qam", "a comment")
    git(repo, "checkout", "-q", "main")
    bare = tmp_path / "origin.git"
    assert subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)]).returncode == 0
    return bare


def pr_jobs(pr: Path, overrides: dict, values: dict[str, str], lose: int = 0) -> tuple[int, str]:
    """The matrix of shard jobs (all in one clone, as the artifacts are downloaded into one place), then the
    verdict job; ``lose``: that shard's comparison never arrives."""
    out = ""
    for k in (1, 2, 3):
        code, o = run_job(pr, "pr", overrides, {**values, "SHARD": str(k)})
        out += o
        assert code == 0, o  # a shard's job passes; the verdict job decides
    if lose:
        (pr / "reports" / "shards" / f"paired-{lose}.json").unlink()
    code, o = run_job(pr, "verdict", overrides, values)
    return code, out + o


@pytest.mark.slow
def test_pull_requests_sharded_paired_and_fork_safe(origin: Path, tmp_path: Path) -> None:
    assert WORKFLOW["jobs"]["pr"]["strategy"]["matrix"]["shard"] == [1, 2, 3] and WORKFLOW["env"]["SHARDS"] == "3"
    pr = clone(origin, tmp_path / "pr", "pr-regress")
    # a fork's job has no access to the DVC remote: make it unreachable (the paired compare never needs it)
    assert run(["dvc", "remote", "modify", "--local", "local", "url", str(tmp_path / "no-such-remote")],
               cwd=pr).returncode == 0
    summary = tmp_path / "summary.md"
    fast = {**FAST, "modes.quick.packages": ["./..."]}  # both packages: the shards split them
    run_url = "https://ci.example/acme/app/actions/runs/7"
    code, out = pr_jobs(pr, fast, {"BASE_REF": "main", "GITHUB_STEP_SUMMARY": str(summary), "RUN_URL": run_url})
    assert code == 1, out
    assert "::error title=benchpipe regression::BenchmarkEvaluate-" in out
    text = summary.read_text()
    assert text.startswith("## benchpipe: FAIL") and "signed-rank" in text and "🔴 regression" in text
    assert (pr / "reports" / "pr-comment.md").read_text() == text
    data = json.loads((pr / "reports" / "merged" / "compare.json").read_text())
    assert sorted(data["shards"]) == ["1/3", "2/3", "3/3"]
    ns = next(r for r in data["rows"] if r["unit"] == "ns/op" and r["benchmark"].startswith("BenchmarkEvaluate-"))
    assert ns["verdict"] == "regression" and ns["delta_pct"] > 10
    assert data["paired"]["base"] == git(pr, "merge-base", "HEAD", "origin/main")
    # the shard that ran it explained it; the merge kept it: the audit the constant switched on, not changed
    # in the diff, which changed a declaration outside any function
    why = next(e for e in data["explanations"] if e["benchmark"] == "BenchmarkEvaluate")
    assert why["suspects"][0]["function"].endswith("core.auditDecision") and not why["suspects"][0]["changed"], why
    assert "pkg/core/evaluate.go:11" in why["cause"], why
    assert "**Why**" in text and "`core.auditDecision` +" in text and f"]({run_url}) (`paired-" in text, text
    assert (pr / "reports" / "shards" / why["graph"]).exists()

    aa = clone(origin, tmp_path / "aa", "pr-aa")
    code, out = pr_jobs(aa, FAST, {"BASE_REF": "main", "GITHUB_STEP_SUMMARY": str(tmp_path / "s2.md"), "RUN_URL": ""})
    assert code == 0, out
    assert "::error" not in out and (tmp_path / "s2.md").read_text().startswith("## benchpipe: PASS")
    code, out = pr_jobs(aa, FAST, {"BASE_REF": "main", "GITHUB_STEP_SUMMARY": str(tmp_path / "s3.md"), "RUN_URL": ""},
                        lose=2)
    assert code == 2 and "shard 2/3: missing" in out, out  # a lost shard never passes


@pytest.mark.slow
def test_two_default_branch_jobs_at_once_both_land_in_the_store(origin: Path, tmp_path: Path, s3_endpoint: str) -> None:
    """The race that a commit-back workflow loses: job 2 starts before job 1 finished."""
    import time

    work = clone(origin, tmp_path / "work")
    (work / "examples" / "policyengine" / "NOTES").write_text("second commit of main\n")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "second commit")
    git(work, "push", "-q", "origin", "main")
    first, second = git(work, "rev-parse", "HEAD~1"), git(work, "rev-parse", "HEAD")
    jobs = []
    for i, rev in enumerate((first, second)):
        c = clone(origin, tmp_path / f"main{i}")
        git(c, "checkout", "-q", "-B", "main", rev)  # as actions/checkout leaves a push's commit
        env = {**dict(__import__("os").environ), "BENCHPIPE_OVERRIDES": json.dumps(FAST), **GIT_ENV,
               "BENCHPIPE_HISTORY": "s3://benchpipe/team/history", "AWS_ENDPOINT_URL": s3_endpoint}
        script = "\n".join(step for step, _ in job_steps("main"))
        jobs.append(subprocess.Popen(["bash", "-e", "-c", script], cwd=c, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True))
        time.sleep(3)  # the second job starts while the first is running
    outs = [j.communicate(timeout=900)[0] for j in jobs]
    assert [j.returncode for j in jobs] == [0, 0], outs
    assert all("record: run" in o and "stored in s3://benchpipe/team/history" in o for o in outs), outs
    assert (tmp_path / "main1" / "reports" / "site" / "index.html").exists()  # the dashboard, from the store
    env = {"AWS_ENDPOINT_URL": s3_endpoint}
    runs = json.loads(run(["benchpipe", "history", "runs", "--dir", "s3://benchpipe/team/history", "--format",
                           "json"], env=env).stdout)
    assert sorted(r["commit"] for r in runs) == sorted([first, second]) and {r["branch"] for r in runs} == {"main"}
    third = clone(origin, tmp_path / "third")
    g = run(["invoke", "compare", "--baseline", "history:main", "--bench", "^BenchmarkEvaluate$", "--packages",
             "./pkg/core", "--benchtime", "30ms"], cwd=third,
            env={**env, "BENCHPIPE_OVERRIDES": json.dumps(FAST), "BENCHPIPE_HISTORY": "s3://benchpipe/team/history"})
    assert g.returncode in (0, 1), g.stdout + g.stderr
    doc = json.loads((third / "reports" / "run" / "compare.json").read_text())
    assert doc["baseline"] == "history:main" and doc["baseline_env"]["commit"] == second


def test_compare_gate_and_job_summary_print_the_same_verdict_line() -> None:
    """One formatter for the verdict line: `benchpipe compare`'s text, `benchpipe gate` and the job summary."""
    from benchpipe.cli.commands import gate
    from benchpipe.core import benchfmt
    from benchpipe.core.artifacts import compare_doc
    from benchpipe.core.verdict import Options, Rule, compare_parsed
    from benchpipe.render import ci
    from benchpipe.render.text import render_text

    from ..conftest import DATA

    opts = Options(rules=[Rule(unit="allocs/op", assume="exact", threshold_pct=1)])
    c = compare_parsed(benchfmt.read_files([DATA / "example_fast.txt"]), benchfmt.read_files([DATA / "example_slow.txt"]),
                       opts)
    assert c.verdict == "FAIL" and c.regressions
    line = render_text(c).rstrip("\n").splitlines()[-1]
    assert line.startswith("verdict: FAIL (threshold 10%, alpha 0.05): regressed ")
    assert c.regressions[0].benchmark.removeprefix("Benchmark") in line
    data = compare_doc(c)
    code, lines = gate.decide(data, require_baseline=True, strict_env=False)
    assert code == 1 and line in lines
    assert f"`{line}`" in ci.summary_markdown(data)
