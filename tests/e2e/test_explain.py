"""Confirmed regressions explained: the function that got slower and the lines of the diff that did it (real
Go, real git, real profiles, both flows).

The fixture ``tests/fixtures/explain`` is a small parser; each test commits one change to it:
- ``Scan`` does more work per byte (its own code changes): the top suspect is ``Scan`` with the inserted
  lines.
- ``Process`` checksums the whole record instead of a quarter: ``Checksum`` got slower without being changed
  ("not changed here"), and ``Process`` is named as the changed function on its path.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..conftest import ROOT, bench_stage, quick_params, run
from .test_paired import committed_copy, git

FIXTURE = ROOT / "tests" / "fixtures" / "explain"
MODULE = "example.com/explain"
SCAN_OLD = "\t\tn += classify(s[i])\n"
SCAN_NEW = SCAN_OLD + "\t\tfor k := 1; k <= 4; k++ {\n\t\t\tn += int(s[(i*k+k)%len(s)]) & 1\n\t\t}\n"


def _edit(repo: Path, file: str, old: str, new: str) -> tuple[int, int]:
    """Replace ``old`` by ``new`` in ``file``; the lines ``new`` adds beyond ``old`` (first, last)."""
    path = repo / file
    text = path.read_text()
    assert old in text
    first = text[: text.index(old)].count("\n") + old.count("\n") + 1
    path.write_text(text.replace(old, new))
    return first, first + new.count("\n") - old.count("\n") - 1


def _paired(repo: Path, tmp: Path, bench: str) -> tuple[dict, str]:
    out = tmp / "pr.json"
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
            "--bench",
            bench,
            "--out",
            str(out),
            "--cache-dir",
            str(tmp / "cache"),
        ],
        timeout=1200,
    )
    assert p.returncode == 1, p.stdout + p.stderr
    return json.loads(out.read_text()), p.stdout


def _explained(doc: dict, benchmark: str) -> dict:
    return next(e for e in doc["explanations"] if e["benchmark"] == benchmark)


def test_paired_compare_names_the_changed_function_and_its_lines(tmp_path: Path) -> None:
    repo = committed_copy(FIXTURE, tmp_path / "explain")
    first, last = _edit(repo, "scan.go", SCAN_OLD, SCAN_NEW)
    git(repo, "commit", "-qam", "scan: more work per byte")
    doc, stdout = _paired(repo, tmp_path, "^BenchmarkProcess")
    regressed = {r["benchmark"].rsplit("-", 1)[0] for r in doc["rows"] if r["verdict"] == "regression"}
    assert {"BenchmarkProcess", "BenchmarkProcessParallel"} <= regressed, regressed
    for name in ("BenchmarkProcess", "BenchmarkProcessParallel"):
        e = _explained(doc, name)
        top = e["suspects"][0]
        assert top["function"] == f"{MODULE}.Scan", e
        assert top["changed"] == [{"file": "scan.go", "ranges": [[first, last]]}], top
        assert top["d_own"] > 0 and e["head_ns_op"] > e["base_ns_op"] and min(e["samples"]) > 0, e
        assert not e["cause"] and e["summary"].startswith(f"{MODULE}.Scan: "), e
    assert any(
        "-benchtime" in how and "s (" in how for how in _explained(doc, "BenchmarkProcessParallel")["runs"]
    )
    # the text under the table, the PR comment, the annotations and the kept call graph
    assert "explain.Scan +" in stdout and f"changed in this diff: scan.go:{first}–{last}" in stdout, stdout
    comment = tmp_path / "comment.md"
    p = run(
        [
            "benchpipe",
            "annotate",
            str(tmp_path / "pr.json"),
            "--comment",
            str(comment),
            "--graphs-url",
            "https://ci.example/artifacts/{graph}",
        ]
    )
    assert p.returncode == 0, p.stderr
    md = comment.read_text()
    assert "`explain.Scan` +" in md and f"`scan.go:{first}–{last}`" in md, md
    graph = _explained(doc, "BenchmarkProcess")["graph"]
    assert f"(<https://ci.example/artifacts/{graph}>)" in md
    assert (tmp_path / graph).read_text().lstrip().startswith(("<?xml", "<svg"))
    assert any(
        ln.startswith("::error") and "why: example.com/explain.Scan" in ln for ln in p.stdout.splitlines()
    )


def test_unchanged_callee_with_a_larger_input_is_not_changed_here(tmp_path: Path) -> None:
    repo = committed_copy(FIXTURE, tmp_path / "explain")
    line, _ = _edit(repo, "scan.go", "int(Checksum(s[:len(s)/4]))", "int(Checksum(s))")  # the edited line
    git(repo, "commit", "-qam", "process: checksum the whole record")
    doc, stdout = _paired(repo, tmp_path, "^BenchmarkProcess$")
    e = _explained(doc, "BenchmarkProcess")
    top = e["suspects"][0]
    assert top["function"] == f"{MODULE}.Checksum" and top["changed"] == [], e
    assert "not changed here: called more often, or its inputs changed" in top["why"]
    process = next(s for s in e["suspects"] + e["changed_on_path"] if s["function"] == f"{MODULE}.Process")
    assert process["changed"] == [{"file": "scan.go", "ranges": [[line, line]]}], process
    assert "not changed here" in stdout and f"scan.go:{line}" in stdout


def test_baseline_flow_report_names_the_function_and_its_lines(tmp_path: Path) -> None:
    """invoke baseline on the base commit, the change in the working tree, the compare stage's confirmation
    profiles both sides: compare.json and the report's Regression Analysis and Recommendations name it."""
    repo = committed_copy(FIXTURE, tmp_path / "explain")
    params = quick_params(
        tmp_path, repo, packages=["."], bench="^BenchmarkProcess$", count=6, benchtime="100ms"
    )
    work = tmp_path / "work"
    work.mkdir()
    bench_stage(work, params, "base")
    (work / "baselines").mkdir()
    for src, dst in (("base.txt", "main.txt"), ("base.json", "main.meta.json")):
        (work / "baselines" / dst).write_bytes((work / src).read_bytes())
    first, last = _edit(repo, "scan.go", SCAN_OLD, SCAN_NEW)  # uncommitted: the working tree is the head
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
            str(tmp_path / "cache"),
            "--out",
            "compare.json",
        ],
        cwd=work,
    )
    assert p.returncode == 0, p.stderr
    doc = json.loads((work / "compare.json").read_text())
    assert doc["verdict"] == "FAIL", [(r["unit"], r["verdict"], r["warnings"]) for r in doc["rows"]]
    e = _explained(doc, "BenchmarkProcess")
    assert e["suspects"][0]["function"] == f"{MODULE}.Scan" and e["diff"].endswith("..working tree"), e
    assert e["suspects"][0]["changed"] == [{"file": "scan.go", "ranges": [[first, last]]}]
    assert run(["benchpipe", "parse", "cur.txt", "--out", "samples.parquet"], cwd=work).returncode == 0
    p = run(
        [
            "benchpipe",
            "report",
            "--params",
            str(params),
            "--meta",
            "cur.json",
            "--raw",
            "cur.txt",
            "--samples",
            "samples.parquet",
            "--compare",
            "compare.json",
            "--profile",
            "none",
            "--out",
            "report.md",
            "--metrics",
            "metrics.json",
            "--no-history",
            "--record",
            "none.json",
        ],
        cwd=work,
    )
    assert p.returncode == 0, p.stderr
    report = (work / "report.md").read_text()
    analysis = report.split("### Regression Analysis", 1)[1].split("###", 1)[0]
    assert "`explain.Scan` +" in analysis and f"`scan.go:{first}–{last}`" in analysis, analysis
    recs = report.split("### Recommendations", 1)[1]
    assert "got slower in `explain.Scan`" in recs and f"`scan.go:{first}–{last}`" in recs, recs
