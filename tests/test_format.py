"""The benchfmt / go test -json reader on real Go output and on the spec's edge cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchpipe.core import benchfmt as bfmt

from .conftest import DATA, EXAMPLE, run


def test_reads_real_stdlib_output_with_sub_benchmarks() -> None:
    p = bfmt.read_files([DATA / "strings_a.txt"])
    assert p.errors == []
    names = {r.name for r in p.results}
    assert "BenchmarkIndexByte-2" in names or any(n.startswith("BenchmarkIndexByte-") for n in names)
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
    p = bfmt.read_files([DATA / "example_fast.txt"])
    ev = [r for r in p.results if r.base_name == "BenchmarkEvaluate"]
    assert len(ev) == 6
    units = [u for _, u in ev[0].values]
    assert {"p50-ns", "p95-ns", "p99-ns", "decisions/s", "ns/op", "B/op", "allocs/op"} <= set(units)


def test_go_test_json_matches_text(tmp_path: Path, go: str) -> None:
    """Live `go test -json` and its text rendering give the same results."""
    args = [go, "test", "-run", "^$", "-bench", "Evaluate$", "-benchmem", "-count", "2", "-benchtime", "20ms",
            "./pkg/core"]
    j = run(args[:2] + ["-json"] + args[2:], cwd=EXAMPLE)
    assert j.returncode == 0, j.stderr
    parsed = bfmt.read_text(j.stdout, "live.json")
    assert parsed.errors == []
    assert [r.name for r in parsed.results] == ["BenchmarkEvaluate-2"] * 2 or \
        all(r.base_name == "BenchmarkEvaluate" for r in parsed.results)
    assert len(parsed.results) == 2
    assert parsed.results[0].package == "example.com/policyengine/pkg/core"
    recorded = bfmt.read_files([DATA / "example.json"])
    assert recorded.errors == [] and len(recorded.results) == 4


def test_json_event_split_across_lines() -> None:
    ev = [
        '{"Action":"output","Package":"p","Output":"pkg: p\\n"}',
        '{"Action":"output","Package":"p","Output":"BenchmarkX-2   \\t"}',
        '{"Action":"output","Package":"p","Output":"  100\\t  12.5 ns/op\\n"}',
    ]
    p = bfmt.read_text("\n".join(ev), "j.json")
    assert p.errors == []
    assert len(p.results) == 1 and p.results[0].values == [(12.5, "ns/op")] and p.results[0].package == "p"


def test_config_unit_lines_and_malformed_lines_are_reported_and_skipped() -> None:
    text = "\n".join([
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
    ])
    p = bfmt.read_text(text, "f.txt")
    assert [r.name for r in p.results] == ["BenchmarkA-4", "BenchmarkB"]
    assert p.results[0].config == {"goos": "linux"} and p.results[1].config == {}
    assert p.results[1].procs == 1 and p.results[0].procs == 4
    assert p.units["widgets/s"].assume == "exact" and p.units["ns/op"].better == "lower"
    assert p.errors == ["f.txt:6: parsing iteration count: invalid syntax", "f.txt:7: missing units",
                        "f.txt:8: missing measurements"]


def test_column_reader_equals_the_line_reader_on_real_outputs(tmp_path: Path, go: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast column-at-a-time path gives exactly the line reader's samples, keys in the same order; it
    declines (and the line reader decides) on anything unusual. Also read in chunks of one line, and of a
    few lines (a benchmark's results split across chunks)."""
    # a live run of Go's own bytes benchmarks: sub-benchmarks, MB/s on some lines only, several -cpu values
    live = tmp_path / "bytes.txt"
    p = run([go, "test", "-run", "^$", "-bench", "^Benchmark(IndexByte|Equal)$", "-benchmem", "-count", "2",
             "-benchtime", "2000x", "-cpu", "1,2", "bytes"], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    live.write_text(p.stdout)
    plain = [DATA / n for n in ("strings_a.txt", "strings_b.txt", "example_fast.txt", "example_slow.txt")] + [live]
    for path in plain:
        ref = bfmt.read_files([path])
        expected = bfmt.samples(ref)
        for chunk in (bfmt._CHUNK, 1, 300):
            monkeypatch.setattr(bfmt, "_CHUNK", chunk)
            fast = bfmt._columns(path.read_bytes(), str(path))
            assert fast is not None, f"{path.name}: plain benchfmt should take the column path"
            assert list(fast.values.items()) == list(expected.items()), (path.name, chunk)
            assert fast.first_config == ref.results[0].config and fast.errors == ref.errors == []
            assert bfmt.read_samples(path).values == expected
        monkeypatch.undo()
    # split results, JSON events, a malformed line: the line reader, with its errors
    assert bfmt._columns((DATA / "chatty_plain.txt").read_bytes(), "chatty") is None
    assert bfmt._columns(b'{"Action":"output","Output":"x"}\n', "json") is None
    bad = tmp_path / "bad.txt"
    text = live.read_text().splitlines()
    i = next(n for n, ln in enumerate(text) if ln.startswith("Benchmark"))
    text[i] = text[i].replace(" ns/op", " 12x ns/op", 1)
    bad.write_text("\n".join(text) + "\n")
    s = bfmt.read_samples(bad)
    assert bfmt._columns(bad.read_bytes(), "bad") is None and s.errors and s.errors[0].startswith(f"{bad}:{i + 1}:")
    dropped = len(bfmt.parse_result(live.read_text().splitlines()[i])[2])  # the malformed result's values
    assert sum(map(len, s.values.values())) == sum(map(len, bfmt.samples(bfmt.read_files([live])).values())) - dropped
    # read_pair (the second file read in a forked child) gives what reading each alone gives
    a, b = bfmt.read_pair(DATA / "strings_a.txt", live)
    assert a.values == bfmt.read_samples(DATA / "strings_a.txt").values and b.values == bfmt.read_samples(live).values
