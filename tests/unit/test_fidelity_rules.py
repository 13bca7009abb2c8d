"""The rules that decide how a result runs again and what a row's data rules out (pure: no process)."""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pytest

from benchpipe.core import stats
from benchpipe.core.paired import holds, leans, paired_row, short_of
from benchpipe.core.units import UnitInfo
from benchpipe.core.verdict import INCONCLUSIVE, Options, Rule, compare_samples, overall
from benchpipe.go import benchsrc, toolchain

SHAPES = Path(__file__).resolve().parent.parent / "fixtures" / "shapes"


def go_selects(regex: str, name: str) -> bool:
    """go test's selection of a result, from its documented semantics: the pattern's alternatives (a | outside
    brackets and parentheses), each split at / into per-level regexes; a result is selected by an alternative
    whose levels each match the corresponding element of its name (missing levels match everything)."""
    elems = name.split("/")
    for alt in toolchain.split_levels(regex):
        if all(re.search(rx, el) for rx, el in zip(alt, elems, strict=False)):
            return True
    return False


@pytest.mark.parametrize(
    ("regex", "levels"),
    [
        ("BenchmarkParse$/(input1|input2)/parser$", [["BenchmarkParse$", "(input1|input2)", "parser$"]]),
        ("A/x|B", [["A", "x"], ["B"]]),
        ("a[/|]b/c", [["a[/|]b", "c"]]),
        (r"a\/b/c", [[r"a\/b", "c"]]),
        (".", [["."]]),
    ],
)
def test_bench_regex_splits_like_go_test(regex: str, levels: list[list[str]]) -> None:
    assert toolchain.split_levels(regex) == levels


def test_restrict_selects_what_go_test_selects_under_those_names() -> None:
    names = [
        "BenchmarkParse/input1/parser",
        "BenchmarkParse/input2/parser",
        "BenchmarkParse/input1/std",
        "BenchmarkParseX/input1/parser",
        "BenchmarkOther/x",
        "BenchmarkOther/y",
    ]
    for regex in ["BenchmarkParse$/(input1|input2)/parser$", "Parse/input1|Other/y", ".", "Other"]:
        tops = sorted({n.split("/")[0] for n in names if toolchain.selects_top(regex, n.split("/")[0])})
        restricted = toolchain.restrict(regex, tops)
        assert [n for n in names if go_selects(restricted, n)] == [
            n for n in names if go_selects(regex, n)
        ], regex
    assert (
        toolchain.restrict("BenchmarkParse$/(input1|input2)/parser$", ["BenchmarkParse"])
        == "^(BenchmarkParse)$/(input1|input2)/parser$"
    )


def test_name_pattern_selects_one_result_and_its_own_sub_benchmarks() -> None:
    names = ["BenchmarkFamily/n=8", "BenchmarkFamily/n=80", "BenchmarkFamilyX/n=8", "BenchmarkFamily/n=8/a"]
    assert [n for n in names if go_selects(toolchain.name_pattern("BenchmarkFamily/n=8"), n)] == [
        "BenchmarkFamily/n=8",
        "BenchmarkFamily/n=8/a",
    ]  # a deeper level is the result's own sub-benchmark


def test_run_rule_fixes_b_n_except_for_runparallel_and_an_explicit_count() -> None:
    kind = toolchain.RunKind
    assert toolchain.run_rule("1s", 1234) == toolchain.RunRule("1234x", kind.FIXED_N)
    assert toolchain.run_rule("1s", 1234).how == "fixed b.N"  # as the artifacts say it
    assert toolchain.run_rule("1s", 1234, parallel=True) == toolchain.RunRule("1s", kind.PARALLEL)
    assert toolchain.run_rule("1s", 1234, parallel=True).describe() == "1s (time: RunParallel)"
    assert toolchain.run_rule("200x", 1234, parallel=True) == toolchain.RunRule("200x", kind.AS_GIVEN)
    assert toolchain.run_rule("1s", None) == toolchain.RunRule("1s", kind.AS_GIVEN)
    args = toolchain.bench_args("^B$", 1, "100ms", timeout="1m", iters=500, parallel=True)
    assert "-test.benchtime=100ms" in args
    assert "-test.benchtime=500x" in toolchain.bench_args("^B$", 1, "100ms", timeout="1m", iters=500)


