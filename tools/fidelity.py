"""Fidelity: does every mode that runs benchmarks again measure what ``go test -bench`` measures?

For a Go module in a git work tree, every result selected by ``--bench`` is measured

* by plain ``go test -run ^$ -bench RE -benchmem -count N -benchtime T PKGS`` (the reference);
* in paired rounds (``benchpipe compare --base``; ``calibrate`` and ``bisect`` run the same rounds): an
  A/A paired comparison of HEAD against the working tree, each result as
  :func:`benchpipe.go.toolchain.run_rule` says (its b.N at the paired benchtime, or a time for RunParallel);
* in confirmation: the same rounds at each result's b.N from the ``go test`` run, cut to the paired
  benchtime's worth of timed work (as confirmation re-runs the flagged rows of a baseline comparison);
* in profiling: the profile stage's CPU run of each result alone
  (:func:`benchpipe.stages.profile.profile_benchmark`).

It prints a table (result, shape, ``go test`` median ns/op, each mode's median, the ratio to ``go test``)
and, with ``--json``, writes the numbers. ``go test``'s own spread (its slowest and fastest run over its
median) is the noise a ratio is read against.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchpipe.core import benchfmt
from benchpipe.core.settings import ProfileSection
from benchpipe.core.verdict import Options
from benchpipe.go import benchsrc, toolchain
from benchpipe.revisions import paired
from benchpipe.stages import profile

Ref = tuple[str, str]  # (import path, result name without -N)


def go_test(
    module: Path, packages: list[str], bench: str, count: int, benchtime: str
) -> tuple[dict[Ref, list[float]], dict[Ref, int], dict[tuple[str, str], float]]:
    """Plain ``go test``: each result's ns/op samples, its smallest b.N, and its median ns/op by the name Go
    printed (-N suffix included)."""
    p = subprocess.run(
        [
            "go",
            "test",
            "-run",
            "^$",
            "-bench",
            bench,
            "-benchmem",
            "-count",
            str(count),
            "-benchtime",
            benchtime,
            "-timeout",
            "60m",
            *packages,
        ],
        cwd=module,
        capture_output=True,
        text=True,
    )
    if p.returncode != 0:
        sys.exit(f"fidelity: go test failed: {(p.stderr or p.stdout).strip().splitlines()[-1:]}")
    values: dict[Ref, list[float]] = {}
    printed: dict[tuple[str, str], list[float]] = {}
    iters: dict[Ref, int] = {}
    for r in benchfmt.read_text(p.stdout, "go test").results:
        key = (r.config.get("pkg", ""), r.base_name)
        ns = [v for v, u in r.values if u == "ns/op"]
        values.setdefault(key, []).extend(ns)
        printed.setdefault((key[0], r.name), []).extend(ns)
        iters[key] = min(iters.get(key, r.iters), r.iters)
    return values, iters, {k: statistics.median(v) for k, v in printed.items() if v}


def rounds(
    module: Path,
    packages: list[str],
    bench: str,
    n: int,
    benchtime: str,
    cache: Path,
    iters: dict[Ref, int] | None = None,
    reference: dict[tuple[str, str], float] | None = None,
    check_bt: str = "",
) -> tuple[dict[Ref, list[float]], dict[str, str]]:
    """An A/A paired run (HEAD against the working tree): each result's ns/op over both sides' rounds, and
    how each ran. With ``iters`` and ``reference`` (ns/op by printed name), every result runs at that b.N
    after its check run, as confirmation runs it."""
    plan = paired.Plan(
        target=module,
        base_rev="HEAD",
        head_rev=None,
        patterns=packages,
        bench=bench,
        rounds=n,
        confirm_rounds=0,
        benchtime=benchtime,
        order="alternate",
        timeout="60m",
        changed_only=False,
        cache=cache,
        refs=sorted(iters) if iters else None,
        iters=dict(iters or {}),
        reference_ns=dict(reference or {}),
        # as confirmation runs them (revisions.confirm): RunParallel results at the run's own time, never
        # lengthened toward go test's (that would undo its budget)
        reference_bt=benchtime if iters else "",
        check_bt=check_bt,
    )
    out = paired.execute(plan, Options())
    values: dict[Ref, list[float]] = {}
    for side in out.samples.values.values():
        for (pkg, name, unit), by_round in side.items():
            if unit == "ns/op":
                values.setdefault((pkg, benchfmt.base_name(name)), []).extend(by_round.values())
    return values, out.facts.run_as


def profiled(
    module: Path,
    packages: list[str],
    refs: list[Ref],
    measured: dict[Ref, float],
    work: Path,
    cfg: ProfileSection,
) -> dict[Ref, list[float]]:
    """The profile stage's CPU run of each result alone: its ns/op."""
    pkgs = {p.import_path: p for p in toolchain.resolve_packages(module, packages)[0]}
    par = {path: benchsrc.parallel(p.dir) for path, p in pkgs.items()}
    out: dict[Ref, list[float]] = {}
    for i, (pkg_path, name) in enumerate(refs):
        pkg = pkgs[pkg_path]
        binary = work / f"{pkg.import_path.replace('/', '_')}.test"
        if not binary.exists():
            toolchain.build_test_binary(pkg, module, binary)
        sel = profile.Selection(
            name,
            toolchain.name_pattern(name),
            measured[(pkg_path, name)],
            benchfmt.top_level(name) in par[pkg_path],
        )
        sub = work / f"p{i}"
        sub.mkdir()
        profile.profile_benchmark(binary, pkg, sel, sub, cfg, "60m", cfg.benchtime)
        out[(pkg_path, name)] = [
            v
            for r in benchfmt.read_text((sub / "bench.txt").read_text()).results
            for v, u in r.values
            if u == "ns/op"
        ]
    return out


