"""invoke tasks: thin wrappers that run the DVC pipeline and the benchpipe CLI.

Every task takes --target DIR (any Go module; default the bundled example) and
overrides for packages, bench regex, count and benchtime. Overrides reach the
pipeline through BENCHPIPE_OVERRIDES; params.yaml is never rewritten.
Exit codes: 0 pass/warn, 1 regression, 2 error, 3 nothing to compare.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import sysconfig
import time
from contextlib import contextmanager
from pathlib import Path

from invoke import Exit, task

ROOT = Path(__file__).resolve().parent
RUN = ROOT / "reports" / "run"
EXAMPLE = ROOT / "examples" / "policyengine"
# The commands run from the environment invoke runs in: its scripts directory goes first on PATH (as an
# activated venv does), so DVC's stages call this environment's benchpipe, and a version manager's shims
# (pyenv: a shell script per call, ~50 ms) are not run once per stage.
SCRIPTS = sysconfig.get_path("scripts")


def _overrides(mode: str | None, target: str | None, packages: str | None, bench: str | None, count: int | None,
               benchtime: str | None, extra: dict | None = None) -> dict:
    o: dict = {}
    if mode:
        o["mode"] = mode
    m = mode or "quick"
    if target:
        o["target"] = str(Path(target).expanduser().resolve())
    if packages:
        o[f"modes.{m}.packages"] = packages.split(",") if "," in packages else packages.split()
    elif target and Path(o["target"]) != EXAMPLE:
        o[f"modes.{m}.packages"] = ["./..."]  # the mode's patterns are the example's: another module gets all
    if bench:
        o[f"modes.{m}.bench"] = bench
    if count:
        o[f"modes.{m}.count"] = int(count)
    if benchtime:
        o[f"modes.{m}.benchtime"] = benchtime
    o.update(extra or {})
    return o


def _run(argv: list[str], overrides: dict | None = None, check: bool = True) -> int:
    env = dict(os.environ)
    if SCRIPTS and Path(SCRIPTS, "benchpipe").exists():
        env["PATH"] = SCRIPTS + os.pathsep + env.get("PATH", "")
    if overrides:
        # The task's own settings win over overrides already in the environment (e.g. set by CI).
        merged = json.loads(env.get("BENCHPIPE_OVERRIDES") or "{}")
        merged.update(overrides)
        env["BENCHPIPE_OVERRIDES"] = json.dumps(merged)
    code = subprocess.run(argv, cwd=ROOT, env=env).returncode
    if check and code != 0:
        raise Exit(code=code)
    return code


@contextmanager
def _exclusive(timeout: float | None = None):
    """One pipeline at a time per checkout: a second run waits (with a message) or gives up clearly."""
    limit = float(timeout if timeout is not None else os.environ.get("BENCHPIPE_LOCK_TIMEOUT", "1800"))
    path = ROOT / ".dvc" / "tmp" / "benchpipe.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        t0 = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:  # noqa: PERF203 - polling on purpose
                if not told:
                    print("benchpipe: another benchpipe run is using this checkout; waiting for it to finish "
                          f"(up to {limit:.0f}s, BENCHPIPE_LOCK_TIMEOUT)", file=sys.stderr)
                    told = True
                if time.monotonic() - t0 > limit:
                    raise Exit("benchpipe: gave up waiting for the other run (BENCHPIPE_LOCK_TIMEOUT)",
                               code=2) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _pipeline(overrides: dict, stages: list[str] | None = None) -> None:
    with _exclusive():
        _pipeline_locked(overrides, stages)


def _pipeline_locked(overrides: dict, stages: list[str] | None = None) -> None:
    t0 = time.monotonic()
    if stages:
        for s in stages:
            code = _run(["dvc", "repro", "-f", "-s", s], overrides, check=False)
            if code:
                raise Exit(code=_stage_code(code))
    else:
        # Record the run's overrides where the stages declare them (dvc.lock then shows what ran); a bad
        # key or value stops here, in one line, before anything runs.
        merged = {**json.loads(os.environ.get("BENCHPIPE_OVERRIDES") or "{}"), **overrides}
        _run(["benchpipe", "settings", "--run", json.dumps(merged)])
        code = _run(["dvc", "repro"], check=False)  # the stages read the overrides from params.run.yaml
        if code:
            raise Exit(code=_stage_code(code))
    total = time.monotonic() - t0
    started = time.time() - total
    go_bench = _go_seconds(RUN / "bench.json", started)
    go_prof = _go_seconds(RUN / "profile" / "profile.json", started)
    go_confirm = _go_seconds(RUN / "compare.json", started, "confirm")
    confirm = f" + {go_confirm:.1f}s (re-running flagged rows interleaved)" if go_confirm else ""
    print(f"time: go test {go_bench:.1f}s (benchmarks) + {go_prof:.1f}s (profiling){confirm}, "
          f"everything else (DVC, parsing, statistics, report) {total - go_bench - go_prof - go_confirm:.1f}s")


def _go_seconds(path: Path, since: float, section: str = "") -> float:
    """A stage's `go test` seconds, if that stage ran in this pipeline (DVC skips unchanged stages)."""
    try:
        if path.stat().st_mtime < since:
            return 0.0
        data = json.loads(path.read_text())
        if section:
            return float((data.get(section) or {}).get("seconds", 0.0))
        return float(data.get("go_s", 0.0))
    except (OSError, ValueError):
        return 0.0