def test_a_fixed_b_n_that_runs_differently_falls_back_to_a_time() -> None:
    fixed = toolchain.run_rule("100ms", 5_000_000)
    assert toolchain.checked_rule(fixed, "100ms", 12.0, 10.0) is fixed  # within 1.5x: noise
    moved = toolchain.checked_rule(fixed, "100ms", 13.6, 1.17)  # RunParallel's grain from the probe
    assert moved.benchtime == "100ms" and moved.how.startswith("time: 13.6 ns/op at 5000000x")
    assert moved.kind is toolchain.RunKind.CHECKED and not moved.fixed
    assert toolchain.checked_rule(fixed, "100ms", 1.0, 2.0).benchtime == "100ms"  # faster counts too
    parallel = toolchain.run_rule("100ms", 10, parallel=True)
    assert toolchain.checked_rule(parallel, "100ms", 50.0, 1.0) is parallel


def test_runparallel_is_found_in_the_source_directly_and_through_helpers() -> None:
    # ParallelHidden calls RunParallel through a package-level function value (var parallelVia = func...)
    assert benchsrc.parallel(SHAPES / "ops") == {
        "BenchmarkParallelTiny",
        "BenchmarkParallelSetup",
        "BenchmarkParallelHidden",
    }
    shapes = benchsrc.shapes(SHAPES / "ops")
    assert shapes["BenchmarkLoop"] == "b.Loop" and shapes["BenchmarkFamily"] == "family"
    assert (
        shapes["BenchmarkSetupReset"] == "setup + ResetTimer" and shapes["BenchmarkGrowBuffer"] == "b.N loop"
    )


def test_runparallel_through_a_helper_function(tmp_path: Path) -> None:
    (tmp_path / "x_test.go").write_text(
        'package x\n\nimport "testing"\n\nfunc one() int { return 1 }\n\n'
        "func par(b *testing.B) "
        "{\n\tb.RunParallel(func(pb *testing.PB) {\n\t\tfor pb.Next() {\n\t\t}\n\t})\n}\n\n"
        "func mid(b *testing.B) { par(b) }\n\n"
        'func BenchmarkVia(b *testing.B) {\n\tb.Run("sub", func(b *testing.B) { mid(b) })\n}\n\n'
        "func BenchmarkPlain(b *testing.B) {\n\tfor i := 0; i < b.N; i++ {\n\t\tone()\n\t}\n}\n"
    )
    assert benchsrc.parallel(tmp_path) == {"BenchmarkVia"}


def test_shift_interval_is_the_inversion_of_the_u_test() -> None:
    """The interval holds exactly the shifts the two-sided U test does not reject at 1 - confidence."""
    rng = random.Random(7)
    for m, n in [(6, 6), (3, 6), (6, 10), (5, 5)]:
        x = [rng.uniform(10, 20) for _ in range(m)]
        y = [rng.uniform(12, 25) for _ in range(n)]
        lo, hi = stats.shift_interval(x, y, 0.95)
        eps = 1e-9
        for d, inside in [(lo + eps, True), (hi - eps, True), (lo - eps, False), (hi + eps, False)]:
            p = stats.mann_whitney([v + d for v in x], y).p
            assert (p > 0.05) == inside, (m, n, d, p, lo, hi)


def test_shift_interval_with_too_few_samples_is_the_range() -> None:
    assert stats.shift_interval([1.0, 2.0], [3.0, 5.0]) == (1.0, 4.0)


def _ns(center: float, spread: float, n: int, rng: random.Random) -> list[float]:
    return [center * (1 + rng.uniform(-spread, spread)) for _ in range(n)]


def test_a_noisy_unchanged_row_is_inconclusive_and_warns_a_quiet_one_passes() -> None:
    rng = random.Random(3)
    key = ("p", "BenchmarkX-2", "ns/op")
    quiet = compare_samples(
        {key: _ns(100, 0.02, 6, rng)}, {key: _ns(101, 0.02, 6, rng)}, {"ns/op": UnitInfo("ns/op")}, Options()
    )
    assert quiet.rows[0].verdict == "unchanged" and quiet.verdict == "PASS"
    noisy = compare_samples(
        {key: _ns(100, 0.45, 6, rng)}, {key: _ns(110, 0.05, 6, rng)}, {"ns/op": UnitInfo("ns/op")}, Options()
    )
    row = noisy.rows[0]
    assert row.verdict == INCONCLUSIVE and noisy.verdict == "WARN", row
    why = next(w for w in row.warnings if w.startswith("inconclusive"))
    assert "past the 10% threshold" in why and "old ±" in why and "new ±" in why


