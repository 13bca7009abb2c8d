"""How deterministic and how sensitive instruction counts are, on real modules (issue 30).

``python tools/instructions_quality.py aa DIR --bench RE [--package P] [--repeats 20] [--json F]``
    Counts every result ``-bench`` selects in package P of module DIR ``--repeats`` times (each count as
    ``benchpipe bench --measure instructions`` makes it) and prints, per result, the median, the spread
    (largest distance from the median), whether every repeat wrote the same ``instructions/op`` value
    (as bench.txt writes it, two decimals), and its allocs/op from one plain ``go test -benchmem`` run.

``python tools/instructions_quality.py inject DIR --file F --func NAME --target RESULT --bench RE
--unchanged RE [--sizes 2,5] [--repeats 20] [--json F]``
    For each size (percent), a commit on top of HEAD puts a loop in NAME's own code (tools/inject.py's
    inline spin), its iterations calibrated by counting so that TARGET's instructions/op grow by that
    much. Then ``--repeats`` counted compares (``compare --base HEAD --head COMMIT --measure
    instructions``) of each size, and as many A/A compares (HEAD against itself). A detection is a FAIL
    whose regressed rows include TARGET; a false alarm is any row that is not unchanged among the
    results matching ``--unchanged`` (and any row at all in A/A). The work tree returns to HEAD; the
    commits stay on the branch ``benchpipe-inject-instructions``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from inject import git, inject  # noqa: E402

from benchpipe.core import benchfmt  # noqa: E402
from benchpipe.core.verdict import Options  # noqa: E402
from benchpipe.go import instructions  # noqa: E402
from benchpipe.revisions import counted  # noqa: E402
from benchpipe.revisions.paired import Plan  # noqa: E402


def build(repo: Path, package: str, out: Path) -> Path:
    p = subprocess.run(
        ["go", "test", "-c", "-o", str(out), package], cwd=repo, capture_output=True, text=True
    )
    if p.returncode != 0:
        raise SystemExit(f"instructions_quality: build failed: {p.stderr[-500:]}")
    return out


def allocs(repo: Path, package: str, bench: str) -> dict[str, float]:
    p = subprocess.run(
        [
            "go",
            "test",
            "-run",
            "^$",
            "-bench",
            bench,
            "-benchmem",
            "-benchtime",
            "100x",
            "-cpu",
            "1",
            package,
        ],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    return {r.name: v for r in benchfmt.read_text(p.stdout).results for v, u in r.values if u == "allocs/op"}


def aa(a: argparse.Namespace) -> dict[str, Any]:
    repo = a.dir.resolve()
    with tempfile.TemporaryDirectory(prefix="benchpipe-iq-") as tmp:
        binary = build(repo, a.package, Path(tmp) / "pkg.test")
        cwd = (repo / a.package).resolve()
        names = instructions.result_names(binary, cwd, a.package, a.bench, "10m")
        values: dict[str, list[float]] = {n: [] for n in names}
        t0 = time.monotonic()
        for rep in range(a.repeats):
            for n in names:
                values[n].append(round(instructions.measure(binary, cwd, n).value, 2))
            sys.stderr.write(f"aa: repeat {rep + 1}/{a.repeats} ({time.monotonic() - t0:.0f}s)\n")
    per_alloc = allocs(repo, a.package, a.bench)
    rows = []
    for n, vs in values.items():
        med = statistics.median(vs)
        spread = max(abs(v / med - 1) for v in vs) * 100 if med else 0.0
        rows.append(
            {
                "result": n,
                "median": med,
                "min": min(vs),
                "max": max(vs),
                "spread_pct": round(spread, 4),
                "identical": len(set(vs)) == 1,
                "allocs_op": per_alloc.get(n),
                "values": vs,
            }
        )
    return {
        "module": str(repo),
        "package": a.package,
        "bench": a.bench,
        "repeats": a.repeats,
        "seconds": round(time.monotonic() - t0, 1),
        "results": rows,
    }


def plan(repo: Path, a: argparse.Namespace, base: str, head: str, cache: Path) -> Plan:
    return Plan(
        target=repo,
        base_rev=base,
        head_rev=head,
        patterns=[a.package],
        bench=a.bench,
        rounds=1,
        confirm_rounds=0,
        benchtime="100ms",
        order="alternate",
        timeout="10m",
        changed_only=False,
        cache=cache,
        measure="instructions",
        explain=a.explain,
    )


def compare(repo: Path, a: argparse.Namespace, base: str, head: str, cache: Path) -> dict[str, Any]:
    t0 = time.monotonic()
    out = counted.execute(plan(repo, a, base, head, cache), Options())
    rows = {f"{r.benchmark}": (r.verdict, r.delta_pct) for r in out.comparison.rows}
    top = [e.suspects[0].function if e.suspects else "" for e in out.explanations]
    return {
        "verdict": out.comparison.verdict,
        "rows": rows,
        "seconds": round(time.monotonic() - t0, 1),
        "tops": top,
    }


def calibrate(repo: Path, a: argparse.Namespace, cache: Path) -> tuple[float, float, float]:
    """(TARGET's instructions/op, what one spin iteration adds to it, what the spin's block adds besides), by
    counting the target with spins of 200 and 2000 iterations (the block has a cost of its own)."""
    with tempfile.TemporaryDirectory(prefix="benchpipe-iq-") as tmp:
        cwd = (repo / a.package).resolve()
        base = instructions.measure(build(repo, a.package, Path(tmp) / "a.test"), cwd, a.target).value
        slowed = []
        for k in (200, 2000):
            inject(repo, a.file, a.func, k, inline=True)
            slowed.append(
                instructions.measure(build(repo, a.package, Path(tmp) / f"k{k}.test"), cwd, a.target).value
            )
            git(repo, "checkout", "-q", "--", ".")
    per_iter = (slowed[1] - slowed[0]) / 1800
    return base, per_iter, slowed[0] - base - 200 * per_iter


def injected(a: argparse.Namespace) -> dict[str, Any]:
    import re

    repo = a.dir.resolve()
    base = git(repo, "rev-parse", "HEAD")
    res: dict[str, Any] = {
        "module": str(repo),
        "func": a.func,
        "target": a.target,
        "bench": a.bench,
        "sizes": {},
        "aa": [],
    }
    with tempfile.TemporaryDirectory(prefix="benchpipe-iq-cache-") as cache:
        per_op, per_iter, fixed = calibrate(repo, a, Path(cache))
        res["target_instructions_op"], res["per_iteration"], res["block"] = per_op, per_iter, fixed
        try:
            for size in [float(s) for s in a.sizes.split(",")]:
                k = max(1, round((size / 100 * per_op - fixed) / per_iter))
                git(repo, "checkout", "-q", "-B", "benchpipe-inject-instructions", base)
                inject(repo, a.file, a.func, k, inline=True)
                git(repo, "commit", "-qam", f"inject: +{size}% instructions in {a.func} (spin {k})")
                head = git(repo, "rev-parse", "HEAD")
                git(repo, "checkout", "-q", base)
                runs = []
                for rep in range(a.repeats):
                    r = compare(repo, a, base, head, Path(cache))
                    verdict, delta = r["rows"].get(a.target, ("missing", None))
                    false = sorted(
                        n for n, (v, _) in r["rows"].items() if re.search(a.unchanged, n) and v != "unchanged"
                    )
                    runs.append(
                        {
                            "verdict": r["verdict"],
                            "target": verdict,
                            "delta_pct": delta,
                            "false": false,
                            "seconds": r["seconds"],
                            "tops": r["tops"],
                        }
                    )
                    sys.stderr.write(
                        f"inject +{size}%: {rep + 1}/{a.repeats} {r['verdict']} target {verdict} "
                        f"{delta if delta is None else round(delta, 3)}% in {r['seconds']}s\n"
                    )
                res["sizes"][str(size)] = {
                    "spin": k,
                    "commit": head,
                    "runs": runs,
                    "detected": sum(x["verdict"] == "FAIL" and x["target"] == "regression" for x in runs),
                    "false_alarms": sum(bool(x["false"]) for x in runs),
                }
            for rep in range(a.repeats):
                r = compare(repo, a, base, base, Path(cache))
                res["aa"].append(
                    {
                        "verdict": r["verdict"],
                        "changed": sorted(n for n, (v, _) in r["rows"].items() if v != "unchanged"),
                        "max_abs_delta_pct": max(abs(d or 0.0) for _, d in r["rows"].values()),
                        "seconds": r["seconds"],
                    }
                )
                sys.stderr.write(f"inject A/A: {rep + 1}/{a.repeats} {r['verdict']}\n")
        finally:
            git(repo, "checkout", "-q", base)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["aa", "inject"])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--bench", required=True)
    ap.add_argument("--package", default=".")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--file")
    ap.add_argument("--func")
    ap.add_argument("--target")
    ap.add_argument("--unchanged", default="^$")
    ap.add_argument("--sizes", default="2,5")
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    res = aa(a) if a.what == "aa" else injected(a)
    if a.json:
        a.json.write_text(json.dumps(res, indent=1) + "\n")
    if a.what == "aa":
        for r in res["results"]:
            print(
                f"{r['result']:50s} {r['median']:>14.2f} ±{r['spread_pct']:.4f}% "
                f"{'identical' if r['identical'] else 'varies':9s} allocs/op {r['allocs_op']}"
            )
    else:
        for size, s in res["sizes"].items():
            print(f"+{size}%: detected {s['detected']}/{len(s['runs'])}, false alarms {s['false_alarms']}")
        print(f"A/A: {sum(x['verdict'] == 'PASS' for x in res['aa'])}/{len(res['aa'])} PASS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
