"""Paired, interleaved base-vs-head comparison on real git revisions of real Go code."""

from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from scipy.stats import wilcoxon

from benchpipe.core import stats

from ..conftest import EXAMPLE, ROOT, ctrl_c_able, exit_for, printed_verdict, run

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}
FAST = ["--packages", "./pkg/core", "--bench", "^BenchmarkEvaluate$", "--rounds", "6", "--benchtime", "30ms"]


def git(repo: Path, *args: str) -> str:
    p = run(["git", *args], cwd=repo, env=GIT_ENV)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def committed_copy(src: Path, repo: Path, message: str = "rev1") -> Path:
    """A copy of the module ``src`` at ``repo``, committed to a fresh git repository (one commit)."""
    shutil.copytree(src, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return repo


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A git repo holding the example: c1 base, c2 comment only, c3 regression committed, c4 comment only."""
    repo = tmp_path / "hist"
    shutil.copytree(EXAMPLE, repo / "policyengine")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "c1 base")
    ev = repo / "policyengine" / "pkg" / "core" / "evaluate.go"
    ev.write_text(ev.read_text() + "\n// c2: a comment\n")
    git(repo, "commit", "-qam", "c2 comment")
    # every decision audited, its digest hashed three times: +130% on EvaluateComplex, a regression no noisy
    # machine's rounds leave in doubt (once, +37%, spread +-30% over 12 rounds here, which holds as a warning)
    slow = ev.read_text().replace("const auditDefault = false", "const auditDefault = true")
    ev.write_text(slow.replace("round < 1;", "round < 3;"))
    git(repo, "commit", "-qam", "c3 audit every decision")
    ev.write_text(ev.read_text() + "// c4: another comment\n")
    git(repo, "commit", "-qam", "c4 comment")
    return repo


def paired(repo: Path, cache: Path, *args: str, fmt: str = "json"):
    return run(
        [
            "benchpipe",
            "compare",
            "--target",
            str(repo / "policyengine"),
            "--params",
            str(ROOT / "params.yaml"),
            "--cache-dir",
            str(cache),
            "--format",
            fmt,
            "--out",
            str(cache.parent / "paired.json"),
            *args,
        ]
    )


def test_signed_rank_matches_scipy_exact() -> None:
    rng = random.Random(3)
    for _ in range(40):
        n = rng.randint(6, 20)
        d = [m * rng.choice((-1, 1)) for m in rng.sample(range(1, 1000), n)]  # distinct |d|: no ties
        ours = stats.signed_rank([float(x) for x in d]).p
        ref = wilcoxon(d, method="exact").pvalue
        assert math.isclose(ours, ref, rel_tol=1e-9), (d, ours, ref)


def test_committed_regression_fails_after_confirmation_and_aa_passes(history: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    p = paired(history, cache, "--base", "HEAD~2", *FAST)
    assert p.returncode == 1, p.stderr
    d = json.loads(p.stdout)
    assert d["verdict"] == "FAIL" and "signed-rank" in d["method"]
    ns = next(r for r in d["rows"] if r["unit"] == "ns/op")
    assert ns["benchmark"].startswith("BenchmarkEvaluate-") and ns["verdict"] == "regression"
    assert ns["ratio"]["center"] > 1.1 and ns["ratio"]["lo"] <= ns["ratio"]["center"] <= ns["ratio"]["hi"]
    # 6 fresh rounds, or 12 when the first 6 leaned the flagged way without deciding it (a disturbed round)
    fresh = [
        int(m.group(1)) for w in ns["warnings"] if (m := re.match(r"confirmed by (\d+) fresh rounds", w))
    ]
    assert fresh and fresh[0] in (6, 12) and ns["old"]["n"] == 6 + fresh[0], ns["warnings"]
    assert d["paired"]["confirmed"] and d["paired"]["confirm_rounds"] == 6
    assert "confirmed regressions: BenchmarkEvaluate-" in p.stderr
    assert "paired: building base" in p.stderr
    # worktrees are gone, the user's checkout untouched
    assert git(history, "worktree", "list").count("\n") == 0
    assert git(history, "status", "--porcelain") == ""
    # A/A: the same revision on both sides never FAILs; base builds come from the cache
    q = paired(history, cache, "--base", "HEAD~2", "--head", "HEAD~2", *FAST)
    assert q.returncode == 0, q.stdout + q.stderr
    assert json.loads(q.stdout)["verdict"] in ("PASS", "WARN")
    assert "paired: building" not in q.stderr  # both sides are commits already built


def test_text_output_and_dirty_head(history: Path, tmp_path: Path) -> None:
    ev = history / "policyengine" / "pkg" / "core" / "evaluate.go"
    ev.write_text(ev.read_text() + "// uncommitted\n")
    # a comment at the end of a file: no benchmark executes it (impact selection), a PASS without a run
    p = paired(history, tmp_path / "cache", "--base", "HEAD", *FAST, fmt="text")
    assert p.returncode == 0 and printed_verdict(p.stdout) == "PASS", p.stdout + p.stderr
    assert "no benchmark executes the changed code" in p.stdout and "paired: round" not in p.stderr
    p = paired(history, tmp_path / "cache", "--base", "HEAD", "--all", *FAST, fmt="text")
    assert p.returncode == exit_for(printed_verdict(p.stdout)), p.stdout + p.stderr
    assert "head working tree (dirty)" in p.stdout
    assert "warning: head is the working tree with uncommitted changes" in p.stdout


def test_bad_inputs(history: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    p = paired(history, cache, "--base", "no-such-rev", *FAST)
    assert p.returncode == 2 and "unknown revision 'no-such-rev'" in p.stderr and "Traceback" not in p.stderr
    # a base that does not build
    bad = history / "policyengine" / "pkg" / "core" / "broken.go"
    bad.write_text("package core\n\nfunc broken() { nope() }\n")
    git(history, "add", "-A")
    git(history, "commit", "-qm", "broken")
    bad.unlink()
    git(history, "commit", "-qam", "fixed")
    p = paired(history, cache, "--base", "HEAD~1", *FAST)
    assert p.returncode == 2 and "base side" in p.stderr and "does not build" in p.stderr
    assert git(history, "worktree", "list").count("\n") == 0
    # a benchmark that exists only on the head side is listed as added, never a crash
    t = history / "policyengine" / "pkg" / "core" / "extra_test.go"
    t.write_text(
        'package core\n\nimport "testing"\n\nfunc BenchmarkEvaluateNew(b *testing.B) {\n'
        "\tfor i := 0; i < b.N; i++ {\n\t}\n}\n"
    )
    p = paired(
        history,
        cache,
        "--base",
        "HEAD",
        "--packages",
        "./pkg/core",
        "--bench",
        "^BenchmarkEvaluate(New)?$",
        "--rounds",
        "6",
        "--benchtime",
        "20ms",
    )
    d = json.loads(p.stdout)
    assert p.returncode == exit_for(d["verdict"]), p.stderr
    assert d["added"] == ["BenchmarkEvaluateNew"] and d["removed"] == []


def test_changed_only(history: Path, tmp_path: Path) -> None:
    args = [
        "--bench",
        "^Benchmark(Evaluate|Parse)$",
        "--rounds",
        "6",
        "--benchtime",
        "20ms",
        "--no-confirm",
        "--changed-only",
    ]
    p = run(
        [
            "benchpipe",
            "compare",
            "--target",
            str(history / "policyengine"),
            "--params",
            str(ROOT / "params.yaml"),
            "--cache-dir",
            str(tmp_path / "c"),
            "--format",
            "json",
            "--base",
            "HEAD~1",
            "--head",
            "HEAD",
            "--packages",
            "./...",
            *args,
        ]
    )
    d = json.loads(p.stdout)
    assert p.returncode == exit_for(d["verdict"]), p.stderr
    assert {r["package"] for r in d["rows"]} == {"example.com/policyengine/pkg/core"}
    assert d["paired"]["changed_packages"] == ["example.com/policyengine/pkg/core"]
    # nothing changed between a commit and itself
    q = run(
        [
            "benchpipe",
            "compare",
            "--target",
            str(history / "policyengine"),
            "--params",
            str(ROOT / "params.yaml"),
            "--cache-dir",
            str(tmp_path / "c"),
            "--base",
            "HEAD",
            "--head",
            "HEAD",
            "--packages",
            "./...",
            *args,
        ]
    )
    assert q.returncode == 3 and "no package changed" in q.stderr


def test_bisect_finds_the_commit(history: Path, tmp_path: Path) -> None:
    p = run(
        [
            "benchpipe",
            "bisect",
            "--target",
            str(history / "policyengine"),
            "--params",
            str(ROOT / "params.yaml"),
            "--cache-dir",
            str(tmp_path / "c"),
            "--good",
            "HEAD~3",
            "--bad",
            "HEAD",
            "--bench",
            "^BenchmarkEvaluate$",
            "--packages",
            "./pkg/core",
            "--rounds",
            "6",
            "--benchtime",
            "30ms",
            "--format",
            "json",
        ]
    )
    assert p.returncode == 0, p.stderr
    c3 = git(history, "rev-parse", "HEAD~1")
    d = json.loads(p.stdout)
    assert d["regressed"] and d["first_bad"] == c3 and d["subject"] == "c3 audit every decision"
    assert d["steps"][0]["commit"] == git(history, "rev-parse", "HEAD") and d["steps"][0]["regressed"]


def test_calibrate_stores_noise_floor_and_compare_warns(history: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    p = run(
        [
            "benchpipe",
            "calibrate",
            "--target",
            str(history / "policyengine"),
            "--params",
            str(ROOT / "params.yaml"),
            "--cache-dir",
            str(cache),
            "--rev",
            "HEAD",
            "--packages",
            "./pkg/core",
            "--bench",
            "^BenchmarkEvaluate$",
            "--rounds",
            "6",
            "--benchtime",
            "20ms",
            "--out",
            str(tmp_path / "cal.json"),
            "--format",
            "json",
        ]
    )
    assert p.returncode == 0, p.stderr
    cal = json.loads((tmp_path / "cal.json").read_text())
    assert json.loads(p.stdout) == cal
    entry = next(e for e in cal["benchmarks"].values() if e["unit"] == "ns/op")
    floors = entry["noise_floor_pct"]
    assert set(floors) == {"6", "10", "15", "20", "30"} and all(v >= 0 for v in floors.values())
    assert floors["30"] <= floors["6"] + 1e-9  # more rounds, lower noise floor
    assert cal["stored"]
    q = paired(history, cache, "--base", "HEAD", "--head", "HEAD", "--threshold", "0.0001", *FAST)
    d = json.loads(q.stdout)
    assert q.returncode == exit_for(d["verdict"]), q.stderr
    assert any("below this machine's noise floor" in w for w in d["warnings"])


def test_interrupt_cleans_up_worktrees(history: Path, tmp_path: Path) -> None:
    cmd = [
        "benchpipe",
        "compare",
        "--target",
        str(history / "policyengine"),
        "--params",
        str(ROOT / "params.yaml"),
        "--cache-dir",
        str(tmp_path / "c"),
        "--base",
        "HEAD~2",
        "--head",
        "HEAD",
        "--packages",
        "./pkg/core",
        "--bench",
        "^BenchmarkEvaluate$",
        "--rounds",
        "50",
        "--benchtime",
        "50ms",
    ]
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, text=True, env={**os.environ}, preexec_fn=ctrl_c_able
    )
    assert proc.stderr is not None
    deadline, rounding = time.monotonic() + 120, False
    for line in proc.stderr:
        if "round 1/" in line:
            rounding = True
            break
        assert time.monotonic() < deadline, "the rounds never started"
    assert rounding, "the compare ended before its rounds"
    assert len(git(history, "worktree", "list").splitlines()) == 3  # main + base + head
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert len(git(history, "worktree", "list").splitlines()) == 1


def test_a_new_benchmark_that_fails_fails_the_comparison(history: Path, tmp_path: Path) -> None:
    """A pull request that adds a benchmark calling b.Fatal: go test exits 1 with --- FAIL; the paired
    comparison exits 2 and names it with Go's message, in the JSON, on stderr, in the job summary and the
    gate's verdict (the message stays text)."""
    (history / "policyengine" / "pkg" / "core" / "fail_test.go").write_text(
        'package core\n\nimport "testing"\n\nfunc BenchmarkFails(b *testing.B) {\n'
        "\tfor i := 0; i < b.N; i++ {\n\t\tif i > 10 {\n"
        '\t\t\tb.Fatal("boom: <b>@octocat</b> the cache is empty")\n\t\t}\n\t}\n}\n'
    )
    p = paired(
        history,
        tmp_path / "c",
        "--base",
        "HEAD",
        "--packages",
        "./pkg/core",
        "--bench",
        "^Benchmark(Evaluate|Fails)$",
        "--rounds",
        "6",
        "--benchtime",
        "30ms",
    )
    out = tmp_path / "paired.json"  # the helper's --out
    assert p.returncode == 2, p.stdout + p.stderr
    d = json.loads(out.read_text())
    assert d["added"] == ["BenchmarkFails"] and len(d["failures"]) == 1, d["failures"]
    f = d["failures"][0]
    assert f["benchmark"] == "BenchmarkFails" and f["kind"] == "fail"
    assert (
        "fail_test.go:8: boom: <b>@octocat</b> the cache is empty" in f["message"]
        and "head side" in f["message"]
    )
    assert "paired: FAILED: head side" in p.stderr and "boom" in p.stderr
    assert {r["benchmark"].rsplit("-", 1)[0] for r in d["rows"]} == {"BenchmarkEvaluate"}  # the rest compared
    g = run(["benchpipe", "gate", "--compare", str(out)])
    assert g.returncode == 2 and "verdict: ERROR" in g.stdout + g.stderr and "boom" in g.stdout + g.stderr
    summary = tmp_path / "summary.md"
    a = run(["benchpipe", "annotate", str(out), "--summary", str(summary)])
    assert "::error title=benchpipe failed::" in a.stdout and "boom" in a.stdout, a.stdout + a.stderr
    line = next(ln for ln in summary.read_text().splitlines() if "❌ failed" in ln)
    assert "`" in line and "<b>@octocat</b>" in line.split("`", 1)[1], line  # inside a code span: text


BREAKS = (
    'package core\n\nimport "testing"\n\nfunc BenchmarkBreaks(b *testing.B) {\n'
    "\tfor i := 0; i < b.N; i++ {\n\t\tif broken && i > 10 {\n"
    '\t\t\tb.Fatal("broken: <i>the index</i> is stale")\n\t\t}\n\t}\n}\n\nconst broken = BROKEN\n'
)


def test_a_common_benchmark_that_fails_on_the_head_fails_and_one_the_head_fixes_passes(
    history: Path, tmp_path: Path
) -> None:
    """A benchmark both sides have that fails on the head side: exit 2, named with Go's message in the
    JSON, the rest still compared. The reverse (it fails on the base side, the head fixes it): not an
    error, said in the warnings."""
    bench = history / "policyengine" / "pkg" / "core" / "breaks_test.go"
    bench.write_text(BREAKS.replace("BROKEN", "false"))
    git(history, "add", "-A")
    git(history, "commit", "-qm", "c5 a benchmark that passes")
    bench.write_text(BREAKS.replace("BROKEN", "true"))
    args = ["--base", "HEAD", "--packages", "./pkg/core", "--bench", "^Benchmark(Evaluate|Breaks)$"]
    args += ["--rounds", "6", "--benchtime", "30ms"]
    p = paired(history, tmp_path / "c", *args)
    d = json.loads((tmp_path / "paired.json").read_text())
    assert p.returncode == 2, p.stdout + p.stderr
    assert [(f["benchmark"], f["kind"]) for f in d["failures"]] == [("BenchmarkBreaks", "fail")], d[
        "failures"
    ]
    assert (
        "head side" in d["failures"][0]["message"]
        and "<i>the index</i> is stale" in d["failures"][0]["message"]
    )
    assert {r["benchmark"].rsplit("-", 1)[0] for r in d["rows"]} == {"BenchmarkEvaluate"}
    assert "paired: FAILED: head side" in p.stderr
    git(history, "commit", "-qam", "c6 it breaks")
    bench.write_text(BREAKS.replace("BROKEN", "false"))  # the head fixes it
    p = paired(history, tmp_path / "c", *args)
    d = json.loads((tmp_path / "paired.json").read_text())
    assert p.returncode == exit_for(d["verdict"]) and d["failures"] == [], p.stdout + p.stderr
    fixed = [w for w in d["warnings"] if w.startswith("BenchmarkBreaks fails on the base side")]
    assert fixed and "the head fixes it" in fixed[0] and "is stale" in fixed[0], (d["warnings"], p.stderr)
    assert {r["benchmark"].rsplit("-", 1)[0] for r in d["rows"]} == {"BenchmarkEvaluate"}


def test_the_packages_a_change_cannot_affect(history: Path) -> None:
    """What the baseline flow's shift is judged on: between c2 and c3 only pkg/core changed, so
    pkg/policydomain (which core imports, not the other way) cannot be affected; an unknown commit is
    not known."""
    from benchpipe.core.artifacts import BenchMeta
    from benchpipe.core.stats import summarize
    from benchpipe.core.verdict import Row
    from benchpipe.stages.compare import unaffected

    module = history / "policyengine"
    c2, c3 = git(history, "rev-parse", "HEAD~2"), git(history, "rev-parse", "HEAD~1")
    s = summarize([1.0] * 6)
    rows = [
        Row(
            package=f"example.com/policyengine/pkg/{p}",
            benchmark="BenchmarkX",
            unit="ns/op",
            old=s,
            new=s,
            verdict="unchanged",
        )
        for p in ("core", "policydomain")
    ]
    be, ce = BenchMeta(commit=c2), BenchMeta(commit=c3, target=str(module), dirty=False)
    assert unaffected(be, ce, rows) == {"example.com/policyengine/pkg/policydomain"}
    (module / "pkg" / "policydomain" / "extra.go").write_text("package policydomain\n\nconst Extra = 1\n")
    dirty = BenchMeta(commit=c3, target=str(module), dirty=True)  # the working tree changes policydomain too
    assert unaffected(be, dirty, rows) == set()
    assert unaffected(BenchMeta(commit="0" * 40), ce, rows) is None
