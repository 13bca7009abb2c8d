"""The history store as a URL: many writers at once, compaction alongside, object storage on loopback, and
bad stores named in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchpipe.core import benchfmt
from benchpipe.store import history
from benchpipe.store.objstore import open_store

from ..conftest import DATA, ROOT, run

APPENDER = """
import sys
from datetime import UTC, datetime, timedelta
from benchpipe.core import benchfmt
from benchpipe.core.artifacts import BenchMeta
from benchpipe.store import history
store, worker, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
parsed = benchfmt.read_files([sys.argv[4]])
t0 = datetime(2026, 1, 1, tzinfo=UTC)
for i in range(n):
    meta = BenchMeta(commit=f"{worker:02d}{i:038d}", branch="main", mode="quick",
                     module="example.com/policyengine")
    history.append(store, parsed, meta, t0 + timedelta(minutes=worker * n + i))
"""

COMPACTOR = """
import sys, time
from benchpipe.store import history
store, stop = sys.argv[1], sys.argv[2]
import os
merged = 0
while not os.path.exists(stop):
    n, _ = history.compact(store)
    merged += n
    time.sleep(0.2)
n, _ = history.compact(store)
print(merged + n)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_four_writers_and_a_compaction_at_once_lose_and_double_nothing(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = str(tmp_path / "hist") if kind == "local" else "s3://benchpipe/team/history"
    if kind == "s3":
        os.environ["AWS_ENDPOINT_URL"] = request.getfixturevalue("s3_endpoint")
    try:
        data = tmp_path / "one.txt"  # one small real run: two benchmarks of the example
        data.write_text(
            "\n".join(
                ln
                for ln in (DATA / "example_fast.txt").read_text().splitlines()
                if not ln.startswith("Benchmark") or ln.startswith(("BenchmarkCompile", "BenchmarkParse"))
            )
            + "\n"
        )
        stop = tmp_path / "stop"
        compactor = subprocess.Popen(
            [sys.executable, "-c", COMPACTOR, store, str(stop)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", APPENDER, store, str(w), "25", str(data)],
                env=_env(),
                stderr=subprocess.PIPE,
                text=True,
            )
            for w in range(4)
        ]
        errors = [w.communicate(timeout=600)[1] for w in writers]
        assert [w.returncode for w in writers] == [0, 0, 0, 0], errors
        stop.write_text("")
        out, err = compactor.communicate(timeout=600)
        assert compactor.returncode == 0, err
        merged = int(out.strip())
        runs = history.runs(store)
        assert len(runs) == 100 and len({r["run_id"] for r in runs}) == 100
        assert merged >= 2  # compaction really ran alongside the writers
        names = {r["benchmark"] for r in history.query(store, unit="ns/op", warn=False)}
        assert names and all(n.startswith(("BenchmarkCompile", "BenchmarkParse")) for n in names)
        for name in names:  # each benchmark: one row per run, none twice
            rows = history.query(store, benchmark=f"^{name}$", unit="ns/op", warn=False)
            assert len(rows) == 100 and len({r["run_id"] for r in rows}) == 100
        assert len(open_store(store).names("summary")) <= 5  # compacted: a few objects, not 100
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)