def test_inconclusive_applies_to_timing_rows_only() -> None:
    rng = random.Random(5)
    key = ("p", "BenchmarkX-2", "MB/s")
    c = compare_samples(
        {key: _ns(100, 0.45, 6, rng)}, {key: _ns(100, 0.45, 6, rng)}, {"MB/s": UnitInfo("MB/s")}, Options()
    )
    assert c.rows[0].verdict != INCONCLUSIVE


def test_paired_row_is_inconclusive_when_its_ratio_interval_reaches_past_the_threshold() -> None:
    b = [100.0] * 8
    wide = [100 * r for r in (0.7, 1.3, 0.8, 1.25, 0.9, 1.2, 0.75, 1.35)]
    row = paired_row("p", "BenchmarkX-2", "ns/op", b, wide, UnitInfo("ns/op"), 10.0, False, Options())
    assert row.verdict == INCONCLUSIVE and overall([row]) == "WARN", row
    tight = [100 * r for r in (0.99, 1.01, 1.0, 1.02, 0.98, 1.01, 1.0, 0.99)]
    assert (
        paired_row("p", "BenchmarkX-2", "ns/op", b, tight, UnitInfo("ns/op"), 10.0, False, Options()).verdict
        == "unchanged"
    )


def test_one_rule_confirms_a_flag() -> None:
    opts = Options()
    b = [100.0] * 6

    def fresh(ratio: float) -> object:
        h = [100 * ratio * (1 + 0.001 * i) for i in range(6)]
        return paired_row("p", "BenchmarkX-2", "ns/op", b, h, UnitInfo("ns/op"), 10.0, False, opts)

    assert holds("regression", fresh(1.3), opts) == "regression"
    assert holds("regression", fresh(1.07), opts) == "warn"  # worse, but within the threshold
    assert holds("warn", fresh(1.3), opts) == "warn"  # never worsens
    assert holds("regression", fresh(1.0 + 1e-4), opts) == "unchanged"
    assert holds("improvement", fresh(0.8), opts) == "improvement"
    assert holds("improvement", fresh(1.3), opts) == "unchanged"
    assert holds("regression", None, opts) == "unchanged"
    assert math.isclose(fresh(1.3).ratio.center, 1.3025, rel_tol=1e-3)
    # significant, its median +22%, but one ratio of six only +3%: the interval reaches below the smallest
    # change that warns (5%), so the flag holds as a warning, not a regression
    spread = [100 * r for r in (1.03, 1.3, 1.25, 1.2, 1.35, 1.15)]
    straddles = paired_row("p", "BenchmarkX-2", "ns/op", b, spread, UnitInfo("ns/op"), 10.0, False, opts)
    assert straddles.significant and straddles.verdict == "regression", straddles
    assert holds("regression", straddles, opts) == "warn"
    assert "reaches +3.0%" in short_of(straddles, 5.0), short_of(straddles, 5.0)
    clear = [100 * r for r in (1.06, 1.3, 1.25, 1.2, 1.35, 1.15)]  # every ratio worse by 5% or more
    clear_row = paired_row("p", "BenchmarkX-2", "ns/op", b, clear, UnitInfo("ns/op"), 10.0, False, opts)
    assert holds("regression", clear_row, opts) == "regression"


def _confirmed(effect: float, sigma: float, sims: int, seed: int) -> tuple[float, float]:
    """Monte Carlo over 6 fresh rounds of lognormal runs (each side's run spread ``sigma``, head ``effect``
    times base): the rate at which the one rule confirms a regression, and the rate at which the median
    alone (significant and beyond the threshold, the rule before the interval) would have."""
    opts, rng = Options(), random.Random(seed)
    rule = median = 0
    for _ in range(sims):
        b = [100 * math.exp(rng.gauss(0, sigma)) for _ in range(6)]
        h = [100 * effect * math.exp(rng.gauss(0, sigma)) for _ in range(6)]
        row = paired_row("p", "BenchmarkX-2", "ns/op", b, h, UnitInfo("ns/op"), 10.0, False, opts)
        rule += holds("regression", row, opts) == "regression"
        median += row.significant and row.verdict == "regression"
    return rule / sims, median / sims


