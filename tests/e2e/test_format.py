"""The benchfmt / go test -json reader on real Go output and on the spec's edge cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchpipe.core import benchfmt

from ..conftest import DATA, EXAMPLE, run


def test_go_test_json_matches_text(tmp_path: Path, go: str) -> None:
    """Live `go test -json` and its text rendering give the same results."""
    args = [
        go,
        "test",
        "-run",
        "^$",
        "-bench",
        "Evaluate$",
        "-benchmem",
        "-count",
        "2",
        "-benchtime",
        "20ms",
        "-cpu",
        "3",
        "./pkg/core",
    ]
    j = run(args[:2] + ["-json"] + args[2:], cwd=EXAMPLE)
    assert j.returncode == 0, j.stderr
    parsed = benchfmt.read_text(j.stdout, "live.json")
    assert parsed.errors == []
    assert [r.name for r in parsed.results] == [
        "BenchmarkEvaluate-3"
    ] * 2  # -cpu 3: the -N suffix go test prints
    assert len(parsed.results) == 2
    assert parsed.results[0].package == "example.com/policyengine/pkg/core"
    recorded = benchfmt.read_files([DATA / "example.json"])
    assert recorded.errors == [] and len(recorded.results) == 4


def test_column_reader_equals_the_line_reader_on_real_outputs(
    tmp_path: Path, go: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast column-at-a-time path gives exactly the line reader's samples, keys in the same order; it
    declines (and the line reader decides) on anything unusual. Also read in chunks of one line, and of a
    few lines (a benchmark's results split across chunks)."""
    # a live run of Go's own bytes benchmarks: sub-benchmarks, MB/s on some lines only, several -cpu values
    live = tmp_path / "bytes.txt"
    p = run(
        [
            go,
            "test",
            "-run",
            "^$",
            "-bench",
            "^Benchmark(IndexByte|Equal)$",
            "-benchmem",
            "-count",
            "2",
            "-benchtime",
            "2000x",
            "-cpu",
            "1,2",
            "bytes",
        ],
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    live.write_text(p.stdout)
    plain = [DATA / n for n in ("strings_a.txt", "strings_b.txt", "example_fast.txt", "example_slow.txt")] + [
        live
    ]
    for path in plain:
        ref = benchfmt.read_files([path])
        expected = benchfmt.samples(ref)
        for chunk in (benchfmt._CHUNK, 1, 300):
            monkeypatch.setattr(benchfmt, "_CHUNK", chunk)
            fast = benchfmt._columns(path.read_bytes(), str(path))
            assert fast is not None, f"{path.name}: plain benchfmt should take the column path"
            assert list(fast.values.items()) == list(expected.items()), (path.name, chunk)
            assert fast.first_config == ref.results[0].config and fast.errors == ref.errors == []
            assert benchfmt.read_samples(path).values == expected
        monkeypatch.undo()
    # split results, JSON events, a malformed line: the line reader, with its errors
    assert benchfmt._columns((DATA / "chatty_plain.txt").read_bytes(), "chatty") is None
    assert benchfmt._columns(b'{"Action":"output","Output":"x"}\n', "json") is None
    bad = tmp_path / "bad.txt"
    text = live.read_text().splitlines()
    i = next(n for n, ln in enumerate(text) if ln.startswith("Benchmark"))
    text[i] = text[i].replace(" ns/op", " 12x ns/op", 1)
    bad.write_text("\n".join(text) + "\n")
    s = benchfmt.read_samples(bad)
    assert (
        benchfmt._columns(bad.read_bytes(), "bad") is None
        and s.errors
        and s.errors[0].startswith(f"{bad}:{i + 1}:")
    )
    dropped = len(benchfmt.parse_result(live.read_text().splitlines()[i])[2])  # the malformed result's values
    assert (
        sum(map(len, s.values.values()))
        == sum(map(len, benchfmt.samples(benchfmt.read_files([live])).values())) - dropped
    )
    # read_pair (the second file read in a forked child) gives what reading each alone gives
    a, b = benchfmt.read_pair(DATA / "strings_a.txt", live)
    assert (
        a.values == benchfmt.read_samples(DATA / "strings_a.txt").values
        and b.values == benchfmt.read_samples(live).values
    )
