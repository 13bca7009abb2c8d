"""Our statistics against benchstat itself (pinned version), at its printed precision.

Checks centers, the ``±x%`` confidence interval, p-values and deltas on recorded
real Go outputs and on random samples with many ties (hypothesis).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchpipe.core import benchfmt, stats
from benchpipe.core.units import tidy
from benchpipe.core.verdict import Options, compare_parsed
from benchpipe.render.text import delta_text

from ..conftest import DATA, run


def benchstat_csv(benchstat: str, old: Path, new: Path) -> dict[tuple[str, ...], dict[str, str]]:
    """benchstat -format csv, keyed by (display name, tidy unit) and (geomean, package, unit)."""
    p = run([benchstat, "-format", "csv", str(old), str(new)])
    assert p.returncode == 0, p.stderr
    out: dict[tuple[str, ...], dict[str, str]] = {}
    unit = pkg = ""
    for row in csv.reader(io.StringIO(p.stdout)):
        if len(row) == 1 and row[0].startswith("pkg: "):
            pkg = row[0][5:]
        if not row or len(row) < 5:
            continue
        if row[0] == "" and row[1] and row[2] == "CI":
            unit = row[1]
            continue
        if row[0] == "" or row[0] == "geomean":
            if row[0] == "geomean":
                out[("geomean", pkg, unit)] = {"old": row[1], "new": row[3], "delta": row[5]}
            continue
        out[(row[0], unit)] = {
            "old": row[1],
            "old_ci": row[2],
            "new": row[3],
            "new_ci": row[4],
            "delta": row[5],
            "p": row[6],
        }
    return out


def check_against_benchstat(benchstat: str, old: Path, new: Path) -> int:
    ref = benchstat_csv(benchstat, old, new)
    c = compare_parsed(benchfmt.read_files([old]), benchfmt.read_files([new]), Options(rules=[]))
    checked = 0
    for r in c.rows:
        unit, factor = tidy(r.unit)
        name = r.benchmark[len("Benchmark") :]
        b = ref[(name, unit)]
        assert math.isclose(float(b["old"]), r.old.center * factor, rel_tol=1e-9), (name, unit, b, r.old)
        assert math.isclose(float(b["new"]), r.new.center * factor, rel_tol=1e-9), (name, unit, b, r.new)
        for ours, theirs in ((r.old, b["old_ci"]), (r.new, b["new_ci"])):
            want = theirs.lstrip("±")
            assert ours.pct_range() == want, (name, unit, ours, theirs)
        assert delta_text(r) == b["delta"], (name, unit, r.delta_pct, r.p, b)
        p_ref = b["p"].split()[0]
        if p_ref.startswith("p="):
            assert f"p={r.p:.3f}" == p_ref, (name, unit, r.p, b)
        checked += 1
    for unit, gu in c.geomean.items():
        shown, factor = tidy(unit)
        for pkg, g in gu["packages"].items():
            b = ref[("geomean", pkg, shown)]
            for side in ("old", "new"):
                if b[side] == "":
                    assert g[side] is None
                else:
                    assert math.isclose(float(b[side]), g[side] * factor, rel_tol=1e-9)
            if g["delta_pct"] is None:
                assert b["delta"] in ("?", "")
            else:
                assert b["delta"] == f"{g['delta_pct']:+.2f}%"
    return checked


def test_recorded_stdlib_runs_match_benchstat(benchstat: str) -> None:
    n = check_against_benchstat(benchstat, DATA / "strings_a.txt", DATA / "strings_b.txt")
    assert n > 200


def test_recorded_example_runs_match_benchstat(benchstat: str) -> None:
    n = check_against_benchstat(benchstat, DATA / "example_fast.txt", DATA / "example_slow.txt")
    assert n >= 28


samples = st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(samples, samples), min_size=5, max_size=25))
def test_random_tied_samples_match_benchstat(benchstat: str, tmp_path: Path, pairs) -> None:
    old = ["pkg: r"]
    new = ["pkg: r"]
    for i, (a, b) in enumerate(pairs):
        old += [f"BenchmarkR{i} 1 {v * 10} ns/op" for v in a]
        new += [f"BenchmarkR{i} 1 {v * 10 + (i % 3)} ns/op" for v in b]
    (tmp_path / "old.txt").write_text("\n".join(old) + "\n")
    (tmp_path / "new.txt").write_text("\n".join(new) + "\n")
    assert check_against_benchstat(benchstat, tmp_path / "old.txt", tmp_path / "new.txt") == len(pairs)


def test_known_values() -> None:
    # Fully separated samples of 5: the smallest two-sided p, 2/C(10,5).
    assert math.isclose(stats.mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).p, 2 / 252)
    assert stats.mann_whitney([3, 3], [3, 3]).error == "all samples are equal"
    s = stats.summarize([5, 1, 4, 2, 3, 6, 7, 8, 9, 10])
    assert s.center == 5.5 and (s.lo, s.hi) == (2, 9)
    e = stats.summarize([2, 2, 3], exact=True)
    assert (e.center, e.lo, e.hi) == (2, 2, 3)
    assert stats.summary_warnings(e, exact=True) == [
        "exact distribution expected, but values range from 2 to 3"
    ]
    assert stats.summary_warnings(stats.summarize([2, 2, 2], exact=True), exact=True) == []
    assert stats.summary_warnings(stats.summarize([1.0, 2.0, 3.0]), exact=False) == [
        "need >= 6 samples for confidence interval at level 0.95"
    ]
    assert stats.summary_warnings(stats.summarize([]), exact=False) == ["no samples"]


distinct = st.lists(st.integers(min_value=1, max_value=10**6), min_size=40, max_size=60, unique=True)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(distinct, distinct), min_size=2, max_size=6), shift=st.integers(0, 200000))
def test_large_untied_samples_match_benchstat(benchstat: str, tmp_path: Path, pairs, shift: int) -> None:
    """n up to 60: the exact distribution up to 50, the normal approximation above."""
    old, new = ["pkg: r"], ["pkg: r"]
    for i, (a, b) in enumerate(pairs):
        old += [f"BenchmarkL{i} 1 {v} ns/op" for v in a]
        new += [f"BenchmarkL{i} 1 {v + shift}.5 ns/op" for v in b]
    (tmp_path / "old.txt").write_text("\n".join(old) + "\n")
    (tmp_path / "new.txt").write_text("\n".join(new) + "\n")
    assert check_against_benchstat(benchstat, tmp_path / "old.txt", tmp_path / "new.txt") == len(pairs)