def test_a_confirmed_regression_on_unchanged_code_is_rarer_and_a_doubling_still_confirmed() -> None:
    """A run flags several rows; on unchanged code, six fresh rounds all on the worse side with a median past
    the threshold happen to about 1 row in 80 at a noisy machine's spread (each run +-15%), so a run of
    three suspects FAILed in about 1 of 30 A/A runs. With the whole interval worse by the smallest change
    that warns as well (the mirror of an improvement's rule), a third as often; a doubling is still
    confirmed in 95% or more."""
    rule, median = _confirmed(1.0, 0.15, 4000, seed=3)
    se = math.sqrt(0.01 * 0.99 / 4000)
    assert median > 0.01 - 2 * se, median  # the old rule's false confirmations: ~1/64 of rows x P(median)
    assert rule < median / 2, (rule, median)
    power, _ = _confirmed(2.0, 0.15, 1000, seed=4)
    assert power > 0.95, power


def _two_looks(effect: float, sigma: float, sims: int, seed: int) -> tuple[float, float]:
    """Monte Carlo of paired confirmation as ``revisions.paired._confirm`` runs it: 6 fresh rounds, and 6
    more when they lean the flagged way without deciding it (:func:`leans`), judged on all 12. The rate at
    which one look confirms a regression, and the rate with the second look."""
    opts, rng = Options(), random.Random(seed)

    def fresh(n: int) -> tuple[list[float], list[float]]:
        return (
            [100 * math.exp(rng.gauss(0, sigma)) for _ in range(n)],
            [100 * effect * math.exp(rng.gauss(0, sigma)) for _ in range(n)],
        )

    one = two = 0
    for _ in range(sims):
        b, h = fresh(6)
        row = paired_row("p", "BenchmarkX-2", "ns/op", b, h, UnitInfo("ns/op"), 10.0, False, opts)
        kept = holds("regression", row, opts)
        one += kept == "regression"
        if leans("regression", row, opts):
            b2, h2 = fresh(6)
            more = paired_row(
                "p", "BenchmarkX-2", "ns/op", b + b2, h + h2, UnitInfo("ns/op"), 10.0, False, opts
            )
            kept = holds("regression", more, opts)
        two += kept == "regression"
    return one / sims, two / sims


def test_fresh_rounds_that_lean_without_deciding_get_a_second_look() -> None:
    """A real +40% whose six fresh rounds include one disturbed round is not significant on them (CI saw
    it: 15 rounds, interval +30..+53%, reported inconclusive). Six more fresh rounds, only when the six
    lean the flagged way, confirm such a change far more often, and on unchanged code still confirm about
    1 flagged row in 250 (a third of the rule before the interval: ~1 in 80)."""
    opts = Options()
    b = [100.0] * 6
    disturbed = [100 * r for r in (1.4, 1.45, 0.97, 1.38, 1.5, 1.42)]
    row = paired_row("p", "BenchmarkX-2", "ns/op", b, disturbed, UnitInfo("ns/op"), 10.0, False, opts)
    assert not row.significant and leans("regression", row, opts), row
    assert holds("regression", row, opts) == "unchanged"
    assert not leans("improvement", row, opts)  # the other way: the six already answer it
    flat = [100 * r for r in (1.01, 0.99, 1.03, 0.98, 1.02, 1.0)]
    assert not leans(
        "regression", paired_row("p", "B-2", "ns/op", b, flat, UnitInfo("ns/op"), 10.0, False, opts), opts
    )
    null_one, null_two = _two_looks(1.0, 0.15, 4000, seed=7)
    assert null_two < 0.01 and null_two >= null_one, (null_one, null_two)
    power_one, power_two = _two_looks(1.4, 0.15, 2000, seed=8)
    assert power_two > power_one + 0.1, (power_one, power_two)


def test_health_reads_the_baselines_spread_too() -> None:
    """A noisy baseline hides a regression as surely as a noisy run: its wide rows are findings, named so."""
    from benchpipe.stages.compare import baseline_findings

    found = baseline_findings(Path(__file__).resolve().parent.parent / "data" / "strings_a.txt", Options())
    wide = [f for f in found if f.problem == "wide spread"]
    assert wide and all(f.detail.startswith("in the baseline: ±") for f in wide), found[:3]
    assert any(f.benchmark.startswith("BenchmarkToUpper/") for f in wide)


