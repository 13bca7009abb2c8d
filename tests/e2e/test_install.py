"""The runtime contract and adoption: a wheel built from this repository, installed with no extras into a
fresh virtual environment (no system site-packages, so test extras cannot hide a missing dependency),
gives a ``benchpipe`` that runs the whole pipeline (``dvc repro`` on the example), and that ``benchpipe
init`` puts into a team's own Go repository (google/uuid, fetched through the Go module proxy), where
``invoke quick``, ``invoke baseline``, ``invoke compare`` and ``dvc repro`` then work. Only that
environment's executables are on PATH (plus Go, git and dot)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT, make_repo, run, venv_with
from .test_paired import GIT_ENV

sys.path.insert(0, str(ROOT / "tests" / "corpus"))
import fetch  # noqa: E402

UUID = next(m for m in fetch.modules() if m.path == "github.com/google/uuid")
FAST = {
    "modes.quick.benchtime": "20ms",
    "profile.benchtime": "200ms",
    "profile.min_samples": 100,
    "profile.max_s": 2,
}


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The wheel with no extras in a fresh venv (the runtime contract); ``WHEEL`` is its path."""
    return {**venv_with(tmp_path_factory.mktemp("install"), str(wheel)), **GIT_ENV, "WHEEL": str(wheel)}


