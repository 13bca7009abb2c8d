"""Unit tests of the pure core and the small builders the end-to-end tests cover only indirectly:
the verdict (judge), the one summary owner, paired rows and their confirmation test, the report's
context builders and the one test-flag builder."""

from __future__ import annotations

import functools
import math
import statistics

import pytest

from benchpipe.core import paired as core_paired
from benchpipe.core import stats
from benchpipe.core.settings import Target, parse
from benchpipe.core.units import UnitInfo
from benchpipe.core.verdict import Options, Rule, judge
from benchpipe.go import toolchain
from benchpipe.render.report.metrics import scaling_rows
from benchpipe.render.report.targets import evaluate_targets


@pytest.mark.parametrize(
    ("delta", "old", "new", "sig", "hb", "too_few", "want"),
    [
        (15.0, 100, 115, True, False, False, "regression"),
        (5.0, 100, 105, True, False, False, "warn"),
        (-15.0, 100, 85, True, False, False, "improvement"),
        (15.0, 100, 115, False, False, False, "unchanged"),
        (15.0, 100, 115, False, False, True, "warn"),
        (-15.0, 100, 85, True, True, False, "regression"),  # a rate that fell
        (None, 0, 1, True, False, False, "regression"),  # 0 -> 1 allocation
    ],
)
def test_judge(delta, old, new, sig, hb, too_few, want) -> None:
    assert judge(delta, old, new, sig, hb, 10.0, too_few) == want


def test_one_summary_owner_follows_the_rules() -> None:
    opts = Options.from_settings(
        parse({"compare": {"confidence": 0.95, "rules": [{"unit": "allocs/op", "assume": "exact"}]}}).compare
    )
    allocs = [3.0, 3.0, 4.0, 5.0, 5.0, 5.0]
    # assumed exact, but the data varies (with b.N): the median, like any sampled unit
    s = opts.summary("BenchmarkX-2", "allocs/op", allocs)
    assert s.center == statistics.median(allocs) and s.n == 6
    s = opts.summary("BenchmarkX-2", "allocs/op", [7.0] * 6)
    assert s.center == 7.0 and (s.lo, s.hi) == (7.0, 7.0)
    ns = [10.0, 12.0, 11.0, 13.0, 40.0, 9.0]
    t = opts.summary("BenchmarkX-2", "ns/op", ns)
    assert t.center == statistics.median(ns) and t.n == 6
    # a rule by benchmark regex changes only the matching benchmark
    opts.rules.append(Rule(benchmark="^BenchmarkY", unit="ns/op", assume="exact"))
    assert opts.summary("BenchmarkY-2", "ns/op", [12.0] * 3).center == 12.0
    assert opts.summary("BenchmarkY-2", "ns/op", [12.0] * 3).hi == 12.0
    assert opts.summary("BenchmarkX-2", "ns/op", ns).center == statistics.median(ns)
    # unit metadata from the input (Unit ... assume=exact) counts when no rule says otherwise
    assert Options().summary("B", "widgets", [2.0, 2.0, 2.0], UnitInfo("widgets", "", "exact")).lo == 2.0


def test_paired_row_detects_a_consistent_slowdown_and_confirmation_rule() -> None:
    base = [100.0, 101.0, 99.0, 100.5, 100.2, 99.8, 100.1, 100.3]
    head = [b * 1.2 for b in base]
    opts = Options()
    r = core_paired.paired_row("p", "BenchmarkX-2", "ns/op", base, head, UnitInfo("ns/op"), 10.0, False, opts)
    assert r.verdict == "regression" and r.p is not None and r.p <= 0.05
    assert math.isclose(r.delta_pct, 20.0, rel_tol=1e-9)
    assert core_paired.worse_than_threshold(r)
    same = core_paired.paired_row(
        "p", "BenchmarkX-2", "ns/op", base, list(base), UnitInfo("ns/op"), 10.0, False, opts
    )
    assert same.verdict == "unchanged" and not core_paired.worse_than_threshold(same)
    # the signed-rank p of the per-round log ratios is the one reported
    diffs = [math.log(h / b) for b, h in zip(base, head, strict=True)]
    assert r.p == stats.signed_rank(diffs).p