def test_benchtime_is_one_typed_value_and_every_command_line_comes_from_one_builder() -> None:
    from benchpipe.core import benchtime

    assert benchtime.parse("100x") == benchtime.Benchtime("100x", iters=100) and benchtime.parse("100x").fixed
    assert benchtime.parse("1.5s").ns == 1.5e9 and not benchtime.parse("1.5s").fixed
    assert benchtime.parse("x").iters is None and benchtime.parse("-3x").iters is None  # Go rejects them
    assert (
        str(benchtime.seconds(0.001)) == "0.01s" and str(benchtime.seconds(1234.5)) == "1234s"
    )  # never 1.23e+03s
    assert str(benchtime.iterations(12.9)) == "12x"
    args = toolchain.bench_args("^B$", 3, "200ms", "1,2", timeout="5m")
    assert toolchain.go_test_command(args, ["./p"]) == [
        "go",
        "test",
        "-run",
        "^$",
        "-bench",
        "^B$",
        "-count",
        "3",
        "-benchtime",
        "200ms",
        "-timeout",
        "5m",
        "-benchmem",
        "-cpu",
        "1,2",
        "./p",
    ]
    counted = toolchain.bench_args("^B$", 1, "10x", "1", timeout="1m", benchmem=False, framing=False)
    assert counted == [
        "-test.run=^$",
        "-test.bench=^B$",
        "-test.count=1",
        "-test.benchtime=10x",
        "-test.timeout=1m",
        "-test.cpu=1",
    ]
    assert toolchain.build_argv(["m/p"], "DIR/", strip=False) == ["go", "test", "-c", "-o", "DIR/", "m/p"]
    assert "-ldflags=-s -w" in toolchain.build_argv(["m/p"], "DIR/")
    assert toolchain.profile_flags(cpu=Path("c"), mem=Path("m"), memrate=1) == (
        "-test.cpuprofile=c",
        "-test.memprofile=m",
        "-test.memprofilerate=1",
    )


def _confirm_plan(tmp_path: Path, iters: dict) -> object:
    """A confirmation's plan of ``iters``' results at ``-benchtime 1s``, 6 rounds (nothing is run)."""
    from benchpipe.revisions import paired

    return paired.Plan(
        target=tmp_path,
        base_rev="x",
        head_rev=None,
        patterns=["."],
        bench=".",
        rounds=6,
        confirm_rounds=0,
        benchtime="1s",
        order="alternate",
        timeout="10m",
        changed_only=False,
        cache=tmp_path,
        refs=sorted(iters),
        iters=dict(iters),
    )


