"""Suites sharded across machines (--shard K/N) and merged back (benchpipe merge), with real Go: the bundled
example and the corpus' zap, each split 3 ways after one recorded unsharded run."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from benchpipe.core import benchfmt, shards
from benchpipe.store import history

from ..conftest import EXAMPLE, ROOT, quick_params, run

sys.path.insert(0, str(ROOT / "tests" / "corpus"))
import fetch  # noqa: E402


def _results(raw: Path) -> set[tuple[str, str]]:
    return {(r.package, r.name) for r in benchfmt.read_files([raw]).results}


def _stage(work: Path, params: Path, out: str, env: dict[str, str], *extra: str) -> None:
    d = work / out
    d.mkdir(parents=True, exist_ok=True)
    p = run(
        [
            "benchpipe",
            "bench",
            "--params",
            str(params),
            "--out",
            str(d / "bench.txt"),
            "--meta",
            str(d / "bench.json"),
            *extra,
        ],
        cwd=work,
        env=env,
    )
    assert p.returncode == 0, p.stderr
    c = run(
        [
            "benchpipe",
            "compare",
            "--params",
            str(params),
            "--current",
            str(d / "bench.txt"),
            "--current-meta",
            str(d / "bench.json"),
            "--out",
            str(d / "compare.json"),
            "--no-confirm",
        ],
        cwd=work,
        env=env,
    )
    assert c.returncode == 0, c.stderr


def _split_and_merge(target: Path, tmp_path: Path, benchtime: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    params = quick_params(tmp_path, target, packages=["./..."], count=1, benchtime=benchtime)
    store = tmp_path / "hist"
    env = {"BENCHPIPE_HISTORY": str(store), "GITHUB_RUN_ID": ""}
    # one unsharded run, recorded (its durations balance the shards) and kept as the baseline
    _stage(work, params, "whole", env)
    rec = run(
        [
            "benchpipe",
            "record",
            "--params",
            str(params),
            "--raw",
            str(work / "whole" / "bench.txt"),
            "--meta",
            str(work / "whole" / "bench.json"),
            "--out",
            str(work / "rec.json"),
            "--dvc-out",
            str(store),
        ],
        env=env,
    )
    assert rec.returncode == 0, rec.stderr
    (work / "baselines" / "main").mkdir(parents=True)
    for f in ("bench.txt", "bench.json"):
        shutil.copy(
            work / "whole" / f, work / "baselines" / "main" / ("meta.json" if f == "bench.json" else f)
        )
    for k in (1, 2, 3):
        _stage(work, params, f"shard{k}", env, "--shard", f"{k}/3")
    parts = [_results(work / f"shard{k}" / "bench.txt") for k in (1, 2, 3)]
    whole = _results(work / "whole" / "bench.txt")
    assert all(parts) and sum(len(p) for p in parts) == len(whole)  # disjoint, none empty
    # balanced by the recorded durations: greedy planning's guarantee (Graham's bound), the slowest
    # shard within total / 3 plus two thirds of the longest unit, whatever the durations are
    module = json.loads((work / "whole" / "bench.json").read_text())["module"]
    durations = history.durations(store, module)
    loads = [sum(durations[u] for u in part) for part in shards.plan(durations, 3)]
    bound = sum(loads) / 3 + max(durations.values()) * 2 / 3
    assert sum(loads) > 0 and max(loads) <= bound + 1e-12
    # merged: one run with every result of the unsharded one, one verdict
    m = run(
        [
            "benchpipe",
            "merge",
            *(str(work / f"shard{k}") for k in (1, 2, 3)),
            "--shards",
            "3",
            "--out",
            str(work / "merged"),
            "--report",
            str(work / "merged" / "report.md"),
            "--params",
            str(params),
        ],
        cwd=work,
        env=env,
    )
    assert m.returncode == 0, m.stderr
    assert _results(work / "merged" / "bench.txt") == whole
    doc = json.loads((work / "merged" / "compare.json").read_text())
    assert doc["verdict"] in ("PASS", "WARN", "FAIL") and sorted(doc["shards"]) == ["1/3", "2/3", "3/3"]
    assert {r["benchmark"] for r in doc["rows"]} >= {name for _, name in whole}
    assert "Performance Comparison" in (work / "merged" / "report.md").read_text()
    # a missing shard and a failed one: an error that names them, never a silent PASS
    (work / "shard3" / "compare.json").unlink()
    m = run(
        [
            "benchpipe",
            "merge",
            str(work / "shard1"),
            str(work / "shard3"),
            "--shards",
            "3",
            "--out",
            str(work / "partial"),
            "--report",
            "",
        ],
        cwd=work,
        env=env,
    )
    assert m.returncode == 0, m.stderr
    g = run(
        ["benchpipe", "gate", "--compare", str(work / "partial" / "compare.json"), "--record", "none.json"],
        cwd=work,
    )
    assert g.returncode == 2
    assert "shard 2/3: missing" in g.stdout and "shard 3/3: failed: no compare.json" in g.stdout


def test_the_example_split_three_ways(tmp_path: Path) -> None:
    target = tmp_path / "policyengine"
    shutil.copytree(EXAMPLE, target)
    _split_and_merge(target, tmp_path, "20x")


@pytest.mark.slow
def test_zap_split_three_ways(tmp_path: Path) -> None:
    zap = next(m for m in fetch.modules() if m.path == "go.uber.org/zap")
    root = fetch.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    _split_and_merge(fetch.fetch(zap, root), tmp_path, "50x")


def test_shard_plans_are_deterministic_and_balanced() -> None:
    w = {("p", f"B{i}"): float(i % 7 + 1) for i in range(40)}
    a, b = shards.plan(w, 3), shards.plan(dict(reversed(list(w.items()))), 3)
    assert a == b and sorted(u for part in a for u in part) == sorted(w)
    loads = [sum(w[u] for u in part) for part in a]
    assert max(loads) - min(loads) <= max(w.values())
    assert shards.parse("2/3") == (2, 3) and shards.suffix("2/3") == "2of3"
    with pytest.raises(Exception, match="expected K/N"):
        shards.parse("4/3")
