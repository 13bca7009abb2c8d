"""Impact selection's rules (benchpipe.core.impact) on declarations read by Go from the fixture module's
real files (tests/fixtures/impact, through benchpipe.go.coverage.declarations): which changes select
which benchmarks, and which run everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchpipe.core.impact import Change, CoverageMap, FileDecls, is_doc, select
from benchpipe.go import coverage

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "impact"
A, B = "example.com/impact/a", "example.com/impact/b"
MAP = CoverageMap(
    commit="c0",
    module="example.com/impact",
    benchmarks={
        f"{A} BenchmarkF": [f"{A}.F"],
        f"{A} BenchmarkG": [f"{A}.G"],
        f"{B} BenchmarkH": [f"{A}.F", f"{B}.H"],
        f"{B} BenchmarkLocal": [f"{B}.Local"],
    },
)
ALL = [tuple(k.split(" ", 1)) for k in MAP.benchmarks]

pytestmark = pytest.mark.go


def _decls(tmp: Path, rel: str, text: str) -> FileDecls:
    (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
    (tmp / rel).write_text(text)
    return coverage.declarations(tmp, [rel], tmp / "cache")[rel]


def _line(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def _change(tmp: Path, rel: str, old: str, new: str) -> Change:
    before = (FIXTURE / rel).read_text()
    after = before.replace(old, new)
    assert after != before
    first = _line(before, old.splitlines()[0])
    return Change(
        path=rel,
        old_lines=[(first, first + old.count("\n"))],
        new_lines=[(first, first + new.count("\n"))],
        old=_decls(tmp / "old", rel, before),
        new=_decls(tmp / "new", rel, after),
    )


def test_go_reads_the_fixture_declarations(tmp_path: Path) -> None:
    d = _decls(tmp_path, "a/a.go", (FIXTURE / "a" / "a.go").read_text())
    kinds = {x.name: x.kind for x in d.decls}
    assert kinds == {"Scale": "const", "Point": "type", "F": "func", "G": "func"}
    f = next(x for x in d.decls if x.name == "F")
    text = (FIXTURE / "a" / "a.go").read_text().splitlines()
    assert text[f.start - 1].startswith("func F(") and text[f.end - 1] == "}"
    b = _decls(tmp_path, "b/b.go", (FIXTURE / "b" / "b.go").read_text())
    assert [x.name for x in b.decls if x.kind == "import"] == ["example.com/impact/a"]


def test_a_body_change_selects_the_benchmarks_that_execute_it(tmp_path: Path) -> None:
    sel = select([_change(tmp_path, "a/a.go", "return n * n", "return n * n * 2")], MAP, ALL)
    assert sel.run_all == [] and sel.changed_functions == [f"{A}.G"]
    assert set(sel.selected) == {f"{A} BenchmarkG"}
    assert {s.benchmark for s in sel.skipped} == {f"{A} BenchmarkF", f"{B} BenchmarkH", f"{B} BenchmarkLocal"}
    assert sel.skipped_packages == [B]
    # one the map does not know runs
    assert sel.kept([(A, "BenchmarkG"), (B, "BenchmarkH"), (B, "BenchmarkNew")]) == [
        (A, "BenchmarkG"),
        (B, "BenchmarkNew"),
    ]


@pytest.mark.parametrize(
    ("rel", "old", "new", "why"),
    [
        ("a/a.go", "const Scale = 3", "const Scale = 5", "const Scale"),
        ("a/a.go", "X, Y int", "X, Y, Z int", "type Point"),
        ("a/a.go", "package a", 'package a // edited\n\nimport _ "os"', "side-effect import os"),
        ("a/a.go", "// G is called by BenchmarkG only.", "//go:noinline", "G"),
    ],
)
def test_what_runs_everything_and_what_selects_by_function(
    tmp_path: Path, rel: str, old: str, new: str, why: str
) -> None:
    sel = select([_change(tmp_path, rel, old, new)], MAP, ALL)
    if why == "G":  # a //go: directive above a function is part of it
        assert sel.run_all == [] and set(sel.selected) == {f"{A} BenchmarkG"}
    else:
        assert sel.run_all and why in " ".join(sel.run_all), sel.run_all
        assert sel.skipped == [] and sel.selected == {}


def test_a_method_added_changes_the_method_set_and_runs_everything(tmp_path: Path) -> None:
    c = _change(
        tmp_path,
        "a/a.go",
        "// G is called",
        'func (p Point) String() string { return "p" }\n\n// G is called',
    )
    sel = select([c], MAP, ALL)
    assert sel.run_all and "method Point.String added" in sel.run_all[0]


def test_files_and_test_code(tmp_path: Path) -> None:
    for path in ("go.mod", "go.sum", "a/stub_amd64.s", "a/testdata/input.json", "b/table.bin"):
        assert select([Change(path=path)], MAP, ALL).run_all, path
    # Go files the go command leaves out of the module's packages: vendored, test data, a nested module
    for change in (
        Change(path="vendor/x/y.go"),
        Change(path="a/testdata/gen.go"),
        Change(path="sub/s.go", nested="sub"),
    ):
        assert select([change], MAP, ALL).run_all, change.path
    for path in ("README.md", "docs/guide.md", ".github/workflows/x.yml", "LICENSE", "CONTRIBUTING.md"):
        assert is_doc(path) and select([Change(path=path)], MAP, ALL).skipped, path
    test = (FIXTURE / "b" / "b_test.go").read_text()
    c = Change(
        path="b/b_test.go",
        old_lines=[(3, 3)],
        new_lines=[(3, 3)],
        old=_decls(tmp_path / "o", "b/b_test.go", test),
        new=_decls(tmp_path / "n", "b/b_test.go", test),
    )
    sel = select([c], MAP, ALL)
    assert set(sel.selected) == {f"{B} BenchmarkH", f"{B} BenchmarkLocal"}  # its package's test code
    assert all(v == "its package's test code changed" for v in sel.selected.values())


def test_a_new_file_with_functions_only_selects_nothing_and_one_with_state_runs_everything(
    tmp_path: Path,
) -> None:
    fresh = _decls(tmp_path, "a/extra.go", "package a\n\nfunc Extra() int { return 1 }\n")
    assert select([Change(path="a/extra.go", status="A", new=fresh)], MAP, ALL).run_all == []
    state = _decls(tmp_path, "a/state.go", "package a\n\nvar table = map[int]int{}\n")
    sel = select([Change(path="a/state.go", status="A", new=state)], MAP, ALL)
    assert sel.run_all and "package-level var table" in sel.run_all[0]
    bad = _decls(tmp_path, "a/bad.go", "package a\n\nfunc (\n")
    assert "does not parse" in select([Change(path="a/bad.go", new=bad)], MAP, ALL).run_all[0]