def test_scaling_rows_and_targets() -> None:
    centers = {
        ("p", "BenchmarkE", "ns/op"): 1000.0,
        ("p", "BenchmarkE-2", "ns/op"): 600.0,
        ("p", "BenchmarkE", "ops/s"): 1e6,
        ("p", "BenchmarkE-2", "ops/s"): 1.6e6,
        ("p", "BenchmarkOnce-2", "ns/op"): 5.0,
    }
    rows = scaling_rows(centers, "ops/s")
    assert [(r["name"], r["procs"], r["speedup"]) for r in rows] == [
        ("BenchmarkE", 1, "1.00×"),
        ("BenchmarkE", 2, "1.67×"),
    ]
    t = evaluate_targets(
        [Target(metric="eval", benchmark="^BenchmarkE", unit="ns/op", target="800ns", critical="2us")],
        {(n, u): v for (_, n, u), v in centers.items()},
    )
    assert t[0]["status"].endswith("WARN") and t[0]["measured"] == "1,000 ns/op"


def test_one_flag_builder() -> None:
    args = toolchain.bench_args("^BenchmarkX$", 3, "100x", cpu="1,2", timeout="5m", skip="^BenchmarkY$")
    assert args == [
        "-test.run=^$",
        "-test.bench=^BenchmarkX$",
        "-test.v=test2json",
        "-test.count=3",
        "-test.benchtime=100x",
        "-test.timeout=5m",
        "-test.benchmem",
        "-test.cpu=1,2",
        "-test.skip=^BenchmarkY$",
    ]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("compare", "rules", 0, "assume"),
            "exakt",
            "compare.rules[0].assume: 'exakt' is not one of exact, nothing",
        ),
        (("compare", "treshold_pct"), 5, "unknown key compare.treshold_pct (did you mean threshold_pct?)"),
        (("compare", "threshold_pct"), "ten", "compare.threshold_pct: expected a number, got 'ten'"),
        (("modes", "quick", "bench"), "([", "modes.quick.bench: invalid regular expression '(['"),
        (("bench", "stall_s"), "1m", "bench.stall_s: expected a number, got '1m'"),
        (
            ("report", "targets", 0, "critical"),
            "soon",
            "report.targets[0].critical: cannot read quantity 'soon'",
        ),
    ],
)
def test_params_are_validated(tmp_path, monkeypatch, path, value, message) -> None:
    monkeypatch.chdir(tmp_path)  # a stage's error file goes to ./reports/run: never into the checkout
    import contextlib
    import io

    import yaml

    from benchpipe.cli.main import main
    from benchpipe.store import params

    from ..conftest import ROOT

    data = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert params.validate(data) == ""
    node = data
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    assert params.validate(data).startswith(message)
    bad = tmp_path / "params.yaml"
    bad.write_text(yaml.safe_dump(data))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(
            [
                "bench",
                "--params",
                str(bad),
                "--out",
                str(tmp_path / "b.txt"),
                "--meta",
                str(tmp_path / "b.json"),
            ]
        )
    assert code == 2 and err.getvalue().count("\n") == 1 and message in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_go_durations() -> None:
    from benchpipe.core.units import go_duration_ns

    assert (
        go_duration_ns("500ms") == 5e8 and go_duration_ns("10m") == 600e9 and go_duration_ns("1m30s") == 90e9
    )
    assert go_duration_ns("1.5h") == 5400e9 and go_duration_ns("250us") == go_duration_ns("250µs") == 250e3
    assert go_duration_ns("100x") is None and go_duration_ns("10 m") is None and go_duration_ns("") is None


def test_batch_statistics_equal_the_per_row_functions() -> None:
    """The array paths (used for groups of >= BATCH_MIN rows) give the per-row functions' results exactly, on
    recorded Go output: strings benchmarks (ns/op with ties, B/op and allocs/op constant per side and
    sometimes different), every pair of benchmarks at the same sample size, old against new."""
    from benchpipe.core import benchfmt

    from ..conftest import DATA

    old = benchfmt.read_samples(DATA / "strings_a.txt").values
    new = benchfmt.read_samples(DATA / "strings_b.txt").values
    keys = [k for k in old if k in new]
    by_n: dict[tuple[int, int], list[tuple[list[float], list[float]]]] = {}
    for k in keys:
        by_n.setdefault((len(old[k]), len(new[k])), []).append((old[k], new[k]))
    # cross pairs too: one unit's old values against another benchmark's new ones (constant sides that differ)
    for (n1, n2), pairs in list(by_n.items()):
        by_n[(n1, n2)] = pairs + [(a, b) for (a, _), (_, b) in zip(pairs, pairs[1:] + pairs[:1], strict=True)]
    checked = 0
    for pairs in by_n.values():
        x1, x2 = [a for a, _ in pairs], [b for _, b in pairs]
        assert stats.mann_whitney_batch(x1, x2) == [stats.mann_whitney(a, b) for a, b in pairs]
        assert stats.mann_whitney_batch(stats.matrix(x1), stats.matrix(x2)) == stats.mann_whitney_batch(
            x1, x2
        )
        for side in (x1, x2):
            got = stats.summarize_batch(side)
            want = [stats.summarize(v) for v in side]
            assert got == want  # one type: every field equal, so every warning derived from them too
        checked += len(pairs)
    assert checked > 500


