"""invoke tasks: thin wrappers that run the DVC pipeline and the benchpipe CLI.

Every task takes --target DIR (any Go module; default the bundled example) and
overrides for packages, bench regex, count and benchtime. Overrides reach the
pipeline through BENCHPIPE_OVERRIDES; params.yaml is never rewritten.
Exit codes: 0 pass/warn, 1 regression, 2 error, 3 nothing to compare.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from invoke import Exit, task

ROOT = Path(__file__).resolve().parent
RUN = ROOT / "reports" / "run"
EXAMPLE = ROOT / "examples" / "policyengine"
# The commands run from the environment invoke runs in: its scripts directory goes first on PATH (as an
# activated venv does), so DVC's stages call this environment's benchpipe, and a version manager's shims
# (pyenv: a shell script per call, ~50 ms) are not run once per stage.
SCRIPTS = sysconfig.get_path("scripts")


def _run(argv: list[str], check: bool = True) -> int:
    env = dict(os.environ)
    if SCRIPTS and Path(SCRIPTS, "benchpipe").exists():
        env["PATH"] = SCRIPTS + os.pathsep + env.get("PATH", "")
    code = subprocess.run(argv, cwd=ROOT, env=env).returncode
    if check and code != 0:
        raise Exit(code=code)
    return code


def _pipeline(mode: str | None, target: str | None, packages: str | None, bench: str | None, count: int | None,
              benchtime: str | None, *extra: str) -> None:
    """``benchpipe pipeline`` with a task's options (overrides, locking, timing and exit codes live there)."""
    argv = ["benchpipe", "pipeline"]
    for flag, value in (("--mode", mode), ("--target", target), ("--packages", packages), ("--bench", bench),
                        ("--count", count), ("--benchtime", benchtime)):
        if value:
            argv += [flag, str(value)]
    _run(argv + list(extra))


SHARED = {"shard": "K/N: run only shard K of N of the benchmark set (benchpipe merge joins the shards)",
          "baseline": "compare with this baseline: a saved name, or history:BRANCH (the newest runs of BRANCH in "
                      "the history store)",
          "report_only": "write the report and print the verdict, but exit 0 on a regression"}


def _extra(shard: str | None, baseline: str | None, report_only: bool) -> list[str]:
    out = ["--set", f"bench.shard={shard}"] if shard else []
    out += ["--set", f"compare.baseline={baseline}"] if baseline else []
    return out + (["--report-only"] if report_only else [])


@task(default=True, help={"target": "Go module directory (default: examples/policyengine)",
                          "packages": "package patterns, comma separated", "bench": "benchmark regex",
                          "count": "runs of each benchmark", "benchtime": "go test -benchtime", **SHARED})
def quick(c, target=None, packages=None, bench=None, count=None, benchtime=None, shard=None, baseline=None,
          report_only=False):
    """Benchmark the configured packages (-benchmem, count 3) and write reports/report.md."""
    _pipeline("quick", target, packages, bench, count, benchtime, "--gate", *_extra(shard, baseline, report_only))


@task(help={"target": "Go module directory", "packages": "package patterns", "bench": "benchmark regex",
            "count": "runs of each benchmark (default 5)", "benchtime": "go test -benchtime (default 3s)", **SHARED})
def full(c, target=None, packages=None, bench=None, count=None, benchtime=None, shard=None, baseline=None,
         report_only=False):
    """Every package, count 5, benchtime 3s, several GOMAXPROCS values, with CPU and memory profiles."""
    _pipeline("full", target, packages, bench, count, benchtime, "--gate", *_extra(shard, baseline, report_only))


@task(help={"baseline": "baseline name (baselines/<name>/, pulled with DVC when missing), or history:BRANCH "
                        "(the newest matching runs of BRANCH in the history store)",
            "base": "paired mode: base git revision of the target", "head_rev": "paired mode: head revision "
            "(default: the working tree)", "target": "Go module directory", "packages": "package patterns",
            "bench": "benchmark regex", "count": "runs of each benchmark (default 6: a U test needs >= 4)",
            "benchtime": "go test -benchtime", "rounds": "paired mode: rounds", "changed_only": "paired mode: only packages that changed",
            "format": "paired mode: text|markdown|csv|json",
            "strict_env": "exit 3 when the baseline was recorded with other settings",
            "report_only": "write the report and print the verdict, but exit 0 on a regression",
            "shard": SHARED["shard"], "out": "paired mode: write the comparison's JSON here"})