def table(
    ref_values: dict[Ref, list[float]], modes: dict[str, dict[Ref, list[float]]], shapes: dict[Ref, str]
) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(ref_values):
        vals = ref_values[key]
        med = statistics.median(vals)
        row: dict[str, Any] = {
            "package": key[0],
            "result": key[1],
            "shape": shapes.get(key, ""),
            "go_test": med,
            "go_test_spread": [min(vals) / med, max(vals) / med],
            "modes": {},
        }
        for mode, got in modes.items():
            if got.get(key):
                m = statistics.median(got[key])
                row["modes"][mode] = {"median": m, "ratio": m / med}
        rows.append(row)
    return rows


def render(rows: list[dict[str, Any]], modes: list[str]) -> str:
    head = ["result", "shape", "go test ns/op (spread)"] + [f"{m} ns/op (ratio)" for m in modes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lo, hi = r["go_test_spread"]
        cells = [
            f"`{r['result']}`",
            r["shape"],
            f"{r['go_test']:.4g} ({(lo - 1) * 100:+.0f}%/{(hi - 1) * 100:+.0f}%)",
        ]
        for m in modes:
            got = r["modes"].get(m)
            cells.append(f"{got['median']:.4g} ({got['ratio']:.2f})" if got else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def cut_to(iters: dict[Ref, int], values: dict[Ref, list[float]], run_bt: str) -> dict[Ref, int]:
    """Each result's b.N from the ``go test`` run, cut to ``run_bt`` of timed work as confirmation cuts it
    (:func:`benchpipe.revisions.confirm.cut_iters`)."""
    from benchpipe.revisions.confirm import cut_iters

    chosen = {k: iters[k] for k in values}
    return {**chosen, **cut_iters(chosen, {k: statistics.median(v) for k, v in values.items()}, run_bt)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("module", type=Path, help="a Go module in a git work tree")
    ap.add_argument("--packages", default="./...")
    ap.add_argument("--bench", default=".")
    ap.add_argument("--count", type=int, default=5, help="go test -count")
    ap.add_argument("--benchtime", default="1s", help="go test -benchtime (and confirmation's)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--paired-benchtime", default="100ms")
    ap.add_argument("--min-samples", type=int, default=1000, help="profile.min_samples of the profiling runs")
    ap.add_argument("--max-s", type=float, default=15, help="profile.max_s of the profiling runs")
    ap.add_argument("--modes", default="paired,confirm,profile")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    module, packages, modes = a.module.resolve(), a.packages.split(","), a.modes.split(",")
    ref_values, iters, printed = go_test(module, packages, a.bench, a.count, a.benchtime)
    if not ref_values:
        sys.exit(f"fidelity: no benchmark matches {a.bench!r}")
    by_pkg = {p.import_path: benchsrc.shapes(p.dir) for p in toolchain.resolve_packages(module, packages)[0]}
    shapes = {(pkg, n): by_pkg.get(pkg, {}).get(benchfmt.top_level(n), "") for pkg, n in ref_values}
    got: dict[str, dict[Ref, list[float]]] = {}
    run_as: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="benchpipe-fidelity-") as tmp:
        work = Path(tmp)
        if "paired" in modes:
            got["paired"], run_as["paired"] = rounds(
                module, packages, a.bench, a.rounds, a.paired_benchtime, work / "c"
            )
        if "confirm" in modes:
            got["confirm"], run_as["confirm"] = rounds(
                module,
                packages,
                a.bench,
                a.rounds,
                a.benchtime,
                work / "c",
                cut_to(iters, ref_values, a.paired_benchtime),
                printed,
                a.paired_benchtime,
            )
        if "profile" in modes:
            cfg = ProfileSection(min_samples=a.min_samples, max_s=a.max_s, benchtime="200ms")
            medians = {k: statistics.median(v) for k, v in ref_values.items()}
            got["profile"] = profiled(module, packages, sorted(ref_values), medians, work, cfg)
    rows = table(ref_values, got, shapes)
    sys.stdout.write(render(rows, [m for m in modes if m in got]))
    worst = max((abs(m["ratio"] - 1), r["result"], name) for r in rows for name, m in r["modes"].items())
    sys.stdout.write(f"\nworst: {worst[1]} in {worst[2]} ({worst[0]:+.0%} from go test)\n")
    if a.json:
        a.json.write_text(
            json.dumps(
                {
                    "module": str(module),
                    "bench": a.bench,
                    "benchtime": a.benchtime,
                    "count": a.count,
                    "rows": rows,
                    "run_as": run_as,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