def test_pair_formatter_equals_format_value_on_its_scale() -> None:
    """The table's fast formatter gives format_value's strings on scale_for's shared scale, for every unit
    kind and magnitude, signs, zeros, NaN and infinities."""
    import random

    from benchpipe.core.units import format_value, pair_formatter, scale_for

    rng = random.Random(11)
    specials = [0.0, -0.0, math.nan, math.inf, -math.inf, 1e-12, 0.99995, 9.9995, 99.995, 1e15]
    values = specials + [rng.choice([-1, 1]) * 10 ** rng.uniform(-11, 14) for _ in range(3000)]
    for unit in ("sec/op", "B/op", "B/s", "allocs/op", "p99-sec", "decisions/s"):
        fmt = pair_formatter(unit)
        for _ in range(3000):
            x, y = rng.choice(values), rng.choice(values)
            scale = scale_for(unit, (x, y))
            assert fmt(x, y) == (format_value(x, scale), format_value(y, scale)), (unit, x, y)


def test_the_verdict_line_never_lists_a_regression_as_unchanged() -> None:
    """A row that interleaved rounds found regressed while the U test did not (its table cell is ``~``) is
    listed in the verdict line with the change it measured; a significant one with its cell."""
    from benchpipe.core.verdict import Options, Row, assemble
    from benchpipe.render.text import verdict_line

    def row(name: str, significant: bool, delta: float) -> Row:
        old, new = stats.summarize([100.0] * 6), stats.summarize([100.0 + delta] * 6)
        return Row(
            benchmark=name,
            unit="ns/op",
            old=old,
            new=new,
            delta_pct=delta,
            p=0.2 if not significant else 0.002,
            significant=significant,
            verdict="regression",
            threshold_pct=10.0,
        )

    c = assemble([row("BenchmarkA-2", False, 64.9), row("BenchmarkB-2", True, 12.5)], Options(), [], [], [])
    line = verdict_line(c)
    assert line.startswith("verdict: FAIL") and "A-2 ns/op +64.90%" in line, line
    assert "B-2 ns/op +12.50%" in line and "~" not in line, line


def test_a_flag_fresh_rounds_do_not_hold_is_judged_on_all_rounds() -> None:
    """A row the first rounds flagged and the fresh rounds did not confirm is unchanged only when all its
    rounds' interval lies within the threshold; one still reaching past it is inconclusive (a culprit search
    read such a +19% row as "unchanged" and called its regression "not reproduced")."""
    opts, info = Options(), UnitInfo("ns/op")
    base = [100.0 + i % 3 for i in range(12)]

    def settle(first_ratio: float, fresh_ratios: list[float]) -> tuple[str, bool]:
        ratios = [first_ratio] * 6 + fresh_ratios
        head = [b * r for b, r in zip(base, ratios, strict=True)]
        row = functools.partial(core_paired.paired_row, "p", "BenchmarkX-2", "ns/op", info=info)
        first = row(b=base[:6], h=head[:6], threshold=10.0, exact=False, opts=opts)
        fresh = row(b=base[6:], h=head[6:], threshold=10.0, exact=False, opts=opts)
        every = row(b=base, h=head, threshold=10.0, exact=False, opts=opts)
        assert first.significant and not fresh.significant
        out, held = core_paired.settle(first, fresh, every, opts)
        return out.verdict, held

    assert settle(1.25, [1.3, 0.95, 1.25, 0.9, 1.2, 1.05]) == ("inconclusive", False)
    assert settle(1.06, [1.01, 0.99, 1.02, 0.98, 1.0, 1.01]) == ("unchanged", False)
