"""`benchpipe compare OLD NEW` as users run it: formats, verdicts, exit codes, bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..conftest import DATA, run


def compare(*args: str, cwd: Path | None = None):
    return run(["benchpipe", "compare", *args], cwd=cwd)


def test_json_schema_and_fail_on_real_regression(tmp_path: Path) -> None:
    p = compare(
        str(DATA / "example_fast.txt"), str(DATA / "example_slow.txt"), "--format", "json", cwd=tmp_path
    )
    assert p.returncode == 1, p.stderr
    d = json.loads(p.stdout)
    assert d["verdict"] == "FAIL" and d["threshold_pct"] == 10 and d["alpha"] == 0.05
    # the versioned artifact every other JSON file is: read back by its one reader, the same rows
    from benchpipe.core.artifacts import SCHEMA_VERSION, CompareDoc
    from benchpipe.store import artifacts

    (tmp_path / "out.json").write_text(p.stdout)
    doc = artifacts.read(tmp_path / "out.json", CompareDoc)
    assert d["schema_version"] == SCHEMA_VERSION and len(doc.rows) == len(d["rows"]) and doc.verdict == "FAIL"
    row = next(r for r in d["rows"] if r["benchmark"] == "BenchmarkEvaluate-2" and r["unit"] == "ns/op")
    assert set(row) >= {
        "benchmark",
        "unit",
        "old",
        "new",
        "delta_pct",
        "p",
        "significant",
        "verdict",
        "warnings",
    }
    assert set(row["old"]) == {"center", "lo", "hi", "n"} and row["old"]["n"] == 6
    assert row["verdict"] == "regression" and row["significant"] and row["delta_pct"] > 100
    assert row["old"]["lo"] <= row["old"]["center"] <= row["old"]["hi"]
    dps = next(r for r in d["rows"] if r["benchmark"] == "BenchmarkEvaluate-2" and r["unit"] == "decisions/s")
    assert dps["delta_pct"] < -50 and dps["verdict"] == "regression"  # higher is better
    allocs = next(
        r for r in d["rows"] if r["benchmark"] == "BenchmarkEvaluate-2" and r["unit"] == "allocs/op"
    )
    assert allocs["verdict"] == "regression" and allocs["delta_pct"] is None  # 0 -> 2: undefined %
    assert "sec/op" not in {r["unit"] for r in d["rows"]}  # units as written in the input
    assert d["added"] == [] and d["removed"] == [] and "ns/op" in d["geomean"]


def test_text_markdown_csv(tmp_path: Path) -> None:
    a, b = str(DATA / "example_fast.txt"), str(DATA / "example_slow.txt")
    text = compare(a, b, cwd=tmp_path).stdout
    assert "│" in text and "vs base" in text and "geomean" in text and "verdict: FAIL" in text
    assert "(p=0.002 n=6)" in text
    md = compare(a, b, "--format", "markdown", cwd=tmp_path).stdout
    assert md.startswith("| Benchmark | Unit | Previous | Current | Change | p | Verdict |")
    rows = list(csv.DictReader(io.StringIO(compare(a, b, "--format", "csv", cwd=tmp_path).stdout)))
    assert {r["verdict"] for r in rows} >= {"regression"}
    assert all(r["benchmark"].startswith("Benchmark") for r in rows)
    # only the rows that changed; the verdict is the same
    changed = list(
        csv.DictReader(io.StringIO(compare(a, b, "--format", "csv", "--only-changed", cwd=tmp_path).stdout))
    )
    assert changed and len(changed) == sum(r["verdict"] != "unchanged" for r in rows) < len(rows)
    assert "verdict: FAIL" in compare(a, b, "--only-changed", cwd=tmp_path).stdout


def test_identical_files_pass(tmp_path: Path) -> None:
    p = compare(str(DATA / "strings_a.txt"), str(DATA / "strings_a.txt"), "--format", "json", cwd=tmp_path)
    assert p.returncode == 0
    d = json.loads(p.stdout)
    assert d["verdict"] in ("PASS", "WARN")
    assert not [r for r in d["rows"] if r["verdict"] == "regression"]


def test_threshold_option_changes_the_verdict(tmp_path: Path) -> None:
    a, b = str(DATA / "example_fast.txt"), str(DATA / "example_slow.txt")
    loose = compare(a, b, "--threshold", "1000", "--format", "json", cwd=tmp_path)
    d = json.loads(loose.stdout)
    timing = [r for r in d["rows"] if r["unit"] == "ns/op" and r["verdict"] == "regression"]
    assert timing == []  # +267% is under 1000%: WARN, not FAIL


def test_bad_inputs(tmp_path: Path) -> None:
    good = str(DATA / "example_fast.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    nobench = tmp_path / "nobench.txt"
    nobench.write_text("goos: linux\nPASS\nok  x 0.1s\n")
    p = compare(str(tmp_path / "missing.txt"), good, cwd=tmp_path)
    assert p.returncode == 2 and "missing.txt: no such file" in p.stderr and "Traceback" not in p.stderr
    for bad in (empty, nobench):
        p = compare(str(bad), good, cwd=tmp_path)
        assert p.returncode == 3 and "no benchmark results" in p.stderr
    # malformed lines are reported file:line and the rest is used
    mal = tmp_path / "mal.txt"
    lines = (DATA / "example_fast.txt").read_text().splitlines()
    lines.insert(6, "BenchmarkEvaluate-2 \t notanumber \t 12 ns/op")
    mal.write_text("\n".join(lines) + "\n")
    p = compare(str(mal), good, "--format", "json", cwd=tmp_path)
    assert p.returncode == 0 and f"{mal}:7: parsing iteration count: invalid syntax" in p.stderr
    assert json.loads(p.stdout)["rows"]
    # disjoint benchmark sets
    other = tmp_path / "other.txt"
    other.write_text("BenchmarkOther-2 10 5 ns/op\n")
    p = compare(good, str(other), cwd=tmp_path)
    assert p.returncode == 3 and "no benchmark in common" in p.stderr
    # zero and negative values, and a unit that appears in one file only
    z_old = tmp_path / "z_old.txt"
    z_new = tmp_path / "z_new.txt"
    z_old.write_text("".join(f"BenchmarkZ 10 {v} ns/op 0 B/op\n" for v in (0, 0, 0, 0, 0)))
    z_new.write_text("".join(f"BenchmarkZ 10 {v} ns/op -1 B/op 3 extra/op\n" for v in (1, 2, 3, 4, 5)))
    p = compare(str(z_old), str(z_new), "--format", "json", cwd=tmp_path)
    d = json.loads(p.stdout)
    assert p.returncode == 1 and d["verdict"] == "FAIL" and "Traceback" not in p.stderr  # 0 -> 1..5 ns/op
    ns = next(r for r in d["rows"] if r["unit"] == "ns/op")
    assert ns["delta_pct"] is None and ns["old"]["center"] == 0
    assert "extra/op" not in {r["unit"] for r in d["rows"]}
    assert "unit extra/op appears only in the new results; not compared" in d["warnings"]
    # partial overlap: added / removed benchmarks and the warning
    part = tmp_path / "part.txt"
    part.write_text("\n".join(ln for ln in lines if not ln.startswith("BenchmarkCompile")) + "\n")
    d = json.loads(compare(good, str(part), "--format", "json", cwd=tmp_path).stdout)
    assert d["removed"] == ["BenchmarkCompile-2"] and d["added"] == []
    assert "benchmark set differs from baseline; geomeans may not be comparable" in d["warnings"]


def test_pipeline_compare_warns_on_environment_differences(tmp_path: Path) -> None:
    from ..conftest import ROOT

    (tmp_path / "baselines").mkdir()
    (tmp_path / "baselines" / "main.txt").write_text((DATA / "example_fast.txt").read_text())
    (tmp_path / "baselines" / "main.meta.json").write_text(
        json.dumps(
            {"go_version": "go1.20.1", "goos": "linux", "goarch": "amd64", "cpu": "Old CPU", "gomaxprocs": 8}
        )
    )
    cur = tmp_path / "cur.json"
    cur.write_text(
        json.dumps(
            {"go_version": "go1.26.8", "goos": "linux", "goarch": "amd64", "cpu": "New CPU", "gomaxprocs": 2}
        )
    )
    p = compare(
        "--params",
        str(ROOT / "params.yaml"),
        "--current",
        str(DATA / "example_slow.txt"),
        "--current-meta",
        str(cur),
        "--out",
        str(tmp_path / "out.json"),
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr  # the stage records; `benchpipe gate` decides
    d = json.loads((tmp_path / "out.json").read_text())
    assert d["verdict"] == "FAIL" and d["baseline"] == "main"
    assert d["not_comparable"] == [
        "Go version differs: baseline go1.20.1 vs current go1.26.8",
        "CPU differs: baseline Old CPU vs current New CPU",
        "GOMAXPROCS differs: baseline 8 vs current 2",
    ]
    g = run(["benchpipe", "gate", "--compare", str(tmp_path / "out.json")])
    assert g.returncode == 1 and "BenchmarkEvaluate-2" in g.stdout
    assert (
        g.stdout.splitlines()[0]
        == "not comparable: Go version differs: baseline go1.20.1 vs current go1.26.8"
    )
    assert run(["benchpipe", "gate", "--strict-env", "--compare", str(tmp_path / "out.json")]).returncode == 3
    # report-only: the same verdict, exit 0; JSON for machines
    r = run(["benchpipe", "gate", "--report-only", "--compare", str(tmp_path / "out.json")])
    assert r.returncode == 0 and r.stdout == g.stdout
    j = run(["benchpipe", "gate", "--format", "json", "--compare", str(tmp_path / "out.json")])
    jd = json.loads(j.stdout)
    regressed = [r for r in d["rows"] if r["verdict"] == "regression"]
    assert j.returncode == 1 and jd["verdict"] == "FAIL" and jd["exit_code"] == 1
    assert len(jd["regressed"]) == len(regressed) and jd["regressed"][0].startswith(regressed[0]["benchmark"])
    assert jd["not_comparable"] == d["not_comparable"]
    # no baseline: the stage notes it; the gate passes unless a baseline is required
    (tmp_path / "baselines" / "main.txt").unlink()
    p = compare(
        "--params",
        str(ROOT / "params.yaml"),
        "--current",
        str(DATA / "example_slow.txt"),
        "--out",
        str(tmp_path / "none.json"),
        cwd=tmp_path,
    )
    assert p.returncode == 0 and json.loads((tmp_path / "none.json").read_text())["verdict"] == "NONE"
    # a missing baseline fails the gate unless asked otherwise (a first run)
    assert run(["benchpipe", "gate", "--compare", str(tmp_path / "none.json")]).returncode == 3
    assert (
        run(
            ["benchpipe", "gate", "--allow-missing-baseline", "--compare", str(tmp_path / "none.json")]
        ).returncode
        == 0
    )
