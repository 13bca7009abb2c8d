"""Go's selection everywhere (core.selection): a table of -bench patterns against a real test binary. A
pattern Go rejects is rejected by benchpipe (one line); one Go accepts selects exactly the results `go test`
runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchpipe.core import selection
from benchpipe.core.errors import BenchpipeError

from ..conftest import ROOT, run

FIXTURE = ROOT / "tests" / "fixtures" / "selection"
PATTERNS = [
    ".",
    "Parse",
    "Parse$",
    "^BenchmarkParse$/input1",
    "BenchmarkParse$/(input1|input2)/parser$",
    "Parse/input1|Other/y",
    "Other/",
    "Other//",
    "/x",
    "Parse/input[12]/std",
    "Other/v\\d+",
    "Other/[[:digit:]]",
    "Other/[[:^alpha:]]",
    "(?i)other/case",
    "Other/(?<n>x)",
    "Other/y\\z",
    "Other/^(x|y)$",
    "Parse/[^1]+$",
    "Ab(ab)?$",
    "Other/x|",
    # what Go rejects and Python's engine would take
    "Other/x(?=y)",
    "Other/(?!x)",
    "(ab)\\1",
    "(?P<a>ab)(?P=a)",
    "Other/x++",
    "Other/(?>x)",
    "Other\\Z",
    "(?#c)Other",
    "([",
    "Other/a{2,1}",
]


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory, go: str) -> Path:
    out = tmp_path_factory.mktemp("sel") / "sel.test"
    p = run([go, "test", "-c", "-o", str(out), "."], cwd=FIXTURE)
    assert p.returncode == 0, p.stderr
    return out


def _ran(binary: Path, pattern: str) -> tuple[int, list[str], str]:
    p = run(
        [str(binary), "-test.run=^$", f"-test.bench={pattern}", "-test.benchtime=1x", "-test.cpu=1"],
        cwd=FIXTURE,
    )
    names = [ln.split()[0] for ln in p.stdout.splitlines() if re.match(r"Benchmark\S*\s+\d+\s", ln)]
    return p.returncode, names, p.stdout + p.stderr


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_pattern_selects_what_go_test_runs(binary: Path, pattern: str) -> None:
    code, ran, out = _ran(binary, pattern)
    if "invalid regexp" in out:  # Go rejects it: so does benchpipe, in one line
        with pytest.raises(BenchpipeError) as e:
            selection.check(pattern)
        assert "\n" not in e.value.message and "invalid regular expression" in e.value.message
        return
    assert code == 0, out
    selection.check(pattern)
    _, every, _ = _ran(binary, ".")
    leaves = [n for n in every if not any(o.startswith(n + "/") for o in every)]
    assert sorted(n for n in leaves if selection.selects(pattern, n)) == sorted(ran), (pattern, ran)
