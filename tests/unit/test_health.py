"""Benchmark health and exact-only-where-exact, on recorded real Go output (valyala/fastjson v1.6.10
BenchmarkMarshalTo, -benchmem -count 6 -benchtime 200ms on this machine) and the example's source."""

from __future__ import annotations

from benchpipe.core import benchfmt, health
from benchpipe.core.units import UnitInfo
from benchpipe.core.verdict import Options, Rule, compare_samples
from benchpipe.go import benchsrc

from ..conftest import DATA, EXAMPLE

OPTS = Options(
    rules=[
        Rule(unit="allocs/op", assume="exact", threshold_pct=1),
        Rule(unit="B/op", assume="exact", threshold_pct=1),
    ]
)
# The six B/op samples of fastjson's BenchmarkMarshalTo/citm in the baseline of issue 20 (1s, count 6).
ISSUE_CITM = [5194.0, 1074.0, 987.0, 4858.0, 1196.0, 996.0]


def _recorded() -> benchfmt.Parsed:
    return benchfmt.read_files([DATA / "fastjson_marshalto.txt"])


def test_b_per_op_that_varies_with_b_n_is_tested_not_judged_exact() -> None:
    run = benchfmt.samples(_recorded())
    key = ("github.com/valyala/fastjson", "BenchmarkMarshalTo/citm-2", "B/op")
    assert len(set(run[key])) > 1
    c = compare_samples({key: ISSUE_CITM}, {key: run[key]}, {"B/op": UnitInfo("B/op")}, OPTS)
    (row,) = c.rows
    assert row.varies_with_n and row.p is not None and row.threshold_pct == 10.0
    assert row.old.center == sorted(ISSUE_CITM)[2] + (sorted(ISSUE_CITM)[3] - sorted(ISSUE_CITM)[2]) / 2
    assert c.verdict != "FAIL", (row.verdict, row.delta_pct, row.p)
    # the same rows with exact data on both sides: any change of the value is significant
    exact = compare_samples({key: [48.0] * 6}, {key: [64.0] * 6}, {"B/op": UnitInfo("B/op")}, OPTS)
    assert (
        exact.rows[0].p is None and exact.rows[0].verdict == "regression" and not exact.rows[0].varies_with_n
    )


def test_a_b_per_op_change_smaller_than_any_allocation_is_jitter() -> None:
    k_b, k_n = ("p", "BenchmarkUUID-2", "B/op"), ("p", "BenchmarkUUID-2", "allocs/op")
    units = {"B/op": UnitInfo("B/op"), "allocs/op": UnitInfo("allocs/op")}
    c = compare_samples({k_b: [97.0] * 6, k_n: [2.0] * 6}, {k_b: [98.0] * 6, k_n: [2.0] * 6}, units, OPTS)
    b = next(r for r in c.rows if r.unit == "B/op")
    assert (
        b.verdict == "unchanged"
        and "less than the smallest allocation" in b.warnings[-1]
        and c.verdict == "PASS"
    )
    # 16 bytes more in one more allocation: a regression on both rows
    c = compare_samples({k_b: [97.0] * 6, k_n: [2.0] * 6}, {k_b: [113.0] * 6, k_n: [3.0] * 6}, units, OPTS)
    assert {r.unit: r.verdict for r in c.rows} == {"B/op": "regression", "allocs/op": "regression"}


def test_health_of_a_recorded_run() -> None:
    found = health.from_run(benchfmt.with_iters(_recorded()), OPTS)
    by = {(f.benchmark, f.unit): f for f in found}
    citm = by[("BenchmarkMarshalTo/citm", "B/op")]
    assert citm.problem == "varies with b.N" and "3380" in citm.detail and "17836" in citm.detail
    # exact rows (0 B/op in every sample) and runtime jitter are not listed
    assert ("BenchmarkMarshalTo/small", "B/op") not in by
    assert all(f.problem in ("varies with b.N", "wide spread", "bimodal") for f in found)
    # a finding covers the comparison rows of its result, with or without the -N suffix
    assert citm.covers("github.com/valyala/fastjson", "BenchmarkMarshalTo/citm-2", "B/op")
    assert not citm.covers("github.com/valyala/fastjson", "BenchmarkMarshalTo/citm-2", "ns/op")


def test_bimodal_needs_two_tight_groups_far_apart() -> None:
    assert health.bimodal([100, 101, 102, 150, 151, 152]) == (101, 151)
    assert health.bimodal([100, 110, 120, 130, 140, 150]) is None
    assert health.bimodal([100, 100.5, 101, 101.5, 102, 300]) is None  # one outlier is not a mode


def test_history_and_profiles() -> None:
    found = health.from_history(
        {
            "BenchmarkA-2": [100, 104, 98, 101, 130],
            "BenchmarkB-2": [100, 101, 99, 100, 102],
            "BenchmarkC-2": [100, 150],
        },
        "ns/op",
        10.0,
    )
    assert [(f.benchmark, f.problem) for f in found] == [("BenchmarkA", "unstable across runs")]
    assert "±29%" in found[0].detail
    prof = health.from_profiles({("p", "BenchmarkEvaluate-2"): 55.0, ("p", "BenchmarkCompile-2"): 3.0})
    assert [(f.benchmark, f.problem) for f in prof] == [("BenchmarkEvaluate", "measurement overhead")]