def compare(c, baseline="main", base=None, head_rev=None, target=None, packages=None, bench=None, count=6,
            benchtime=None, rounds=None, changed_only=False, format="text", strict_env=False, report_only=False,
            shard=None, out=None):
    """Compare with a saved baseline (or, with --base, run base and head interleaved); exit 1 on FAIL."""
    if base:
        argv = ["benchpipe", "compare", "--target", str(Path(target or EXAMPLE).resolve()),
                "--base", base, "--format", format]
        if head_rev:
            argv += ["--head", head_rev]
        if rounds:
            argv += ["--rounds", str(rounds)]
        if bench:
            argv += ["--bench", bench]
        if packages:
            argv += ["--packages", *packages.split(",")]
        if benchtime:
            argv += ["--benchtime", benchtime]
        if changed_only:
            argv += ["--changed-only"]
        argv += (["--shard", shard] if shard else []) + (["--out", out] if out else [])
        _run(argv)
        return
    _run(["benchpipe", "baseline", "pull", "--name", baseline])
    _pipeline(None, target, packages, bench, count, benchtime, "--set", f"compare.baseline={baseline}",
              "--set", f"bench.like_baseline={baseline}", "--gate", "--require-baseline",
              *(["--strict-env"] if strict_env else []), *_extra(shard, None, report_only))


@task(help={"bench": "benchmark regex to profile", "target": "Go module directory",
            "packages": "package patterns, comma separated", "count": "runs of each benchmark (if it must run)",
            "benchtime": "-benchtime of the profiling runs",
            "web": "open `go tool pprof -http` on the CPU profile of this benchmark"})
def profile(c, bench=None, target=None, packages=None, count=None, benchtime=None, web=None):
    """CPU and memory profiles, traces and call graphs, drawn into the report."""
    if web:
        _run(["benchpipe", "profile", "--web", "--out", str(RUN / "web-profile"), "--set", f"profile.bench={web}",
              *(["--target", str(Path(target).resolve())] if target else [])])
        return
    extra = ["--set", f"profile.bench={bench}"] if bench else []
    extra += ["--set", "modes.quick.profile=all"]  # quick mode profiles only what compare flags; this task profiles all
    extra += ["--set", "profile.trace=true"]  # execution traces only where asked (this task)
    extra += ["--set", f"profile.benchtime={benchtime}"] if benchtime else []
    _pipeline(None, target, packages, None, count, None, *extra, "--stages", "profile,report", "--stages-if-run")


@task(help={"name": "baseline name (default main)", "reuse": "save the last run instead of running the benchmarks",
            "push": "push the baseline to the DVC remote", "target": "Go module directory",
            "packages": "package patterns", "bench": "benchmark regex",
            "count": "runs of each benchmark (default 6: enough for a U test and 95% intervals)",
            "benchtime": "-benchtime"})
def baseline(c, name="main", reuse=False, push=True, target=None, packages=None, bench=None, count=6,
             benchtime=None):
    """Run the benchmarks (count 6) and save the results as baselines/<name>.txt (+ metadata and profiles),
    tracked by DVC and pushed; --reuse saves the last run instead."""
    if not reuse or not (RUN / "bench.txt").exists():
        # a baseline keeps the profiles of its run, for the differential profiles of later regressions
        _pipeline("quick", target, packages, bench, count, benchtime, "--set", "modes.quick.profile=all")
    _run(["benchpipe", "baseline", "save", "--name", name] + ([] if push else ["--no-push"]))


@task(help={"store": "history store: directory or URL (default BENCHPIPE_HISTORY, else params history.store)",
            "out": "where the site goes (default reports/site)"})
def publish(c, store=None, out="reports/site"):
    """The whole run history as a static site: index, change points, a page per benchmark."""
    _run(["benchpipe", "publish", "--out", out, *(["--store", store] if store else [])])


@task
def report(c):
    """Re-render reports/report.md from the last run."""
    _run(["benchpipe", "pipeline", "--stages", "report"])


@task(help={"fast": "skip the slow end-to-end tests", "unit": "only tests/unit (no Go, no subprocess; seconds)"})
def test(c, fast=False, unit=False):
    """Run all tests (pytest): tests/unit and tests/e2e."""
    argv = [sys.executable, "-m", "pytest", "-q"] + (["-m", "not slow"] if fast else [])
    _run(argv + (["tests/unit"] if unit else []))


@task(help={"benchstat": "benchstat binary (default: build/bin/benchstat, else on PATH)"})
def speed(c, benchstat=None):
    """Benchmark benchpipe itself against references, printing times and ratios."""
    exe = benchstat or (str(ROOT / "build" / "bin" / "benchstat") if (ROOT / "build" / "bin" / "benchstat").exists()
                        else "benchstat")
    _run([sys.executable, str(ROOT / "tools" / "speed.py"), "compare", exe])
    _run([sys.executable, str(ROOT / "tools" / "speed.py"), "help"])
    _run([sys.executable, str(ROOT / "tools" / "speed.py"), "history"])
    _run([sys.executable, str(ROOT / "tools" / "speed.py"), "team"])
    _run([sys.executable, str(ROOT / "tools" / "speed.py"), "scale"])
    _run([sys.executable, str(ROOT / "tools" / "speed.py"), "quick"])
    _run([sys.executable, str(ROOT / "tools" / "speed.py"), "paired"])
    _run([sys.executable, str(ROOT / "tools" / "bench_speed.py")])


