"""Verdicts that hold on benchmarks shaped like real ones (real Go, real git): a buffer reused across
iterations (B/op that varies with b.N), a fixed allocation per iteration, and a family of 24
sub-benchmarks, through the baseline flow (bench -> baseline -> bench -> compare with confirmation)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from ..conftest import ROOT, bench_stage, quick_params, run
from .test_paired import committed_copy

FIXTURE = ROOT / "tests" / "fixtures" / "trust"


@pytest.fixture
def trust(tmp_path: Path) -> Path:
    """The fixture module committed to a fresh git repository (the baseline's commit)."""
    return committed_copy(FIXTURE, tmp_path / "trust")


def _params(tmp: Path, repo: Path, bench: str, benchtime: str = "100ms") -> Path:
    return quick_params(tmp, repo, packages=["./..."], bench=bench, count=6, benchtime=benchtime)


def _baseline_then_compare(work: Path, params: Path, cache: Path, edit=None) -> dict:  # noqa: ANN001
    """bench -> saved as the baseline -> (edit the working tree) -> bench -> compare with confirmation."""
    work.mkdir(exist_ok=True)
    bench_stage(work, params, "base")
    (work / "baselines").mkdir(exist_ok=True)
    shutil.copy(work / "base.txt", work / "baselines" / "main.txt")
    shutil.copy(work / "base.json", work / "baselines" / "main.meta.json")
    if edit:
        edit()
    bench_stage(work, params, "cur")
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
        ],
        cwd=work,
    )
    assert p.returncode == 0, p.stderr
    return json.loads((work / "compare.json").read_text())


def _row(data: dict, bench: str, unit: str) -> dict:
    return next(r for r in data["rows"] if r["benchmark"].startswith(bench) and r["unit"] == unit)


def _samples(path: Path, bench: str, unit: str) -> list[float]:
    from benchpipe.core import benchfmt

    return [
        v
        for r in benchfmt.read_files([path]).results
        if r.base_name == bench
        for v, u in r.values
        if u == unit
    ]


def test_amortised_buffer_passes_an_aa_and_a_16_byte_allocation_fails(trust: Path, tmp_path: Path) -> None:
    params = _params(tmp_path, trust, "^Benchmark(Amortised|Steady)$")
    work = tmp_path / "aa"
    data = _baseline_then_compare(work, params, tmp_path / "cache")
    old = _samples(work / "base.txt", "BenchmarkAmortised", "B/op")
    new = _samples(work / "cur.txt", "BenchmarkAmortised", "B/op")
    assert len(set(old + new)) > 1, (old, new)  # the data is not exact: B/op follows b.N
    amortised = _row(data, "BenchmarkAmortised", "B/op")
    assert amortised.get("varies_with_n") is True, amortised
    assert amortised["p"] is not None and amortised["threshold_pct"] == 10, (
        amortised
    )  # U test, overall threshold
    assert amortised["verdict"] != "regression", amortised
    steady = _row(data, "BenchmarkSteady", "B/op")
    assert (
        steady["p"] is None and steady["old"]["center"] == steady["new"]["center"] == 48
    )  # exact data, exact
    assert data["verdict"] != "FAIL", [
        (r["benchmark"], r["unit"], r["verdict"], r["warnings"]) for r in data["rows"]
    ]
    assert not any(
        r["verdict"] == "improvement" and not any("confirmed" in w for w in r["warnings"])
        for r in data["rows"]
        if r["p"] is not None
    ), data["rows"]
    health = {(h["benchmark"], h["unit"], h["problem"]) for h in data["health"]}
    assert ("BenchmarkAmortised", "B/op", "varies with b.N") in health, data["health"]

    # the same flow with one 16-byte allocation added to every iteration of BenchmarkSteady: FAIL on the
    # first run (exact data: 48 -> 64 B/op, 1 -> 2 allocs/op), never re-run by confirmation
    work2 = tmp_path / "ab"
    work_go = trust / "work.go"
    data = _baseline_then_compare(
        work2,
        params,
        tmp_path / "cache",
        lambda: work_go.write_text(work_go.read_text().replace("const Extra = false", "const Extra = true")),
    )
    steady_b, steady_n = _row(data, "BenchmarkSteady", "B/op"), _row(data, "BenchmarkSteady", "allocs/op")
    assert (steady_b["old"]["center"], steady_b["new"]["center"]) == (48, 64), steady_b
    assert steady_b["verdict"] == "regression" and steady_n["verdict"] == "regression"
    assert data["verdict"] == "FAIL"
    assert "BenchmarkSteady-2 B/op" not in " ".join(
        data["confirm"].get("confirmed", []) + data["confirm"].get("unconfirmed", [])
    )


def test_confirmation_reruns_flagged_rows_not_their_family(trust: Path, tmp_path: Path) -> None:
    params = _params(tmp_path, trust, "^BenchmarkFamily$", benchtime="30ms")
    work_go = trust / "work.go"
    data = _baseline_then_compare(
        tmp_path / "w",
        params,
        tmp_path / "cache",
        lambda: work_go.write_text(work_go.read_text().replace("const Slow = 0", "const Slow = 100")),
    )
    assert len({r["benchmark"] for r in data["rows"]}) == 24
    facts = data["confirm"]
    flagged = [
        r
        for r in data["rows"]
        if r["p"] is not None
        and any("interleaved rounds against the baseline's commit" in w for w in r["warnings"])
    ]
    # exactly the flagged rows ran, each in its own rounds: k results, k x rounds runs per side, and up to
    # seven times as many again (as the budget allows) for a result the rounds left undecided (its rows say
    # how many rounds they were judged on)
    assert facts["results"] == len({r["benchmark"] for r in flagged}) < 24, facts
    ran: dict[str, int] = {}
    for r in flagged:
        for w in r["warnings"]:
            if m := re.search(r"(\d+) interleaved rounds against", w):
                ran[r["benchmark"]] = max(ran.get(r["benchmark"], 0), int(m.group(1)))
    assert all(facts["rounds"] <= n <= 8 * facts["rounds"] for n in ran.values()), ran
    assert facts["runs"] == sum(ran.values()), (facts, ran)
    slowed = {
        r["benchmark"].rsplit("-", 1)[0]: r
        for r in data["rows"]
        if r["unit"] == "sec/op" or r["unit"] == "ns/op"
    }
    for case in ("BenchmarkFamily/case03", "BenchmarkFamily/case17"):
        r = slowed[case]
        assert r["verdict"] == "regression" and r["delta_pct"] > 30, r
        # confirmed by the rounds, or with up to seven times as many again when their interval first
        # straddled it
        by = [
            int(m.group(1))
            for w in r["warnings"]
            if (m := re.match(r"confirmed by (\d+) interleaved rounds", w))
        ]
        assert by and facts["rounds"] <= by[0] <= 8 * facts["rounds"], r["warnings"]
    assert data["verdict"] == "FAIL"