def test_confirmation_budgets_a_runparallel_result_by_what_its_runs_took(tmp_path: Path) -> None:
    """fastcache's RunParallel benchmarks (5 ms operations) at 1s: each run took ~1.7 s of wall time (go
    test's ramp-up runs at N=1 and N=100 come first), recorded in bench.json's ``bench_s``. Confirmation's
    budget counts that, so the rounds it plans fit the run they confirm; a result that does not call
    RunParallel runs at a fixed b.N (no ramp-up) and gets no factor."""
    from benchpipe.core import benchfmt
    from benchpipe.core.artifacts import BenchMeta
    from benchpipe.revisions import confirm, paired
    from benchpipe.store import artifacts

    data = Path(__file__).resolve().parent.parent / "data"
    parsed = benchfmt.read_files([data / "fastcache_1s.txt"])
    meta = artifacts.read(data / "fastcache_1s.json", BenchMeta)
    src = tmp_path / "fastcache"
    src.mkdir()
    (src / "x_test.go").write_text(
        'package fastcache\n\nimport "testing"\n\n'
        + "".join(
            f"func Benchmark{n}(b *testing.B) {{\n\tb.RunParallel(func(pb *testing.PB) {{\n\t\tfor pb.Next() "
            "{\n\t\t}\n\t})\n}\n\n"
            for n in ("CacheSet", "CacheGet")
        )
        + "func BenchmarkCacheSetGet(b *testing.B) {\n\tfor i := 0; i < b.N; i++ {\n\t}\n}\n"
    )
    meta.packages[0].dir = str(src)
    values = benchfmt.samples(parsed)
    c = compare_samples(values, values, parsed.units, Options())
    iters = benchfmt.iterations(benchfmt.with_iters(parsed))
    factors = confirm.wall_factors(c, meta, iters)

    pkg = meta.packages[0].import_path
    assert set(factors) == {(pkg, "BenchmarkCacheSet"), (pkg, "BenchmarkCacheGet")}
    for name in ("BenchmarkCacheSet", "BenchmarkCacheGet"):  # wall over timed work, summed over the samples
        timed = sum(
            r.iters * v / 1e9
            for r in parsed.results
            if r.base_name == name
            for v, u in r.values
            if u == "ns/op"
        )
        assert factors[(pkg, name)] == pytest.approx(meta.packages[0].bench_s[name] / timed, rel=0.1)
        assert factors[(pkg, name)] > 1.3

    def plan() -> paired.Plan:
        return _confirm_plan(tmp_path, iters)

    budget = meta.go_s
    plain, counted = plan(), plan()
    confirm.within_budget(plain, c, budget)
    confirm.within_budget(counted, c, budget, factors)

    # the planned rounds' wall time, each RunParallel run costing what the run's runs cost per second timed
    def wall(p: paired.Plan) -> float:
        bt = float(p.benchtime.rstrip("s"))
        ns = {(r.package, benchfmt.base_name(r.benchmark)): r.new.center for r in c.rows if r.unit == "ns/op"}
        return 13 * sum(bt * factors[k] if k in factors else p.iters[k] * ns[k] / 1e9 for k in p.refs)

    assert wall(plain) > budget * confirm.ROUNDS_SHARE * 1.2  # without the factors: over its share
    assert wall(counted) <= budget * confirm.ROUNDS_SHARE  # with them: within it


def test_an_amortised_unit_the_rounds_cannot_split_is_neither_regressed_nor_improved() -> None:
    """A RunParallel result's rounds run for a time, so a side that runs faster reaches a larger b.N and
    shares its setup's allocations among more iterations. When each side's b.N lie too close together to
    separate per-op cost from setup / b.N, the lower allocs/op of the faster side is not an improvement
    (nor the higher one of the slower side a regression): the same code, with more iterations."""
    from benchpipe.revisions.paired import analyze
    from benchpipe.revisions.rounds import RoundValues

    key = ("example.com/p", "BenchmarkCacheSet-2", "allocs/op")
    rv = RoundValues()
    for side, iters in (("base", [100, 101, 102, 100, 101, 102]), ("head", [120, 121, 122, 120, 121, 122])):
        rv.iters[side][key] = dict(enumerate(iters))
        rv.values[side][key] = {r: 30 + 3000 / n for r, n in enumerate(iters)}  # per op 30, setup 3000
    rv.units["allocs/op"] = UnitInfo("allocs/op")
    opts = Options(rules=[Rule(unit="allocs/op", assume="exact", threshold_pct=1)])
    (row,) = analyze(rv, opts)
    assert row.delta_pct is not None and row.delta_pct < -5  # the raw values did move, the faster way
    assert row.verdict == "unchanged" and not row.significant, (row.verdict, row.warnings)
    assert any("too close together" in w for w in row.warnings)


def test_a_row_the_budget_left_inconclusive_says_the_budget_ended_its_rounds() -> None:
    """Baseline-flow confirmation (``confirm._judge_all``): a flagged row whose interleaved rounds neither
    hold nor rule out its flag is inconclusive; when the budget ended those rounds, it says so (more rounds
    could decide it), and without a cut it does not."""
    from benchpipe.core.artifacts import ConfirmFacts
    from benchpipe.revisions.confirm import _judge_all

    rng, key = random.Random(11), ("p", "BenchmarkX-2", "ns/op")
    opts = Options()

    def flagged() -> object:
        c = compare_samples(
            {key: _ns(100, 0.01, 6, rng)}, {key: _ns(130, 0.01, 6, rng)}, {"ns/op": UnitInfo("ns/op")}, opts
        )
        assert c.rows[0].verdict == "regression"
        return c.rows[0]

    wide = [100 * r for r in (0.8, 1.3, 0.85, 1.25, 0.9, 1.3, 0.8, 1.35, 1.0, 1.1, 0.95)]
    p = paired_row("p", "BenchmarkX-2", "ns/op", [100.0] * 11, wide, UnitInfo("ns/op"), 10.0, False, opts)
    assert p.verdict == INCONCLUSIVE
    for cut in (None, 11):
        r = flagged()
        _judge_all([r], {key: p}, cut, 131.5, 12, "{n} interleaved rounds", opts, ConfirmFacts())
        said = [w for w in r.warnings if w.startswith("confirmation's budget (132s")]
        assert r.verdict == INCONCLUSIVE, r.warnings
        if cut is None:
            assert said == [], said
        else:
            assert len(said) == 1 and "in round 12" in said[0], said


