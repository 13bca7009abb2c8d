"""The pipeline's faster paths against DVC's and the shell's own (benchpipe.cli.stagefork, cli.dvclock):

- a stage forked from the pipeline's process prints, writes and exits as the same command run as a process;
- DVC run in the pipeline's process (the lock written once, stages forked where they can be) leaves the
  same dvc.lock bytes as ``dvc repro`` run by a user, when every stage passes and when one fails;
- an early bench stage DVC never asks for is stopped and reaped, and the stage DVC asked for runs.

Each runs in a subprocess: the patches stay out of pytest's process."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb

from ..conftest import run

DATA = Path(__file__).resolve().parents[1] / "data"

FORK = """
import os, sys
from benchpipe.cli import stagefork
stagefork.start(early=False)
code = stagefork.run_stage(sys.argv[1:], os.getcwd(), dict(os.environ))
stagefork.close()
print(f"exit {code}", flush=True)
"""

DVC = """
import sys
from benchpipe.cli.commands.pipeline import _dvc
raise SystemExit(_dvc(["repro"]))
"""


def _rows(path: Path) -> list[tuple]:
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}') ORDER BY ALL").fetchall()


def test_a_forked_stage_does_what_its_process_does(tmp_path: Path) -> None:
    shutil.copy(DATA / "example_fast.txt", tmp_path / "bench.txt")
    (tmp_path / "bad.txt").write_text("BenchmarkX-2\t10\tfast ns/op\n")
    proc = run(["benchpipe", "parse", "bench.txt", "--out", "a.parquet"], cwd=tmp_path)
    fork = run([sys.executable, "-c", FORK, "parse", "bench.txt", "--out", "b.parquet"], cwd=tmp_path)
    assert proc.returncode == 0 and fork.stdout.endswith("exit 0\n"), (proc.stderr, fork.stderr)
    assert fork.stdout.replace("b.parquet", "a.parquet") == proc.stdout + "exit 0\n"
    assert fork.stderr.replace("b.parquet", "a.parquet") == proc.stderr and "168 samples" in proc.stderr
    rows = _rows(tmp_path / "a.parquet")
    assert len(rows) > 10 and _rows(tmp_path / "b.parquet") == rows
    for argv in (["parse", "bad.txt", "--out", "c.parquet"], ["parse", "missing.txt"], ["parse", "--nope"]):
        proc = run(["benchpipe", *argv], cwd=tmp_path)
        fork = run([sys.executable, "-c", FORK, *argv], cwd=tmp_path)
        assert proc.returncode != 0, argv
        assert fork.stdout == proc.stdout + f"exit {proc.returncode}\n", (argv, fork.stdout, proc.stdout)
        assert fork.stderr == proc.stderr and proc.stderr.strip(), (argv, fork.stderr, proc.stderr)
        if argv[1] == "bad.txt":  # no result at all: the one line and exit 3, never DuckDB's failure
            assert proc.returncode == 3 and "bad.txt: no benchmark results found" in proc.stderr, proc.stderr
            assert "internal error" not in proc.stderr
    assert not (tmp_path / "c.parquet").exists()


PIPE = """stages:
  a:
    cmd: echo one > a.txt
    outs: [a.txt]
  b:
    cmd: cat a.txt a.txt > b.txt
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: {c}
    deps: [b.txt]
    outs: [c.txt]
"""


def _dvc_repo(path: Path, c: str) -> Path:
    path.mkdir()
    assert run(["git", "init", "-q"], cwd=path).returncode == 0
    assert run(["dvc", "init", "-q"], cwd=path).returncode == 0
    (path / "dvc.yaml").write_text(PIPE.format(c=c))
    return path


def test_dvc_in_the_pipeline_process_writes_the_lock_dvc_writes(tmp_path: Path) -> None:
    for name, c in (("pass", "cat b.txt > c.txt"), ("fail", "exit 3")):
        theirs, ours = _dvc_repo(tmp_path / f"{name}-dvc", c), _dvc_repo(tmp_path / f"{name}-ours", c)
        t = run(["dvc", "repro"], cwd=theirs)
        o = run([sys.executable, "-c", DVC], cwd=ours)
        assert (t.returncode == 0) == (o.returncode == 0) == (name == "pass"), (t.stderr, o.stderr)
        lock = (theirs / "dvc.lock").read_text()
        assert (ours / "dvc.lock").read_text() == lock
        assert "a.txt" in lock and "b.txt" in lock and ("c.txt" in lock) == (name == "pass"), lock
        assert (ours / "b.txt").read_text() == "one\none\n"


EARLY = """
import os, sys
from pathlib import Path
from benchpipe.cli import stagefork
stagefork.start(Path("dvc.yaml"))
assert stagefork._server[0].early is not None
code = stagefork.run_stage(["parse", "missing.txt"], os.getcwd(), dict(os.environ))
assert stagefork._server[0].early is None
stagefork.close()
here = os.path.realpath(os.getcwd())
left = []
for p in Path("/proc").iterdir():
    try:
        if p.name.isdigit() and int(p.name) != os.getpid() and os.path.realpath(p / "cwd") == here:
            left.append(p.name)
    except OSError:
        pass
print(f"left {left}")
print(f"exit {code}", flush=True)
"""


def test_an_early_bench_dvc_never_asks_for_is_stopped(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / "dvc.yaml", tmp_path / "dvc.yaml")
    p = run([sys.executable, "-c", EARLY], cwd=tmp_path, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "left []" in p.stdout and "exit 2" in p.stdout, (p.stdout, p.stderr)
    assert "missing.txt" in p.stderr
    assert not (tmp_path / "reports" / "run" / "bench.txt").exists()
