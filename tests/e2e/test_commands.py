"""bench.json's ``commands`` is exactly what ran: each argv it records is the argv of a process benchpipe
started (strace's record of every successful execve), and every ``go test -c`` and every test binary that
started, directly or under valgrind, is recorded; in the time mode (with the binaries linked as go test
links them) and when instructions are counted (unstripped binaries, so valgrind can name functions)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from ..conftest import ROOT, quick_params, run

pytestmark = pytest.mark.skipif(
    shutil.which("strace") is None, reason="strace is installed by .ci/setup-tests"
)

_EXEC = re.compile(r'^\d+\s+execve\("[^"]*", \[(.*)\], .* = 0$')
_STR = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')


def _started(log: Path) -> list[list[str]]:
    """The argv of every successful execve in an ``strace -f -v -xx`` log (strings as hex escapes)."""
    out = []
    for line in log.read_text().splitlines():
        m = _EXEC.match(line)
        if m:
            out.append([bytes.fromhex(s.replace("\\x", "")).decode() for s in _STR.findall(m.group(1))])
    return out


def _traced_bench(work: Path, params: Path, *extra: str) -> tuple[list[list[str]], list[list[str]]]:
    log = work / "trace.log"
    p = run(
        [
            "strace",
            "-f",
            "-qq",
            "-v",
            "-xx",
            "-s",
            "65535",
            "-e",
            "trace=execve",
            "-o",
            str(log),
            "benchpipe",
            "bench",
            "--params",
            str(params),
            "--out",
            "b.txt",
            "--meta",
            "b.json",
            *extra,
        ],
        cwd=work,
        timeout=900,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads((work / "b.json").read_text())["commands"], _started(log)


def _is_ours(argv: list[str]) -> bool:
    """A process the commands must record: a build of test binaries, or a test binary run directly."""
    return argv[:3] == ["go", "test", "-c"] or argv[0].endswith(".test")


def test_time_mode_records_each_build_and_run_as_it_started(tmp_path: Path, example: Path) -> None:
    params = quick_params(
        tmp_path, example, packages=["./pkg/core"], bench="^BenchmarkCompile$", count=2, benchtime="20x"
    )
    commands, started = _traced_bench(tmp_path, params)
    assert [c for c in commands if c[:3] == ["go", "test", "-c"]] and len(commands) == 2, commands
    build, binary = commands
    assert "-ldflags=-s -w" in build  # linked as go test links test binaries
    assert binary[0].endswith("/core.test") and binary[1:4] == [
        "-test.run=^$",
        "-test.bench=^BenchmarkCompile$",
        "-test.v=test2json",
    ], binary
    assert "-test.count=2" in binary and "-test.benchtime=20x" in binary and "-test.benchmem" in binary, (
        binary
    )
    assert all(c in started for c in commands), (commands, started)
    assert [a for a in started if _is_ours(a)] == commands


def test_counted_mode_records_every_valgrind_run(tmp_path: Path) -> None:
    fixture = ROOT / "tests" / "fixtures" / "explain"
    params = tmp_path / "params.yaml"
    params.write_text(
        json.dumps(
            {
                "target": str(fixture),
                "mode": "quick",
                "measure": "instructions",
                "modes": {
                    "quick": {
                        "packages": ["./..."],
                        "bench": "^BenchmarkChecksum$",
                        "count": 1,
                        "benchtime": "1x",
                        "timeout": "5m",
                    }
                },
            }
        )
    )
    commands, started = _traced_bench(tmp_path, params)
    builds = [c for c in commands if c[:3] == ["go", "test", "-c"]]
    assert len(builds) == 1 and "-ldflags=-s -w" not in builds[0], builds  # valgrind names functions
    grinds = [c for c in commands if Path(c[0]).name == "valgrind"]
    assert len(grinds) >= 2 and all("--tool=cachegrind" in c for c in grinds), commands
    counts = sorted(int(re.search(r"-test\.benchtime=(\d+)x", " ".join(c)).group(1)) for c in grinds)
    assert counts[0] < counts[-1]  # the two b.N whose difference is one op's count
    assert all(c in started for c in commands), (commands, started)
    assert [a for a in started if _is_ours(a) or Path(a[0]).name == "valgrind"] == commands
