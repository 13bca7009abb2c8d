"""This repository's invoke tasks: benchpipe's own (``benchpipe.tasks``: quick, full, compare, profile,
baseline, publish, report, calibrate, bisect; the same two lines any repository's tasks.py has) and the
developers' (test, speed, quality, corpus, fuzz)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from invoke import task

from benchpipe.tasks import collection, run

ROOT = Path(__file__).resolve().parent


@task(
    help={"fast": "skip the slow end-to-end tests", "unit": "only tests/unit (no Go, no subprocess; seconds)"}
)
def test(c, fast=False, unit=False):
    """Run all tests (pytest): tests/unit and tests/e2e (first installing the test tools: .ci/setup-tests)."""
    run(c, ["bash", str(ROOT / ".ci" / "setup-tests")])
    argv = [sys.executable, "-m", "pytest", "-q"] + (["-m", "not slow"] if fast else [])
    run(c, argv + (["tests/unit"] if unit else []))


@task(help={"benchstat": "benchstat binary (default: build/bin/benchstat, else on PATH)"})
def speed(c, benchstat=None):
    """Benchmark benchpipe itself against references, printing times and ratios."""
    exe = benchstat or (
        str(ROOT / "build" / "bin" / "benchstat")
        if (ROOT / "build" / "bin" / "benchstat").exists()
        else "benchstat"
    )
    run(c, [sys.executable, str(ROOT / "tools" / "speed.py"), "compare", exe])
    run(c, [sys.executable, str(ROOT / "tools" / "speed.py"), "help"])
    run(c, [sys.executable, str(ROOT / "tools" / "speed.py"), "history"])
    run(c, [sys.executable, str(ROOT / "tools" / "speed.py"), "team"])
    run(c, [sys.executable, str(ROOT / "tools" / "speed.py"), "scale"])
    run(c, [sys.executable, str(ROOT / "tools" / "speed.py"), "quick"])
    run(c, [sys.executable, str(ROOT / "tools" / "speed.py"), "paired"])
    run(c, [sys.executable, str(ROOT / "tools" / "bench_speed.py")])


@task(
    help={
        "repeats": "repetitions (default: 5; 20 for --controlled)",
        "rounds": "paired rounds",
        "noise": "N CPU-burning neighbour processes, on and off at random (a shared CI machine)",
        "count": "sequential -count",
        "benchtime": "sequential -benchtime (with --module: of every run)",
        "paired_benchtime": "-benchtime of one paired run",
        "module": "A/A through the baseline flow and paired on this Go module (a git work tree)",
        "rev": "with --module: the revision to run against itself (default HEAD)",
        "packages": "with --module: package patterns, comma separated",
        "bench": "with --module: benchmark regex",
        "controlled": "A/A, A/B +12..25% and A/B +5% (threshold 4%) on tests/quality, early stopping vs "
        "fixed rounds side by side",
        "fidelity": "each mode's ns/op against plain go test, per result and shape "
        "(tests/fixtures/shapes, or --module)",
        "explain": "slowdowns injected into fastjson and zap: is the slowed function named first, "
        "with its lines",
    }
)
def quality(
    c,
    repeats=None,
    rounds=16,
    count=None,
    benchtime=None,
    paired_benchtime=None,
    noise=0,
    module=None,
    rev="HEAD",
    packages=None,
    bench=None,
    controlled=False,
    fidelity=False,
    explain=False,
):
    """Measure false-alarm and detection rates: paired vs sequential on tests/quality (default), trust on a
    real module (--module), early stopping vs fixed rounds (--controlled), fidelity to go test (--fidelity),
    or explanations of injected slowdowns (--explain)."""
    if explain:
        run(c, [sys.executable, str(ROOT / "tools" / "explain_quality.py"), "--repeats", str(repeats or 5)])
        return
    if fidelity:
        where = Path(module).expanduser().resolve() if module else ROOT / "tests" / "fixtures" / "shapes"
        run(
            c,
            [
                sys.executable,
                str(ROOT / "tools" / "fidelity.py"),
                str(where),
                "--packages",
                packages or "./...",
                "--bench",
                bench or ".",
                "--count",
                str(count or 5),
                "--benchtime",
                benchtime or "1s",
                "--paired-benchtime",
                paired_benchtime or "100ms",
                "--json",
                str(ROOT / "reports" / "fidelity.json"),
            ],
        )
        return
    trust = [sys.executable, str(ROOT / "tools" / "trust.py")]
    if module:
        run(
            c,
            [
                *trust,
                "module",
                str(Path(module).expanduser().resolve()),
                "--rev",
                rev,
                "--repeats",
                str(repeats or 5),
                "--benchtime",
                benchtime or "200x",
                "--packages",
                packages or "",
                "--bench",
                bench or ".",
            ],
        )
        return
    if controlled:
        run(
            c,
            [
                *trust,
                "controlled",
                "--repeats",
                str(repeats or 20),
                "--benchtime",
                paired_benchtime or "50ms",
            ],
        )
        return
    run(
        c,
        [
            sys.executable,
            str(ROOT / "tools" / "quality.py"),
            str(ROOT / "tests" / "quality"),
            "--repeats",
            str(repeats or 5),
            "--rounds",
            str(rounds),
            "--count",
            str(count or 10),
            "--benchtime",
            benchtime or "100ms",
            "--paired-benchtime",
            paired_benchtime or "50ms",
            "--noise",
            str(noise),
        ],
    )


@task(
    help={
        "ci": "only the modules marked for CI",
        "only": "one module path",
        "mode": "quick (default) or full",
    }
)
def corpus(c, ci=False, only=None, mode="quick"):
    """Run benchpipe on the corpus of real Go modules (tests/corpus) and check every result arrived."""
    argv = [sys.executable, str(ROOT / "tests" / "corpus" / "run.py"), "--mode", mode]
    argv += ["--ci"] if ci else []
    argv += ["--only", only] if only else []
    run(c, argv)


@task(help={"cases": "hypothesis examples per fuzz test (default 100,000)"})
def fuzz(c, cases=100_000):
    """Long fuzzing run of the benchfmt / go test -json reader and the pprof decoder."""
    os.environ["BENCHPIPE_FUZZ_CASES"] = str(cases)
    run(c, [sys.executable, "-m", "pytest", "-q", str(ROOT / "tests" / "e2e" / "test_fuzz.py")])


ns = collection(ROOT)
for _t in (test, speed, quality, corpus, fuzz):
    ns.add_task(_t)