def test_history_commands_over_s3_and_bad_stores(tmp_path: Path, s3_endpoint: str) -> None:
    env = {"AWS_ENDPOINT_URL": s3_endpoint}
    store = "s3://benchpipe/hist"
    p = run(
        [
            "benchpipe",
            "history",
            "import",
            str(DATA / "strings_a.txt"),
            "--dir",
            store,
            "--commit",
            "c1",
            "--time",
            "2026-01-01T00:00:00Z",
            "--branch",
            "main",
        ],
        env=env,
    )
    assert p.returncode == 0, p.stderr
    listed = json.loads(
        run(["benchpipe", "history", "runs", "--dir", store, "--format", "json"], env=env).stdout
    )
    assert [r["commit"] for r in listed] == ["c1"] and listed[0]["branch"] == "main"
    via_env = run(
        ["benchpipe", "history", "runs", "--format", "json"],
        env={**env, "BENCHPIPE_HISTORY": store},
        cwd=tmp_path,
    )
    assert via_env.returncode == 0 and json.loads(via_env.stdout) == listed
    bad = [
        ("zz://bucket/x", {}, "unknown or unsupported scheme 'zz'"),
        ("s3://no-such-bucket/x", {}, "bucket 'no-such-bucket' does not exist"),
        (store, {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, "s3://benchpipe/hist"),
        (
            store,
            {
                "AWS_ACCESS_KEY_ID": "",
                "AWS_SECRET_ACCESS_KEY": "",
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                "AWS_CONFIG_FILE": "/nonexistent",
            },
            "s3://benchpipe/hist",
        ),
    ]
    for url, extra, want in bad:
        p = run(["benchpipe", "history", "runs", "--dir", url], env={**env, **extra}, timeout=120)
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and want in p.stderr, (url, p.stderr)
        assert "Traceback" not in p.stderr


def test_a_run_that_cannot_be_stored_is_reported_and_the_gate_exits_2(
    tmp_path: Path, s3_endpoint: str
) -> None:
    meta = tmp_path / "bench.json"
    meta.write_text(json.dumps({"commit": "abc", "module": "example.com/policyengine"}))
    env = {"AWS_ENDPOINT_URL": s3_endpoint, "BENCHPIPE_HISTORY": "s3://no-such-bucket/hist"}
    rec = run(
        [
            "benchpipe",
            "record",
            "--params",
            str(ROOT / "params.yaml"),
            "--raw",
            str(DATA / "example_fast.txt"),
            "--meta",
            str(meta),
            "--out",
            str(tmp_path / "record.json"),
            "--dvc-out",
            str(tmp_path / "h"),
        ],
        env=env,
        cwd=tmp_path,
    )
    assert rec.returncode == 0, rec.stderr  # the pipeline goes on to the report
    doc = json.loads((tmp_path / "record.json").read_text())
    assert doc["stored"] is False and "no-such-bucket" in doc["error"] and doc["schema_version"] == 1
    assert (tmp_path / "h" / "STORE").read_text().strip() == "s3://no-such-bucket/hist"
    (tmp_path / "compare.json").write_text(json.dumps({"verdict": "NONE", "note": "first run"}))
    g = run(
        [
            "benchpipe",
            "gate",
            "--allow-missing-baseline",
            "--compare",
            str(tmp_path / "compare.json"),
            "--record",
            str(tmp_path / "record.json"),
        ],
        cwd=tmp_path,
    )
    assert g.returncode == 2 and "this run was not stored in the history s3://no-such-bucket/hist" in g.stdout


def test_shards_of_one_ci_run_are_one_run(tmp_path: Path) -> None:
    store = tmp_path / "hist"
    parsed = benchfmt.read_files([DATA / "example_fast.txt"])
    meta_env = {"GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1"}
    for k in (1, 2):
        meta = tmp_path / f"bench{k}.json"
        meta.write_text(json.dumps({"commit": "deadbeef" * 5, "branch": "main"}))
        raw = tmp_path / f"bench{k}.txt"
        lines = (DATA / "example_fast.txt").read_text().splitlines()
        raw.write_text(
            "\n".join(ln for i, ln in enumerate(lines) if not ln.startswith("Benchmark") or i % 2 == k - 1)
            + "\n"
        )
        p = run(
            [
                "benchpipe",
                "record",
                "--params",
                str(ROOT / "params.yaml"),
                "--raw",
                str(raw),
                "--meta",
                str(meta),
                "--history",
                str(store),
                "--out",
                str(tmp_path / f"rec{k}.json"),
                "--dvc-out",
                str(store),
                "--shard",
                f"{k}/2",
            ],
            env=meta_env,
        )
        assert p.returncode == 0, p.stderr
    runs = history.runs(store)
    assert len(runs) == 1 and runs[0]["run_id"] == "gh4242.1-deadbeef" and runs[0]["objects"] == 2
    assert {r["benchmark"] for r in history.query(store, warn=False)} == {r.name for r in parsed.results}


def test_baseline_from_the_history_uses_the_newest_matching_runs(tmp_path: Path) -> None:
    store = tmp_path / "hist"
    settings = {
        "packages": ["./..."],
        "bench": ".",
        "count": 6,
        "benchtime": "1s",
        "cpu": "",
        "timeout": "10m",
        "benchmem": True,
    }
    commits = []
    for i, (branch, bt) in enumerate([("main", "1s"), ("main", "1s"), ("feature", "1s"), ("main", "2s")]):
        meta = tmp_path / f"m{i}.json"
        commits.append(f"{i:040x}")
        meta.write_text(
            json.dumps(
                {
                    "commit": commits[-1],
                    "branch": branch,
                    "module": "example.com/policyengine",
                    "start_time": f"2026-01-0{i + 1}T00:00:00+00:00",
                    "settings": {**settings, "benchtime": bt},
                }
            )
        )
        p = run(
            [
                "benchpipe",
                "record",
                "--params",
                str(ROOT / "params.yaml"),
                "--raw",
                str(DATA / "example_fast.txt"),
                "--meta",
                str(meta),
                "--history",
                str(store),
                "--out",
                str(tmp_path / "rec.json"),
                "--dvc-out",
                str(store),
            ],
            env={"GITHUB_RUN_ID": ""},
        )
        assert p.returncode == 0, p.stderr
    cur = tmp_path / "cur.json"
    cur.write_text(
        json.dumps({"commit": "f" * 40, "module": "example.com/policyengine", "settings": settings})
    )
    out = tmp_path / "run" / "compare.json"
    p = run(
        [
            "benchpipe",
            "compare",
            "--params",
            str(ROOT / "params.yaml"),
            "--baseline",
            "history:main",
            "--current",
            str(DATA / "example_slow.txt"),
            "--current-meta",
            str(cur),
            "--out",
            str(out),
            "--no-confirm",
        ],
        env={"BENCHPIPE_HISTORY": str(store)},
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    d = json.loads(out.read_text())
    # run 3 is on main but at another benchtime, run 2 on another branch: runs 1 and 0 (6 samples each: the
    # newest alone has enough) -> the newest matching run is the baseline
    assert d["verdict"] == "FAIL" and d["baseline"] == "history:main"
    assert d["baseline_env"]["commit"] == commits[1] and d["baseline_env"]["branch"] == "main"
    assert "1 run(s) of branch main" in p.stderr
    assert {r["benchmark"] for r in d["rows"]} >= {"BenchmarkEvaluate-2", "BenchmarkCompile-2"}
    other = run(
        [
            "benchpipe",
            "compare",
            "--params",
            str(ROOT / "params.yaml"),
            "--baseline",
            "history:release",
            "--current",
            str(DATA / "example_slow.txt"),
            "--current-meta",
            str(cur),
            "--out",
            str(out),
            "--no-confirm",
        ],
        env={"BENCHPIPE_HISTORY": str(store)},
        cwd=tmp_path,
    )
    assert other.returncode == 0 and json.loads(out.read_text())["verdict"] == "NONE"
    assert "no run of example.com/policyengine on branch release" in json.loads(out.read_text())["note"]
    # pooled: asking for 12 samples per benchmark takes the two newest matching runs (6 each)
    import yaml

    prm = yaml.safe_load((ROOT / "params.yaml").read_text())
    prm["history"] = {"baseline_samples": 12}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(prm))
    pooled = run(
        [
            "benchpipe",
            "compare",
            "--params",
            str(tmp_path / "params.yaml"),
            "--baseline",
            "history:main",
            "--current",
            str(DATA / "example_slow.txt"),
            "--current-meta",
            str(cur),
            "--out",
            str(out),
            "--no-confirm",
        ],
        env={"BENCHPIPE_HISTORY": str(store)},
        cwd=tmp_path,
    )
    assert pooled.returncode == 0 and "2 run(s) of branch main" in pooled.stderr
    d = json.loads(out.read_text())
    assert d["baseline_env"]["commit"] == commits[1] and next(r for r in d["rows"])["old"]["n"] == 12
