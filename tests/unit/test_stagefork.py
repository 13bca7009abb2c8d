"""benchpipe.cli.stagefork's decisions (which commands it forks, which stage it starts before DVC) and
dvclock's merged lock writes, on this repository's dvc.yaml; the forks themselves run in
tests/e2e/test_stagefork.py and in every pipeline test."""

from __future__ import annotations

from pathlib import Path

import yaml

from benchpipe.cli import dvclock, stagefork
from benchpipe.cli.commands.pipeline import timing_split

ROOT = Path(__file__).resolve().parents[2]


def test_only_a_plain_benchpipe_stage_command_is_forked() -> None:
    assert stagefork.stage_argv("benchpipe parse reports/run/bench.txt --out x.parquet") == [
        "parse",
        "reports/run/bench.txt",
        "--out",
        "x.parquet",
    ]
    for cmd in (
        "benchpipe parse a | tee b",  # a pipe
        "benchpipe parse a > b",  # a redirection
        "benchpipe parse $HOME/a",  # a variable
        "benchpipe parse 'a b'",  # quoting: left to the shell
        "benchpipe parse a; rm -rf b",  # a second command
        "benchpipe parse *.txt",  # a glob
        "benchpipe pipeline",  # not a stage
        "benchpipe",
        "python -m benchpipe parse a",
        "echo benchpipe parse a",
    ):
        assert stagefork.stage_argv(cmd) is None, cmd


def _dvc_yaml(tmp_path: Path, edit: object = None) -> Path:
    data = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    if callable(edit):
        edit(data["stages"])
    p = tmp_path / "dvc.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def test_the_bench_stage_starts_early_only_when_dvc_surely_runs_it_first(tmp_path: Path) -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert stagefork.first_stage(_dvc_yaml(tmp_path)) == stages["bench"]["cmd"]
    assert stagefork.stage_argv(stages["bench"]["cmd"])[0] == "bench"

    def second_root(s: dict) -> None:  # parse no longer waits for bench: DVC may run it first
        s["parse"]["deps"] = []

    def sometimes_skipped(s: dict) -> None:
        s["bench"]["always_changed"] = False

    def with_a_dep(s: dict) -> None:
        s["bench"]["deps"] = ["examples"]

    def elsewhere(s: dict) -> None:
        s["bench"]["wdir"] = "examples"

    def frozen(s: dict) -> None:
        s["bench"]["frozen"] = True

    for edit in (second_root, sometimes_skipped, with_a_dep, elsewhere, frozen):
        assert stagefork.first_stage(_dvc_yaml(tmp_path, edit)) is None, edit.__name__
    (tmp_path / "dvc.yaml").write_text("stages: [")
    assert stagefork.first_stage(tmp_path / "dvc.yaml") is None
    assert stagefork.first_stage(tmp_path / "missing.yaml") is None


def test_the_split_says_how_the_stages_ran() -> None:
    times = [("bench", 10.5, "early"), ("parse", 0.1, "fork"), ("report", 0.3, "fork")]
    line = timing_split(times, 12.0, {"bench": 10.0}, 0.0)
    assert line.startswith("fixed cost by process (besides go test): bench 0.50s, parse 0.10s, report 0.30s")
    assert (
        "DVC and this process 1.10s (every stage forked from this process, bench before DVC started)" in line
    )
    line = timing_split([("bench", 10.5, ""), ("parse", 0.1, "fork")], 11.0, {"bench": 10.0}, 0.0)
    assert line.endswith("DVC and this process 0.40s (forked: parse)"), line
    assert timing_split([("parse", 0.2, "")], 1.0, {}, 0.0).endswith("DVC and this process 0.80s")


class _Lock:
    def __init__(self, path: str) -> None:
        self.path = path


def test_lock_writes_merge_in_order_per_file_and_options() -> None:
    a, b = _Lock("dvc.lock"), _Lock("sub/dvc.lock")
    pending = [
        (a, ["bench"], {}),
        (a, ["parse"], {}),
        (b, ["x"], {}),
        (a, ["compare"], {}),
        (a, ["y"], {"k": 1}),
    ]
    merged = dvclock._merged(pending)
    assert [(f.path, s, kw) for f, s, kw in merged] == [
        ("dvc.lock", ["bench", "parse"], {}),
        ("sub/dvc.lock", ["x"], {}),
        ("dvc.lock", ["compare"], {}),
        ("dvc.lock", ["y"], {"k": 1}),
    ]
    assert pending[0][1] == ["bench"]  # the recorded writes are not changed by merging
