"""The shipped GitHub Actions workflow (examples/ci/benchmarks.yml) as teams run it: exactly its `run:`
steps, in order, in fresh clones of a repository with a bare origin and a local DVC remote.

Pull requests: a paired compare against the merge base — a real committed regression fails with a job
summary, annotations and a comment body; an A/A pull request passes; neither needs the DVC remote (the
clone's remote is unreachable, as for a fork). Default branch: the run becomes the baseline, baselines
and history go to the DVC remote, the pointers are committed back, and the next clone pulls them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml

from ..conftest import ROOT, make_repo, run

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
FAST = {"modes.quick.bench": "^BenchmarkEvaluate$", "modes.quick.packages": ["./pkg/core"],
        "modes.quick.benchtime": "30ms", "profile.benchtime": "100ms", "paired.rounds": 6,
        "paired.benchtime": "30ms", "profile.min_samples": 100}


def job_steps(job: str) -> list[tuple[str, dict[str, str]]]:
    """The job's `run:` steps with the names of their `env:` values (set-up skipped: done here already)."""
    wf = yaml.safe_load((ROOT / "examples" / "ci" / "benchmarks.yml").read_text())
    return [(s["run"], dict(s.get("env") or {})) for s in wf["jobs"][job]["steps"]
            if "run" in s and ".ci/setup" not in s["run"]]


def run_job(clone: Path, job: str, overrides: dict, values: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the job's steps until one fails; its exit code and all output."""
    out = ""
    for script, names in job_steps(job):
        env = {"BENCHPIPE_OVERRIDES": json.dumps(overrides), **GIT_ENV,
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


@pytest.mark.slow
def test_pull_requests_paired_and_fork_safe(origin: Path, tmp_path: Path) -> None:
    pr = clone(origin, tmp_path / "pr", "pr-regress")
    # a fork's job has no access to the DVC remote: make it unreachable (the paired compare never needs it)
    assert run(["dvc", "remote", "modify", "--local", "local", "url", str(tmp_path / "no-such-remote")],
               cwd=pr).returncode == 0
    summary = tmp_path / "summary.md"
    code, out = run_job(pr, "pr", FAST, {"BASE_REF": "main", "GITHUB_STEP_SUMMARY": str(summary)})
    assert code == 1, out
    assert "::error title=benchpipe regression::BenchmarkEvaluate-" in out
    text = summary.read_text()
    assert text.startswith("## benchpipe: FAIL") and "signed-rank" in text and "🔴 regression" in text
    assert (pr / "reports" / "pr-comment.md").read_text() == text
    data = json.loads((pr / "reports" / "paired.json").read_text())
    ns = next(r for r in data["rows"] if r["unit"] == "ns/op")
    assert ns["verdict"] == "regression" and ns["delta_pct"] > 10
    assert data["paired"]["base"] == git(pr, "merge-base", "HEAD", "origin/main")

    aa = clone(origin, tmp_path / "aa", "pr-aa")
    code, out = run_job(aa, "pr", FAST, {"BASE_REF": "main", "GITHUB_STEP_SUMMARY": str(tmp_path / "s2.md")})
    assert code == 0, out
    assert "::error" not in out and (tmp_path / "s2.md").read_text().startswith("## benchpipe: PASS")
    code, out = run_job(aa, "pr", {**FAST, "modes.quick.bench": "^NoSuchBenchmark$"},
                        {"BASE_REF": "main", "GITHUB_STEP_SUMMARY": str(tmp_path / "s3.md")})
    assert code == 3, out  # nothing to compare never passes


@pytest.mark.slow
def test_default_branch_saves_baseline_and_history_for_the_next_clone(origin: Path, tmp_path: Path) -> None:
    for i in range(2):  # two pushes to main: the history accumulates across CI runs
        main = clone(origin, tmp_path / f"main{i}")
        code, out = run_job(main, "baseline", FAST)
        assert code == 0, out
        assert (main / "baselines" / "main" / "bench.txt").exists()
    fresh = clone(origin, tmp_path / "fresh")
    assert "benchpipe: baseline and history" in git(fresh, "log", "-1", "--format=%s")
    assert not (fresh / "baselines" / "main").exists()
    p = run(["dvc", "pull", "-q"], cwd=fresh)
    assert p.returncode == 0, p.stderr
    meta = json.loads((fresh / "baselines" / "main" / "meta.json").read_text())
    assert meta["settings"]["count"] == 6 and meta["commit"] == git(fresh, "rev-parse", "HEAD~1")
    runs = duckdb.connect().execute("SELECT count(DISTINCT run_id) FROM read_parquet(?)",
                                    [f"{fresh}/reports/history/**/*.parquet"]).fetchall()[0][0]
    assert runs == 2
    # the next pull request is gated against that baseline without a fresh run of main
    g = run(["invoke", "compare", "--bench", "^BenchmarkEvaluate$", "--packages", "./pkg/core", "--benchtime", "30ms"],
            cwd=fresh, env={"BENCHPIPE_OVERRIDES": json.dumps(FAST)})
    assert g.returncode in (0, 1), g.stdout + g.stderr
    assert "baseline: main is present" in g.stderr + g.stdout


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
