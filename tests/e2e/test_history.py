"""History: storing runs, querying them with DuckDB, change points, and the bad inputs."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from benchpipe.core import benchfmt, changepoint
from benchpipe.core.artifacts import BenchMeta
from benchpipe.store import history

from ..conftest import DATA, run


def test_change_points_on_known_shifts_and_none_on_flat_noise() -> None:
    rng = random.Random(5)
    up = [rng.gauss(100, 4) for _ in range(12)] + [rng.gauss(125, 4) for _ in range(10)]
    cps = changepoint.detect(up)
    assert [c.index for c in cps] == [12] and cps[0].change_pct > 15 and cps[0].p <= 0.05
    two = (
        [rng.gauss(50, 1) for _ in range(10)]
        + [rng.gauss(60, 1) for _ in range(10)]
        + [rng.gauss(45, 1) for _ in range(10)]
    )
    assert [c.index for c in changepoint.detect(two)] == [10, 20]
    false = sum(len(changepoint.detect([rng.gauss(100, 8) for _ in range(30)], seed=s)) for s in range(20))
    assert false <= 1  # 20 flat noisy series (8% noise): at most one spurious change point


def test_store_query_import_and_bad_inputs(tmp_path: Path) -> None:
    hist = tmp_path / "history"
    fast = benchfmt.read_files([DATA / "example_fast.txt"])
    slow = benchfmt.read_files([DATA / "example_slow.txt"])
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i, parsed in enumerate([fast, fast, slow]):
        history.append(
            hist, parsed, BenchMeta(commit=f"c{i}" * 8, branch="main", mode="quick"), t0 + timedelta(hours=i)
        )
    rows = history.query(hist, benchmark="^BenchmarkEvaluate$", unit="ns/op")
    assert [r["commit"][:2] for r in rows] == ["c0", "c1", "c2"]
    vals = sorted(
        v for r in fast.results if r.name == "BenchmarkEvaluate-2" for v, u in r.values if u == "ns/op"
    )
    assert rows[0]["center"] == (vals[2] + vals[3]) / 2 and rows[0]["n"] == 6
    assert rows[0]["lo"] == vals[0] and rows[0]["hi"] == vals[5]  # n=6: order statistics 1 and 6
    assert rows[2]["center"] > 2 * rows[0]["center"]
    assert len(history.query(hist, benchmark="^BenchmarkEvaluate$", unit="ns/op", last=2)) == 2
    # a run without results is not stored
    with pytest.raises(Exception, match="nothing stored"):
        history.append(hist, benchfmt.Parsed(), BenchMeta(commit="x"))
    # a half-written / corrupt file is skipped with a warning
    (hist / "summary" / "zz-corrupt.parquet").write_bytes(b"PAR1 this is not parquet")
    p = run(
        [
            "benchpipe",
            "history",
            "--dir",
            str(hist),
            "--benchmark",
            "^BenchmarkEvaluate$",
            "--unit",
            "ns/op",
            "--format",
            "json",
        ]
    )
    assert p.returncode == 0, p.stderr
    assert "skipped unreadable file" in p.stderr and len(json.loads(p.stdout)) == 3
    # unknown benchmark
    p = run(["benchpipe", "history", "--dir", str(hist), "--benchmark", "NoSuchBench"])
    assert p.returncode == 3 and "no benchmark in the history matches 'NoSuchBench'" in p.stderr
    # import needs a commit and a time
    p = run(["benchpipe", "history", "import", str(DATA / "strings_a.txt"), "--dir", str(hist)])
    assert p.returncode == 2 and "--commit is required" in p.stderr
    p = run(
        ["benchpipe", "history", "import", str(DATA / "strings_a.txt"), "--dir", str(hist), "--commit", "abc"]
    )
    assert p.returncode == 2 and "--time must be an ISO 8601 time" in p.stderr
    p = run(
        [
            "benchpipe",
            "history",
            "import",
            str(DATA / "strings_a.txt"),
            "--dir",
            str(hist),
            "--commit",
            "abc",
            "--time",
            "2025-06-01T12:00:00Z",
        ]
    )
    assert p.returncode == 0, p.stderr
    rows = history.query(hist, benchmark="^BenchmarkIndexByte$", unit="ns/op", warn=False)
    assert len(rows) == 1 and rows[0]["commit"] == "abc" and rows[0]["time"].startswith("2025-06-01T12:00")
    # compaction keeps every run once
    (hist / "summary" / "zz-corrupt.parquet").unlink()
    before = history.query(hist, warn=False)
    n, out = history.compact(hist)
    assert n == 4 and out is not None and len(list((hist / "summary").glob("*.parquet"))) == 1
    assert history.query(hist, warn=False) == before
