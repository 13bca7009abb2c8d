"""Outputs are byte-identical to those of the code before the typed artifacts, on recorded inputs.

``tests/fixtures/golden/report`` is a real run of the bundled example (``invoke baseline``, ``invoke
quick``, ``invoke profile``) recorded with the code before this refactor: its artifacts, history and
the report, metrics and charts that code wrote. ``compare-*.{text,markdown,csv}`` are what ``benchpipe
compare`` printed for the recorded Go outputs in ``tests/data``. Everything runs in-process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from benchpipe.cli.main import main

HERE = Path(__file__).resolve().parent.parent
GOLDEN = HERE / "fixtures" / "golden"
DATA = HERE / "data"


@pytest.mark.parametrize("fmt", ["text", "markdown", "csv"])
@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("compare-fast-slow", "example_fast.txt", "example_slow.txt"),
        ("compare-strings", "strings_a.txt", "strings_b.txt"),
    ],
)
def test_compare_prints_what_it_printed(name: str, old: str, new: str, fmt: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(
            [
                "compare",
                "--params",
                str(GOLDEN / "report" / "params.yaml"),
                "--format",
                fmt,
                str(DATA / old),
                str(DATA / new),
            ]
        )
    assert code == 1  # both recorded pairs regress (their verdict lines say FAIL)
    assert out.getvalue() == (GOLDEN / f"{name}.{fmt}").read_text()


def test_report_is_what_it_was(tmp_path: Path) -> None:
    work = tmp_path / "w"
    shutil.copytree(GOLDEN / "report", work)
    expected = work / "expected"
    cwd = os.getcwd()
    os.chdir(work)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            assert main(["report", "--params", "params.yaml"]) == 0
    finally:
        os.chdir(cwd)
    assert (work / "reports" / "report.md").read_text() == (expected / "report.md").read_text()
    assert json.loads((work / "reports" / "metrics.json").read_text()) == json.loads(
        (expected / "metrics.json").read_text()
    )
    got = sorted(p.name for p in (work / "reports" / "graphs").iterdir())
    assert got == sorted(p.name for p in (expected / "graphs").iterdir()) and got
    for name in got:
        assert (work / "reports" / "graphs" / name).read_bytes() == (
            expected / "graphs" / name
        ).read_bytes(), name


def test_artifacts_keep_every_value_and_add_their_version(tmp_path: Path) -> None:
    """The recorded compare.json read and written again: every old key keeps its value; schema_version
    joins."""
    from benchpipe.core.artifacts import SCHEMA_VERSION, CompareDoc
    from benchpipe.store import artifacts

    src = GOLDEN / "report" / "reports" / "run" / "compare.json"
    old = json.loads(src.read_text())
    assert "schema_version" not in old  # recorded before versioning: read as version 0, migrated
    artifacts.write(tmp_path / "c.json", artifacts.read(src, CompareDoc))
    new = json.loads((tmp_path / "c.json").read_text())
    assert new["schema_version"] == SCHEMA_VERSION

    def same(a: object, b: object) -> bool:
        if isinstance(a, dict):
            return isinstance(b, dict) and all(k in b and same(v, b[k]) for k, v in a.items())
        if isinstance(a, list):
            return (
                isinstance(b, list)
                and len(a) == len(b)
                and all(same(x, y) for x, y in zip(a, b, strict=True))
            )
        return a == b

    assert same(old, new)
