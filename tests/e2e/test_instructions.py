"""Instruction counts under real valgrind on real Go (issue 30): A/A agrees to the stated residue, a ~3%
change is caught in one run and explained from exact per-function counts, an allocating benchmark stays
within the stated spread, and a machine without valgrind is one line and exit 2."""

from __future__ import annotations

import json
import os
import shutil
import statistics
from pathlib import Path

import pytest

from benchpipe.core.verdict import INSTRUCTIONS_RESIDUE_PCT as RESIDUE_PCT

from ..conftest import ROOT, run
from .test_paired import committed_copy, git

FIXTURE = ROOT / "tests" / "fixtures" / "explain"
MODULE = "example.com/explain"

pytestmark = pytest.mark.skipif(
    shutil.which("valgrind") is None, reason="valgrind is installed by .ci/setup-tests"
)


def _counted(repo: Path, tmp: Path, code: int, env: dict[str, str] | None = None) -> tuple[dict, str]:
    out = tmp / "counted.json"
    p = run(
        [
            "benchpipe",
            "compare",
            "--target",
            str(repo),
            "--base",
            "HEAD~1",
            "--head",
            "HEAD",
            "--measure",
            "instructions",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp / "cache"),
        ],
        timeout=900,
        env=env,
    )
    assert p.returncode == code, p.stdout + p.stderr
    return (json.loads(out.read_text()) if out.exists() else {}), p.stdout + p.stderr


