"""The benchfmt / go test -json reader on recorded real Go output and on the spec's edge cases (no Go run)."""

from __future__ import annotations

from benchpipe.core import benchfmt

from ..conftest import DATA


def test_reads_real_stdlib_output_with_sub_benchmarks() -> None:
    p = benchfmt.read_files([DATA / "strings_a.txt"])
    assert p.errors == []
    names = {r.name for r in p.results}
    assert "BenchmarkIndexByte-2" in names  # the recorded run's GOMAXPROCS suffix, kept as Go printed it
    subs = [r for r in p.results if "/" in r.name]
    assert subs, "strings' Repeat/ToUpper sub-benchmarks should be read"
    r = subs[0]
    assert r.base_name == r.name.rsplit("-", 1)[0]
    assert r.procs >= 1 and r.package == "strings" and r.config["goos"] == "linux"
    # every result line of the file was read, each once
    lines = [ln for ln in (DATA / "strings_a.txt").read_text().splitlines() if ln.startswith("Benchmark")]
    assert len(p.results) == len(lines)
    first = p.results[0]
    assert [u for _, u in first.values] == ["ns/op", "B/op", "allocs/op"]
    assert first.values[0][0] == float(lines[0].split()[2])


def test_custom_metrics_from_the_example() -> None:
    p = benchfmt.read_files([DATA / "example_fast.txt"])
    ev = [r for r in p.results if r.base_name == "BenchmarkEvaluate"]
    assert len(ev) == 6
    units = [u for _, u in ev[0].values]
    assert {"p50-ns", "p95-ns", "p99-ns", "decisions/s", "ns/op", "B/op", "allocs/op"} <= set(units)


def test_json_event_split_across_lines() -> None:
    ev = [
        '{"Action":"output","Package":"p","Output":"pkg: p\\n"}',
        '{"Action":"output","Package":"p","Output":"BenchmarkX-2   \\t"}',
        '{"Action":"output","Package":"p","Output":"  100\\t  12.5 ns/op\\n"}',
    ]
    p = benchfmt.read_text("\n".join(ev), "j.json")
    assert p.errors == []
    assert len(p.results) == 1 and p.results[0].values == [(12.5, "ns/op")] and p.results[0].package == "p"


def test_config_unit_lines_and_malformed_lines_are_reported_and_skipped() -> None:
    text = "\n".join(
        [
            "goos: linux",
            "note:nospace",
            "Unit ns/op better=lower assume=nothing",
            "Unit widgets/s assume=exact",
            "BenchmarkA-4 10 5 ns/op 3 widgets/s",
            "BenchmarkBad-4 ten 5 ns/op",
            "BenchmarkNoUnit-4 10 5",
            "BenchmarkNoValues-4 10",
            "BenchmarkOnlyName",
            "goos:",
            "BenchmarkB 10 7 ns/op",
            "PASS",
        ]
    )
    p = benchfmt.read_text(text, "f.txt")
    assert [r.name for r in p.results] == ["BenchmarkA-4", "BenchmarkB"]
    assert p.results[0].config == {"goos": "linux"} and p.results[1].config == {}
    assert p.results[1].procs == 1 and p.results[0].procs == 4
    assert p.units["widgets/s"].assume == "exact" and p.units["ns/op"].better == "lower"
    assert p.errors == [
        "f.txt:6: parsing iteration count: invalid syntax",
        "f.txt:7: missing units",
        "f.txt:8: missing measurements",
    ]
