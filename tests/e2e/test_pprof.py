"""The pprof decoder on real profiles from `go test`, against `go tool pprof -top`."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from benchpipe.core import pprof

from ..conftest import EXAMPLE, run

TOP = re.compile(
    r"^\s*(\S+?)(?:s|ms|us|µs|ns|B|kB|MB|GB)?\s+([\d.]+)%\s+[\d.]+%\s+\S+\s+([\d.]+)%\s+(.+?)\s*$"
)


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory, go: str) -> Path:
    d = tmp_path_factory.mktemp("prof")
    p = run(
        [
            go,
            "test",
            "-run",
            "^$",
            "-bench",
            "Evaluate",
            "-benchtime",
            "1s",
            "-cpuprofile",
            str(d / "cpu.prof"),
            "-memprofile",
            str(d / "mem.prof"),
            "-memprofilerate",
            "1",
            "-o",
            str(d / "core.test"),
            "./pkg/core",
        ],
        cwd=EXAMPLE,
    )
    assert p.returncode == 0, p.stderr
    return d


def pprof_top(go: str, d: Path, prof: str, sample_index: str) -> dict[str, tuple[str, str]]:
    p = run(
        [
            go,
            "tool",
            "pprof",
            "-top",
            "-nodecount=100000",
            "-nodefraction=0",
            "-edgefraction=0",
            f"-sample_index={sample_index}",
            str(d / "core.test"),
            str(d / prof),
        ]
    )
    assert p.returncode == 0, p.stderr
    out = {}
    for line in p.stdout.splitlines():
        m = TOP.match(line)
        if m and not line.lstrip().startswith("flat"):
            name = re.sub(r" \((partial-)?inline\)$", "", m.group(4))
            out[name] = (m.group(2), m.group(3))
    return out


@pytest.mark.parametrize(
    "prof,sample", [("cpu.prof", "cpu"), ("mem.prof", "alloc_space"), ("mem.prof", "alloc_objects")]
)
def test_percentages_match_go_tool_pprof(profiles: Path, go: str, prof: str, sample: str) -> None:
    ref = pprof_top(go, profiles, prof, sample)
    assert len(ref) >= 5
    costs, total = pprof.top(pprof.load(profiles / prof), sample)
    ours = {c.name: (100 * c.flat / total, 100 * c.cum / total) for c in costs}
    for name, (flat, cum) in ref.items():
        assert name in ours, name
        for mine, theirs in zip(ours[name], (flat, cum), strict=True):
            digits = len(theirs.split(".")[1]) if "." in theirs else 0
            assert f"{mine:.{digits}f}" == theirs, (
                name,
                ours[name],
                flat,
                cum,
            )  # at pprof's printed precision
    if sample == "cpu":
        assert any(n.startswith("example.com/policyengine/pkg/core.") for n in list(ref)[:10])


def test_decoder_structure_and_inlined_frames(profiles: Path) -> None:
    cpu = pprof.load(profiles / "cpu.prof")
    assert cpu.sample_types == [("samples", "count"), ("cpu", "nanoseconds")]
    assert cpu.period_type == ("cpu", "nanoseconds") and cpu.period > 0 and cpu.duration_nanos > 0
    assert all(len(s.values) == 2 for s in cpu.samples)
    inlined = [loc for loc in cpu.locations.values() if len(loc.lines) > 1]
    assert inlined, "Go inlines small functions: some locations carry several Line frames"
    frames = cpu.frames(cpu.samples[0])
    assert frames and all(isinstance(f[2], int) for f in frames)
    mem = pprof.load(profiles / "mem.prof")
    assert [t for t, _ in mem.sample_types] == [
        "alloc_objects",
        "alloc_space",
        "inuse_objects",
        "inuse_space",
    ]
    fn = {f.name for f in mem.functions.values()}
    assert "example.com/policyengine/pkg/core.lex" in fn  # the compiler allocates tokens


def test_call_graph_without_dot_keeps_the_dot_file(profiles: Path, tmp_path: Path, monkeypatch) -> None:
    from benchpipe.render import callgraph

    prof = pprof.load(profiles / "cpu.prof")
    data = callgraph.gprof2dot_json(prof, prof.index_of("cpu"), "cpu", "ns")
    svg, note = callgraph.render(data, tmp_path / "with.svg", 0.5, 0.1)
    assert svg and svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    assert "core.(*Compiled).Evaluate" in svg.read_text()
    monkeypatch.setenv("PATH", str(Path(__import__("sys").executable).parent))  # python, but no dot
    svg, note = callgraph.render(data, tmp_path / "without.svg", 0.5, 0.1)
    assert svg is None and "graphviz `dot` not found" in note
    assert (tmp_path / "without.dot").read_text().startswith("digraph")
    assert not (tmp_path / "without.svg").exists()


def test_benchmark_that_panics_under_profiling(tmp_path: Path, example: Path) -> None:
    from ..conftest import quick_params

    (example / "pkg" / "core" / "boom_test.go").write_text(
        'package core\n\nimport "testing"\n\nfunc BenchmarkBoom(b *testing.B) { panic("under profiling") }\n'
    )
    params = quick_params(tmp_path, example, packages=["./pkg/core"], bench="Boom", profile="all")
    p = run(
        [
            "benchpipe",
            "profile",
            "--params",
            str(params),
            "--compare",
            str(tmp_path / "none.json"),
            "--out",
            str(tmp_path / "prof"),
        ],
        cwd=tmp_path,
    )
    # the run's results and verdict stand: the benchmark's profile is skipped with a note
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    summary = json.loads((tmp_path / "prof" / "profile.json").read_text())
    assert summary["benchmarks"] == []
    assert any(
        "BenchmarkBoom: profile skipped" in n and "benchmark panicked: under profiling" in n
        for n in summary["notes"]
    )


def _profile(module: Path, pkg_pattern: str, name: str, tmp: Path) -> dict:
    """profile_benchmark on a real package (the stage's own code path, not the pipeline around it), given the
    ns/op one plain run of the benchmark measures on this machine (as the bench stage would)."""
    from benchpipe.core import benchfmt
    from benchpipe.core.settings import ProfileSection
    from benchpipe.go import toolchain
    from benchpipe.stages import profile as stage

    pkg = toolchain.resolve_packages(module, [pkg_pattern])[0][0]
    binary = tmp / f"{name}.test"
    toolchain.build_test_binary(pkg, module, binary)
    plain = subprocess.run(
        [str(binary), "-test.run", "^$", "-test.bench", f"^{name}$", "-test.benchtime", "200ms"],
        cwd=pkg.dir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ns_per_op = next(v for r in benchfmt.read_text(plain).results for v, u in r.values if u == "ns/op")
    sub = tmp / name
    sub.mkdir()
    cfg = ProfileSection(memprofilerate=1, top=10, min_samples=200, max_s=5)
    sel = stage.Selection(name, toolchain.name_pattern(name), ns_per_op, False)
    import msgspec

    return msgspec.to_builtins(
        stage.profile_benchmark(binary, pkg, sel, sub, cfg, "5m", "200ms", 0, toolchain.module_path(module))
    )


@pytest.mark.slow
def test_timed_loop_apart_from_setup_and_samples_per_table(tmp_path: Path, example: Path) -> None:
    """Allocations are the timed loop's only (two exact memory profiles, N/4 and N iterations): a
    0 B/op benchmark has no allocation rows however much its setup allocates, and an allocating one's
    rows add up to the B/op Go itself reports. The CPU run is as long as min_samples needs."""
    ev = _profile(example, "./pkg/core", "BenchmarkEvaluate", tmp_path)
    space = ev["mem"]["alloc_space"]
    # Go's B/op (an integer) says 0: no row of a byte per op or more (a loop-sized buffer made before the
    # timer, at some b.N, leaves under a byte per op in the N/4-vs-N difference)
    assert ev["mem"]["per_op"] and all(r["flat"] < 1 for r in space["top"]) and space["total"] < 1, space
    assert space["setup"] > 100_000, "its setup builds a policy set before the timer"
    assert ev["cpu"]["samples"] >= 150 and ev["cpu_benchtime"].endswith("x")  # 200 wanted, 80-97% delivered
    assert ev["cpu"]["harness_pct"] > 10  # its own per-call timer, reported as measurement overhead

    comp = _profile(example, "./pkg/core", "BenchmarkCompile", tmp_path)
    rows = comp["mem"]["alloc_space"]["top"]
    assert rows and rows[0]["function"] == "example.com/policyengine/pkg/core.lex"
    from benchpipe.core import benchfmt

    text = (tmp_path / "BenchmarkCompile" / "bench.txt").read_text()
    go_bytes = next(v for r in benchfmt.read_text(text).results for v, u in r.values if u == "B/op")
    loop = comp["mem"]["alloc_space"]["total"]
    assert abs(loop - go_bytes) / go_bytes < 0.02, (loop, go_bytes)  # the loop's bytes are Go's B/op


PREGEN = """package pregen

import (
	"strconv"
	"testing"
)

var (
	sink int
	keep []byte // a buffer kept past its iteration escapes to the heap
)

// work keeps b.N in the tens of thousands (about a microsecond per op), so profiling every allocation of
// the inputs stays quick
func work(key string) int {
	h := 2166136261
	for j := 0; j < 100; j++ {
		for k := 0; k < len(key); k++ {
			h = (h ^ int(key[k])) * 16777619
		}
	}
	return h
}

// inputs: one key per iteration, made before the timer
func inputs(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i*7919)
	}
	return keys
}

