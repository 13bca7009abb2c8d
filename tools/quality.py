"""Measured quality of the verdict: false alarms and detections, paired vs sequential.

Builds a throw-away git repository from the controlled-cost module in
``tests/quality`` (two commits: rev1, rev2), then repeats:

* A/A: rev1 against rev1, paired and sequential — every FAIL is a false alarm;
* A/B: rev1 against rev2, paired and sequential — the Slower* benchmarks and
  Alloc must FAIL, Faster must never FAIL, Steady* must not FAIL.

Sequential means what teams do with benchstat: ``-count=N`` of the base
binary, then ``-count=N`` of the head binary, compared with the U test and the
same threshold rules. Paired uses the same total benchmark time or less.
``invoke quality`` prints the rates for the README.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchpipe.core import benchfmt
from benchpipe.core.verdict import Comparison, Options, Rule, compare_parsed
from benchpipe.go import toolchain
from benchpipe.revisions import paired

GIT_ENV = {
    "GIT_AUTHOR_NAME": "benchpipe",
    "GIT_AUTHOR_EMAIL": "bp@localhost",
    "GIT_COMMITTER_NAME": "benchpipe",
    "GIT_COMMITTER_EMAIL": "bp@localhost",
}
SLOWER = ("BenchmarkSlower12", "BenchmarkSlower18", "BenchmarkSlower25")


def make_repo(src: Path, dest: Path) -> Path:
    """A git repository with the quality module at rev1 (HEAD~1) and rev2 (HEAD)."""
    dest.mkdir(parents=True)
    env = {**os.environ, **GIT_ENV}
    for f in ("go.mod", "bench_test.go"):
        shutil.copy(src / f, dest / f)
    shutil.copy(src / "rev1" / "work.go", dest / "work.go")
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "rev1"]):
        subprocess.run(cmd, cwd=dest, check=True, env=env, capture_output=True)
    shutil.copy(src / "rev2" / "work.go", dest / "work.go")
    for cmd in (["git", "commit", "-qam", "rev2"], ["git", "tag", "rev2"], ["git", "tag", "rev1", "HEAD~1"]):
        subprocess.run(cmd, cwd=dest, check=True, env=env, capture_output=True)
    return dest


def options(threshold: float = 10.0) -> Options:
    return Options(threshold_pct=threshold, rules=[Rule(unit="allocs/op", assume="exact", threshold_pct=1)])


def run_paired(
    repo: Path, base: str, head: str, rounds: int, confirm: int, benchtime: str, cache: Path
) -> Comparison:
    plan = paired.Plan(
        target=repo,
        base_rev=base,
        head_rev=head,
        patterns=["."],
        bench=".",
        rounds=rounds,
        confirm_rounds=confirm,
        benchtime=benchtime,
        order="alternate",
        timeout="10m",
        changed_only=False,
        cache=cache,
    )
    return paired.execute(plan, options()).comparison


def run_sequential(repo: Path, base: str, head: str, count: int, benchtime: str) -> Comparison:
    """-count=N of base, then -count=N of head, compared like benchstat (U test), same rules."""
    outs = []
    with tempfile.TemporaryDirectory(prefix="benchpipe-seq-") as tmp:
        for i, rev in enumerate((base, head)):
            wt = Path(tmp) / f"wt{i}"
            subprocess.run(
                ["git", "worktree", "add", "--detach", "-q", str(wt), rev],
                cwd=repo,
                check=True,
                capture_output=True,
            )
            try:
                binary = Path(tmp) / f"side{i}.test"
                pkg = toolchain.list_packages(wt, ["."])[0]
                toolchain.build_test_binary(pkg, wt, binary)
                res = toolchain.run_binary(
                    binary, wt, toolchain.bench_args(".", count, benchtime, timeout="10m")
                )
                outs.append(benchfmt.read_text(toolchain.split_output(res.output), rev))
            finally:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(wt)], cwd=repo, capture_output=True
                )
    return compare_parsed(outs[0], outs[1], options())


def judge_ab(c: Comparison) -> dict[str, Any]:
    """Which benchmarks FAILed (a regression on ns/op or allocs/op) in an A/B comparison."""
    failed = {
        r.benchmark.rsplit("-", 1)[0]
        for r in c.rows
        if r.verdict == "regression" and r.unit in ("ns/op", "allocs/op")
    }
    return {
        "detected": sorted(b for b in SLOWER + ("BenchmarkAlloc",) if b in failed),
        "missed": sorted(b for b in SLOWER + ("BenchmarkAlloc",) if b not in failed),
        "false": sorted(b for b in failed if b.startswith("BenchmarkSteady") or b == "BenchmarkFaster"),
    }


def judge_aa(c: Comparison) -> list[str]:
    return sorted({f"{r.benchmark} {r.unit}" for r in c.rows if r.verdict == "regression"})


NOISE = """
import random, time
rng = random.Random(7)
while True:
    end = time.monotonic() + rng.uniform(1.0, 10.0)
    while time.monotonic() < end:
        pass
    time.sleep(rng.uniform(1.0, 10.0))