def _stage_code(dvc_code: int) -> int:
    """The exit code of the stage that failed (DVC only says that one did); the stage printed why above."""
    try:
        return int(json.loads((RUN / "last-error.json").read_text())["code"])
    except (OSError, ValueError, KeyError):
        return 2


def _finish(require_baseline: bool = False, strict_env: bool = False, report_only: bool = False) -> None:
    print(f"report: {ROOT / 'reports' / 'report.md'}")
    argv = ["benchpipe", "gate"] + ([] if require_baseline else ["--allow-missing-baseline"])
    argv += ["--strict-env"] if strict_env else []
    argv += ["--report-only"] if report_only else []
    _run(argv)


@task(default=True, help={"target": "Go module directory (default: examples/policyengine)",
                          "packages": "package patterns, comma separated", "bench": "benchmark regex",
                          "count": "runs of each benchmark", "benchtime": "go test -benchtime"})
def quick(c, target=None, packages=None, bench=None, count=None, benchtime=None):
    """Benchmark the configured packages (-benchmem, count 3) and write reports/report.md."""
    _pipeline(_overrides("quick", target, packages, bench, count, benchtime))
    _finish()


@task(help={"target": "Go module directory", "packages": "package patterns", "bench": "benchmark regex",
            "count": "runs of each benchmark (default 5)", "benchtime": "go test -benchtime (default 3s)"})
def full(c, target=None, packages=None, bench=None, count=None, benchtime=None):
    """Every package, count 5, benchtime 3s, several GOMAXPROCS values, with CPU and memory profiles."""
    _pipeline(_overrides("full", target, packages, bench, count, benchtime))
    _finish()


@task(help={"baseline": "baseline name (baselines/<name>.txt, pulled with DVC when missing)",
            "base": "paired mode: base git revision of the target", "head_rev": "paired mode: head revision "
            "(default: the working tree)", "target": "Go module directory", "packages": "package patterns",
            "bench": "benchmark regex", "count": "runs of each benchmark (default 6: a U test needs >= 4)",
            "benchtime": "go test -benchtime", "rounds": "paired mode: rounds", "changed_only": "paired mode: only packages that changed",
            "format": "paired mode: text|markdown|csv|json",
            "strict_env": "exit 3 when the baseline was recorded with other settings",
            "report_only": "write the report and print the verdict, but exit 0 on a regression"})
def compare(c, baseline="main", base=None, head_rev=None, target=None, packages=None, bench=None, count=6,
            benchtime=None, rounds=None, changed_only=False, format="text", strict_env=False, report_only=False):
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
        _run(argv)
        return
    _run(["benchpipe", "baseline", "pull", "--name", baseline])
    _pipeline(_overrides(None, target, packages, bench, count, benchtime,
                         {"compare.baseline": baseline, "bench.like_baseline": baseline}))
    _finish(require_baseline=True, strict_env=strict_env, report_only=report_only)


