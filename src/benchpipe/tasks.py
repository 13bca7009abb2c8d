"""benchpipe's invoke tasks, for any repository that holds its pipeline (``benchpipe init`` writes one).

A repository's ``tasks.py`` is three lines::

    from pathlib import Path
    from benchpipe.tasks import collection
    ns = collection(Path(__file__).parent)

Each task is a thin wrapper of the ``benchpipe`` CLI, run in that directory (where ``dvc.yaml`` and
``params.yaml`` are): ``quick`` (default), ``full``, ``compare``, ``profile``, ``baseline``, ``publish``,
``report``, ``calibrate`` and ``bisect``. The tasks that run benchmarks take ``--target DIR`` (any Go module;
default params.yaml's ``target``) and overrides for packages, bench regex, count and benchtime where they
apply (``invoke --help TASK`` lists each task's); overrides reach
the pipeline through ``BENCHPIPE_OVERRIDES``, params.yaml is never rewritten.
Exit codes: 0 pass/warn, 1 regression, 2 error, 3 nothing to compare.
"""

from __future__ import annotations

import os
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

from invoke import Collection, Context, Exit, task

# The commands run from the environment invoke runs in: its scripts directory goes first on PATH (as an
# activated venv does), so DVC's stages call this environment's benchpipe, and a version manager's shims
# (pyenv: a shell script per call, ~50 ms) are not run once per stage.
SCRIPTS = sysconfig.get_path("scripts")
RUN = Path("reports") / "run"


def root(c: Context) -> Path:
    """The directory of the repository's pipeline (where its tasks.py is)."""
    return Path(c.config.get("benchpipe", {}).get("root") or Path.cwd())


def run(c: Context, argv: list[str], check: bool = True) -> int:
    """A command in the pipeline's directory, with this environment's scripts first on PATH."""
    env = dict(os.environ)
    if SCRIPTS and Path(SCRIPTS, "benchpipe").exists():
        env["PATH"] = SCRIPTS + os.pathsep + env.get("PATH", "")
    code = subprocess.run(argv, cwd=root(c), env=env).returncode
    if check and code != 0:
        raise Exit(code=code)
    return code


def _target(target: str | None) -> list[str]:
    return ["--target", str(Path(target).resolve())] if target else []


def _pipeline(
    c: Context,
    mode: str | None,
    target: str | None,
    packages: str | None,
    bench: str | None,
    count: int | None,
    benchtime: str | None,
    *extra: str,
) -> None:
    """``benchpipe pipeline`` with a task's options (overrides, locking, timing and exit codes live there)."""
    argv = ["benchpipe", "pipeline"]
    for flag, value in (
        ("--mode", mode),
        ("--target", target),
        ("--packages", packages),
        ("--bench", bench),
        ("--count", count),
        ("--benchtime", benchtime),
    ):
        if value:
            argv += [flag, str(value)]
    run(c, argv + list(extra))


SHARED = {
    "shard": "K/N: run only shard K of N of the benchmark set (benchpipe merge joins the shards)",
    "baseline": "compare with this baseline: a saved name, or history:BRANCH (the newest runs of BRANCH in "
    "the history store)",
    "report_only": "write the report and print the verdict, but exit 0 on a regression",
    "measure": "time (go test's ns/op, the default) or instructions (instructions/op under valgrind: exact, "
    "a 1% threshold)",
}
RUN_HELP = {
    "target": "Go module directory (default: params.yaml's target)",
    "packages": "package patterns, comma separated",
    "bench": "benchmark regex",
    "count": "runs of each benchmark",
    "benchtime": "go test -benchtime",
}


def _extra(
    shard: str | None, baseline: str | None, report_only: bool, measure: str | None = None
) -> list[str]:
    out = ["--set", f"bench.shard={shard}"] if shard else []
    out += ["--set", f"measure={measure}"] if measure else []
    out += ["--set", f"compare.baseline={baseline}"] if baseline else []
    return out + (["--report-only"] if report_only else [])


