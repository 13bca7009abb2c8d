"""Real modules end to end (issue 10): ``invoke quick --target`` on the fixture module and on two
real modules of the corpus, fetched at pinned versions through the Go module proxy, each in a
temporary git + DVC repository. Every result must arrive: ``bench.txt`` holds as many results as
plain ``go test -json`` reports for the same flags, and the report renders."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT, make_repo

sys.path.insert(0, str(ROOT / "tests" / "corpus"))
import fetch  # noqa: E402
import run as corpus_run  # noqa: E402

CI_MODULES = fetch.modules(ci_only=True)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fetch.cache_root()


@pytest.mark.slow
@pytest.mark.parametrize("module", CI_MODULES, ids=[m.path for m in CI_MODULES])
def test_real_module_end_to_end(module: fetch.Module, corpus_dir: Path, tmp_path: Path) -> None:
    corpus_dir.mkdir(parents=True, exist_ok=True)
    target = fetch.fetch(module, corpus_dir)
    repo = make_repo(tmp_path)
    ok, msg = corpus_run.check(module, target, "quick", repo)
    assert ok, msg
    meta = json.loads((repo / "reports" / "run" / "bench.json").read_text())
    assert meta["settings"]["packages"] == ["./..."] and meta["results"] > 0
    assert meta["target"] == str(target)


@pytest.mark.slow
def test_fixture_module_end_to_end(tmp_path: Path) -> None:
    """The logging and the stalling benchmark through invoke quick: exit 2, stall named, rest reported."""
    target = tmp_path / "realshapes"
    shutil.copytree(ROOT / "tests" / "fixtures" / "realshapes", target)
    repo = make_repo(tmp_path)
    m = fetch.Module("example.com/realshapes", "local", "100ms", True)
    ok, msg = corpus_run.check(
        m, target, "quick", repo, {"BENCHPIPE_OVERRIDES": json.dumps({"bench.stall_s": 5})}
    )
    assert ok, msg
    assert "stalled" in msg and "BenchmarkHandle" in msg
    report = (repo / "reports" / "report.md").read_text()
    assert "**Did not finish**" in report and "BenchmarkHandle" in report.split("**Did not finish**")[1][:600]
    assert "RUNNING IN TEST MODE" not in (repo / "reports" / "run" / "bench.txt").read_text()