def test_a_a_agrees_and_a_three_percent_change_is_caught_and_explained(tmp_path: Path) -> None:
    repo = committed_copy(FIXTURE, tmp_path / "explain")
    (repo / "NOTES").write_text("no code change\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "A/A")
    doc, out = _counted(repo, tmp_path / "aa", 0)
    assert doc["verdict"] == "PASS" and doc["method"].startswith("instruction counts"), out
    rows = [r for r in doc["rows"] if r["unit"] == "instructions/op"]
    assert len(rows) == 3 and all(abs(r["delta_pct"]) <= RESIDUE_PCT for r in rows), rows
    assert "miss cache misses" in out and "RunParallel results run their body on one goroutine" in out

    # Process checksums 4% of the record more: +239 instructions/op in Checksum, about +2.7% in all
    scan = repo / "scan.go"
    text = scan.read_text()
    line = text[: text.index("Checksum(s[:len(s)/4])")].count("\n") + 1
    scan.write_text(text.replace("Checksum(s[:len(s)/4])", "Checksum(s[:len(s)/4+len(s)/25])"))
    git(repo, "commit", "-qam", "process: checksum more")
    doc, out = _counted(repo, tmp_path / "pr", 1)
    rows = {r["benchmark"]: r for r in doc["rows"]}
    for name in ("BenchmarkProcess", "BenchmarkProcessParallel"):
        assert rows[name]["verdict"] == "regression" and 2 < rows[name]["delta_pct"] < 4, rows[name]
        assert rows[name]["threshold_pct"] == 1
        why = next(e for e in doc["explanations"] if e["benchmark"] == name)
        top = why["suspects"][0]
        assert top["function"] == f"{MODULE}.Checksum" and top["unit"] == "instructions/op", why
        # exact counts: the checksum runs over len(s)/25 more bytes, a whole number of instructions per op
        assert abs(top["d_own"] - round(top["d_own"])) < 1e-6 and top["d_own"] > 100, top
        assert why["changed_on_path"][0]["function"] == f"{MODULE}.Process", why
        assert why["changed_on_path"][0]["changed"] == [{"file": "scan.go", "ranges": [[line, line]]}], why
    # the control, Checksum alone, does not execute Process: impact selection skips it, and says why
    skipped = {s["benchmark"]: s["reason"] for s in doc["paired"]["impact"]["skipped"]}
    assert "BenchmarkChecksum" not in rows and "none of the changed" in skipped[f"{MODULE} BenchmarkChecksum"]

    # the pull-request path: the counted compare as a shard, merged into one verdict, the job summary
    shard = tmp_path / "paired-1.json"
    p = run(
        [
            "benchpipe",
            "compare",
            "--target",
            str(repo),
            "--base",
            "HEAD~1",
            "--head",
            "HEAD",
            "--measure",
            "instructions",
            "--shard",
            "1/1",
            "--out",
            str(shard),
            "--cache-dir",
            str(tmp_path / "pr" / "cache"),
        ],
        timeout=900,
    )
    assert p.returncode == 1, p.stderr
    merged = tmp_path / "merged"
    p = run(["benchpipe", "merge", "--shards", "1", "--out", str(merged), str(shard)])
    assert p.returncode == 0 and "merge: FAIL" in p.stderr, p.stderr  # the verdict job's gate exits with it
    summary = tmp_path / "summary.md"
    p = run(["benchpipe", "annotate", str(merged / "compare.json"), "--summary", str(summary)])
    assert "::error title=benchpipe regression::BenchmarkProcess instructions/op" in p.stdout, p.stdout
    text = summary.read_text()
    assert (
        text.startswith("<!-- benchpipe -->\n## benchpipe: FAIL")
        and "threshold 1%" in text
        and "counted once per side" in text
    )
    assert (
        "exact instruction counts of both sides" in text
        and "`explain.Checksum` +239.0 instructions/op" in text
    )


def test_an_allocating_benchmark_stays_within_the_stated_spread(tmp_path: Path) -> None:
    from benchpipe.go import instructions

    binary = tmp_path / "ops.test"
    shapes = ROOT / "tests" / "fixtures" / "shapes"
    assert run(["go", "test", "-c", "-o", str(binary), "./ops"], cwd=shapes).returncode == 0
    values = [instructions.measure(binary, shapes / "ops", "BenchmarkGrowBuffer").value for _ in range(3)]
    med = statistics.median(values)
    assert med > 1000 and all(abs(v / med - 1) * 100 <= 0.5 for v in values), values


def test_bench_stage_writes_benchfmt_rows_and_without_valgrind_exits_2(tmp_path: Path) -> None:
    work = tmp_path / "w"
    work.mkdir()
    (work / "params.yaml").write_text(
        json.dumps(
            {
                "target": str(FIXTURE),
                "mode": "quick",
                "measure": "instructions",
                "modes": {
                    "quick": {
                        "packages": ["./..."],
                        "bench": "^BenchmarkChecksum$",
                        "count": 1,
                        "benchtime": "1x",
                        "timeout": "5m",
                    }
                },
            }
        )
    )
    p = run(["benchpipe", "bench", "--out", "bench.txt", "--meta", "bench.json"], cwd=work, timeout=600)
    assert p.returncode == 0, p.stderr
    text = (work / "bench.txt").read_text()
    assert "Unit instructions/op assume=exact better=lower" in text and "measure: instructions" in text
    rows = [ln.split() for ln in text.splitlines() if ln.startswith("BenchmarkChecksum")]
    assert len(rows) == 1 and rows[0][3] == "instructions/op" and float(rows[0][2]) > 1000, text
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("go", "git", "benchpipe", "python3"):
        (bare / tool).symlink_to(shutil.which(tool))
    env = {**os.environ, "PATH": str(bare)}
    p = run(["benchpipe", "bench", "--out", "b2.txt", "--meta", "b2.json"], cwd=work, env=env, timeout=600)
    assert p.returncode == 2 and "needs valgrind, which is not installed" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and not (work / "b2.txt").exists()


CHANWORK = ROOT / "tests" / "fixtures" / "chanwork"


def test_a_count_that_does_not_reproduce_is_never_judged_exactly(tmp_path: Path) -> None:
    """A benchmark that hands its work to a goroutine over a channel: its count is not linear in b.N or
    not reproduced, so the bench stage leaves it out with why, and a paired A/A of it is inconclusive
    (WARN, exit 0), never a FAIL or a PASS; the exact benchmark beside it is counted and unchanged."""
    from benchpipe.go import instructions

    binary = tmp_path / "audit.test"
    assert run(["go", "test", "-c", "-o", str(binary), "./audit"], cwd=CHANWORK).returncode == 0
    audited = instructions.measure(binary, CHANWORK / "audit", "BenchmarkDecideAudited")
    assert audited.unproven.startswith(("not linear in b.N", "not reproduced")), audited
    exact = instructions.measure(binary, CHANWORK / "audit", "BenchmarkDecide")
    assert exact.unproven == "" and exact.value > 0, exact
    # the bench stage: the exact one is written, the other left out with a note
    work = tmp_path / "w"
    work.mkdir()
    (work / "params.yaml").write_text(
        json.dumps(
            {
                "target": str(CHANWORK),
                "mode": "quick",
                "measure": "instructions",
                "modes": {
                    "quick": {
                        "packages": ["./..."],
                        "bench": ".",
                        "count": 1,
                        "benchtime": "1x",
                        "timeout": "5m",
                    }
                },
            }
        )
    )
    p = run(["benchpipe", "bench", "--out", "bench.txt", "--meta", "bench.json"], cwd=work, timeout=900)
    assert p.returncode == 0, p.stderr
    lines = [
        ln.split()[0] for ln in (work / "bench.txt").read_text().splitlines() if ln.startswith("Benchmark")
    ]
    assert lines == ["BenchmarkDecide"], lines
    notes = json.loads((work / "bench.json").read_text())["notes"]
    assert any(
        "BenchmarkDecideAudited: left out, its instruction count is not exact: not" in n for n in notes
    )
    # a paired A/A under valgrind
    repo = committed_copy(CHANWORK, tmp_path / "repo")
    p = run(
        [
            "benchpipe",
            "compare",
            "--target",
            str(repo),
            "--params",
            str(ROOT / "params.yaml"),
            "--cache-dir",
            str(tmp_path / "c"),
            "--base",
            "HEAD",
            "--head",
            "HEAD",
            "--packages",
            "./...",
            "--bench",
            ".",
            "--measure",
            "instructions",
            "--format",
            "json",
        ],
        timeout=900,
    )
    d = json.loads(p.stdout)
    assert p.returncode == 0 and d["verdict"] == "WARN", p.stdout + p.stderr
    rows = {r["benchmark"]: r for r in d["rows"]}
    assert rows["BenchmarkDecideAudited"]["verdict"] == "inconclusive", rows
    assert any("the count is not exact here" in w for w in rows["BenchmarkDecideAudited"]["warnings"])
    assert rows["BenchmarkDecide"]["verdict"] == "unchanged", rows


def test_culprit_finding_counts_each_step_under_measure_instructions(tmp_path: Path) -> None:
    """The default-branch job with ``measure: instructions``: a run at c1 recorded, a run at c4 fails against
    it, and ``benchpipe culprit`` counts both sides at every step (it ran timed rounds before, and every
    counted culprit ended "not measured there"): c3, the +2.7% checksum, named with Checksum's exact count."""
    import yaml

    from ..conftest import quick_params
    from .test_culprit import _against_history, _bench_on_main, _record

    repo = committed_copy(FIXTURE, tmp_path / "explain", "c1 base")
    for msg, edit in (
        ("c2 comment", lambda t: t + "\n// c2: a comment\n"),
        (
            "c3 checksum more",
            lambda t: t.replace("Checksum(s[:len(s)/4])", "Checksum(s[:len(s)/4+len(s)/25])"),
        ),
        ("c4 comment", lambda t: t + "// c4: another comment\n"),
    ):
        (repo / "scan.go").write_text(edit((repo / "scan.go").read_text()))
        git(repo, "commit", "-qam", msg)
    c1, c2, c3 = (git(repo, "rev-parse", r) for r in ("HEAD~3", "HEAD~2", "HEAD~1"))
    params = quick_params(tmp_path, repo, packages=["."], bench="^BenchmarkProcess$", count=1)
    p = yaml.safe_load(params.read_text())
    params.write_text(yaml.safe_dump({**p, "measure": "instructions"}))
    work, store = tmp_path / "w", tmp_path / "store"
    work.mkdir()
    for rev, name in ((c1, "base"), ("main", "cur")):
        git(repo, "checkout", "-q", rev)
        _bench_on_main(work, params, name)
    _record(work, params, store, "base")
    doc, printed = _against_history(work, params, store, "cur", "compare.json")
    assert doc["verdict"] == "FAIL", printed
    r = run(
        [
            "benchpipe",
            "culprit",
            "--compare",
            "compare.json",
            "--history",
            str(store),
            "--params",
            str(params),
        ]
        + ["--target", str(repo), "--cache-dir", str(tmp_path / "cache"), "--out", "culprit.json"]
        + ["--issue", "culprit.md"],
        cwd=work,
        timeout=900,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    [c] = json.loads((work / "culprit.json").read_text())["culprits"]
    assert c["unit"] == "instructions/op" and c["status"] == "found" and c["commit"] == c3, c
    # every step counted both sides: each says how instructions/op moved, none "was not measured there"
    assert c["steps"] and all(
        "instructions/op" in s["why"] and "not measured" not in s["why"] for s in c["steps"]
    )
    assert {s["commit"]: s["outcome"] for s in c["steps"]}.get(c2, "good") == "good", c
    top = c["explanations"][0]["suspects"][0]
    assert top["function"] == f"{MODULE}.Checksum" and top["unit"] == "instructions/op", top
    assert abs(top["d_own"] - round(top["d_own"])) < 1e-6 and top["d_own"] > 100, top
    # the next run at c4 is judged against the newest run alone (c4's count), not pooled with c1's: a count
    # is one exact value of one commit, and two commits' counts are no sample
    _record(work, params, store, "cur")
    _bench_on_main(work, params, "next")
    doc, printed = _against_history(work, params, store, "next", "next-compare.json")
    assert doc["verdict"] == "PASS" and doc["baseline_env"]["commit"] == git(repo, "rev-parse", "HEAD"), (
        printed
    )
    [row] = [x for x in doc["rows"] if x["unit"] == "instructions/op"]
    assert row["verdict"] == "unchanged" and abs(row["delta_pct"]) <= RESIDUE_PCT, row
