"""Real modules' shapes (issue 10): code that logs while benchmarked, stalled benchmarks, other layouts.

The fixture module ``tests/fixtures/realshapes`` holds the two hard shapes (a
benchmark that logs JSON to stdout and stderr, one that deadlocks past a
buffer of 1024 unless ``-benchtime 1000x``) and a package without benchmarks.
Recorded real outputs of it are in ``tests/data`` (``chatty_plain.txt``: plain
``go test -bench``; ``stall_dump.txt``: the SIGQUIT dump of the stalled one).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

from benchpipe.core import benchfmt, goroutines
from benchpipe.go import toolchain

from ..conftest import DATA, ROOT, run

FIXTURE = ROOT / "tests" / "fixtures" / "realshapes"
RESULT = re.compile(r"^Benchmark\S+\s+\d+(\s+\S+\s+\S+)+\s*$")


def go_json_result_count(stdout: str) -> int:
    """Results as ``go test -json`` reports them: its output events joined per package (a result's name
    and numbers arrive in two events), counted as whole result lines."""
    text: dict[str, str] = {}
    for line in stdout.splitlines():
        ev = json.loads(line)
        if ev.get("Action") == "output":
            text[ev["Package"]] = text.get(ev["Package"], "") + ev["Output"]
    return sum(1 for t in text.values() for ln in t.splitlines() if RESULT.match(ln))


def test_reader_joins_results_split_by_log_lines() -> None:
    """Recorded plain output of the chatty benchmarks: names, log lines, then numbers."""
    text = (DATA / "chatty_plain.txt").read_text()
    assert not any(RESULT.match(ln) for ln in text.splitlines()), "the recording must hold split results"
    p = benchfmt.read_files([DATA / "chatty_plain.txt"])
    assert p.errors == []
    assert [r.name for r in p.results] == [
        "BenchmarkKey-2",
        "BenchmarkKeySub/a-2",
        "BenchmarkKeySub/LongerInputString-2",
    ]
    numbers = [ln.split() for ln in text.splitlines() if re.match(r"^\s+\d+\s", ln)]
    assert [(r.iters, r.values[0][0]) for r in p.results] == [(int(f[0]), float(f[1])) for f in numbers]
    assert all(r.package == "example.com/realshapes/chatty" for r in p.results)


def test_reader_decides_json_per_line() -> None:
    """A JSON log line first does not make a text file `go test -json`, and events mix with text."""
    log = '{"level":"warn","msg":"RUNNING IN TEST MODE"}'
    event = json.dumps({"Action": "output", "Package": "q", "Output": "BenchmarkJ-2 \t 10\t 3.5 ns/op\n"})
    text = "\n".join([log, "pkg: p", "BenchmarkA-2 \t 100\t 7.5 ns/op", event, '{"Action": broken', "x"])
    p = benchfmt.read_text(text, "mixed.txt")
    assert [(r.name, r.values[0][0], r.package) for r in p.results] == [
        ("BenchmarkA-2", 7.5, "p"),
        ("BenchmarkJ-2", 3.5, "p"),
    ]
    assert p.errors == ["mixed.txt:5: not a JSON test event"]


def test_a_name_never_completed_is_still_malformed() -> None:
    p = benchfmt.read_text("BenchmarkA-2 \tlog line\nnot numbers\nBenchmarkB-2 1 2 ns/op\n", "f.txt")
    assert [r.name for r in p.results] == ["BenchmarkB-2"]
    assert p.errors == ["f.txt:1: parsing iteration count: invalid syntax"]


def test_goroutine_dump_names_the_blocking_frame() -> None:
    """Recorded SIGQUIT dump of the stalled fixture benchmark."""
    dump = (DATA / "stall_dump.txt").read_text()
    root = Path("/work/main/tests/fixtures/realshapes")  # where the recording was made
    gs = goroutines.parse(dump)
    assert len(gs) == len(re.findall(r"^goroutine \d+", dump, re.M))
    b = goroutines.blocked(dump, root)
    assert b is not None and b.benchmark == "BenchmarkHandle" and b.state == "chan send"
    line = next(
        i
        for i, ln in enumerate((FIXTURE / "stall" / "engine.go").read_text().splitlines(), 1)
        if "e.events <- i" in ln
    )
    assert b.describe(root) == f"blocked in chan send at stall/engine.go:{line} (stall.(*Engine).Handle)"


def test_packages_without_benchmarks_are_not_built() -> None:
    pkgs, pats, note = toolchain.resolve_packages(FIXTURE, ["./pkg/core/..."])
    assert pats == ["./..."] and "no package matches ./pkg/core/..." in note
    assert sorted(p.import_path for p in pkgs) == [
        "example.com/realshapes/chatty",
        "example.com/realshapes/stall",
    ]


def _params(tmp_path: Path, **mode: object) -> Path:
    p = yaml.safe_load((ROOT / "params.yaml").read_text())
    p["target"] = str(tmp_path / "realshapes")
    p["modes"]["quick"].update(mode)
    p["bench"] = {"stall_s": 3}
    out = tmp_path / "params.yaml"
    out.write_text(yaml.safe_dump(p))
    if not (tmp_path / "realshapes").exists():
        shutil.copytree(FIXTURE, tmp_path / "realshapes")
    return out


def test_chatty_results_whole_and_log_kept(tmp_path: Path, go: str) -> None:
    prm = _params(tmp_path, packages=["./chatty"], count=2, benchtime="50x")
    out = tmp_path / "run"
    p = run(
        [
            "benchpipe",
            "bench",
            "--params",
            str(prm),
            "--out",
            str(out / "bench.txt"),
            "--meta",
            str(out / "bench.json"),
        ]
    )
    assert p.returncode == 0, p.stderr
    txt = (out / "bench.txt").read_text()
    assert "RUNNING IN TEST MODE" not in txt and "RUNNING IN TEST MODE" in (out / "bench.log").read_text()
    ours = benchfmt.read_text(txt)
    assert ours.errors == [] and all(r.iters == 50 for r in ours.results)
    ref = run(
        [
            go,
            "test",
            "-json",
            "-run",
            "^$",
            "-bench",
            ".",
            "-benchmem",
            "-count",
            "2",
            "-benchtime",
            "50x",
            "./chatty",
        ],
        cwd=tmp_path / "realshapes",
    )
    assert ref.returncode == 0
    assert len(ours.results) == go_json_result_count(ref.stdout) == 6


@pytest.mark.parametrize("portable", ["", "1"], ids=["linux", "portable"])
def test_stalled_benchmark_named_others_kept_exit_2(tmp_path: Path, portable: str) -> None:
    """With BENCHPIPE_PORTABLE=1 the Linux-only calls are not used (as on macOS): the stall watch and the
    stop still work (CPU time from psutil)."""
    prm = _params(tmp_path, packages=["./..."], count=1, benchtime="100ms")
    out = tmp_path / "run"
    t0 = time.monotonic()
    p = run(
        [
            "benchpipe",
            "bench",
            "--params",
            str(prm),
            "--out",
            str(out / "bench.txt"),
            "--meta",
            str(out / "bench.json"),
        ],
        env={"BENCHPIPE_PORTABLE": portable},
    )
    took = time.monotonic() - t0
    assert p.returncode == 2, p.stderr
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("bench: error:")]
    assert len(errors) == 1
    line = next(
        i
        for i, ln in enumerate((FIXTURE / "stall" / "engine.go").read_text().splitlines(), 1)
        if "e.events <- i" in ln
    )
    assert "BenchmarkHandle stalled" in errors[0] and f"chan send at stall/engine.go:{line}" in errors[0]
    assert took < 120
    names = {r.base_name for r in benchfmt.read_files([out / "bench.txt"]).results}
    assert {"BenchmarkBefore", "BenchmarkAfter", "BenchmarkKey"} <= names and "BenchmarkHandle" not in names
    meta = json.loads((out / "bench.json").read_text())
    dump = Path(meta["failures"][0]["dump"])
    assert "goroutine" in dump.read_text() and "BenchmarkHandle" in dump.read_text()


def test_stalling_benchmark_runs_at_its_iteration_count(tmp_path: Path) -> None:
    prm = _params(tmp_path, packages=["./stall"], count=1, benchtime="1000x", profile="all")
    out = tmp_path / "run"
    p = run(
        [
            "benchpipe",
            "bench",
            "--params",
            str(prm),
            "--out",
            str(out / "bench.txt"),
            "--meta",
            str(out / "bench.json"),
        ]
    )
    assert p.returncode == 0, p.stderr
    assert sorted(r.base_name for r in benchfmt.read_files([out / "bench.txt"]).results) == [
        "BenchmarkAfter",
        "BenchmarkBefore",
        "BenchmarkHandle",
    ]
    prof = tmp_path / "profile"
    p = run(
        [
            "benchpipe",
            "profile",
            "--params",
            str(prm),
            "--compare",
            str(tmp_path / "none.json"),
            "--bench-meta",
            str(out / "bench.json"),
            "--out",
            str(prof),
        ]
    )
    assert p.returncode == 0, p.stderr
    summary = json.loads((prof / "profile.json").read_text())
    assert summary["benchtime"] == "1000x"
    assert sorted(b["benchmark"] for b in summary["benchmarks"]) == [
        "BenchmarkAfter",
        "BenchmarkBefore",
        "BenchmarkHandle",
    ]