@task(help={"rev": "revision to run against itself (default HEAD)", "target": "Go module directory",
            "rounds": "rounds", "bench": "benchmark regex", "benchtime": "-benchtime of each run"})
def calibrate(c, rev="HEAD", target=None, rounds=None, bench=None, benchtime=None):
    """A/A calibration: each benchmark's noise floor and the rounds/threshold that keep false alarms under 1%."""
    argv = ["benchpipe", "calibrate", "--rev", rev, "--target", str(Path(target or EXAMPLE).resolve())]
    argv += ["--rounds", str(rounds)] if rounds else []
    argv += ["--bench", bench] if bench else []
    argv += ["--benchtime", benchtime] if benchtime else []
    _run(argv)


@task(help={"good": "revision without the regression", "bad": "revision with it", "bench": "benchmark name",
            "target": "Go module directory", "rounds": "rounds per step"})
def bisect(c, good, bad, bench, target=None, rounds=None):
    """Find the first commit on which BENCH regressed beyond the threshold (paired runs)."""
    argv = ["benchpipe", "bisect", "--good", good, "--bad", bad, "--bench", bench,
            "--target", str(Path(target or EXAMPLE).resolve())]
    argv += ["--rounds", str(rounds)] if rounds else []
    _run(argv)


@task(help={"repeats": "repetitions (default: 5; 20 for --controlled)", "rounds": "paired rounds",
            "noise": "N CPU-burning neighbour processes, on and off at random (a shared CI machine)",
            "count": "sequential -count", "benchtime": "sequential -benchtime (with --module: of every run)",
            "paired_benchtime": "-benchtime of one paired run",
            "module": "A/A through the baseline flow and paired on this Go module (a git work tree)",
            "rev": "with --module: the revision to run against itself (default HEAD)",
            "packages": "with --module: package patterns, comma separated", "bench": "with --module: benchmark regex",
            "controlled": "A/A, A/B +12..25% and A/B +5% (threshold 4%) on tests/quality, early stopping vs fixed "
                          "rounds side by side",
            "fidelity": "each mode's ns/op against plain go test, per result and shape (tests/fixtures/shapes, or "
                        "--module)",
            "explain": "slowdowns injected into fastjson and zap: is the slowed function named first, with its lines"})
def quality(c, repeats=None, rounds=16, count=None, benchtime=None, paired_benchtime=None, noise=0, module=None,
            rev="HEAD", packages=None, bench=None, controlled=False, fidelity=False, explain=False):
    """Measure false-alarm and detection rates: paired vs sequential on tests/quality (default), trust on a real
    module (--module), early stopping vs fixed rounds (--controlled), fidelity to go test (--fidelity), or
    explanations of injected slowdowns (--explain)."""
    if explain:
        _run([sys.executable, str(ROOT / "tools" / "explain_quality.py"), "--repeats", str(repeats or 5)])
        return
    if fidelity:
        where = Path(module).expanduser().resolve() if module else ROOT / "tests" / "fixtures" / "shapes"
        _run([sys.executable, str(ROOT / "tools" / "fidelity.py"), str(where), "--packages", packages or "./...",
              "--bench", bench or ".", "--count", str(count or 5), "--benchtime", benchtime or "1s",
              "--paired-benchtime", paired_benchtime or "100ms",
              "--json", str(ROOT / "reports" / "fidelity.json")])
        return
    trust = [sys.executable, str(ROOT / "tools" / "trust.py")]
    if module:
        _run([*trust, "module", str(Path(module).expanduser().resolve()), "--rev", rev, "--repeats", str(repeats or 5),
              "--benchtime", benchtime or "200x", "--packages", packages or "", "--bench", bench or "."])
        return
    if controlled:
        _run([*trust, "controlled", "--repeats", str(repeats or 20), "--benchtime", paired_benchtime or "50ms"])
        return
    _run([sys.executable, str(ROOT / "tools" / "quality.py"), str(ROOT / "tests" / "quality"), "--repeats",
          str(repeats or 5), "--rounds", str(rounds), "--count", str(count or 10), "--benchtime", benchtime or "100ms",
          "--paired-benchtime", paired_benchtime or "50ms", "--noise", str(noise)])


@task(help={"ci": "only the modules marked for CI", "only": "one module path", "mode": "quick (default) or full"})
def corpus(c, ci=False, only=None, mode="quick"):
    """Run benchpipe on the corpus of real Go modules (tests/corpus) and check every result arrived."""
    argv = [sys.executable, str(ROOT / "tests" / "corpus" / "run.py"), "--mode", mode]
    argv += ["--ci"] if ci else []
    argv += ["--only", only] if only else []
    _run(argv)


@task(help={"cases": "hypothesis examples per fuzz test (default 100,000)"})
def fuzz(c, cases=100_000):
    """Long fuzzing run of the benchfmt / go test -json reader and the pprof decoder."""
    os.environ["BENCHPIPE_FUZZ_CASES"] = str(cases)
    _run([sys.executable, "-m", "pytest", "-q", str(ROOT / "tests" / "test_fuzz.py")])
