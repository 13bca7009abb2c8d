"""Benchmarks never see credentials: a real Go benchmark (tests/fixtures/envleak) reports which of the
credentials set in benchpipe's environment it can read, in every mode that runs the code under test — the
pipeline's bench stage, a paired compare, profiling, instruction counts under valgrind. It must read none,
and must read a harmless variable (the environment is passed on, minus credentials)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchpipe.core import benchfmt

from ..conftest import ROOT, exit_for, quick_params, run
from .test_paired import committed_copy

FIXTURE = ROOT / "tests" / "fixtures" / "envleak"
SECRETS = {
    "AWS_SECRET_ACCESS_KEY": "leak-aws",
    "AWS_SESSION_TOKEN": "leak-aws-session",
    "GITHUB_TOKEN": "leak-gh",
    "ACTIONS_RUNTIME_TOKEN": "leak-actions",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "leak-oidc",
    "CI_JOB_TOKEN": "leak-gitlab",
    "GOOGLE_APPLICATION_CREDENTIALS": "leak-gcp",
    "AZURE_CLIENT_SECRET": "leak-azure",
    "MY_API_KEY": "leak-key",
    "db_password": "leak-db",
    "NPM_TOKEN": "leak-npm",
    "GOAUTH": "leak-goauth",
    "SSH_AUTH_SOCK": "leak-ssh",
    "GOPROXY": "https://user:leak-pass@proxy.invalid,https://proxy.golang.org,direct",
}
ENV = {**SECRETS, "BENCHPIPE_CANARY": "1", "GOFLAGS": "-mod=mod"}


def _metrics(text: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for (_, _, unit), values in benchfmt.samples(benchfmt.read_text(text)).items():
        if unit in ("leaked", "canary"):
            out[unit] = values
    return out


def test_no_mode_hands_a_credential_to_the_benchmark(tmp_path: Path) -> None:
    repo = committed_copy(FIXTURE, tmp_path / "envleak")
    # the pipeline's bench stage (invoke quick, full, baseline)
    params = quick_params(tmp_path, repo, bench="BenchmarkEnv", count=2, benchtime="100x", packages=["./..."])
    p = run(
        ["benchpipe", "bench", "--params", str(params), "--out", "b.txt", "--meta", "b.json"],
        cwd=tmp_path,
        env=ENV,
    )
    assert p.returncode == 0, p.stderr
    m = _metrics((tmp_path / "b.txt").read_text())
    assert m == {"leaked": [0.0, 0.0], "canary": [1.0, 1.0]}, m
    assert "leak-" not in (tmp_path / "b.txt").read_text()

    # a paired compare (pull requests) and the profiles it takes
    out = tmp_path / "paired.json"
    p = run(
        [
            "benchpipe",
            "compare",
            "--target",
            str(repo),
            "--base",
            "HEAD",
            "--head",
            "HEAD",
            "--rounds",
            "2",
            "--benchtime",
            "100x",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        env=ENV,
    )
    doc = json.loads(out.read_text())
    assert p.returncode == exit_for(doc["verdict"]), p.stdout + p.stderr
    rows = {r["unit"]: r for r in doc["rows"]}
    assert rows["leaked"]["old"]["center"] == 0 and rows["leaked"]["new"]["center"] == 0, rows["leaked"]
    assert rows["canary"]["old"]["center"] == 1 and rows["canary"]["new"]["center"] == 1, rows["canary"]
    assert "leak-" not in p.stdout + p.stderr

    # a test binary run by the one runner every mode uses (profiling and valgrind runs go through it too)
    from benchpipe.go import toolchain

    bins, _ = toolchain.build_test_binaries(toolchain.list_packages(repo, ["./..."]), repo, tmp_path / "bin")
    import os

    saved = dict(os.environ)
    os.environ.update(ENV)
    try:
        res = toolchain.run_binary(
            bins[0],
            repo,
            [
                "-test.run=^$",
                "-test.bench=.",
                "-test.benchtime=10x",
                "-test.cpuprofile=" + str(tmp_path / "cpu.prof"),
            ],
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert _metrics(res.output) == {"leaked": [0.0], "canary": [1.0]}, res.output


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is installed by .ci/setup-tests")
def test_runs_under_valgrind_see_no_credential(tmp_path: Path) -> None:
    from benchpipe.go import instructions, toolchain

    repo = committed_copy(FIXTURE, tmp_path / "envleak")
    bins, _ = toolchain.build_test_binaries(
        toolchain.list_packages(repo, ["./..."]), repo, tmp_path / "bin", strip=False
    )
    import os

    saved = dict(os.environ)
    os.environ.update(ENV)
    try:
        out = instructions.count(bins[0], repo, "BenchmarkEnv", 10, "2m", tmp_path).output
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert _metrics(out) == {"leaked": [0.0], "canary": [1.0]}, out
