"""Verdicts users don't learn to ignore (issue 12): like compared with like, a WARN that means
something, baselines that belong to a module and are fit to judge. Real Go runs of the example."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from benchpipe.core import benchfmt
from benchpipe.core.verdict import Options, compare_samples
from benchpipe.store import params

from ..conftest import ROOT, exit_for, printed_verdict, quick_params, run
from .test_bench import bench

sys.path.insert(0, str(ROOT / "tests" / "corpus"))
import fetch  # noqa: E402

FAST = {"modes.quick.bench": "^Benchmark(Parse|Compile)$", "profile.enabled": False}


def test_files_recorded_at_different_benchtimes_are_not_comparable(tmp_path: Path, example: Path) -> None:
    outs = []
    for bt in ("100x", "200x"):
        d = tmp_path / bt
        d.mkdir()
        p, out = bench(
            d,
            quick_params(
                d, example, packages=["./pkg/core"], bench="^BenchmarkCompile$", count=6, benchtime=bt
            ),
        )
        assert p.returncode == 0, p.stderr
        assert f"benchtime: {bt}" in (out / "bench.txt").read_text().splitlines()[:6]
        outs.append(out / "bench.txt")
    c = run(["benchpipe", "compare", str(outs[0]), str(outs[1])])
    assert c.returncode == exit_for(printed_verdict(c.stdout)), c.stderr
    first = c.stdout.splitlines()
    assert (
        first[0].startswith("NOT COMPARABLE")
        and "benchtime differs: bench.txt 100x vs bench.txt 200x" in first[1]
    )
    assert "verdict: PASS" not in c.stdout
    strict = run(["benchpipe", "compare", "--strict-env", str(outs[0]), str(outs[1])])
    assert strict.returncode == 3 and "not comparable: benchtime differs" in strict.stderr
    same = run(["benchpipe", "compare", str(outs[0]), str(outs[0])])
    assert same.returncode == 0 and "NOT COMPARABLE" not in same.stdout
    # a file against itself changes nothing; at 100x its rows may be too noisy to rule out 10% (inconclusive)
    assert "verdict: PASS" in same.stdout or (
        "verdict: WARN" in same.stdout and "inconclusive" in same.stdout
    )


def test_a_byte_of_jitter_is_unchanged_one_more_object_is_a_regression() -> None:
    opts = Options.from_settings(params.load(ROOT / "params.yaml", run_file=False).compare)
    key = ("p", "BenchmarkCompile-2", "B/op")
    c = compare_samples({key: [156469.0] * 6}, {key: [156470.0] * 6}, {}, opts)
    assert [r.verdict for r in c.rows] == ["unchanged"] and c.verdict == "PASS"
    small = ("p", "BenchmarkParse-2", "B/op")
    c = compare_samples({small: [48.0] * 6}, {small: [64.0] * 6}, {}, opts)
    assert [r.verdict for r in c.rows] == ["regression"]
    # a significant timing change smaller than half the threshold is not a WARN
    ns = ("p", "BenchmarkParse-2", "ns/op")
    base = [100.0, 100.5, 101.0, 99.5, 100.2, 100.8, 99.9, 100.1]
    c = compare_samples({ns: base}, {ns: [v * 1.03 for v in base]}, {}, opts)
    assert c.rows[0].significant and c.rows[0].verdict == "unchanged"
    c = compare_samples({ns: base}, {ns: [v * 1.07 for v in base]}, {}, opts)
    assert c.rows[0].verdict == "warn"


@pytest.mark.slow
def test_compare_runs_with_the_baselines_settings(repo: Path) -> None:
    rec = {**FAST, "modes.quick.benchtime": "300x", "modes.quick.cpu": "1,2", "modes.quick.count": 6}
    p = run(["dvc", "repro"], cwd=repo, env={"BENCHPIPE_OVERRIDES": json.dumps(rec)})
    assert p.returncode == 0, p.stdout + p.stderr
    s = run(["benchpipe", "baseline", "save", "--name", "main", "--no-push"], cwd=repo)
    assert s.returncode == 0 and "warning" not in s.stderr, s.stderr
    c = run(
        ["invoke", "compare", "--bench", "^Benchmark(Parse|Compile)$"],
        cwd=repo,
        env={"BENCHPIPE_OVERRIDES": json.dumps({"profile.enabled": False})},
    )
    assert c.returncode == exit_for(
        json.loads((repo / "reports" / "run" / "compare.json").read_text())["verdict"]
    )
    meta = json.loads((repo / "reports" / "run" / "bench.json").read_text())
    assert (meta["settings"]["benchtime"], meta["settings"]["cpu"], meta["settings"]["count"]) == (
        "300x",
        "1,2",
        6,
    )
    assert any("taken from the baseline" in n for n in meta["notes"])
    cmp = json.loads((repo / "reports" / "run" / "compare.json").read_text())
    assert cmp["not_comparable"] == []
    report = (repo / "reports" / "report.md").read_text()
    assert "| benchtime | 300x | 300x |" in report and "| -cpu list | 1,2 | 1,2 |" in report
    # an explicit other benchtime is compared, but leads with the not-comparable block
    o = run(
        ["invoke", "compare", "--bench", "^Benchmark(Parse|Compile)$", "--benchtime", "100x"],
        cwd=repo,
        env={"BENCHPIPE_OVERRIDES": json.dumps({"profile.enabled": False})},
    )
    assert o.returncode == exit_for(
        json.loads((repo / "reports" / "run" / "compare.json").read_text())["verdict"]
    )
    assert "not comparable: benchtime differs: baseline 300x vs current 100x" in o.stdout
    assert "**Not comparable**" in (repo / "reports" / "report.md").read_text()
    assert json.loads((repo / "reports" / "run" / "compare.json").read_text())["verdict"] in ("WARN", "FAIL")


@pytest.mark.slow
def test_another_modules_run_gets_no_baseline_and_a_full_report(repo: Path) -> None:
    p = run(["dvc", "repro"], cwd=repo, env={"BENCHPIPE_OVERRIDES": json.dumps(FAST)})
    assert p.returncode == 0, p.stdout + p.stderr
    few = run(["benchpipe", "baseline", "save", "--name", "main", "--no-push"], cwd=repo)
    assert few.returncode == 0 and "warning: as few as 3 samples per benchmark" in few.stderr
    m = next(x for x in fetch.modules(ci_only=True) if x.path == "github.com/google/uuid")
    root = fetch.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    target = fetch.fetch(m, root)
    shutil.rmtree(repo / "reports" / "run")
    q = run(
        ["invoke", "quick", "--target", str(target), "--benchtime", "100x"],
        cwd=repo,
        env={"BENCHPIPE_OVERRIDES": json.dumps({"profile.enabled": False})},
    )
    assert q.returncode == 0, q.stdout + q.stderr
    assert "no baseline (No baseline for github.com/google/uuid" in q.stdout
    report = (repo / "reports" / "report.md").read_text()
    assert "No baseline for github.com/google/uuid" in report and "### Quick Metrics" in report
    assert len(benchfmt.read_files([repo / "reports" / "run" / "bench.txt"]).results) > 0
