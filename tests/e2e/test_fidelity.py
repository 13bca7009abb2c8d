"""Every mode that runs benchmarks again measures what ``go test -bench`` measures (issue 27), on the
fixture with one benchmark of each shape (tests/fixtures/shapes), with real Go and real git."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT, bench_stage, exit_for, quick_params, run
from .test_paired import committed_copy, git

SHAPES = ROOT / "tests" / "fixtures" / "shapes"
# every shape; of the 24-result family the smallest, a middle and the largest (go test's levels select them)
FIDELITY_BENCH = (
    "^Benchmark(Parallel|Loop|Setup|SetBytes|ReportMetric|GrowBuffer)|^BenchmarkFamily$/^n=(8|96|192)$"
)


@pytest.fixture
def shapes(tmp_path: Path) -> Path:
    """The shapes module committed to a fresh git repository."""
    return committed_copy(SHAPES, tmp_path / "shapes", "base")


def _commit_edit(repo: Path, old: str, new: str, msg: str) -> None:
    f = repo / "ops" / "ops.go"
    f.write_text(f.read_text().replace(old, new))
    git(repo, "commit", "-qam", msg)


@pytest.mark.slow
def test_every_mode_measures_each_shape_as_go_test_does(shapes: Path, tmp_path: Path) -> None:
    out = tmp_path / "fidelity.json"
    p = run(
        [
            sys.executable,
            str(ROOT / "tools" / "fidelity.py"),
            str(shapes),
            "--packages",
            "./ops",
            "--bench",
            FIDELITY_BENCH,
            "--count",
            "3",
            "--benchtime",
            "200ms",
            "--rounds",
            "4",
            "--paired-benchtime",
            "100ms",
            "--min-samples",
            "200",
            "--max-s",
            "2",
            "--json",
            str(out),
        ],
        timeout=1800,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    data = json.loads(out.read_text())
    rows = {r["result"]: r for r in data["rows"]}
    assert set(rows) == {
        "BenchmarkParallelTiny",
        "BenchmarkParallelSetup",
        "BenchmarkParallelHidden",
        "BenchmarkLoop",
        "BenchmarkSetupNoReset",
        "BenchmarkSetupReset",
        "BenchmarkSetBytes",
        "BenchmarkReportMetric",
        "BenchmarkGrowBuffer",
        "BenchmarkFamily/n=8",
        "BenchmarkFamily/n=96",
        "BenchmarkFamily/n=192",
    }, sorted(rows)
    assert (
        rows["BenchmarkParallelTiny"]["shape"] == "RunParallel" and rows["BenchmarkLoop"]["shape"] == "b.Loop"
    )
    for name, r in rows.items():
        for mode in ("paired", "confirm", "profile"):
            ratio = r["modes"][mode]["ratio"]
            # at a fixed b.N the RunParallel results measured 4-16x go test's ns/op; a noisy 2-core machine
            # moves a median by tens of percent (a 3 ns RunParallel operation's one profiled run measured
            # 1.69x in a CI run whose 100 ms runs spread +-20%), not by 2x
            assert 0.5 < ratio < 2.0, (name, mode, r)
    run_as = data["run_as"]
    key = "example.com/shapes/ops {}"
    assert _parallel_time(run_as["paired"][key.format("BenchmarkParallelTiny")]) in (0.1, 0.3, 1.0)
    assert run_as["paired"][key.format("BenchmarkLoop")].endswith("x (fixed b.N)")
    assert run_as["confirm"][key.format("BenchmarkParallelSetup")] == "200ms (time: RunParallel)"
    # RunParallel behind a package-level function value is found in the source too (a check run at the fixed
    # b.N missed it when the other core was busy: its goroutines then did not contend in the check)
    hidden = run_as["paired"][key.format("BenchmarkParallelHidden")]
    assert _parallel_time(hidden) in (0.1, 0.3, 1.0), run_as["paired"]


def _parallel_time(how: str) -> float:
    """The time a RunParallel result's paired rounds ran at, in seconds: the paired benchtime (100ms), or a
    longer one (3x, or go test's 1s) where one run there measured apart from go test's at 1s, with the two
    ns/op said."""
    from benchpipe.core.units import go_duration_ns

    bt, _, rest = how.partition(" ")
    assert rest == "(time: RunParallel)" or (
        rest.startswith("(time: RunParallel: ") and "ns/op at 100ms vs" in rest and rest.endswith(" at 1s)")
    ), how
    ns = go_duration_ns(bt)
    assert ns is not None, how
    return round(ns / 1e9, 3)


def _paired(repo: Path, tmp: Path, *args: str) -> tuple[int, dict, str]:
    out = tmp / "paired.json"
    p = run(
        [
            "benchpipe",
            "compare",
            "--target",
            str(repo),
            "--params",
            str(ROOT / "params.yaml"),
            "--cache-dir",
            str(tmp / "cache"),
            "--format",
            "json",
            "--out",
            str(out),
            "--packages",
            "./ops",
            *args,
        ]
    )
    return p.returncode, json.loads(out.read_text()) if out.exists() else {}, p.stderr


def test_paired_catches_a_50pct_slowdown_of_a_2ns_runparallel_operation(shapes: Path, tmp_path: Path) -> None:
    _commit_edit(shapes, "const MixRounds = 2", "const MixRounds = 3", "Mix: a third round")
    # on a host whose other tenants come and go, one CI run's fresh confirmation rounds of this 2 ns
    # operation did not confirm what the design found (2026-12-07): up to three comparisons, one must FAIL
    for attempt in range(3):
        (tmp_path / str(attempt)).mkdir()
        code, d, err = _paired(
            shapes, tmp_path / str(attempt), "--base", "HEAD~1", "--head", "HEAD", "--bench", "ParallelTiny$"
        )
        if code == 1:
            break
    assert code == 1, err[-2000:]
    ns = next(r for r in d["rows"] if r["unit"] == "ns/op")
    assert ns["benchmark"].startswith("BenchmarkParallelTiny") and ns["verdict"] == "regression", ns
    assert 1.2 < ns["ratio"]["center"] < 2.0, ns  # Mix takes ~1.5x as long; at a fixed b.N contention hid it
    # a time, as go test runs it: 100ms, or longer where 100ms measured apart from go test's 1s (said why)
    from benchpipe.core.units import go_duration_ns

    how = d["paired"]["run_as"]["example.com/shapes/ops BenchmarkParallelTiny"]
    assert how == "100ms (time: RunParallel)" or (
        go_duration_ns(how.split(" ", 1)[0]) in (300_000_000, 1_000_000_000)  # written 0.3s or 300ms
        and "ns/op at 100ms vs" in how
        and how.endswith(" at 1s)")
    ), how
    assert f"RunParallel results ran at -benchtime {how.split(' ', 1)[0]}" in " ".join(d["warnings"])


def test_paired_selects_results_with_go_tests_regex_levels(shapes: Path, tmp_path: Path) -> None:
    """`-bench 'BenchmarkFamily$/n=(8|16)$'` is go test's: levels split at /, alternation inside a level."""
    code, d, err = _paired(
        shapes,
        tmp_path,
        "--base",
        "HEAD",
        "--bench",
        "BenchmarkFamily$/n=(8|16)$",
        "--rounds",
        "6",
        "--benchtime",
        "20ms",
        "--no-confirm",
    )
    assert code == exit_for(d["verdict"]), err[-2000:]
    assert sorted(d["paired"]["iterations"]) == [
        "example.com/shapes/ops BenchmarkFamily/n=16",
        "example.com/shapes/ops BenchmarkFamily/n=8",
    ], d["paired"]
    assert {r["benchmark"].rsplit("-", 1)[0] for r in d["rows"]} == {
        "BenchmarkFamily/n=8",
        "BenchmarkFamily/n=16",
    }


def test_profiling_a_flagged_subbenchmark_runs_only_it_in_its_package(shapes: Path, tmp_path: Path) -> None:
    """BenchmarkFamily/n=96 regresses (24 results in ops; another package has a BenchmarkFamily too): the
    profile stage runs that one result, in ops, at a b.N computed for it, with no trace unless asked."""
    params = quick_params(
        tmp_path, shapes, packages=["./..."], bench="^BenchmarkFamily$", count=5, benchtime="20ms"
    )
    work = tmp_path / "w"
    work.mkdir()
    bench_stage(work, params, "base")
    (work / "baselines").mkdir()
    shutil.copy(work / "base.txt", work / "baselines" / "main.txt")
    shutil.copy(work / "base.json", work / "baselines" / "main.meta.json")
    ops = shapes / "ops" / "ops.go"
    ops.write_text(ops.read_text().replace("const SlowSum = 0", "const SlowSum = 96"))
    bench_stage(work, params, "cur")
    p = run(
        [
            "benchpipe",
            "compare",
            "--params",
            str(params),
            "--current",
            "cur.txt",
            "--current-meta",
            "cur.json",
            "--no-confirm",
            "--out",
            "compare.json",
        ],
        cwd=work,
    )
    assert p.returncode == 0, p.stderr
    cmp = json.loads((work / "compare.json").read_text())
    regressed = {(r["package"], r["benchmark"]) for r in cmp["rows"] if r["verdict"] == "regression"}
    assert ("example.com/shapes/ops", "BenchmarkFamily/n=96-2") in regressed or (
        "example.com/shapes/ops",
        "BenchmarkFamily/n=96",
    ) in regressed, regressed
    p = run(
        [
            "benchpipe",
            "profile",
            "--params",
            str(params),
            "--compare",
            "compare.json",
            "--bench-meta",
            "cur.json",
            "--out",
            "profile",
        ],
        cwd=work,
    )
    assert p.returncode == 0, p.stderr
    doc = json.loads((work / "profile" / "profile.json").read_text())
    profiled = [(b["package"], b["benchmark"]) for b in doc["benchmarks"]]
    assert profiled == sorted(
        {
            (pkg, name.rsplit("-", 1)[0] if name.rsplit("-", 1)[-1].isdigit() else name)
            for pkg, name in regressed
        }
    ), (profiled, doc["notes"])
    # the flagged result is profiled in ops; the other package's same-named benchmark only if it was flagged
    # itself (a noisy --no-confirm row at 20ms), which the equality above holds
    entry = next(
        b
        for b in doc["benchmarks"]
        if b["benchmark"] == "BenchmarkFamily/n=96" and b["package"] == "example.com/shapes/ops"
    )
    ran = (work / "profile" / entry["dir"] / "bench.txt").read_text()
    results = [ln.split()[0] for ln in ran.splitlines() if ln.startswith("Benchmark")]
    assert results and all(r.startswith("BenchmarkFamily/n=96") for r in results), ran
    assert entry["trace"] is False and not (work / "profile" / entry["dir"] / "trace.out").exists()
    assert "ns/op" in entry["cpu_benchtime_why"] and entry["cpu"]["samples"] > 100, entry["cpu_benchtime_why"]


def test_a_runparallel_the_source_does_not_show_is_caught_by_its_first_round(tmp_path: Path) -> None:
    """A benchmark whose RunParallel is in another package (the source scan reads the benchmark's own
    package): at its fixed b.N, Go sizes RunParallel's grain from the b.N=1 probe and a 2 ns operation
    measures several times go test's ns/op. The first round's head run is the check that moves it to a time
    benchtime (there is no check run of its own), and that first round runs again at the time: every round
    of the comparison measures what go test measures."""
    src = tmp_path / "src"
    shutil.copytree(SHAPES, src)
    (src / "ext").mkdir()
    (src / "ext" / "ext.go").write_text(
        "// Package ext runs a benchmark's body under b.RunParallel, outside the benchmark's package.\n"
        'package ext\n\nimport (\n\t"sync/atomic"\n\t"testing"\n)\n\nvar Sink atomic.Uint64\n\n'
        "func Par(b *testing.B, step func(uint64) uint64) {\n\tb.RunParallel(func(pb *testing.PB) {\n"
        "\t\tvar s uint64\n\t\tfor pb.Next() {\n\t\t\ts = step(s + 1)\n\t\t}\n\t\tSink.Add(s)\n\t})\n}\n"
    )
    (src / "ops" / "far_test.go").write_text(
        'package ops\n\nimport (\n\t"testing"\n\n\t"example.com/shapes/ext"\n)\n\n'
        "func BenchmarkParallelFar(b *testing.B) { ext.Par(b, Mix) }\n"
    )
    repo = committed_copy(src, tmp_path / "far", "far")
    # the check sees the grain's contention only when both cores are free for the test's goroutines: on a
    # host whose other tenants keep a core busy, one check measured it within 1.5x (CI, 2026-12-07), so
    # the comparison runs up to three times and one of them must have moved it
    for attempt in range(3):
        (tmp_path / str(attempt)).mkdir()
        code, d, err = _paired(
            repo,
            tmp_path / str(attempt),
            "--base",
            "HEAD",
            "--head",
            "HEAD",
            "--all",
            "--bench",
            "ParallelFar$",
        )
        assert code in (0, 1), err[-2000:]
        how = d["paired"]["run_as"]["example.com/shapes/ops BenchmarkParallelFar"]
        if how.startswith("100ms (time: "):
            break
    assert how.startswith("100ms (time: ") and "at a time benchtime" in how, how
    assert "BenchmarkParallelFar-" in err and "runs at -benchtime 100ms" in err, err[-2000:]
    ns = next(r for r in d["rows"] if r["unit"] == "ns/op")
    assert ns["old"]["n"] == ns["new"]["n"] >= 6, ns  # the first round is one of them, at the time
    p = run(
        ["go", "test", "-run", "^$", "-bench", "ParallelFar$", "-benchtime", "100ms", "-count", "3", "./ops"],
        cwd=repo,
    )
    plain = sorted(
        float(line.split()[2]) for line in p.stdout.splitlines() if line.startswith("BenchmarkParallelFar")
    )
    assert len(plain) == 3, p.stdout + p.stderr
    # at the fixed b.N it measured several times this; a noisy 2-core machine moves a median by tens of %
    # (a CI run measured 8.2 and 7.9 ns/op in the rounds, outside 0.5-2x of the median of three later plain
    # runs): against the plain runs' range
    for side in ("old", "new"):
        assert 0.5 * plain[0] < ns[side]["center"] < 2.0 * plain[-1], (ns, plain)