@task(default=True, help={**RUN_HELP, **SHARED})
def quick(
    c,
    target=None,
    packages=None,
    bench=None,
    count=None,
    benchtime=None,
    shard=None,
    baseline=None,
    report_only=False,
    measure=None,
):
    """Benchmark the configured packages (-benchmem, count 3) and write reports/report.md."""
    _pipeline(
        c,
        "quick",
        target,
        packages,
        bench,
        count,
        benchtime,
        "--gate",
        *_extra(shard, baseline, report_only, measure),
    )


@task(
    help={
        **RUN_HELP,
        "count": "runs of each benchmark (default 5)",
        "benchtime": "go test -benchtime (default 3s)",
        **SHARED,
    }
)
def full(
    c,
    target=None,
    packages=None,
    bench=None,
    count=None,
    benchtime=None,
    shard=None,
    baseline=None,
    report_only=False,
    measure=None,
):
    """Every package, count 5, benchtime 3s, several GOMAXPROCS values, with CPU and memory profiles."""
    _pipeline(
        c,
        "full",
        target,
        packages,
        bench,
        count,
        benchtime,
        "--gate",
        *_extra(shard, baseline, report_only, measure),
    )


@task(
    help={
        **RUN_HELP,
        "baseline": "baseline name (baselines/<name>/, pulled with DVC when missing), or "
        "history:BRANCH (the newest matching runs of BRANCH in the history store)",
        "base": "paired mode: base git revision of the target",
        "head_rev": "paired mode: head revision (default: the working tree)",
        "count": "runs of each benchmark (default 6: a U test needs >= 4)",
        "rounds": "paired mode: rounds",
        "changed_only": "paired mode: only packages that changed",
        "format": "paired mode: text|markdown|csv|json",
        "strict_env": "exit 3 when the baseline was recorded with other settings",
        "report_only": SHARED["report_only"],
        "shard": SHARED["shard"],
        "out": "paired mode: write the comparison's JSON here (and the explanations' profiles beside it)",
        "measure": SHARED["measure"] + "; default: as the baseline was measured",
    }
)
def compare(
    c,
    baseline="main",
    base=None,
    head_rev=None,
    target=None,
    packages=None,
    bench=None,
    count=6,
    benchtime=None,
    rounds=None,
    changed_only=False,
    format="text",
    strict_env=False,
    report_only=False,
    shard=None,
    out=None,
    measure=None,
):
    """Compare with a saved baseline (or, with --base, run base and head interleaved); exit 1 on FAIL."""
    if base:
        run(
            c,
            _paired_argv(
                base, head_rev, target, packages, bench, benchtime, rounds, changed_only, format, shard, out
            )
            + (["--measure", measure] if measure else []),
        )
        return
    run(c, ["benchpipe", "baseline", "pull", "--name", baseline])
    _pipeline(
        c,
        None,
        target,
        packages,
        bench,
        count,
        benchtime,
        "--set",
        f"compare.baseline={baseline}",
        "--set",
        f"bench.like_baseline={baseline}",
        "--gate",
        "--require-baseline",
        *(["--strict-env"] if strict_env else []),
        *_extra(shard, None, report_only, measure),
    )


def _paired_argv(
    base: str,
    head_rev: str | None,
    target: str | None,
    packages: str | None,
    bench: str | None,
    benchtime: str | None,
    rounds: Any,
    changed_only: bool,
    format: str,
    shard: str | None,
    out: str | None,
) -> list[str]:
    argv = ["benchpipe", "compare", *_target(target), "--base", base, "--format", format]
    for flag, value in (
        ("--head", head_rev),
        ("--rounds", rounds),
        ("--bench", bench),
        ("--benchtime", benchtime),
        ("--shard", shard),
        ("--out", out),
    ):
        argv += [flag, str(value)] if value else []
    argv += ["--packages", *packages.split(",")] if packages else []
    return argv + (["--changed-only"] if changed_only else [])