@task(help={"bench": "benchmark regex to profile", "target": "Go module directory",
            "packages": "package patterns, comma separated", "count": "runs of each benchmark (if it must run)",
            "benchtime": "-benchtime of the profiling runs",
            "web": "open `go tool pprof -http` on the CPU profile of this benchmark"})
def profile(c, bench=None, target=None, packages=None, count=None, benchtime=None, web=None):
    """CPU and memory profiles, traces and call graphs, drawn into the report."""
    if web:
        _web(web, target)
        return
    extra = {"profile.bench": bench} if bench else {}
    extra["modes.quick.profile"] = "all"  # quick mode profiles only what compare flags; this task profiles all
    if benchtime:
        extra["profile.benchtime"] = benchtime
    o = _overrides(None, target, packages, None, count, None, extra)
    if (RUN / "compare.json").exists() and (RUN / "samples.parquet").exists():
        _pipeline(o, ["profile", "report"])
    else:
        _pipeline(o)
    print(f"report: {ROOT / 'reports' / 'report.md'}")


def _web(bench: str, target: str | None) -> None:
    o = _overrides(None, target, None, None, None, None, {"profile.bench": bench})
    _run(["benchpipe", "profile", "--out", str(RUN / "web-profile")], o)
    profs = sorted((RUN / "web-profile").glob("*/cpu.prof"))
    if not profs:
        raise Exit(f"no profile for {bench}", code=3)
    binary = profs[0].parent / "pkg.test"
    _run(["go", "tool", "pprof", "-http=localhost:8080", str(binary), str(profs[0])])


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
        _pipeline(_overrides("quick", target, packages, bench, count, benchtime, {"modes.quick.profile": "all"}))
    _run(["benchpipe", "baseline", "save", "--name", name] + ([] if push else ["--no-push"]))


@task
def report(c):
    """Re-render reports/report.md from the last run."""
    _pipeline({}, ["report"])
    print(f"report: {ROOT / 'reports' / 'report.md'}")


@task(help={"fast": "skip the slow end-to-end tests"})
def test(c, fast=False):
    """Run all tests (pytest)."""
    argv = [sys.executable, "-m", "pytest", "-q"] + (["-m", "not slow"] if fast else [])
    _run(argv)


@task(help={"benchstat": "benchstat binary (default: build/bin/benchstat, else on PATH)"})
def speed(c, benchstat=None):
    """Benchmark benchpipe itself against references, printing times and ratios."""
    exe = benchstat or (str(ROOT / "build" / "bin" / "benchstat") if (ROOT / "build" / "bin" / "benchstat").exists()
                        else "benchstat")
    _run([sys.executable, str(ROOT / "tools" / "speed.py"), "compare", exe])
    _run([sys.executable, str(ROOT / "tools" / "speed.py"), "help"])
    _run([sys.executable, str(ROOT / "tools" / "speed.py"), "history"])
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
                          "rounds side by side"})
def quality(c, repeats=None, rounds=16, count=10, benchtime=None, paired_benchtime="50ms", noise=0, module=None,
            rev="HEAD", packages=None, bench=None, controlled=False):
    """Measure false-alarm and detection rates: paired vs sequential on tests/quality (default), trust on a real
    module (--module), or early stopping vs fixed rounds (--controlled)."""
    trust = [sys.executable, str(ROOT / "tools" / "trust.py")]
    if module:
        _run([*trust, "module", str(Path(module).expanduser().resolve()), "--rev", rev, "--repeats", str(repeats or 5),
              "--benchtime", benchtime or "200x", "--packages", packages or "", "--bench", bench or "."])
        return
    if controlled:
        _run([*trust, "controlled", "--repeats", str(repeats or 20), "--benchtime", paired_benchtime])
        return
    _run([sys.executable, str(ROOT / "tools" / "quality.py"), str(ROOT / "tests" / "quality"), "--repeats",
          str(repeats or 5), "--rounds", str(rounds), "--count", str(count), "--benchtime", benchtime or "100ms",
          "--paired-benchtime", paired_benchtime, "--noise", str(noise)])


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
