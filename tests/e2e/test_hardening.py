"""Hostile benchmark names in the report, concurrent runs, interrupted runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from benchpipe.store.atomic import _umask

from ..conftest import ctrl_c_able, quick_params, run

# One short benchmark, no profiling: enough to drive the pipeline in the interruption tests.
ONE_BENCHMARK = {
    "modes.quick.bench": "^BenchmarkEvaluate$",
    "modes.quick.packages": ["./pkg/core"],
    "modes.quick.benchtime": "30ms",
    "profile.enabled": False,
}

HOSTILE = r"""package core

import "testing"

func BenchmarkHostile(b *testing.B) {
	for _, name := range []string{"pipe|cell", "tick`code`", "<script>alert(1)</script>", "**bold**_x_",
		"[link](http://x)", "ünïcødé-名前", "line\nbreak", "#heading",
		"long-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" +
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
			}
		})
	}
}
"""


def test_hostile_names_cannot_break_the_report(tmp_path: Path, example: Path) -> None:
    (example / "pkg" / "core" / "hostile_test.go").write_text(HOSTILE)
    params = quick_params(
        tmp_path, example, bench="Hostile", count=1, benchtime="100x", packages=["./pkg/core"]
    )
    assert params.read_text()
    out = tmp_path / "r"
    steps = [
        [
            "benchpipe",
            "bench",
            "--params",
            str(params),
            "--out",
            str(out / "bench.txt"),
            "--meta",
            str(out / "bench.json"),
        ],
        ["benchpipe", "parse", str(out / "bench.txt"), "--out", str(out / "samples.parquet")],
        [
            "benchpipe",
            "compare",
            "--params",
            str(params),
            "--current",
            str(out / "bench.txt"),
            "--out",
            str(out / "compare.json"),
        ],
        [
            "benchpipe",
            "report",
            "--params",
            str(params),
            "--meta",
            str(out / "bench.json"),
            "--raw",
            str(out / "bench.txt"),
            "--samples",
            str(out / "samples.parquet"),
            "--compare",
            str(out / "compare.json"),
            "--profile",
            str(out / "noprofile"),
            "--out",
            str(tmp_path / "report.md"),
            "--metrics",
            str(tmp_path / "metrics.json"),
            "--history",
            str(tmp_path / "history"),
        ],
    ]
    for cmd in steps:
        p = run(cmd, cwd=tmp_path)
        assert p.returncode == 0, (cmd, p.stderr)
    report = (tmp_path / "report.md").read_text()
    prose = re.sub(r"(?ms)^(`{3,}).*?^\1", "", report)  # raw Go output stays verbatim inside code fences
    assert "<script>" not in prose and "\\<script\\>" in prose
    quick = report.split("### Quick Metrics", 1)[1].split("###", 1)[0]
    rows = [ln for ln in quick.splitlines() if ln.startswith("| BenchmarkHostile")]
    assert len(rows) == 9
    for ln in rows:  # every row keeps exactly four cells: no '|' leaks out of a name
        cells = re.split(r"(?<!\\)\|", ln.strip())[1:-1]
        assert len(cells) == 4, ln
    assert "ünïcødé-名前" in report


@pytest.mark.slow
def test_two_pipelines_at_once_one_waits(repo: Path) -> None:
    env = {
        **os.environ,
        "BENCHPIPE_OVERRIDES": json.dumps(
            {
                "modes.quick.bench": "^BenchmarkEvaluate$",
                "modes.quick.packages": ["./pkg/core"],
                "modes.quick.benchtime": "50ms",
                "profile.enabled": False,
            }
        ),
    }
    procs = [
        subprocess.Popen(
            ["invoke", "quick"], cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert any("another benchpipe run is using this checkout; waiting" in err for _, err in outs)
    rows = json.loads(run(["benchpipe", "history", "--format", "json", "--unit", "ns/op"], cwd=repo).stdout)
    assert len({r["run_id"] for r in rows}) == 2


def _running_benchmark(argv: list[str], repo: Path, fast: dict) -> subprocess.Popen[str]:
    """``argv`` started in its own session at 2s x 5 (10 s of benchmark), returned once a benchmark runs
    inside ``go test``; Ctrl-C reaches it as a terminal's would."""
    slow = {**fast, "modes.quick.benchtime": "2s", "modes.quick.count": 5}
    proc = subprocess.Popen(
        argv,
        cwd=repo,
        env={**os.environ, "BENCHPIPE_OVERRIDES": json.dumps(slow)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=ctrl_c_able,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        if re.match(r"bench: \S+ Benchmark", line):
            break
        assert time.monotonic() < deadline, "the benchmark never started"
    else:
        raise AssertionError("the benchmark never started")
    assert proc.poll() is None
    return proc


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_bench_keeps_baseline_and_history(repo: Path, sig: signal.Signals) -> None:
    fast = ONE_BENCHMARK
    env = {"BENCHPIPE_OVERRIDES": json.dumps(fast)}
    assert run(["dvc", "repro"], cwd=repo, env=env).returncode == 0
    assert run(["benchpipe", "baseline", "save", "--name", "main"], cwd=repo).returncode == 0
    before = (repo / "baselines" / "main" / "bench.txt").read_bytes()
    lock_before = (repo / "dvc.lock").read_text()
    hist_before = sorted(p.name for p in (repo / "reports" / "history").rglob("*.parquet"))
    proc = _running_benchmark(["dvc", "repro"], repo, fast)
    os.killpg(proc.pid, sig)
    proc.wait(timeout=60)
    assert (repo / "baselines" / "main" / "bench.txt").read_bytes() == before
    assert (repo / "dvc.lock").read_text() == lock_before
    assert sorted(p.name for p in (repo / "reports" / "history").rglob("*.parquet")) == hist_before
    # no Go process left behind, and the next run succeeds
    deadline = time.monotonic() + 10
    while True:  # a killed process may take a moment to be reaped
        left = subprocess.run(
            ["pgrep", "-f", "benchpipe-bin-.*pkg1.test -test"], capture_output=True, text=True
        ).stdout.strip()
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not left
    p = run(["dvc", "repro"], cwd=repo, env=env)
    assert p.returncode == 0, p.stdout + p.stderr


def _session(sid: int) -> list[str]:
    """The processes left in session ``sid`` (pid and command line), after up to 10 s for them to end."""
    deadline = time.monotonic() + 10
    while True:
        left = subprocess.run(["ps", "-s", str(sid), "-o", "pid=,args="], capture_output=True, text=True)
        rows = [ln.strip() for ln in left.stdout.splitlines() if ln.strip()]
        if not rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_pipeline_stops_every_stage_it_forked(repo: Path, how: str) -> None:
    """``invoke quick``'s pipeline (stages forked from its fork server, bench started before DVC) interrupted
    while a benchmark runs: Ctrl-C in a terminal (the whole process group), or SIGTERM to the pipeline's
    process alone (a CI runner cancelling a job). It ends promptly and leaves no process (server, stage,
    test binary), dvc.lock and the history as they were, and the next run works."""
    env = {"BENCHPIPE_OVERRIDES": json.dumps(ONE_BENCHMARK)}
    assert run(["benchpipe", "pipeline"], cwd=repo, env=env).returncode == 0
    lock_before = (repo / "dvc.lock").read_text()
    hist_before = sorted(p.name for p in (repo / "reports" / "history").rglob("*.parquet"))
    proc = _running_benchmark(["benchpipe", "pipeline"], repo, ONE_BENCHMARK)
    t0 = time.monotonic()
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode != 0 and time.monotonic() - t0 < 8, (proc.returncode, rest)  # not the 10 s run
    assert _session(proc.pid) == []
    assert (repo / "dvc.lock").read_text() == lock_before
    assert sorted(p.name for p in (repo / "reports" / "history").rglob("*.parquet")) == hist_before
    p = run(["benchpipe", "pipeline"], cwd=repo, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "bench before DVC started" in p.stdout, p.stdout


@pytest.mark.slow
def test_killed_while_saving_a_baseline_or_writing_the_report(repo: Path) -> None:
    fast = ONE_BENCHMARK
    env = {"BENCHPIPE_OVERRIDES": json.dumps(fast)}
    assert run(["dvc", "repro"], cwd=repo, env=env).returncode == 0
    assert run(["benchpipe", "baseline", "save", "--name", "main"], cwd=repo).returncode == 0
    base = repo / "baselines" / "main"

    def unit() -> tuple[bytes, bytes, bool]:
        return (
            (base / "bench.txt").read_bytes(),
            (base / "meta.json").read_bytes(),
            (base / "profile").is_dir(),
        )

    saved = unit()
    assert run(["dvc", "repro"], cwd=repo, env=env).returncode == 0  # a second run: the new baseline differs
    run_dir = repo / "reports" / "run"
    new = (
        (run_dir / "bench.txt").read_bytes(),
        (run_dir / "bench.json").read_bytes(),
        any((run_dir / "profile").glob("*/*/cpu.prof")),
    )  # this run profiled nothing unless compare flagged it
    assert new[:2] != saved[:2]
    # killed at each step of the save (a crash point in the code, then SIGKILL at random moments):
    # the baseline is the old one whole, or the new one whole — its results, metadata and profiles together
    for step in ("staged", "switched", "installed"):
        p = run(
            ["benchpipe", "baseline", "save", "--name", "main", "--no-push"],
            cwd=repo,
            env={"BENCHPIPE_CRASH_AT": step},
        )
        assert p.returncode == 137, (step, p.stderr)
        assert unit() == (saved if step == "staged" else new), step
        if step != "installed":  # put the old one back for the next step
            shutil.rmtree(base)
            run(["dvc", "checkout", "-q", "baselines/main.dvc"], cwd=repo)
            assert unit() == saved, step
    # without renameat2 (macOS; forced here with BENCHPIPE_PORTABLE): two renames; a save killed between
    # them leaves the old baseline aside, and the next save puts it back whole before it starts
    portable = {"BENCHPIPE_PORTABLE": "1"}
    p = run(
        ["benchpipe", "baseline", "save", "--name", "main", "--no-push"],
        cwd=repo,
        env={**portable, "BENCHPIPE_CRASH_AT": "aside"},
    )
    assert p.returncode == 137 and not base.exists() and (repo / "baselines" / ".main.old").is_dir()
    p = run(
        ["benchpipe", "baseline", "save", "--name", "main", "--no-push"],
        cwd=repo,
        env={**portable, "BENCHPIPE_CRASH_AT": "staged"},
    )
    assert p.returncode == 137 and unit() == new
    assert (
        run(
            ["benchpipe", "baseline", "save", "--name", "main", "--no-push"], cwd=repo, env=portable
        ).returncode
        == 0
    )
    assert unit() == new and not list((repo / "baselines").glob(".main.*"))
    for delay in (0.05, 0.3, 0.8, 1.5):
        proc = subprocess.Popen(
            ["benchpipe", "baseline", "save", "--name", "main"],
            cwd=repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert unit() in (saved, new)  # old or new, never half
    assert run(["benchpipe", "baseline", "save", "--name", "main", "--no-push"], cwd=repo).returncode == 0
    assert not list((repo / "baselines").glob(".main.*")), "a killed save's leftovers are removed by the next"
    assert oct((base / "bench.txt").stat().st_mode & 0o777) == oct(0o666 & ~_umask()), "files keep the umask"
    # the report stage killed mid-way: the history keeps only whole files, queries still work
    for delay in (0.3, 0.8):
        proc = subprocess.Popen(
            ["benchpipe", "report"],
            cwd=repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        h = run(["benchpipe", "history", "--format", "json"], cwd=repo)
        assert h.returncode == 0 and json.loads(h.stdout)
    assert run(["benchpipe", "baseline", "save", "--name", "main"], cwd=repo).returncode == 0
    assert run(["benchpipe", "baseline", "pull", "--name", "main"], cwd=repo).returncode == 0
    p = run(["dvc", "repro"], cwd=repo, env=env)
    assert p.returncode == 0, p.stdout + p.stderr


def test_a_missing_or_corrupt_samples_file_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    from ..conftest import DATA, ROOT

    (tmp_path / "bad.parquet").write_text("not parquet\n")
    (tmp_path / "meta.json").write_text("{}")
    for name, want in (("nope.parquet", "no samples file"), ("bad.parquet", "not a readable samples file")):
        p = run(
            [
                "benchpipe",
                "compare",
                "--params",
                str(ROOT / "params.yaml"),
                "--current",
                str(DATA / "example_fast.txt"),
                "--current-meta",
                str(tmp_path / "meta.json"),
                "--samples",
                str(tmp_path / name),
                "--out",
                str(tmp_path / "c.json"),
            ],
            cwd=tmp_path,
        )
        assert p.returncode == 2, p.stderr
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and want in lines[0] and name in lines[0], p.stderr
        assert not (tmp_path / "c.json").exists()
