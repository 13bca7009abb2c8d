"""The code's contracts: one place per default, small functions in stages/ and render/, artifacts that
carry their schema version and refuse newer ones in one line, JSON Schemas that are current."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from benchpipe.core.artifacts import SCHEMA_VERSION, BenchMeta, CompareDoc
from benchpipe.core.errors import BenchpipeError
from benchpipe.core.settings import Settings
from benchpipe.store import artifacts

PKG = Path(__file__).resolve().parents[2] / "src" / "benchpipe"
ROOT = PKG.parent.parent

# (key as code names it, where its default lives in Settings)
DEFAULTS = [
    ("stall_s", lambda s: s.bench.stall_s),
    ("top", lambda s: s.profile.top),
    ("min_samples", lambda s: s.profile.min_samples),
    ("node_threshold", lambda s: s.profile.node_threshold),
    ("edge_threshold", lambda s: s.profile.edge_threshold),
    ("threshold_pct", lambda s: s.compare.threshold_pct),
    ("alpha", lambda s: s.compare.alpha),
    ("confirm_rounds", lambda s: s.paired.confirm_rounds),
    ("max_s", lambda s: s.profile.max_s),
    ("trend_runs", lambda s: s.report.trend_runs),
]


def _literal(v: float) -> str:
    """A regex for the number as code may write it (60, 60.0, 0.05)."""
    text = f"{v:g}"
    return re.escape(text) + (r"(\.0+)?" if "." not in text else "0*")


@pytest.mark.parametrize(("key", "get"), DEFAULTS, ids=[k for k, _ in DEFAULTS])
def test_no_default_is_written_twice(key: str, get) -> None:
    value = get(Settings())
    pattern = re.compile(rf"\b{key}\b[\"']?\s*(:\s*[\w| ]+)?\s*[,=:]\s*{_literal(value)}\b")
    hits = [
        f"{p.relative_to(PKG)}:{i}"
        for p in PKG.rglob("*.py")
        if p.name != "settings.py"
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert hits == [], f"default of {key} ({value:g}) written again"
    # the pattern does find the one owner
    owner = (PKG / "core" / "settings.py").read_text()
    assert pattern.search(owner), key


def test_no_function_over_60_lines_in_any_package() -> None:
    long = []
    for p in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > 60:
                    long.append(f"{p.relative_to(PKG)}:{node.lineno} {node.name} ({n} lines)")
    assert long == []


def test_json_schemas_are_current() -> None:
    from benchpipe.cli.commands import schemas

    for name, text in schemas.texts().items():
        assert (ROOT / "docs" / "schemas" / name).read_text() == text, (
            f"docs/schemas/{name}: run benchpipe schemas"
        )
    compare = json.loads(schemas.texts()["compare.schema.json"])
    assert "schema_version" in compare["$defs"]["CompareDoc"]["properties"]


def test_artifacts_carry_their_version_and_refuse_newer_ones(tmp_path: Path) -> None:
    p = tmp_path / "bench.json"
    artifacts.write(p, BenchMeta(mode="quick", commit="abc", settings=None))
    raw = json.loads(p.read_text())
    assert raw["schema_version"] == SCHEMA_VERSION and raw["mode"] == "quick"
    assert artifacts.read(p, BenchMeta).commit == "abc"
    raw["schema_version"] = SCHEMA_VERSION + 1
    p.write_text(json.dumps(raw))
    with pytest.raises(BenchpipeError) as e:
        artifacts.read(p, BenchMeta)
    msg = e.value.message
    assert "\n" not in msg and str(p) in msg and f"schema_version {SCHEMA_VERSION + 1}" in msg
    assert f"({SCHEMA_VERSION})" in msg
    # a file written before versioning is read (version 0, the same shape)
    p.write_text(json.dumps({"mode": "full", "gomaxprocs": 2}))
    m = artifacts.read(p, BenchMeta)
    assert (m.mode, m.gomaxprocs, m.schema_version, m.settings) == ("full", 2, SCHEMA_VERSION, None)
    # a wrong shape is one line naming the file and where
    p.write_text(json.dumps({"verdict": "PASS", "rows": [{"benchmark": 3}]}))
    with pytest.raises(BenchpipeError, match=r"compare|bench") as e:
        artifacts.read(p, CompareDoc)
    assert "\n" not in e.value.message and str(p) in e.value.message and "rows[0]" in e.value.message


def test_gate_names_a_newer_compare_json_in_one_line(tmp_path: Path) -> None:
    from benchpipe.cli.main import main

    p = tmp_path / "compare.json"
    p.write_text(json.dumps({"schema_version": 99, "verdict": "PASS"}))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["gate", "--compare", str(p)])
    assert code == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and "schema_version 99" in lines[0] and str(p) in lines[0]


def test_history_objects_have_the_declared_columns(tmp_path: Path) -> None:
    """The history's row schema is declared once (store.history.schema, from HistoryRun): what append writes
    is exactly that, and what query returns is named by it."""
    import duckdb
    import msgspec

    from benchpipe.core import benchfmt
    from benchpipe.core.artifacts import BenchMeta, HistoryRun
    from benchpipe.store import history
    from benchpipe.store.history import schema

    from ..conftest import DATA

    parsed = benchfmt.read_files([DATA / "example_fast.txt"])
    history.append(
        tmp_path, parsed, BenchMeta(commit="c" * 40, branch="main", module="example.com/policyengine")
    )

    def cols(sub: str) -> list[str]:
        return [
            r[0]
            for r in duckdb.sql(
                f"DESCRIBE SELECT * FROM read_parquet('{tmp_path / sub}/*.parquet')"
            ).fetchall()
        ]

    assert cols("runs") == [f.name for f in msgspec.structs.fields(HistoryRun)] + [
        c for c, _ in schema.SAMPLE_ROW
    ]
    assert cols("summary") == list(schema.SUMMARY_RUN) + [c for c, _ in schema.SUMMARY_ROW]
    rows = history.query(tmp_path)
    assert (
        rows
        and list(rows[0]) == schema.QUERY
        and {r["benchmark"] for r in rows} == {r.name for r in parsed.results}
    )