"""


def experiment(
    src: Path,
    repeats: int,
    rounds: int,
    confirm: int,
    count: int,
    benchtime: str,
    noise: int = 0,
    paired_benchtime: str = "",
) -> dict[str, Any]:
    """Run the experiment; with ``noise`` = N, N neighbour processes each burn a core on and off
    at random (1-10 s on, 1-10 s off): the drift a shared CI machine shows between runs."""
    out: dict[str, Any] = {
        "repeats": repeats,
        "rounds": rounds,
        "confirm_rounds": confirm,
        "count": count,
        "benchtime": benchtime,
        "paired_benchtime": paired_benchtime or benchtime,
        "noise": noise,
        "runs": [],
    }
    neighbours = [
        subprocess.Popen([sys.executable, "-c", NOISE.replace("Random(7)", f"Random({7 + i})")])
        for i in range(noise)
    ]
    try:
        _experiment(src, out)
    finally:
        for n in neighbours:
            n.kill()
            n.wait()
    return out


def _experiment(src: Path, out: dict[str, Any]) -> None:
    repeats, rounds, confirm = out["repeats"], out["rounds"], out["confirm_rounds"]
    count, benchtime, pbt = out["count"], out["benchtime"], out["paired_benchtime"]
    with tempfile.TemporaryDirectory(prefix="benchpipe-quality-") as tmp:
        repo = make_repo(src, Path(tmp) / "repo")
        cache = Path(tmp) / "cache"
        for i in range(repeats):
            run: dict[str, Any] = {}
            for method in ("paired", "sequential"):
                t0 = time.monotonic()
                if method == "paired":
                    aa = run_paired(repo, "rev1", "rev1", rounds, confirm, pbt, cache)
                    ab = run_paired(repo, "rev1", "rev2", rounds, confirm, pbt, cache)
                else:
                    aa = run_sequential(repo, "rev1", "rev1", count, benchtime)
                    ab = run_sequential(repo, "rev1", "rev2", count, benchtime)
                run[method] = {"aa_false": judge_aa(aa), "ab": judge_ab(ab), "seconds": time.monotonic() - t0}
            out["runs"].append(run)
            sys.stderr.write(
                f"quality: repeat {i + 1}/{repeats}: "
                + "; ".join(
                    f"{m}: A/A false {len(r['aa_false'])}, A/B missed {r['ab']['missed']}, false "
                    f"{r['ab']['false']}"
                    for m, r in run.items()
                )
                + "\n"
            )


def summarize(res: dict[str, Any]) -> str:
    lines = []
    n = res["repeats"]
    for m in ("paired", "sequential"):
        runs = [r[m] for r in res["runs"]]
        aa_fail_runs = sum(1 for r in runs if r["aa_false"])
        aa_rows = sum(len(r["aa_false"]) for r in runs)
        det = sum(len(r["ab"]["detected"]) for r in runs)
        total = sum(len(r["ab"]["detected"]) + len(r["ab"]["missed"]) for r in runs)
        false_ab = sum(len(r["ab"]["false"]) for r in runs)
        secs = sum(r["seconds"] for r in runs) / max(1, len(runs))
        lines.append(
            f"{m:<10} A/A runs that FAILed: {aa_fail_runs}/{n} ({aa_rows} false rows); "
            f"injected regressions detected: {det}/{total}; unchanged/faster benchmarks that FAILed in "
            f"A/B: {false_ab}; wall time per A/A+A/B: {secs:.0f}s"
        )
    budget = (f"{res['noise']} noisy neighbour process(es); " if res.get("noise") else "quiet machine; ") + (
        f"per benchmark and side: paired {res['rounds']} rounds x {res['paired_benchtime']} "
        f"(+{res['confirm_rounds']} "
        f"confirmation rounds for suspects) vs sequential -count={res['count']} x {res['benchtime']}"
    )
    return "\n".join([budget, *lines])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchpipe.quality")
    ap.add_argument("module", help="the tests/quality directory")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--confirm", type=int, default=6)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--benchtime", default="100ms")
    ap.add_argument(
        "--paired-benchtime", default="", help="-benchtime of one paired run (default --benchtime)"
    )
    ap.add_argument("--noise", type=int, default=0, help="N CPU-burning neighbours, on and off at random")
    a = ap.parse_args(argv)
    res = experiment(
        Path(a.module), a.repeats, a.rounds, a.confirm, a.count, a.benchtime, a.noise, a.paired_benchtime
    )
    print(summarize(res))


if __name__ == "__main__":
    main()