@task(
    help={
        "bench": "benchmark regex to profile",
        "target": RUN_HELP["target"],
        "packages": RUN_HELP["packages"],
        "count": "runs of each benchmark (if it must run)",
        "benchtime": "-benchtime of the profiling runs",
        "web": "open `go tool pprof -http` on the CPU profile of this benchmark",
    }
)
def profile(c, bench=None, target=None, packages=None, count=None, benchtime=None, web=None):
    """CPU and memory profiles, traces and call graphs, drawn into the report."""
    if web:
        run(
            c,
            [
                "benchpipe",
                "profile",
                "--web",
                "--out",
                str(RUN / "web-profile"),
                "--set",
                f"profile.bench={web}",
                *_target(target),
            ],
        )
        return
    extra = ["--set", f"profile.bench={bench}"] if bench else []
    extra += [
        "--set",
        "modes.quick.profile=all",
    ]  # quick mode profiles only what compare flags; this task profiles all
    extra += ["--set", "profile.trace=true"]  # execution traces only where asked (this task)
    extra += ["--set", f"profile.benchtime={benchtime}"] if benchtime else []
    _pipeline(
        c, None, target, packages, None, count, None, *extra, "--stages", "profile,report", "--stages-if-run"
    )


@task(
    help={
        "name": "baseline name (default main)",
        "reuse": "save the last run instead of running the benchmarks",
        "push": "push the baseline to the DVC remote",
        **RUN_HELP,
        "count": "runs of each benchmark (default 6: enough for a U test and 95% intervals)",
        "measure": SHARED["measure"],
    }
)
def baseline(
    c,
    name="main",
    reuse=False,
    push=True,
    target=None,
    packages=None,
    bench=None,
    count=6,
    benchtime=None,
    measure=None,
):
    """Run the benchmarks (count 6) and save the results as baselines/<name>/ (bench.txt, meta.json,
    profiles), tracked by DVC and pushed; --reuse saves the last run instead."""
    if not reuse or not (root(c) / RUN / "bench.txt").exists():
        # a baseline keeps the profiles of its run, for the differential profiles of later regressions
        _pipeline(
            c,
            "quick",
            target,
            packages,
            bench,
            count,
            benchtime,
            "--set",
            "modes.quick.profile=all",
            *(["--set", f"measure={measure}"] if measure else []),
        )
    run(c, ["benchpipe", "baseline", "save", "--name", name] + ([] if push else ["--no-push"]))


@task(
    help={
        "store": "history store: directory or URL (default BENCHPIPE_HISTORY, else params history.store)",
        "out": "where the site goes (default reports/site)",
    }
)
def publish(c, store=None, out="reports/site"):
    """The whole run history as a static site: index, change points, a page per benchmark."""
    run(c, ["benchpipe", "publish", "--out", out, *(["--store", store] if store else [])])


@task
def report(c):
    """Re-render reports/report.md from the last run."""
    run(c, ["benchpipe", "pipeline", "--stages", "report"])


@task(
    help={
        "rev": "revision to run against itself (default HEAD)",
        "target": RUN_HELP["target"],
        "rounds": "rounds",
        "bench": "benchmark regex",
        "benchtime": "-benchtime of each run",
    }
)
def calibrate(c, rev="HEAD", target=None, rounds=None, bench=None, benchtime=None):
    """A/A calibration: each benchmark's noise floor and the rounds/threshold that keep false alarms under
    1%."""
    argv = ["benchpipe", "calibrate", "--rev", rev, *_target(target)]
    for flag, value in (("--rounds", rounds), ("--bench", bench), ("--benchtime", benchtime)):
        argv += [flag, str(value)] if value else []
    run(c, argv)


@task(
    help={
        "good": "revision without the regression",
        "bad": "revision with it",
        "bench": "go test's -bench pattern of the results, e.g. '^BenchmarkEvaluate$'",
        "target": RUN_HELP["target"],
        "rounds": "rounds per step",
    }
)
def bisect(c, good, bad, bench, target=None, rounds=None):
    """Find the first commit on which the results BENCH selects regressed beyond the threshold (paired
    runs)."""
    run(
        c,
        [
            "benchpipe",
            "bisect",
            "--good",
            good,
            "--bad",
            bad,
            "--bench",
            bench,
            *_target(target),
            *(["--rounds", str(rounds)] if rounds else []),
        ],
    )


TASKS = (quick, full, compare, profile, baseline, publish, report, calibrate, bisect)


def collection(directory: Path | str) -> Collection:
    """The tasks, run in ``directory`` (the repository's pipeline)."""
    ns = Collection(*TASKS)
    ns.configure({"benchpipe": {"root": str(Path(directory).resolve())}})
    return ns
