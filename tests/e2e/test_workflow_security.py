"""The CI files `benchpipe init` writes pass a security review: zizmor (pinned, from PyPI) and actionlint
report no finding on either GitHub workflow (one suppression: `dangerous-triggers` on the `workflow_run`
trigger, with its reason on that line); least privilege is checked rule by rule; GitLab's credentials reach
only jobs on protected refs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from benchpipe.store import project

from ..conftest import ROOT, run

ACTIONLINT = ROOT / "build" / "bin" / "actionlint"
ZIZMOR_VERSION = "1.32.0"


def _plain(text: str) -> str:
    """zizmor's output without terminal colour codes (CI runners may ask for colour whatever the flag
    says)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _workflows(tmp: Path) -> dict[str, Path]:
    out = {}
    for f in project.files(".", ["./..."], "benchpipe[s3]==0.1.0", ("github",)):
        if f.path.startswith(".github/workflows/"):
            path = tmp / f.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f.text)
            out[path.name] = path
    assert set(out) == {"benchmarks.yml", "benchpipe-comment.yml"}
    return out


def test_zizmor_and_actionlint_find_nothing(tmp_path: Path) -> None:
    zizmor = shutil.which("zizmor")
    assert zizmor, "zizmor is a test dependency (pyproject's test extra)"
    assert ZIZMOR_VERSION in run([zizmor, "--version"]).stdout
    files = [str(p) for p in _workflows(tmp_path).values()]
    p = run([zizmor, "--offline", "--color", "never", "--format", "plain", *files])
    out = _plain(p.stdout + p.stderr)
    assert p.returncode == 0, out
    assert "No findings to report" in out and "(1 ignored" in out, out
    # the pedantic persona too: concurrency limits, documented permissions, named jobs
    p = run([zizmor, "--offline", "--color", "never", "--persona", "pedantic", "--format", "plain", *files])
    out = _plain(p.stdout + p.stderr)
    assert p.returncode == 0 and "No findings to report" in out, out
    if not ACTIONLINT.exists():
        pytest.fail("actionlint is installed by .ci/setup-tests (build/bin/actionlint)")
    p = run([str(ACTIONLINT), *files])
    assert p.returncode == 0 and not p.stdout.strip(), p.stdout + p.stderr


def test_least_privilege_rule_by_rule(tmp_path: Path) -> None:
    wf = _workflows(tmp_path)
    for name, path in wf.items():
        text = path.read_text()
        data = yaml.safe_load(text)
        assert data["permissions"] == {"contents": "read"}, name
        for line in text.splitlines():
            if m := re.search(r"uses:\s*(\S+)", line):
                ref = m.group(1)
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), line  # pinned by commit
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line  # with its version
        for job_name, job in data["jobs"].items():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, (name, job_name)
        ignores = [ln for ln in text.splitlines() if "zizmor: ignore" in ln]
        assert ignores == (
            []
            if name == "benchmarks.yml"
            else [
                ln
                for ln in ignores
                if ln.strip().startswith("workflow_run:  # zizmor: ignore[dangerous-triggers] -- ")
            ]
        ) and (name == "benchmarks.yml" or ignores)
    bench = yaml.safe_load(wf["benchmarks.yml"].read_text())["jobs"]
    for job in ("pr", "verdict"):  # the jobs that run the pull request's code or its output: read-only
        assert "permissions" not in bench[job]
        assert "secrets." not in yaml.safe_dump(bench[job])
    assert bench["main"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert bench["pages"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert bench["pages"]["environment"]["name"] == "github-pages"
    assert [s.get("uses", "").split("@")[0] for s in bench["pages"]["steps"]] == ["actions/deploy-pages"]
    # store credentials only on the steps that read or write the store, after every install step
    main = bench["main"]
    assert "env" not in main
    with_keys = [i for i, s in enumerate(main["steps"]) if "AWS_SECRET_ACCESS_KEY" in (s.get("env") or {})]
    assert [main["steps"][i]["run"].split()[:2] for i in with_keys] == [
        ["invoke", "quick"],
        ["benchpipe", "culprit"],
        ["benchpipe", "impact"],
        ["benchpipe", "publish"],
    ]
    installs = [
        i
        for i, s in enumerate(main["steps"])
        if "pip install" in s.get("run", "")
        or "uses" in s
        and "configure-aws-credentials" not in s["uses"]
        and "upload" not in s["uses"]
    ]
    oidc = next(i for i, s in enumerate(main["steps"]) if "configure-aws-credentials" in s.get("uses", ""))
    assert max(installs) < oidc < min(with_keys)
    # the comment workflow: the only write to pull requests; never checks out or runs the pull request's code
    comment = yaml.safe_load(wf["benchpipe-comment.yml"].read_text())
    assert comment[True]["workflow_run"] == {
        "workflows": ["benchmarks"],
        "types": ["completed"],
    }  # yaml: on -> True
    job = comment["jobs"]["comment"]
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert not any("checkout" in s.get("uses", "") for s in job["steps"])
    assert all("git " not in s.get("run", "") and "invoke" not in s.get("run", "") for s in job["steps"])
    assert "benchpipe comment github" in job["steps"][-1]["run"]
    assert not any("pull-requests" in (j.get("permissions") or {}) for j in bench.values())


def test_gitlab_credentials_only_on_protected_refs() -> None:
    text = project.ci_template("gitlab-ci.yml", "benchpipe[s3]==0.1.0")
    data = yaml.safe_load(text)
    assert "**Protected**" in text and text.count("Protected") >= 2
    assert '$CI_COMMIT_REF_PROTECTED == "true"' in data["benchpipe-main"]["rules"][0]["if"]
    assert "AWS_" not in yaml.safe_dump(data["variables"])
    post = data["benchpipe-comment"]
    assert post["variables"]["GIT_STRATEGY"] == "none" and "$BENCHPIPE_GITLAB_TOKEN" in post["rules"][0]["if"]
    assert "benchpipe comment gitlab" in post["script"][-1]
