"""A sequential compare's flagged rows re-run interleaved against the baseline's commit (real Go, real git).

Drift is made real: the current run is measured while two busy processes compete for the machine's cores,
on unchanged code. The U test flags it; the paired rounds (run after the load stops) must clear it. A real
regression committed between the baseline and the working tree must stay flagged.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from ..conftest import bench_stage, quick_params, run
from .test_paired import git, history  # noqa: F401  (fixture)


def _params(tmp: Path, repo: Path) -> Path:
    return quick_params(
        tmp,
        repo / "policyengine",
        packages=["./pkg/core"],
        bench="^BenchmarkEvaluate$",
        count=6,
        benchtime="100ms",
    )


def _as_baseline(work: Path, name: str) -> None:
    (work / "baselines").mkdir(exist_ok=True)
    shutil.copy(work / f"{name}.txt", work / "baselines" / "main.txt")
    shutil.copy(work / f"{name}.json", work / "baselines" / "main.meta.json")


def _compare(work: Path, params: Path, cache: Path, *extra: str) -> dict:
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
            "--cache-dir",
            str(cache),
            "--out",
            "compare.json",
            *extra,
        ],
        cwd=work,
    )
    assert p.returncode == 0, p.stderr
    return json.loads((work / "compare.json").read_text())


def _ns(data: dict) -> dict:
    return next(r for r in data["rows"] if r["unit"] == "ns/op")


def test_drift_on_unchanged_code_is_not_confirmed(history: Path, tmp_path: Path) -> None:  # noqa: F811
    work = tmp_path / "work"
    work.mkdir()
    params = _params(tmp_path, history)
    # On a machine whose 100 ms runs spread +-20% from one to the next, 6 rounds at a 10% threshold often
    # leave an unchanged row undecided, and find a +30% "change" in all 6 by chance about once in 30
    # (the smallest p of 6 pairs is 0.031): a 25% threshold (the load's drift is larger) and 12 rounds
    p = yaml.safe_load(params.read_text())
    p["compare"]["threshold_pct"] = 25
    p["paired"]["confirm_rounds"] = 12
    # the time per op is what drifts here; the benchmark's own p50/p95/p99, timed one call at a time, spread
    # +-40% there: each would be another chance of a false confirmation at alpha (the rate the unit tests
    # measure), not what this test is about
    p["compare"]["rules"] += [{"unit": u, "ignore": True} for u in ("p50-ns", "p95-ns", "p99-ns")]
    params.write_text(yaml.safe_dump(p))
    bench_stage(work, params, "base")
    _as_baseline(work, "base")
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3)]
    try:
        bench_stage(work, params, "cur")
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    seq = _compare(work, params, tmp_path / "cache", "--no-confirm")
    assert _ns(seq)["verdict"] in ("warn", "regression") and _ns(seq)["delta_pct"] > 5, _ns(seq)
    assert seq["confirm"] is None  # confirmation off: no facts
    data = _compare(work, params, tmp_path / "cache")
    ns = _ns(data)
    # the drift is not confirmed: unchanged, or on a machine whose runs spread past the threshold from one
    # round to the next, inconclusive (said so: "nor ruled out"), never a regression or a warning
    assert ns["verdict"] in ("unchanged", "inconclusive"), (ns["verdict"], ns["warnings"], data["confirm"])
    assert ns["verdict"] == "unchanged" or any("nor ruled out" in w for w in ns["warnings"]), ns["warnings"]
    # 12 rounds, or more when the rows they leave undecided get more (seven times as many again, at most)
    assert any(
        (m := re.search(r"not confirmed by (\d+) interleaved rounds against the baseline's commit", w))
        and 12 <= int(m.group(1)) <= 96
        for w in ns["warnings"]
    ), ns["warnings"]
    assert data["confirm"]["rounds"] == 12 and ns["benchmark"] + " ns/op" in data["confirm"]["unconfirmed"]
    rows = [(r["unit"], r["verdict"], r["warnings"]) for r in data["rows"]]
    assert not [r for r in rows if r[1] in ("regression", "warn")], rows
    assert data["verdict"] == ("WARN" if any(r[1] == "inconclusive" for r in rows) else "PASS"), rows
    assert git(history, "worktree", "list").count("\n") == 0


def test_committed_regression_is_confirmed(history: Path, tmp_path: Path) -> None:  # noqa: F811
    work = tmp_path / "work"
    work.mkdir()
    params = _params(tmp_path, history)
    git(history, "checkout", "-q", "HEAD~3")  # c1: before the regression
    bench_stage(work, params, "base")
    git(history, "checkout", "-q", "main")
    _as_baseline(work, "base")
    assert json.loads((work / "base.json").read_text())["commit"] == git(history, "rev-parse", "HEAD~3")
    bench_stage(work, params, "cur")
    data = _compare(work, params, tmp_path / "cache")
    ns = _ns(data)
    assert ns["verdict"] == "regression" and ns["delta_pct"] > 10, (ns["warnings"], data["confirm"])
    assert data["confirm"]["budget_s"] == 10.0 and data["confirm"]["seconds"] > 0  # the floor: a tiny run
    # the rounds, or up to seven times as many again (as the budget allows) when their interval first
    # straddled the threshold
    by = [
        int(m.group(1))
        for w in ns["warnings"]
        if (m := re.match(r"confirmed by (\d+) interleaved rounds", w))
    ]
    assert by and 6 <= by[0] <= 48, ns["warnings"]
    assert data["verdict"] == "FAIL" and data["confirm"]["confirmed"]
    # a baseline with no commit cannot be re-run: the sequential verdict stays, and a warning says why
    meta = json.loads((work / "baselines" / "main.meta.json").read_text())
    meta.pop("commit")
    (work / "baselines" / "main.meta.json").write_text(json.dumps(meta))
    plain = _compare(work, params, tmp_path / "cache")
    assert plain["verdict"] == "FAIL" and any(
        "the baseline records no commit" in w for w in plain["warnings"]
    )


def test_confirmation_never_runs_past_its_budget(history: Path, tmp_path: Path) -> None:  # noqa: F811
    """The run's own time is the budget, hard (``compare.confirm_min_s`` is its floor, 0 here): a run said
    to have taken 0.4 s leaves no time for a round after the base side is built, so the flagged row is
    inconclusive, said so, never a verdict on no data."""
    work = tmp_path / "work"
    work.mkdir()
    params = _params(tmp_path, history)
    git(history, "checkout", "-q", "HEAD~3")
    bench_stage(work, params, "base")
    git(history, "checkout", "-q", "main")
    _as_baseline(work, "base")
    bench_stage(work, params, "cur")
    meta = json.loads((work / "cur.json").read_text())
    meta["go_s"] = 0.4
    (work / "cur.json").write_text(json.dumps(meta))
    settings = yaml.safe_load(params.read_text())
    settings["compare"]["confirm_min_s"] = 0  # no floor: the budget is the run's 0.4 s
    params.write_text(yaml.safe_dump(settings))
    data = _compare(work, params, tmp_path / "cache")
    ns = _ns(data)
    assert ns["verdict"] == "inconclusive", ns
    assert any(w.startswith("not decided: confirmation's budget (0.4s") for w in ns["warnings"]), ns[
        "warnings"
    ]
    assert data["confirm"]["budget_s"] == 0.4  # (B/op and allocs/op are exact: not confirmation's to decide)
    assert ns["benchmark"] + " ns/op" in data["confirm"]["inconclusive"]
