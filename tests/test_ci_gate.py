"""The CI gate as users run it: a fresh clone whose DVC remote holds a baseline, and exactly
the `run:` steps of the shipped GitHub Actions workflow (examples/ci/benchmarks.yml)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, make_repo, run
from .test_pipeline import DETERMINISTIC

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
JUDGED = {"modes.quick.bench": "^BenchmarkEvaluate", "modes.quick.packages": ["./pkg/core"],
          "modes.quick.benchtime": "30ms", "profile.benchtime": "100ms", "compare.threshold_pct": 50,
          "compare.rules": [{"unit": "allocs/op", "assume": "exact", "threshold_pct": 1},
                            {"unit": "p50-ns", "ignore": True}, {"unit": "p95-ns", "ignore": True},
                            {"unit": "p99-ns", "ignore": True}]}


def workflow_steps() -> list[str]:
    wf = yaml.safe_load((ROOT / "examples" / "ci" / "benchmarks.yml").read_text())
    steps = [s["run"] for s in wf["jobs"]["bench"]["steps"] if "run" in s]
    # the set-up step installs packages already present here; run the rest exactly
    return [s for s in steps if ".ci/setup" not in s]


def run_steps(clone: Path, overrides: dict, extra: dict[str, str] | None = None) -> int:
    env = {"BENCHPIPE_OVERRIDES": json.dumps(overrides), **(extra or {})}
    for step in workflow_steps()[:-1]:  # the last step only lists the report
        p = run(["bash", "-e", "-c", step], cwd=clone, env=env)
        if p.returncode != 0:
            return p.returncode
    assert (clone / "reports" / "report.md").exists()
    return 0


@pytest.mark.slow
def test_workflow_gate_in_a_fresh_clone(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    env = {"BENCHPIPE_OVERRIDES": json.dumps(JUDGED)}
    assert run(["invoke", "quick", "--count", "6"], cwd=repo, env=env).returncode == 0
    assert run(["invoke", "baseline", "--name", "main", "--reuse"], cwd=repo).returncode == 0
    for cmd in (["git", "add", "-A"], ["git", "commit", "-qm", "baseline"]):
        assert run(cmd, cwd=repo, env=GIT_ENV).returncode == 0
    clone = tmp_path / "clone"
    assert subprocess.run(["git", "clone", "-q", str(repo), str(clone)]).returncode == 0
    assert not (clone / "baselines" / "main.txt").exists()

    assert run_steps(clone, JUDGED, {"POLICYENGINE_SLOW": "1"}) == 1  # a real regression fails the job
    assert (clone / "baselines" / "main.txt").exists()  # pulled from the remote by the workflow
    # no regression passes; sequential timings on a shared machine can drift past any threshold
    # (paired mode exists for that), so this run judges the deterministic units only
    assert run_steps(clone, {**JUDGED, "compare.rules": DETERMINISTIC}) == 0
    nothing = {**JUDGED, "modes.quick.bench": "^NoSuchBenchmark$"}
    assert run_steps(clone, nothing) == 3  # output with no benchmark never passes
