"""Trust measured on real code: false alarms through the baseline flow and paired, detection, early stopping.

``python tools/trust.py module DIR [--rev REV] [--packages P] [--bench RE] [--benchtime T] [--repeats N]``
    A/A on any Go module in a git repository, at a clean revision (default HEAD):
    * through the baseline flow, as a user runs it: ``benchpipe bench`` (count 6) saved as the
      baseline, ``benchpipe bench`` again, ``benchpipe compare`` (sequential U test, then confirmation
      of flagged rows by interleaved rounds against the baseline's commit);
    * paired: REV against itself, interleaved rounds with early stopping.
    Every FAIL and every WARN is a false alarm; an improvement reported as confirmed is a false one.

``python tools/trust.py controlled [--repeats N] [--early-only]``
    The controlled-cost module of ``tests/quality`` (rev1; rev2 with +12/+18/+25% work on Slower*; a
    third revision with +5% on them): paired A/A, A/B at the 10% threshold and A/B +5% at a 4%
    threshold, each with early stopping and with fixed rounds, side by side: error rates and the
    benchmark runs each needed.

Settings come from the repository's ``params.yaml`` (rules, paired rounds, confirm rounds). Prints a
summary for the README; ``--json FILE`` keeps every repetition.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from benchpipe.core.artifacts import CompareDoc, PairedFacts
from benchpipe.core.settings import parse
from benchpipe.core.verdict import Comparison, Options
from benchpipe.revisions import paired
from benchpipe.store import artifacts

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from quality import GIT_ENV, SLOWER, make_repo  # noqa: E402


def settings() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def options(threshold: float | None = None) -> Options:
    opts = Options.from_settings(parse(settings()).compare)
    if threshold is not None:
        opts.threshold_pct = threshold
    return opts


def _params(work: Path, target: Path, packages: list[str], bench: str, benchtime: str) -> Path:
    p = settings()
    p["target"] = str(target)
    p["modes"]["quick"].update(
        {"packages": packages, "bench": bench, "count": 6, "benchtime": benchtime, "profile": "flagged"}
    )
    out = work / "params.yaml"
    out.write_text(yaml.safe_dump(p))
    return out


def _cli(work: Path, *args: str) -> None:
    p = subprocess.run(["benchpipe", *args], cwd=work, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"trust: benchpipe {args[0]} failed: {p.stderr.strip().splitlines()[-1:]}")


def baseline_flow_aa(
    target: Path,
    packages: list[str],
    bench: str,
    benchtime: str,
    cache: Path,
    between: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """bench -> baseline -> bench -> compare (with confirmation), on unchanged code (or on what ``between``
    makes of the working tree after the baseline's run: an A/B)."""
    with tempfile.TemporaryDirectory(prefix="benchpipe-trust-") as tmp:
        work = Path(tmp)
        params = _params(work, target, packages, bench, benchtime)
        t0 = time.monotonic()
        _cli(work, "bench", "--params", str(params), "--out", "base.txt", "--meta", "base.json")
        (work / "baselines").mkdir()
        shutil.copy(work / "base.txt", work / "baselines" / "main.txt")
        shutil.copy(work / "base.json", work / "baselines" / "main.meta.json")
        if between is not None:
            between()
        _cli(work, "bench", "--params", str(params), "--out", "cur.txt", "--meta", "cur.json")
        _cli(
            work,
            "compare",
            "--params",
            str(params),
            "--current",
            "cur.txt",
            "--current-meta",
            "cur.json",
            "--cache-dir",
            str(cache),
            "--out",
            "compare.json",
        )
        doc = artifacts.read(work / "compare.json", CompareDoc)

    def named(verdict: str) -> list[str]:
        return sorted(f"{r.benchmark} {r.unit}" for r in doc.rows if r.verdict == verdict)

    return {
        "verdict": doc.verdict,
        "seconds": round(time.monotonic() - t0, 1),
        "confirm_s": doc.confirm.seconds if doc.confirm else 0.0,
        "confirm_budget_s": doc.confirm.budget_s if doc.confirm else 0.0,  # the run's own time: its bound
        "confirmed_rows": doc.confirm.results if doc.confirm else 0,
        "fail": named("regression"),
        "warn": named("warn"),
        "improved": named("improvement"),
        "inconclusive": named("inconclusive"),
        "resolved": doc.confirm.resolved if doc.confirm else [],
        "explanations": [artifacts.to_dict(e) for e in doc.explanations],
        "shift": doc.shift,
        "rows": len(doc.rows),
        "varies": sum(1 for r in doc.rows if r.varies_with_n),
    }


def run_paired(
    target: Path,
    base: str,
    head: str,
    packages: list[str],
    bench: str,
    benchtime: str,
    cache: Path,
    early: bool,
    opts: Options,
    explained: list[Any] | None = None,
) -> tuple[Comparison, PairedFacts, float]:
    """A paired comparison (its explanations appended to ``explained`` when given)."""
    pc = parse(settings()).paired
    plan = paired.Plan(
        target=target,
        base_rev=base,
        head_rev=head,
        patterns=packages,
        bench=bench,
        rounds=pc.rounds,
        confirm_rounds=pc.confirm_rounds,
        benchtime=benchtime,
        order="alternate",
        timeout="30m",
        changed_only=False,
        cache=cache,
        early_stop=early,
    )
    t0 = time.monotonic()
    out = paired.execute(plan, opts)
    if explained is not None:
        explained += [artifacts.to_dict(e) for e in out.explanations]
    return out.comparison, out.facts, time.monotonic() - t0


def _judged(c: Comparison) -> dict[str, list[str]]:
    def names(v: str) -> list[str]:
        return sorted(f"{r.benchmark} {r.unit}" for r in c.rows if r.verdict == v)

    return {
        "fail": names("regression"),
        "warn": names("warn"),
        "improved": names("improvement"),
        "inconclusive": names("inconclusive"),
    }


def module(a: argparse.Namespace) -> dict[str, Any]:
    target = Path(a.dir).resolve()
    packages = a.packages.split(",") if a.packages else ["./..."]
    out: dict[str, Any] = {
        "module": str(target),
        "packages": packages,
        "bench": a.bench,
        "benchtime": a.benchtime,
        "runs": [],
    }
    with tempfile.TemporaryDirectory(prefix="benchpipe-trust-cache-") as cache:
        for i in range(a.repeats):
            run: dict[str, Any] = {}
            if a.flow in ("both", "baseline"):
                seq = run["baseline_flow"] = baseline_flow_aa(
                    target, packages, a.bench, a.benchtime, Path(cache)
                )
                sys.stderr.write(
                    f"trust: {target.name} {i + 1}/{a.repeats}: baseline flow {seq['verdict']} "
                    f"(fail {len(seq['fail'])}, warn {len(seq['warn'])}, inconclusive "
                    f"{len(seq['inconclusive'])}, {seq['seconds']}s, confirm {seq['confirm_s']}s of "
                    f"{seq['confirm_budget_s']}s)\n"
                )
            if a.flow in ("both", "paired"):
                c, facts, secs = run_paired(
                    target, a.rev, a.rev, packages, a.bench, a.benchtime, Path(cache), True, options()
                )
                pair = run["paired"] = {
                    **_judged(c),
                    "seconds": round(secs, 1),
                    "runs": facts.runs,
                    "max_runs": facts.design["max_runs"],
                    "rows": len(c.rows),
                }
                sys.stderr.write(
                    f"trust: {target.name} {i + 1}/{a.repeats}: paired fail {len(pair['fail'])} warn "
                    f"{len(pair['warn'])} ({pair['seconds']}s, {pair['runs']}/{pair['max_runs']} runs)\n"
                )
            out["runs"].append(run)
    return out


def controlled(a: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"repeats": a.repeats, "benchtime": a.benchtime, "runs": []}
    with tempfile.TemporaryDirectory(prefix="benchpipe-trust-ctl-") as tmp:
        repo = make_repo(ROOT / "tests" / "quality", Path(tmp) / "repo")
        work = repo / "work.go"
        text = (ROOT / "tests" / "quality" / "rev1" / "work.go").read_text()
        for name in ("slower12", "slower18", "slower25"):
            text = text.replace(f"{name} = 2000", f"{name} = 2100")
        work.write_text(text)
        env = {**os.environ, **GIT_ENV}
        for cmd in (["git", "commit", "-qam", "slow5"], ["git", "tag", "slow5"]):
            subprocess.run(cmd, cwd=repo, check=True, env=env, capture_output=True)
        cache = Path(tmp) / "cache"
        cases = (("aa", "rev2", "rev2", 10.0), ("ab10", "rev1", "rev2", 10.0), ("ab5", "rev1", "slow5", 4.0))
        for i in range(a.repeats):
            run: dict[str, Any] = {}
            for case, base, head, threshold in cases:
                for early in (True,) if a.early_only else (True, False):
                    c, facts, secs = run_paired(
                        repo, base, head, ["."], ".", a.benchtime, cache, early, options(threshold)
                    )
                    j = _judged(c)
                    run[f"{case}-{'early' if early else 'fixed'}"] = {
                        **j,
                        "seconds": round(secs, 1),
                        "runs": facts.runs,
                        "detected": sorted(
                            b
                            for b in SLOWER
                            if any(f.startswith(b + "-") and "ns/op" in f for f in j["fail"])
                        ),
                        "false": sorted(
                            f
                            for f in j["fail"] + j["warn"]
                            if not any(f.startswith(b + "-") for b in SLOWER + ("BenchmarkAlloc",))
                        ),
                    }
            out["runs"].append(run)
            sys.stderr.write(
                f"trust: controlled {i + 1}/{a.repeats}: "
                + "; ".join(
                    f"{k} det {len(v['detected'])} false {len(v['false'])} runs {v['runs']}"
                    for k, v in run.items()
                )
                + "\n"
            )
    return out


def summarize_module(res: dict[str, Any]) -> str:
    runs = res["runs"]
    n = len(runs)
    seq = [r["baseline_flow"] for r in runs if "baseline_flow" in r]
    par = [r["paired"] for r in runs if "paired" in r]
    parts = [
        f"{Path(res['module']).name} ({','.join(res['packages'])} {res['bench']!r} at {res['benchtime']}), "
        f"{n} repetitions"
    ]
    if seq:
        parts.append(
            f"baseline flow FAIL {sum(1 for s in seq if s['fail'])}/{n}, WARN "
            f"{sum(1 for s in seq if (s['warn'] or s['inconclusive']) and not s['fail'])}/{n} "
            "(inconclusive rows "
            f"{sum(len(s['inconclusive']) for s in seq)}, resolved by confirmation "
            f"{sum(len(s['resolved']) for s in seq)}), confirmed improvements "
            f"{sum(len(s['improved']) for s in seq)}, {seq[0]['rows']} rows ({max(s['varies'] for s in seq)} "
            f"vary with b.N), mean {sum(s['seconds'] for s in seq) / n:.0f}s (confirmation "
            f"{sum(s['confirm_s'] for s in seq) / n:.0f}s, at most "
            f"{max([s['confirm_s'] / b for s in seq if (b := s['confirm_budget_s'])] or [0]):.2f}x its "
            "budget)"
        )
    if par:
        parts.append(
            f"paired FAIL {sum(1 for p in par if p['fail'])}/{n}, WARN "
            f"{sum(1 for p in par if (p['warn'] or p['inconclusive']) and not p['fail'])}/{n} "
            "(inconclusive rows "
            f"{sum(len(p['inconclusive']) for p in par)}), improvements "
            f"{sum(len(p['improved']) for p in par)}, mean {sum(p['seconds'] for p in par) / n:.0f}s, runs "
            f"{sum(p['runs'] for p in par)}/{sum(p['max_runs'] for p in par)} of fixed rounds"
        )
    return ": ".join(parts[:1]) + ": " + "; ".join(parts[1:])


def summarize_controlled(res: dict[str, Any]) -> str:
    lines = []
    n = len(res["runs"])
    for case in ("aa", "ab10", "ab5"):
        for way in ("early", "fixed"):
            rs = [r[f"{case}-{way}"] for r in res["runs"] if f"{case}-{way}" in r]
            if not rs:
                continue
            det = sum(len(r["detected"]) for r in rs)
            false_runs = sum(1 for r in rs if r["false"])
            lines.append(
                f"{case:<5} {way:<5}: injected slowdowns FAILed "
                f"{det}/{len(SLOWER) * n if case != 'aa' else 0}"
                f", comparisons with a false FAIL/WARN {false_runs}/{n}, benchmark runs "
                f"{sum(r['runs'] for r in rs)}, wall {sum(r['seconds'] for r in rs):.0f}s"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="tools/trust.py")
    sub = ap.add_subparsers(dest="what", required=True)
    m = sub.add_parser("module")
    m.add_argument("dir")
    m.add_argument("--rev", default="HEAD")
    m.add_argument("--packages", default="")
    m.add_argument("--bench", default=".")
    m.add_argument("--benchtime", default="200x")
    m.add_argument("--repeats", type=int, default=5)
    m.add_argument("--flow", choices=("both", "baseline", "paired"), default="both")
    m.add_argument("--json", default="")
    c = sub.add_parser("controlled")
    c.add_argument("--repeats", type=int, default=20)
    c.add_argument("--benchtime", default="50ms")
    c.add_argument(
        "--early-only",
        action="store_true",
        help="skip the fixed-rounds side (its rates do not depend on the stopping rule)",
    )
    c.add_argument("--json", default="")
    a = ap.parse_args(argv)
    res = module(a) if a.what == "module" else controlled(a)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))
    print(summarize_module(res) if a.what == "module" else summarize_controlled(res))


if __name__ == "__main__":
    main()