def _in(
    env: dict[str, str], cwd: Path, *argv: str, overrides: dict | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    e = {**env, **({"BENCHPIPE_OVERRIDES": json.dumps(overrides)} if overrides is not None else {})}
    return subprocess.run(list(argv), cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_plain_pip_install_runs_the_whole_pipeline(venv: dict[str, str], tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    r = _in(venv, repo, "dvc", "repro", overrides={**FAST, "modes.quick.profile": "all"})
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert "internal error" not in r.stderr and "ModuleNotFoundError" not in r.stderr
    report = (repo / "reports" / "report.md").read_text()
    assert "### Quick Metrics" in report and "BenchmarkEvaluate" in report
    assert "### CPU Profile" in report and list((repo / "reports" / "graphs").glob("*.svg"))
    assert json.loads((repo / "reports" / "metrics.json").read_text())["benchmarks"]


@pytest.mark.slow
def test_without_params_every_command_runs_on_the_module_here(venv: dict[str, str], tmp_path: Path) -> None:
    """A Go repository never set up by ``benchpipe init``: as go test, the module in the current directory
    is the target; a directory without a module is one line and exit 2."""
    repo = tmp_path / "chanwork"
    shutil.copytree(ROOT / "tests" / "fixtures" / "chanwork", repo)
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "one"]):
        assert _in(venv, repo, "git", *argv).returncode == 0
    (repo / "audit" / "decide.go").write_text((repo / "audit" / "decide.go").read_text() + "// two\n")
    assert _in(venv, repo, "git", "commit", "-qam", "two").returncode == 0
    b = _in(venv, repo, "benchpipe", "bench", "--out", "b.txt", "--meta", "b.json")
    assert b.returncode == 0, b.stderr[-3000:]
    meta = json.loads((repo / "b.json").read_text())
    assert meta["module"] == "example.com/chanwork" and meta["settings"]["count"] == 3, meta["settings"]
    lines = (repo / "b.txt").read_text().splitlines()
    names = {re.sub(r"-\d+$", "", ln.split()[0]) for ln in lines if ln.startswith("Benchmark")}
    assert names == {"BenchmarkDecide", "BenchmarkDecideAudited"}, names
    c = _in(
        venv,
        repo,
        "benchpipe",
        "compare",
        "--base",
        "HEAD~1",
        "--head",
        "HEAD",
        "--bench",
        "^BenchmarkDecide$",
        "--rounds",
        "6",
        "--benchtime",
        "20ms",
        "--format",
        "json",
    )
    assert "internal error" not in c.stderr and c.stdout, c.stderr[-3000:]
    d = json.loads(c.stdout)
    assert c.returncode == (1 if d["verdict"] == "FAIL" else 0) and d["paired"]["target"] == str(repo)
    bare = tmp_path / "nomodule"
    bare.mkdir()
    e = _in(venv, bare, "benchpipe", "bench", "--out", "b.txt", "--meta", "b.json")
    assert e.returncode == 2 and e.stderr.strip().splitlines() == [
        f"benchpipe: error: {bare}: not a Go module (no go.mod)"
    ]
    (bare / "notes.txt").write_text("no Go here\n")
    for argv in (["init", "-q"], ["add", "notes.txt"], ["commit", "-qm", "notes"]):
        assert run(["git", *argv], cwd=bare, env=GIT_ENV).returncode == 0
    c = _in(venv, bare, "benchpipe", "compare", "--base", "HEAD", "--head", "HEAD")
    assert c.returncode == 2 and c.stderr.strip().splitlines() == [  # the user's directory, not a worktree
        f"benchpipe: error: {bare}: not a Go module (no go.mod); run in the module's directory or pass "
        "--target"
    ], c.stderr


SPIN = (
    "\t{\n\t\ts := 1\n\t\tfor i := 0; i < 3000; i++ {\n\t\t\ts = s*31 + i\n\t\t}\n"
    "\t\tif s == 0 {\n\t\t\tpanic(s)\n\t\t}\n\t}\n"
)


def team_repo(tmp_path: Path) -> Path:
    """A team's repository: google/uuid at its pinned version (Go module proxy), cloned with an origin."""
    root = fetch.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    origin = fetch.fetch(UUID, root)
    repo = tmp_path / "uuid"
    assert run(["git", "clone", "-q", str(origin), str(repo)], env=GIT_ENV).returncode == 0
    return repo


@pytest.mark.slow
def test_init_in_a_teams_repository_then_quick_baseline_compare_and_repro(
    venv: dict[str, str], tmp_path: Path
) -> None:
    repo = team_repo(tmp_path)
    p = _in(venv, repo, "benchpipe", "init", "--pip", venv["WHEEL"])
    assert p.returncode == 0, p.stderr
    wrote = dict(reversed(ln.split(None, 1)) for ln in p.stdout.splitlines() if ln.startswith("  "))
    for f in (
        "dvc.yaml",
        "params.yaml",
        "tasks.py",
        ".github/workflows/benchmarks.yml",
        "benchpipe.gitlab-ci.yml",
        ".dvc/",
    ):
        assert wrote.get(f) == "wrote", (f, p.stdout)
    assert "invoke quick" in p.stdout and "invoke baseline" in p.stdout
    assert 'target: "."' in (repo / "params.yaml").read_text()
    assert run(["git", "add", "-A"], cwd=repo).returncode == 0
    assert run(["git", "commit", "-qm", "benchpipe init"], cwd=repo, env=GIT_ENV).returncode == 0
    again = _in(venv, repo, "benchpipe", "init", "--pip", venv["WHEEL"])
    assert again.returncode == 0 and not re.search(r"^  wrote ", again.stdout, re.M), (
        again.stdout
    )  # nothing new
    assert run(["git", "status", "--porcelain"], cwd=repo).stdout == ""

    fast = {**FAST, "modes.quick.bench": "^BenchmarkUUID_String$|^BenchmarkNew$|^BenchmarkParse$"}
    q = _in(venv, repo, "invoke", "quick", overrides=fast)
    assert q.returncode == 0, (q.stdout + q.stderr)[-3000:]
    assert "BenchmarkUUID_String" in (repo / "reports" / "report.md").read_text()
    b = _in(venv, repo, "invoke", "baseline", overrides=fast)
    assert b.returncode == 0, (b.stdout + b.stderr)[-3000:]
    assert (repo / "baselines" / "main.txt").exists() or (repo / "baselines" / "main" / "bench.txt").exists()
    assert run(["git", "add", "-A"], cwd=repo).returncode == 0
    assert run(["git", "commit", "-qm", "baseline"], cwd=repo, env=GIT_ENV).returncode == 0

    src = repo / "uuid.go"
    text = src.read_text()
    m = re.search(r"^func \(uuid UUID\) String\(\) string \{\n", text, re.M)
    assert m
    src.write_text(text[: m.end()] + SPIN + text[m.end() :])  # String does ~1 µs more work: a regression
    first = text[: m.end()].count("\n") + 1
    c = _in(venv, repo, "invoke", "compare", overrides=fast)
    assert c.returncode == 1, (c.stdout + c.stderr)[-3000:]
    doc = json.loads((repo / "reports" / "run" / "compare.json").read_text())
    why = next(e for e in doc["explanations"] if e["benchmark"] == "BenchmarkUUID_String")
    assert why["suspects"][0]["function"] == "github.com/google/uuid.UUID.String", why
    assert why["suspects"][0]["changed"] == [
        {"file": "uuid.go", "ranges": [[first, first + SPIN.count("\n") - 1]]}
    ]
    assert "`uuid.UUID.String` +" in (repo / "reports" / "report.md").read_text()

    r = _in(venv, repo, "dvc", "repro", overrides=fast)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert "internal error" not in r.stderr and "ModuleNotFoundError" not in r.stderr


def test_init_refuses_a_directory_without_a_go_module(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("not Go\n")
    assert run(["git", "init", "-q"], cwd=tmp_path).returncode == 0
    p = run(["benchpipe", "init"], cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "no Go module" in p.stderr, p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == [".git", "README.md"]  # nothing written
