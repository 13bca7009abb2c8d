"""The whole pipeline in a temporary git + DVC repository, as a user runs it:
invoke quick, dvc repro, baselines pushed to and pulled from a DVC remote, and
the CI gate on a real regression of the example."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import pytest
import yaml

from benchpipe.core import benchfmt
from benchpipe.render.report.fmt import fmt_median

from ..conftest import make_repo, run

# Short runs; the first run profiles every benchmark (as `invoke baseline` does), on few CPU samples.
FAST = {
    "modes.quick.benchtime": "20ms",
    "profile.benchtime": "300ms",
    "modes.quick.profile": "all",
    "profile.min_samples": 100,
}
# Rules that judge only deterministic units (allocation counts and bytes), ignoring timings.
DETERMINISTIC = [
    {"unit": "allocs/op", "assume": "exact", "threshold_pct": 1},
    *[{"unit": u, "ignore": True} for u in ("ns/op", "decisions/s", "p50-ns", "p95-ns", "p99-ns", "MB/s")],
]
SECTIONS = [
    "## Performance Benchmark Report",
    "### Summary",
    "### Quick Metrics",
    "### Detailed Results",
    "### Performance Comparison",
    "### Regression Analysis",
    "### Memory Analysis",
    "### CPU Profile",
    "### Recommendations",
    "### Performance Targets",
]


def env(overrides: dict | None = None, **extra: str) -> dict[str, str]:
    e = {"BENCHPIPE_OVERRIDES": json.dumps({**FAST, **(overrides or {})})}
    e.update(extra)
    return e


def quick_metrics(report: str) -> dict[str, list[str]]:
    block = report.split("### Quick Metrics", 1)[1].split("###", 1)[0]
    rows = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| Benchmark") and len(cells) == 4 and cells[0] != "Benchmark":
            rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.slow
def test_invoke_quick_then_dvc_repro(repo: Path) -> None:
    p = run(
        ["invoke", "quick", "--benchtime", "20ms"], cwd=repo, env={"BENCHPIPE_OVERRIDES": json.dumps(FAST)}
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "report: " in p.stdout and "verdict: no baseline" in p.stdout
    assert re.search(
        r"time: go test \d+\.\ds \(benchmarks\) \+ \d+\.\ds \(profiling\), everything else .* \d+\.\ds",
        p.stdout,
    ), p.stdout
    # the fixed cost by process: every stage DVC ran, in order, each with its own time, then DVC's
    split = re.search(
        r"fixed cost by process \(besides go test\): (.*), DVC and this process (\d+\.\d+)s", p.stdout
    )
    assert split, p.stdout
    parts = [x.rsplit(" ", 1) for x in split.group(1).split(", ")]
    assert [name for name, _ in parts] == ["bench", "parse", "compare", "profile", "record", "report"], parts
    assert all(0 < float(t.rstrip("s")) < 60 for _, t in parts) and float(split.group(2)) > 0, parts
    # each stage forked from the pipeline's fork server, the bench stage started before DVC and run as DVC
    # asked for it (cli/stagefork)
    assert "(every stage forked from this process, bench before DVC started)" in p.stdout, p.stdout
    report = (repo / "reports" / "report.md").read_text()
    for s in SECTIONS:
        assert s in report, s
    # benchmark health: the example's BenchmarkCompile parses its policy before its b.N loop without
    # b.ResetTimer (read from its source), and its B/op amortises that setup over b.N
    health = report.split("### Benchmark health", 1)[1].split("###", 1)[0]
    assert "| BenchmarkCompile | setup in the timed loop | a b.N loop at core\\_test.go:86 " in health, health
    # every Quick Metrics number is the center of the raw samples of this run under params.yaml's rules:
    # the median (for units assumed exact, allocs/op and B/op, judged exact only when every sample is one
    # value, that value is the median too; varying ones are summarised like any sampled unit), as compare uses
    parsed = benchfmt.read_files([repo / "reports" / "run" / "bench.txt"])
    table = quick_metrics(report)
    assert set(table) == {r.name for r in parsed.results}
    for name, cells in table.items():
        for unit, cell in zip(("ns/op", "B/op", "allocs/op"), cells, strict=True):
            vals = [v for r in parsed.results if r.name == name for v, u in r.values if u == unit]
            center = statistics.median(vals)
            assert cell == fmt_median(center, unit), (name, unit, cell, vals)
    # memory analysis from the run itself; the first run (no baseline) profiles every benchmark
    compile_bytes = fmt_median(
        statistics.median(
            [
                v
                for r in parsed.results
                if r.base_name == "BenchmarkCompile"
                for v, u in r.values
                if u == "B/op"
            ]
        ),
        "B/op",
    )
    assert f"Allocation per op (this run): BenchmarkCompile-2 {compile_bytes} B/op" in report
    assert "example.com/policyengine/pkg/core.(*Compiled).Evaluate" in report  # CPU hotspot table
    # every CPU table states the samples it rests on (decoded from the profile itself)
    from benchpipe.core import pprof

    prof = json.loads((repo / "reports" / "run" / "profile" / "profile.json").read_text())
    assert prof["benchmarks"]
    for b in prof["benchmarks"]:
        cp = pprof.load(repo / "reports" / "run" / "profile" / b["dir"] / "cpu.prof")
        n = sum(smp.values[cp.index_of("samples")] for smp in cp.samples)
        assert f"_{n:,} CPU samples" in report, (b["benchmark"], n)
    # the benchmark's own per-call timer is measurement overhead, not the place to optimise
    rec = report.split("### Recommendations", 1)[1]
    assert "Measurement overhead" in rec and "in BenchmarkEvaluate:" in rec
    assert "`time.runtimeNow` takes" not in rec and "in your code" in rec
    assert (repo / "reports" / "graphs").is_dir()
    svgs = list((repo / "reports" / "graphs").glob("*.svg"))
    assert svgs and svgs[0].read_text().lstrip().startswith("<?xml")
    assert all(f"(graphs/{s.name})" in report for s in svgs), [
        s.name for s in svgs
    ]  # every drawing is linked
    metrics = json.loads((repo / "reports" / "metrics.json").read_text())
    assert metrics["benchmarks"]
    lock = (repo / "dvc.lock").read_text()
    for stage in ("bench", "parse", "compare", "profile", "report"):
        assert f"  {stage}:" in lock
    meta1 = json.loads((repo / "reports" / "run" / "bench.json").read_text())

    # dvc repro alone, same params: the benchmark runs again, never restored from the run cache
    q = run(["dvc", "repro"], cwd=repo, env=env())
    assert q.returncode == 0, q.stdout + q.stderr
    assert "Running stage 'bench'" in q.stdout and "checking out outputs" not in q.stdout
    meta2 = json.loads((repo / "reports" / "run" / "bench.json").read_text())
    assert meta2["start_time"] >= meta1["start_time"] and meta2 != meta1
    dag = run(["dvc", "dag", "--md"], cwd=repo)
    assert dag.returncode == 0
    ids = dict(re.findall(r'(node\d+)\["?(\w+)"?\]', dag.stdout))
    edges = {(ids[a], ids[b]) for a, b in re.findall(r"(node\d+)-->(node\d+)", dag.stdout)}
    for edge in [("bench", "parse"), ("parse", "compare"), ("compare", "profile"), ("profile", "report")]:
        assert edge in edges, dag.stdout


@pytest.mark.slow
def test_baseline_compare_gate_and_remote(repo: Path, tmp_path: Path) -> None:
    # The slowdown here is switched on by an environment variable, not by code: re-running the baseline's
    # commit interleaved (compare.confirm) would rightly call it the environment's. Judge sequentially.
    judged = {
        "compare.threshold_pct": 50,
        "modes.quick.count": 5,
        "compare.confirm": False,
        "compare.rules": [
            {"unit": "allocs/op", "assume": "exact", "threshold_pct": 1},
            {"unit": "p50-ns", "ignore": True},
            {"unit": "p95-ns", "ignore": True},
            {"unit": "p99-ns", "ignore": True},
        ],
    }
    assert run(["dvc", "repro"], cwd=repo, env=env(judged)).returncode == 0
    s = run(["benchpipe", "baseline", "save", "--name", "main"], cwd=repo)
    assert s.returncode == 0, s.stderr
    assert "pushed to the DVC remote" in s.stderr
    assert (repo / "baselines" / "main" / "bench.txt").exists() and (repo / "baselines" / "main.dvc").exists()
    assert (repo / "baselines" / "main" / "meta.json").exists() and (
        repo / "baselines" / "main" / "profile"
    ).is_dir()
    assert any((tmp_path / "repo-remote").rglob("*")), "baseline pushed to the remote"

    # regression switch on: FAIL, exit 1, the report names the regressed benchmarks
    p = run(["dvc", "repro"], cwd=repo, env=env(judged, POLICYENGINE_SLOW="1"))
    assert p.returncode == 0, p.stdout + p.stderr
    g = run(["benchpipe", "gate"], cwd=repo)
    assert g.returncode == 1, g.stdout
    # the verdict line `benchpipe compare` prints (names as benchstat's), whatever else a loaded machine flags
    verdict = next(ln for ln in g.stdout.splitlines() if ln.startswith("verdict: FAIL"))
    assert any(item.startswith("Evaluate-") for item in verdict.split(": regressed ", 1)[1].split("; ")), (
        verdict
    )
    report = (repo / "reports" / "report.md").read_text()
    analysis = report.split("### Regression Analysis", 1)[1].split("###", 1)[0]
    assert "Status: FAIL" in analysis and "BenchmarkEvaluate-" in analysis
    cmp = json.loads((repo / "reports" / "run" / "compare.json").read_text())
    ns = [r for r in cmp["rows"] if r["benchmark"].startswith("BenchmarkEvaluate-") and r["unit"] == "ns/op"]
    assert ns and ns[0]["verdict"] == "regression" and ns[0]["delta_pct"] > 50
    # the differential profile puts the function doing the extra work at the top
    prof = json.loads((repo / "reports" / "run" / "profile" / "profile.json").read_text())
    ev = next(b for b in prof["benchmarks"] if b["benchmark"] == "BenchmarkEvaluate")
    assert ev["diff"]["rows"][0]["function"] == "example.com/policyengine/pkg/core.auditDecision"
    assert (
        "### Differential Profile" in report
        and "**`example.com/policyengine/pkg/core.auditDecision`**" in report
    )
    # switch off: PASS or WARN, exit 0. Sequential timings on a shared machine can drift past any
    # threshold (that is what paired mode is for), so this gate judges the deterministic units only.
    p = run(
        ["dvc", "repro"],
        cwd=repo,
        env=env({**judged, "compare.rules": DETERMINISTIC, "modes.quick.profile": "flagged"}),
    )
    assert p.returncode == 0
    g = run(["benchpipe", "gate"], cwd=repo)
    assert g.returncode == 0, g.stdout + (repo / "reports" / "run" / "compare.json").read_text()[:3000]
    # quick mode against a baseline profiles only what compare flagged: here nothing
    prof = json.loads((repo / "reports" / "run" / "profile" / "profile.json").read_text())
    assert prof["benchmarks"] == [] and any(
        "profiles only the benchmarks compare flags" in n for n in prof["notes"]
    )
    assert "Allocation per op (this run): BenchmarkCompile-2" in (repo / "reports" / "report.md").read_text()

    # a fresh clone pulls the baseline from the remote
    for cmd in (["git", "add", "-A"], ["git", "commit", "-qm", "baseline"]):
        assert (
            run(
                cmd,
                cwd=repo,
                env={
                    "GIT_AUTHOR_NAME": "t",
                    "GIT_AUTHOR_EMAIL": "t@t",
                    "GIT_COMMITTER_NAME": "t",
                    "GIT_COMMITTER_EMAIL": "t@t",
                },
            ).returncode
            == 0
        )
    clone = tmp_path / "clone"
    assert run(["git", "clone", "-q", str(repo), str(clone)]).returncode == 0
    assert not (clone / "baselines" / "main" / "bench.txt").exists()
    pull = run(["benchpipe", "baseline", "pull", "--name", "main"], cwd=clone)
    assert pull.returncode == 0, pull.stderr
    assert (clone / "baselines" / "main" / "bench.txt").read_text() == (
        repo / "baselines" / "main" / "bench.txt"
    ).read_text()
    missing = run(["benchpipe", "baseline", "pull", "--name", "nope"], cwd=clone)
    assert missing.returncode == 3 and "not found" in missing.stderr


@pytest.mark.slow
def test_history_across_runs_finds_where_the_switch_was_turned_on(repo: Path) -> None:
    o = {
        "modes.quick.bench": "^BenchmarkEvaluate$",
        "modes.quick.packages": ["./pkg/core"],
        "modes.quick.count": 3,
        "modes.quick.benchtime": "30ms",
        "profile.enabled": False,
    }
    run_ids = []
    for i in range(10):  # 5 runs off, then 5 on: enough for a permutation test at p <= 0.01
        p = run(["dvc", "repro"], cwd=repo, env=env(o, POLICYENGINE_SLOW="1" if i >= 5 else "0"))
        assert p.returncode == 0, p.stdout + p.stderr
        rows = json.loads(
            run(["benchpipe", "history", "--format", "json", "--unit", "ns/op"], cwd=repo).stdout
        )
        run_ids.append(rows[-1]["run_id"])
    rows = json.loads(
        run(
            [
                "benchpipe",
                "history",
                "--format",
                "json",
                "--benchmark",
                "^BenchmarkEvaluate$",
                "--unit",
                "ns/op",
            ],
            cwd=repo,
        ).stdout
    )
    assert [r["run_id"] for r in rows] == run_ids
    assert set(rows[0]) >= {"run_id", "time", "commit", "benchmark", "unit", "center", "lo", "hi", "n"}
    text = run(
        ["benchpipe", "history", "--benchmark", "^BenchmarkEvaluate$", "--unit", "ns/op", "--changes"],
        cwd=repo,
    ).stdout
    assert f"from run {run_ids[5]}" in text, text
    report = (repo / "reports" / "report.md").read_text()
    trends = report.split("### Trends", 1)[1].split("###", 1)[0]
    assert "graphs/trend-BenchmarkEvaluate-" in trends and f"from run `{run_ids[5]}`" in trends
    assert run(["benchpipe", "history", "export"], cwd=repo).returncode == 0  # dvc plots' file, exported
    csv = (repo / "reports" / "history.csv").read_text().splitlines()
    assert csv[0] == "run,time,commit,benchmark,value" and len(csv) == 11
    assert [int(line.split(",")[0]) for line in csv[1:]] == list(range(10))


def test_dvc_plots_draw_every_benchmark(repo: Path, tmp_path: Path) -> None:
    o = {
        "modes.quick.bench": "^BenchmarkEvaluate(Complex)?$",
        "modes.quick.packages": ["./pkg/core"],
        "modes.quick.count": 1,
        "modes.quick.benchtime": "20ms",
        "profile.enabled": False,
    }
    for _ in range(2):
        p = run(["dvc", "repro"], cwd=repo, env=env(o))
        assert p.returncode == 0, p.stdout + p.stderr
    assert run(["benchpipe", "history", "export", "--out", "reports/history.csv"], cwd=repo).returncode == 0
    rows = [line.split(",") for line in (repo / "reports" / "history.csv").read_text().splitlines()[1:]]
    names = {r[3] for r in rows}
    assert len(rows) == 4 and len(names) == 2 and {r[0] for r in rows} == {"0", "1"}
    out = tmp_path / "plots"
    p = run(["dvc", "plots", "show", "-o", str(out)], cwd=repo)
    assert p.returncode == 0, p.stderr
    html = (out / "index.html").read_text()
    assert all(n in html for n in names), "every benchmark is a line of the plot"
    assert '"field": "benchmark"' in html or '"field":"benchmark"' in html
    spec = json.loads(run(["dvc", "plots", "show", "--json"], cwd=repo).stdout)
    assert "history.csv" in json.dumps(spec)


def test_no_run_outputs_are_tracked_by_git() -> None:
    """A fresh clone must not carry run outputs: DVC refuses outputs that git tracks."""
    from ..conftest import ROOT

    p = run(["git", "ls-files", "reports", "baselines"], cwd=ROOT)
    assert p.returncode == 0
    assert sorted(p.stdout.split()) == ["baselines/.gitkeep", "reports/.gitignore"]


def test_dvc_records_the_overrides_that_ran(repo: Path) -> None:
    p = run(
        [
            "invoke",
            "quick",
            "--bench",
            "^BenchmarkEvaluate$",
            "--packages",
            "./pkg/core",
            "--count",
            "2",
            "--benchtime",
            "20ms",
        ],
        cwd=repo,
        env={"BENCHPIPE_OVERRIDES": json.dumps({"profile.enabled": False})},
    )
    assert p.returncode == 0, p.stdout + p.stderr
    ran = yaml.safe_load((repo / "params.run.yaml").read_text())
    assert ran["modes"]["quick"]["count"] == 2 and ran["profile"]["enabled"] is False
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    assert lock["stages"]["bench"]["params"]["params.run.yaml"]["modes"]["quick"]["count"] == 2
    diff = run(["dvc", "params", "diff", "--md"], cwd=repo)
    assert diff.returncode == 0 and "modes.quick.count" in diff.stdout and "| 2 " in diff.stdout, diff.stdout
    bench = json.loads((repo / "reports" / "run" / "bench.json").read_text())
    assert bench["settings"]["count"] == 2
    # a misspelt override is one line naming the key, exit 2, and the recorded overrides stay as they were
    before = (repo / "params.run.yaml").read_text()
    bad = run(
        ["invoke", "quick"], cwd=repo, env={"BENCHPIPE_OVERRIDES": json.dumps({"compare.treshold_pct": 5})}
    )
    assert bad.returncode == 2 and "treshold_pct" in bad.stderr
    assert (repo / "params.run.yaml").read_text() == before


def test_module_at_the_repository_root(tmp_path: Path) -> None:
    """`target: .` — the module is the repository itself: no dependency cycle, the pipeline runs."""
    import shutil

    from ..conftest import EXAMPLE

    repo = make_repo(tmp_path)
    shutil.rmtree(repo / "examples")
    for item in EXAMPLE.iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy)(item, repo / item.name)
    prm = yaml.safe_load((repo / "params.yaml").read_text())
    prm["target"] = "."
    (repo / "params.yaml").write_text(yaml.safe_dump(prm))
    o = {
        "modes.quick.bench": "^BenchmarkEvaluate$",
        "modes.quick.packages": ["./pkg/core"],
        "modes.quick.count": 1,
        "modes.quick.benchtime": "20ms",
        "profile.enabled": False,
    }
    p = run(["dvc", "repro"], cwd=repo, env=env(o))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "BenchmarkEvaluate-" in (repo / "reports" / "run" / "bench.txt").read_text()
    assert run(["dvc", "dag"], cwd=repo).returncode == 0
    source = json.loads((repo / "reports" / "run" / "bench.json").read_text())["source"]
    assert len(source["sha256"]) == 64 and source["files"] >= 5  # the code that ran, as dvc.lock sees it
