"""Impact selection against what a full run would catch: single-function slowdowns at random functions that
some benchmark executes.

``python tools/impact_misses.py MODULE [--changes 40] [--seed 1] [--rounds 4] [--benchtime 30ms]
[--walltime 3] --json FILE``

MODULE is copied into a fresh git repository. ``benchpipe impact map`` builds its coverage map (timed, and
set against one plain ``go test -count 1 -bench .`` pass of the suite). Then, per change:

1. a busy loop (a few hundred integer operations the compiler keeps) is put at the top of one function's
   body, a function picked at random (seeded) among those the map says some benchmark executes;
2. ``benchpipe impact select --base HEAD`` says what runs and what is skipped;
3. every benchmark of the suite runs in plain test binaries of both sides (``go test -c``), interleaved for
   ``--rounds`` rounds at ``--benchtime``, and each result's head/base ratio of medians and Mann-Whitney
   p are computed; a result beyond the 10% threshold (p < 0.05) under a skipped benchmark is measured again
   with twice the rounds, then with 10 rounds at 300ms, and is a **miss** if it still is both times (else it
   is kept as ``flagged_then_unchanged``);
4. the slowdown is undone.

It prints and keeps the misses (the goal is 0), the share of the suite skipped per change, the changes that
ran everything and why, and how many selected results the slowdown moved beyond the threshold (whether the
injection did anything). ``--walltime N`` also times, for the first N changes, ``benchpipe compare --base
HEAD`` with impact selection against the same with package-level selection (``--changed-only``).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from scipy.stats import mannwhitneyu

from benchpipe.go import coverage

THRESHOLD = 0.10
VERIFY_ROUNDS, VERIFY_BENCHTIME = 10, "300ms"  # the last look at a suspected miss
LINE = re.compile(r"^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op", re.M)
SPIN = (
    "\tbpSpinX := 1\n\tfor bpSpinI := 0; bpSpinI < 300; bpSpinI++ {\n"
    "\t\tbpSpinX = bpSpinX*31 + bpSpinI ^ (bpSpinX >> 3)\n\t}\n"
    '\tif bpSpinX == 7 {\n\t\tpanic("unreachable")\n\t}\n'
)


def sh(argv: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed: {(p.stderr or p.stdout)[-400:]}")
    return p


def candidates(repo: Path, cmap: dict[str, Any], cache: Path) -> list[tuple[str, str, int]]:
    """(file, function id, line after which the body starts) of executed functions with a multi-line body."""
    executed = {f for fs in cmap["benchmarks"].values() for f in fs}
    files = coverage.go_files(repo)
    decls = coverage.declarations(repo, files, cache)
    out = []
    for rel, d in decls.items():
        pkg = cmap["module"] + ("/" + str(Path(rel).parent) if str(Path(rel).parent) != "." else "")
        lines = (repo / rel).read_text().splitlines()
        for x in d.decls:
            fid = f"{pkg}.{x.name}"
            if x.kind not in ("func", "method") or fid not in executed or x.end - x.start < 2:
                continue
            body = next((i for i in range(x.start - 1, x.end) if lines[i].rstrip().endswith("{")), None)
            if body is not None and "func" in lines[x.start - 1] + lines[body] and body < x.end - 1:
                out.append((rel, fid, body + 1))
    return sorted(out)


def packages(cmap: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k in sorted([*cmap["benchmarks"], *cmap.get("failed", {})]):
        pkg, name = k.split(" ", 1)
        out.setdefault(pkg, []).append(name)
    return out


def build(repo: Path, pkgs: list[str], into: Path) -> dict[str, Path]:
    into.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, pkg in enumerate(pkgs):
        out[pkg] = into / f"{i}.test"
        sh(["go", "test", "-c", "-trimpath", "-o", str(out[pkg]), pkg], repo)
    return out


def pkg_dir(repo: Path, module: str, pkg: str) -> Path:
    return repo / pkg[len(module) :].lstrip("/")


def measure(
    repo: Path,
    module: str,
    sides: dict[str, dict[str, Path]],
    which: dict[str, list[str]],
    rounds: int,
    bt: str,
) -> dict[str, dict[str, list[float]]]:
    """result name -> side -> ns/op per round (interleaved: base, head, base, head...)."""
    out: dict[str, dict[str, list[float]]] = {}
    for r in range(rounds):
        for pkg, names in which.items():
            if not names:
                continue
            pattern = "^(" + "|".join(re.escape(n) for n in names) + ")$"
            for side in ("base", "head") if r % 2 == 0 else ("head", "base"):
                argv = [
                    str(sides[side][pkg]),
                    "-test.run=^$",
                    f"-test.bench={pattern}",
                    f"-test.benchtime={bt}",
                ]
                p = sh(argv, pkg_dir(repo, module, pkg), check=False)
                for name, ns in LINE.findall(p.stdout):
                    out.setdefault(f"{pkg} {name}", {}).setdefault(side, []).append(float(ns))
    return out


def beyond(samples: dict[str, list[float]]) -> tuple[float, float, bool]:
    b, h = samples.get("base", []), samples.get("head", [])
    if len(b) < 3 or len(h) < 3:
        return 1.0, 1.0, False
    ratio = statistics.median(h) / statistics.median(b)
    p = float(mannwhitneyu(h, b, alternative="two-sided").pvalue)
    return ratio, p, abs(ratio - 1) > THRESHOLD and p < 0.05


def compare_wall(repo: Path, tmp: Path, *extra: str) -> float:
    """Seconds of the pull-request job's ``benchpipe compare --base HEAD`` on the working tree's change."""
    t0 = time.monotonic()
    sh(
        [
            "benchpipe",
            "compare",
            "--target",
            str(repo),
            "--base",
            "HEAD",
            "--no-explain",
            "--cache-dir",
            str(tmp / "cache"),
            "--out",
            str(tmp / "wall.json"),
            *extra,
        ],
        tmp,
        check=False,
    )
    return round(time.monotonic() - t0, 1)


def write(
    a: argparse.Namespace, map_s: float, go_pass: float, results: list[dict[str, Any]]
) -> dict[str, Any]:
    """The measurement so far, written to ``--json``."""
    out = {
        "module": str(a.module),
        "map_seconds": map_s,
        "go_test_count1_seconds": go_pass,
        "rounds": a.rounds,
        "benchtime": a.benchtime,
        "changes": results,
        "misses": sum(len(r["misses"]) for r in results),
        "skipped_share_mean": round(statistics.mean(r["skipped"] / r["suite"] for r in results), 3)
        if results
        else 0,
        "ran_everything": [(r["function"], r["run_all"][0]) for r in results if r["run_all"]],
    }
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(out, indent=1) + "\n")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("module", type=Path)
    ap.add_argument("--changes", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--benchtime", default="30ms")
    ap.add_argument("--walltime", type=int, default=0)
    ap.add_argument("--wall-args", default="", help="extra compare arguments of the timed runs (both sides)")
    ap.add_argument("--skip-misses", action="store_true", help="time the compares only (no plain runs)")
    ap.add_argument("--json", type=Path, required=True)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="impact-misses-"))
    repo = tmp / "repo"
    shutil.copytree(a.module, repo, ignore=shutil.ignore_patterns(".git"))
    sh(["chmod", "-R", "u+w", str(repo)], tmp)
    for argv in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"],
    ):
        sh(argv, repo)
    common = ["--target", str(repo), "--history", str(tmp / "history"), "--cache-dir", str(tmp / "cache")]
    t0 = time.monotonic()
    sh(["go", "test", "-count", "1", "-run", "^$", "-bench", ".", "./..."], repo, check=False)
    go_pass = round(time.monotonic() - t0, 1)
    t0 = time.monotonic()
    cmap = json.loads(sh(["benchpipe", "impact", "map", *common], tmp).stdout)
    map_s = round(time.monotonic() - t0, 1)
    print(f"map: {len(cmap['benchmarks'])} benchmarks in {map_s}s; one go test -count 1 pass: {go_pass}s")
    byp = packages(cmap)
    base = build(repo, list(byp), tmp / "base")
    cands = candidates(repo, cmap, tmp / "cache")
    rng = random.Random(a.seed)
    rng.shuffle(cands)
    results: list[dict[str, Any]] = []
    for rel, fid, after in cands:
        if len(results) >= a.changes:
            break
        f = repo / rel
        original = f.read_text()
        lines = original.splitlines(keepends=True)
        f.write_text("".join(lines[:after]) + SPIN + "".join(lines[after:]))
        try:
            head = build(repo, list(byp), tmp / "head")
        except SystemExit:
            f.write_text(original)
            continue
        sel = json.loads(sh(["benchpipe", "impact", "select", "--base", "HEAD", *common], tmp).stdout)
        skipped = {s["benchmark"] for s in sel["skipped"]}
        if a.skip_misses:
            samples = {}
        else:
            samples = measure(repo, cmap["module"], {"base": base, "head": head}, byp, a.rounds, a.benchtime)
        moved, misses, flagged, noise = [], [], [], []
        for res, s in sorted(samples.items()):
            ratio, p, big = beyond(s)
            top = res.split(" ", 1)[0] + " " + res.split(" ", 1)[1].split("/")[0]
            if big and top not in skipped:
                moved.append({"result": res, "ratio": round(ratio, 3)})
            elif big:
                flagged.append((res, top))
        for res, _top in flagged:  # measured again twice, longer, before it is called a miss
            pkg, name = res.split(" ", 1)
            looks = []
            for rounds, bt in ((2 * a.rounds, a.benchtime), (VERIFY_ROUNDS, VERIFY_BENCHTIME)):
                sides = {"base": base, "head": head}
                again = measure(repo, cmap["module"], sides, {pkg: [name.split("/")[0]]}, rounds, bt)
                ratio, p, big = beyond(again.get(res, {}))
                looks.append({"rounds": rounds, "benchtime": bt, "ratio": round(ratio, 3), "p": round(p, 4)})
                if not big:
                    break
            (misses if big else noise).append({"result": res, "looks": looks})
        wall = {}
        if len(results) < a.walltime:
            extra = a.wall_args.split()
            wall = {
                "impact_s": compare_wall(repo, tmp, *extra),
                "package_level_s": compare_wall(repo, tmp, "--changed-only", *extra),
            }
        total = len(byp and [k for ks in byp.values() for k in ks])
        row = {
            "function": fid,
            "file": rel,
            "run_all": sel["run_all"],
            "selected": len(sel["selected"]) if not sel["run_all"] else total,
            "skipped": len(skipped),
            "suite": total,
            "moved_selected": moved,
            "misses": misses,
            "flagged_then_unchanged": noise,
            **wall,
        }
        results.append(row)
        print(
            f"{len(results):2d} {fid}: selected {row['selected']}/{total}, skipped {len(skipped)}; "
            f"moved {len(moved)} selected result(s); misses {len(misses)}"
            + (f"; ran everything: {sel['run_all'][0]}" if sel["run_all"] else "")
            + (
                f"; wall impact {wall['impact_s']}s vs package-level {wall['package_level_s']}s"
                if wall
                else ""
            ),
            flush=True,
        )
        f.write_text(original)
        out = write(a, map_s, go_pass, results)  # after every change: a run stopped early keeps its data
    out = write(a, map_s, go_pass, results)
    print(
        f"misses: {out['misses']} over {len(results)} changes; mean share skipped {out['skipped_share_mean']}"
    )
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