def test_confirmation_cuts_each_fixed_bn_run_to_the_paired_benchtime(tmp_path: Path) -> None:
    """Baseline-flow confirmation (``confirm.shorten``) on fastcache's recorded run at 1s: each result whose
    run's b.N times its ns/op is past ``paired.benchtime`` runs at the b.N that times that much (one
    operation more at most), never above the run's own b.N; a result already shorter keeps its b.N; a
    benchtime that is not a time cuts nothing."""
    from benchpipe.core import benchfmt
    from benchpipe.revisions import confirm, paired

    data = Path(__file__).resolve().parent.parent / "data"
    parsed = benchfmt.read_files([data / "fastcache_1s.txt"])
    values = benchfmt.samples(parsed)
    c = compare_samples(values, values, parsed.units, Options())
    iters = benchfmt.iterations(benchfmt.with_iters(parsed))
    ns = {(r.package, benchfmt.base_name(r.benchmark)): r.new.center for r in c.rows if r.unit == "ns/op"}

    def plan() -> paired.Plan:
        return _confirm_plan(tmp_path, iters)

    for cap_s in (0.1, 0.02):
        p = plan()
        said = confirm.shorten(p, c, f"{cap_s * 1000:g}ms")
        longer = [k for k in iters if iters[k] * ns[k] / 1e9 > cap_s]
        assert longer and said.startswith(f"{len(longer)} of them"), said
        for k, n in p.iters.items():
            timed = n * ns[k] / 1e9
            if k in longer:
                assert cap_s <= timed < cap_s + ns[k] / 1e9 and n < iters[k], (k, n, timed)
            else:
                assert n == iters[k], k
    p = plan()
    assert confirm.shorten(p, c, "200x") == "" and p.iters == iters


def test_extra_rounds_stop_for_a_result_once_more_rounds_cannot_decide_it() -> None:
    """``paired.still_open``, the one stopping rule of extra rounds (the design's and confirmation's): a
    result whose per-round ratios lie tight around 1 is shown unchanged and stops; one whose ratios spread
    ±20% is still open after 6 rounds; one clearly 40% slower is decided and stops too, unless worse rows
    keep running (confirmation's looks, without a design's levels); a failed one stops."""
    from benchpipe.revisions.paired import still_open
    from benchpipe.revisions.rounds import RoundValues

    rng = random.Random(5)
    rv = RoundValues()
    spreads = {
        "BenchmarkTight-2": (1.0, 0.005),
        "BenchmarkWide-2": (1.0, 0.2),
        "BenchmarkSlow-2": (1.4, 0.01),
    }
    for name, (ratio, spread) in spreads.items():
        key = ("example.com/p", name, "ns/op")
        base = {r: 100 * rng.uniform(0.97, 1.03) for r in range(6)}
        rv.values["base"][key] = base
        rv.values["head"][key] = {
            r: v * ratio * (1 + spread * (-1) ** r * rng.uniform(0.5, 1)) for r, v in base.items()
        }
        for side in ("base", "head"):
            rv.iters[side][key] = dict.fromkeys(range(6), 1_000_000)
    rv.units["ns/op"] = UnitInfo("ns/op")
    refs = [("example.com/p", n.removesuffix("-2")) for n in spreads]
    assert still_open(rv, Options(), refs) == [("example.com/p", "BenchmarkWide")]
    # without a design's levels for its looks, a result found worse keeps running: only unchanged ones stop
    assert still_open(rv, Options(), refs, worse_stops=False) == [
        ("example.com/p", "BenchmarkWide"),
        ("example.com/p", "BenchmarkSlow"),
    ]
    rv.failed[("example.com/p", "BenchmarkWide")] = []
    assert still_open(rv, Options(), refs) == []