// inputs made before the timer, one per iteration: go test's B/op does not count them
func BenchmarkLookupPregen(b *testing.B) {
	keys := inputs(b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sink += work(keys[i])
	}
}

// the same inputs, and a 64-byte buffer per iteration in the loop
func BenchmarkFormatPregen(b *testing.B) {
	keys := inputs(b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf := make([]byte, 0, 64)
		buf = append(buf, keys[i]...)
		keep = buf
		sink += work(keys[i]) + len(keep)
	}
}
"""


@pytest.mark.slow
def test_inputs_sized_by_b_n_before_the_timer_are_not_the_loops(tmp_path: Path) -> None:
    """Inputs generated for each of b.N iterations before ``b.ResetTimer`` (a common Go pattern) grow with N,
    so the two memory runs' difference counts them as the loop's; go test's own B/op does not. The table's
    total is Go's B/op, the excess is reported apart and said so, and a loop Go says allocates nothing has
    no rows."""
    from benchpipe.core import benchfmt

    module = tmp_path / "pregen"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/pregen\n\ngo 1.22\n")
    (module / "pregen_test.go").write_text(PREGEN)
    look = _profile(module, ".", "BenchmarkLookupPregen", tmp_path)
    space = look["mem"]["alloc_space"]
    assert look["mem"]["per_op"] and space["total"] == 0 and space["top"] == [], space
    # each key: a string header in the slice (16 B) and its bytes (~16 B): tens of bytes per op outside
    assert space["outside_timer"] > 16, space
    assert any("outside the timer in proportion to b.N" in n for n in look["notes"]), look["notes"]

    fmt = _profile(module, ".", "BenchmarkFormatPregen", tmp_path)
    text = (tmp_path / "BenchmarkFormatPregen" / "bench.txt").read_text()
    go_bytes = next(v for r in benchfmt.read_text(text).results for v, u in r.values if u == "B/op")
    space = fmt["mem"]["alloc_space"]
    assert go_bytes == 64 and space["total"] == go_bytes and space["outside_timer"] > 16, (go_bytes, space)
    assert space["top"] and space["top"][0]["function"].endswith("BenchmarkFormatPregen"), space


@pytest.mark.slow
def test_timed_loop_on_a_corpus_module(tmp_path: Path) -> None:
    import sys

    from ..conftest import ROOT

    sys.path.insert(0, str(ROOT / "tests" / "corpus"))
    import fetch

    uuid = next(m for m in fetch.modules(ci_only=True) if m.path == "github.com/google/uuid")
    module = fetch.fetch(uuid, fetch.cache_root())
    e = _profile(module, ".", "BenchmarkUUID_String", tmp_path)
    from benchpipe.core import benchfmt

    text = (tmp_path / "BenchmarkUUID_String" / "bench.txt").read_text()
    go_bytes = next(v for r in benchfmt.read_text(text).results for v, u in r.values if u == "B/op")
    assert go_bytes > 0 and abs(e["mem"]["alloc_space"]["total"] - go_bytes) / go_bytes < 0.02
    assert e["mem"]["alloc_space"]["top"][0]["flat"] > 0 and e["cpu"]["samples"] > 0
