"""The bench stage on real Go code: the example module, a standard-library package,
and every bad input it must survive (build failure, panic, failure, timeout,
no Go, nothing matched)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from benchpipe.core import benchfmt

from ..conftest import quick_params, run


def bench(tmp: Path, params: Path, env: dict[str, str] | None = None):
    out = tmp / "out"
    return run(
        [
            "benchpipe",
            "bench",
            "--params",
            str(params),
            "--out",
            str(out / "bench.txt"),
            "--meta",
            str(out / "bench.json"),
        ],
        cwd=tmp,
        env=env,
    ), out


def test_example_runs_and_records_metadata(tmp_path: Path, example: Path, go: str) -> None:
    params = quick_params(tmp_path, example, count=2, benchtime="2000x", bench="Evaluate$|Parse")
    p, out = bench(tmp_path, params)
    assert p.returncode == 0, p.stderr
    assert "bench: example.com/policyengine/pkg/core BenchmarkEvaluate" in p.stderr  # live progress
    parsed = benchfmt.read_files([out / "bench.txt"])
    assert parsed.errors == []
    names = sorted({r.base_name for r in parsed.results})
    assert names == ["BenchmarkEvaluate", "BenchmarkParse"]
    assert all(r.iters == 2000 for r in parsed.results)
    assert len(parsed.results) == 4
    meta = json.loads((out / "bench.json").read_text())
    goversion = run([go, "env", "GOVERSION"]).stdout.strip()
    assert meta["go_version"] == goversion
    assert meta["goos"] and meta["goarch"] and meta["cpu"] and meta["gomaxprocs"] >= 1
    assert meta["peak_rss_kb"] > 1000 and meta["results"] == 4
    assert meta["command"][:4] == ["go", "test", "-run", "^$"] and "-benchmem" in meta["command"]
    assert {p["import_path"] for p in meta["packages"]} == {
        "example.com/policyengine/pkg/core",
        "example.com/policyengine/pkg/policydomain",
    }
    # benchstat-readable: `ok` lines as go test prints them
    assert "ok  \texample.com/policyengine/pkg/core\t" in (out / "bench.txt").read_text()


def test_standard_library_package(tmp_path: Path, go: str) -> None:
    goroot = Path(run([go, "env", "GOROOT"]).stdout.strip())
    params = quick_params(
        tmp_path,
        goroot / "src",
        packages=["strings"],
        bench="^BenchmarkIndexByte$",
        count=2,
        benchtime="10000x",
    )
    p, out = bench(tmp_path, params)
    assert p.returncode == 0, p.stderr
    parsed = benchfmt.read_files([out / "bench.txt"])
    assert [r.base_name for r in parsed.results] == ["BenchmarkIndexByte"] * 2
    assert parsed.results[0].package == "strings"


def test_build_failure_is_one_line_exit_2_and_output_kept(tmp_path: Path, example: Path) -> None:
    (example / "pkg" / "core" / "broken.go").write_text("package core\n\nfunc broken() { undefined() }\n")
    p, out = bench(tmp_path, quick_params(tmp_path, example, count=1, benchtime="10x"))
    assert p.returncode == 2
    err = [ln for ln in p.stderr.splitlines() if ln.startswith("benchpipe:")]
    assert len(err) == 1 and "build failed for example.com/policyengine/pkg/core" in err[0]
    assert "undefined" in err[0] and "Traceback" not in p.stderr
    assert "undefined: undefined" in (out / "bench.log").read_text()


def _add_bench(example: Path, body: str) -> None:
    (example / "pkg" / "core" / "bad_test.go").write_text(
        'package core\n\nimport "testing"\n\nvar _ = testing.Short\n\n' + body
    )


def test_panicking_benchmark(tmp_path: Path, example: Path) -> None:
    _add_bench(example, 'func BenchmarkBoom(b *testing.B) { panic("kaboom") }\n')
    p, out = bench(tmp_path, quick_params(tmp_path, example, count=1, benchtime="10x", bench="Boom"))
    assert p.returncode == 2
    assert "benchmark panicked: kaboom" in p.stderr and "Traceback" not in p.stderr
    assert "kaboom" in (out / "bench.log").read_text()


def test_failing_benchmark(tmp_path: Path, example: Path) -> None:
    _add_bench(example, 'func BenchmarkFails(b *testing.B) { b.Fatal("bad state") }\n')
    p, _ = bench(tmp_path, quick_params(tmp_path, example, count=1, benchtime="10x", bench="Fails"))
    assert p.returncode == 2
    assert "BenchmarkFails" in p.stderr and "failed" in p.stderr


def test_timeout(tmp_path: Path, example: Path) -> None:
    (example / "pkg" / "core" / "bad_test.go").write_text(
        'package core\n\nimport ("testing"; "time")\n\n'
        "func BenchmarkSpin(b *testing.B) { for { time.Sleep(time.Millisecond) } }\n"
    )
    p, _ = bench(
        tmp_path, quick_params(tmp_path, example, count=1, benchtime="10x", bench="Spin", timeout="2s")
    )
    assert p.returncode == 2
    assert "hit the -timeout" in p.stderr


def test_nothing_matched_exits_3(tmp_path: Path, example: Path) -> None:
    p, out = bench(tmp_path, quick_params(tmp_path, example, count=1, benchtime="10x", bench="NoSuchBench"))
    assert p.returncode == 3
    assert "no benchmark matched" in p.stderr
    assert not (out / "bench.txt").exists()


def test_no_go_on_path(tmp_path: Path, example: Path) -> None:
    bindir = Path(shutil.which("benchpipe") or "").parent
    env = {"PATH": f"{bindir}:/usr/bin:/bin"}
    if shutil.which("go", path=env["PATH"]):
        env["PATH"] = str(bindir)
    p, _ = bench(tmp_path, quick_params(tmp_path, example, count=1), env=env)
    assert p.returncode == 2
    assert "go: not found on PATH" in p.stderr and "Traceback" not in p.stderr


def test_not_a_module(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    p, _ = bench(tmp_path, quick_params(tmp_path, empty, count=1))
    assert p.returncode == 2 and "not a Go module" in p.stderr
