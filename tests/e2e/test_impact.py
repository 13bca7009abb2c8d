"""Impact selection (issue 39) on a real two-package module (tests/fixtures/impact), real git, real Go
coverage: a change to one function selects exactly the benchmarks that execute it, directly or through
another package; what coverage cannot see (a const, a type's fields, go.mod, an assembly file) runs
everything; a missing map is built, or falls back to package-level selection, said so; ``compare --base``
runs only what is selected, and a diff no benchmark executes is a PASS without a run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ..conftest import run
from .test_paired import committed_copy, git

pytestmark = pytest.mark.go

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "impact"
A, B = "example.com/impact/a", "example.com/impact/b"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return committed_copy(FIXTURE, tmp_path / "repo", "base")


def _impact(repo: Path, tmp: Path, *args: str, params: Path | None = None) -> dict:
    p = run(
        [
            "benchpipe",
            "impact",
            *args,
            "--target",
            str(repo),
            "--history",
            str(tmp / "history"),
            "--cache-dir",
            str(tmp / "cache"),
            *(["--params", str(params)] if params else []),
        ],
        cwd=tmp,
    )
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def test_the_map_says_what_each_benchmark_executes_through_other_packages(repo: Path, tmp_path: Path) -> None:
    cmap = _impact(repo, tmp_path, "map")
    assert cmap["commit"] == git(repo, "rev-parse", "HEAD")
    bench = cmap["benchmarks"]
    assert set(bench) == {f"{A} BenchmarkF", f"{A} BenchmarkG", f"{B} BenchmarkH", f"{B} BenchmarkLocal"}
    assert f"{A}.F" in bench[f"{A} BenchmarkF"] and f"{A}.G" not in bench[f"{A} BenchmarkF"]
    # b.H calls a.F from a closure: the closure is H's, and a.F is executed through package b
    assert {f"{A}.F", f"{B}.H"} <= set(bench[f"{B} BenchmarkH"])
    assert bench[f"{B} BenchmarkLocal"] == [f"{B}.Local"]
    assert (tmp_path / "history" / "coverage" / f"{cmap['commit']}.json").exists()


def test_a_change_to_one_function_selects_exactly_the_benchmarks_that_execute_it(
    repo: Path, tmp_path: Path
) -> None:
    _impact(repo, tmp_path, "map")
    _edit(repo / "a" / "a.go", "s += p.X + p.Y", "s += p.X + p.Y + i%2")
    sel = _impact(repo, tmp_path, "select", "--base", "HEAD")
    assert sel["run_all"] == [] and sel["fallback"] == ""
    assert sel["changed_functions"] == [f"{A}.F"]
    assert set(sel["selected"]) == {f"{A} BenchmarkF", f"{B} BenchmarkH"}
    assert {s["benchmark"] for s in sel["skipped"]} == {f"{A} BenchmarkG", f"{B} BenchmarkLocal"}
    assert all("none of the changed functions" in s["reason"] for s in sel["skipped"])
    assert "merge base" in sel["map_note"] and sel["map_seconds"] == 0.0  # the stored map

    # the closure inside b.H is H: a change there selects BenchmarkH only
    git(repo, "checkout", "-q", "--", ".")
    _edit(repo / "b" / "b.go", "a.F(n) + 1", "a.F(n) + 2")
    sel = _impact(repo, tmp_path, "select", "--base", "HEAD")
    assert set(sel["selected"]) == {f"{B} BenchmarkH"}, sel

    # documentation and comments outside declarations select nothing
    git(repo, "checkout", "-q", "--", ".")
    _edit(repo / "README.md", "fixture", "fixture (edited)")
    _edit(repo / "a" / "a.go", "// G is called by BenchmarkG only.", "// G is called by BenchmarkG alone.")
    sel = _impact(repo, tmp_path, "select", "--base", "HEAD")
    assert sel["run_all"] == [] and sel["selected"] == {} and len(sel["skipped"]) == 4


@pytest.mark.parametrize(
    ("path", "old", "new", "why"),
    [
        ("a/a.go", "const Scale = 3", "const Scale = 4", "package-level const Scale"),
        ("a/a.go", "X, Y int", "X, Y int\n\tZ  [4]int", "type Point"),
        ("go.mod", "go 1.22", "go 1.22\n\n// a comment changes go.mod too", "go.mod"),
        ("a/stub_amd64.s", "An assembly file", "An assembly file (edited)", "assembly"),
    ],
)
def test_what_coverage_cannot_see_runs_everything(
    repo: Path, tmp_path: Path, path: str, old: str, new: str, why: str
) -> None:
    _impact(repo, tmp_path, "map")
    _edit(repo / path, old, new)
    sel = _impact(repo, tmp_path, "select", "--base", "HEAD")
    assert sel["run_all"] and why in sel["run_all"][0], sel["run_all"]
    assert sel["skipped"] == []


def test_a_missing_map_is_built_or_falls_back_to_packages(repo: Path, tmp_path: Path) -> None:
    _edit(repo / "b" / "b.go", "return n + 7", "return n + 8")
    sel = _impact(repo, tmp_path, "select", "--base", "HEAD")  # nothing stored: the merge base's is built
    assert "built by this run" in sel["map_note"] and sel["map_seconds"] > 0
    assert set(sel["selected"]) == {f"{B} BenchmarkLocal"}

    params = tmp_path / "params.yaml"
    params.write_text("impact:\n  build_missing: false\n")
    shutil.rmtree(tmp_path / "cache" / "coverage")
    sel = _impact(repo, tmp_path, "select", "--base", "HEAD", params=params)
    assert sel["fallback"] == "package" and "no coverage map" in sel["map_note"]


def test_a_map_older_than_max_age_runs_everything(repo: Path, tmp_path: Path) -> None:
    _impact(repo, tmp_path, "map")
    for i in range(3):
        _edit(repo / "README.md", "fixture", f"fixture {i}")
        git(repo, "commit", "-qam", f"docs {i}")
    _edit(repo / "a" / "a.go", "return n * n", "return n * n * 1")
    params = tmp_path / "params.yaml"
    params.write_text("impact:\n  max_age: 2\n  build_missing: false\n")
    sel = _impact(repo, tmp_path, "select", "--base", "HEAD", params=params)
    assert sel["run_all"] and "max_age" in sel["run_all"][0] and "3 commits" in sel["map_note"]
    params.write_text("impact:\n  max_age: 3\n")
    sel = _impact(repo, tmp_path, "select", "--base", "HEAD", params=params)
    assert set(sel["selected"]) == {f"{A} BenchmarkG"} and "3 commits before" in sel["map_note"]


def _compare(repo: Path, tmp: Path, *extra: str) -> tuple[int, dict, str]:
    out = tmp / "compare.json"
    out.unlink(missing_ok=True)
    p = run(
        [
            "benchpipe",
            "compare",
            "--target",
            str(repo),
            "--base",
            "HEAD",
            "--rounds",
            "4",
            "--benchtime",
            "20ms",
            "--no-explain",
            "--no-confirm",
            "--cache-dir",
            str(tmp / "cache"),
            "--out",
            str(out),
            *extra,
        ],
        cwd=tmp,
        env={"BENCHPIPE_HISTORY": str(tmp / "history")},
    )
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(out.read_text()), p.stderr


def test_compare_runs_only_the_selected_benchmarks_and_shards_plan_over_them(
    repo: Path, tmp_path: Path
) -> None:
    _impact(repo, tmp_path, "map")
    _edit(repo / "b" / "b.go", "return n + 7", "return n + 7 + n%3")
    code, doc, err = _compare(repo, tmp_path)
    ran = {r["benchmark"].rsplit("-", 1)[0] for r in doc["rows"]}
    assert ran == {"BenchmarkLocal"}, (ran, err)
    skipped = {s["benchmark"] for s in doc["paired"]["impact"]["skipped"]}
    assert skipped == {f"{A} BenchmarkF", f"{A} BenchmarkG", f"{B} BenchmarkH"}
    assert "3 benchmarks skipped" in err and A not in err.split("impact:", 1)[0] + "".join(
        ln for ln in err.splitlines() if ln.startswith("paired: building")
    )
    # shards are planned over the packages that keep a benchmark: shard 1/2 has package b, 2/2 nothing
    _, first, _ = _compare(repo, tmp_path, "--shard", "1/2")
    _, second, _ = _compare(repo, tmp_path, "--shard", "2/2")
    assert {r["benchmark"].rsplit("-", 1)[0] for r in first["rows"]} == {"BenchmarkLocal"}
    assert second["verdict"] == "NONE" and second["rows"] == []

    # --all runs every benchmark
    code, doc, _ = _compare(repo, tmp_path, "--all")
    assert {r["benchmark"].rsplit("-", 1)[0] for r in doc["rows"]} == {
        "BenchmarkF",
        "BenchmarkG",
        "BenchmarkH",
        "BenchmarkLocal",
    }
    assert doc["paired"]["impact"] is None


def test_a_diff_no_benchmark_executes_passes_without_a_run(repo: Path, tmp_path: Path) -> None:
    _impact(repo, tmp_path, "map")
    _edit(repo / "README.md", "fixture", "fixture (edited)")
    code, doc, err = _compare(repo, tmp_path)
    assert code == 0 and doc["verdict"] == "PASS" and doc["rows"] == []
    assert "no benchmark executes the changed code" in doc["note"]
    assert len(doc["paired"]["impact"]["skipped"]) == 4
    assert "paired: round" not in err