def test_setup_timed_in_a_b_n_loop_is_read_from_the_source() -> None:
    found = benchsrc.scan("example.com/policyengine/pkg/core", EXAMPLE / "pkg" / "core")
    compile_ = next(s for s in found if s.benchmark == "BenchmarkCompile")
    assert compile_.setup.startswith("d, err := policydomain.Parse(") and compile_.where.startswith(
        "core_test.go:"
    )
    assert not compile_.b_loop_ok  # the example's go.mod says go 1.22
    assert "BenchmarkEvaluate" not in {s.benchmark for s in found}  # resets its timer after setup
    (finding,) = [f for f in health.from_sources(found) if f.benchmark == "BenchmarkCompile"]
    assert "b.ResetTimer()" in finding.fix
    assert benchsrc.timed_setup("\n\tx := load()\n\tfor b.Loop() {\n\t\tuse(x)\n\t}\n", "b") == ("", False)
    assert benchsrc.timed_setup("\n\tx := load()\n\tfor i := 0; i < b.N; i++ {\n\t\tuse(x)\n\t}\n", "b") == (
        "x := load()",
        True,
    )


def test_a_shift_is_the_machines_only_from_benchmarks_the_change_cannot_affect() -> None:
    from benchpipe.core.shift import detect

    base = [100.0, 101.0, 99.0, 100.5, 100.2, 99.8]
    moves = {"p/a": (1.30, 1.28, 1.31), "p/b": (1.20, 1.21, 1.19), "p/c": (1.00, 1.01, 0.99)}
    old = {(pk, f"BenchmarkF{i}-2", "ns/op"): base for pk in moves for i in range(3)}
    new = {
        (pk, f"BenchmarkF{i}-2", "ns/op"): [v * f for v in base]
        for pk, fs in moves.items()
        for i, f in enumerate(fs)
    }
    c = compare_samples(old, new, {"ns/op": UnitInfo("ns/op")}, OPTS)
    all_moved = detect(c.rows)
    assert (
        all_moved is not None and all_moved.moved == 6 and all_moved.families == 9 and not all_moved.machine
    )
    # the three benchmarks the change cannot affect did not move: the others' move is the change's
    apart = detect(c.rows, unaffected={"p/c"})
    assert apart is not None and not apart.machine and "cannot tell" in apart.describe()
    # unaffected benchmarks that moved alike are the machine
    machine = detect(c.rows, unaffected={"p/b"})
    assert machine is not None and machine.machine and machine.families == 3 and 19.0 < machine.pct < 21.5
    assert "3 of 3 benchmarks the change cannot affect moved the same way" in machine.describe()
    # too few unaffected families to say
    few = detect(c.rows, unaffected=set())
    assert few is not None and not few.machine


def test_gate_and_job_summary_say_when_a_failing_row_is_untrustworthy_and_the_run_shifted() -> None:
    from benchpipe.cli.commands import gate
    from benchpipe.core.artifacts import compare_doc
    from benchpipe.core.shift import detect
    from benchpipe.render import ci

    # a run where four unrelated benchmarks all moved ~+14%, one beyond the threshold with a wide spread
    old = {("p", f"BenchmarkF{i}-2", "ns/op"): [100.0, 101.0, 99.0, 100.5, 100.2, 99.8] for i in range(4)}
    new = {
        k: [v * f for v in vals] for (k, vals), f in zip(old.items(), (1.14, 1.13, 1.15, 1.25), strict=True)
    }
    c = compare_samples(old, new, {"ns/op": UnitInfo("ns/op")}, OPTS)
    moved = detect(c.rows)  # which packages the change affects is not known: not called the machine
    assert moved is not None and moved.families == 4 and moved.moved == 4 and 13.5 < moved.pct < 15.5
    assert not moved.machine and moved.describe().startswith(
        "4 of 4 benchmarks moved the same way (median +14."
    )
    assert "cannot tell" in moved.describe() and "the machine, not the code" not in moved.describe()
    moved = detect(c.rows, unaffected={"p"})  # package p cannot be affected by the change: the machine
    assert moved is not None and moved.machine and moved.families == 4
    c.shift = moved.describe()
    worst = next(r for r in c.rows if r.benchmark == "BenchmarkF3-2")
    finding = health.Finding(
        "p", "BenchmarkF3", "ns/op", "wide spread", "±30% around the median", "run longer"
    )
    worst.warnings.append(f"untrustworthy ({finding.problem}: {finding.detail}); see Benchmark health")
    data = compare_doc(c)
    code, lines = gate.decide(data, require_baseline=True, strict_env=False)
    assert code == 1 and lines[0].startswith("RUN-WIDE SHIFT: the whole run is 14.")
    assert (
        lines[-1]
        == "note: BenchmarkF3-2 ns/op regressed, but untrustworthy (wide spread: ±30% around the median); "
        "see Benchmark health"
    )
    summary = ci.summary_markdown(data)
    assert "run-wide shift: the whole run is 14." in summary and "untrustworthy (wide spread" in summary
    # unrelated means families: sub-benchmarks of one benchmark are one family, so no shift is called
    fam = {(k[0], k[1].replace("BenchmarkF", "BenchmarkG/case"), k[2]): v for k, v in old.items()}
    fam_new = {(k[0], k[1].replace("BenchmarkF", "BenchmarkG/case"), k[2]): v for k, v in new.items()}
    assert detect(compare_samples(fam, fam_new, {"ns/op": UnitInfo("ns/op")}, OPTS).rows) is None
