"""Detection of injected slowdowns in a real module, through the paired flow and the baseline flow.

``python tools/inject.py DIR --file F --func NAME --target RESULT --bench RE [--sizes 20,50] [--repeats 5]``

DIR is a Go module in a clean git work tree (a corpus module: ``tests/corpus/fetch.py``). For each size
(percent), a commit is made on top of HEAD that starts the function NAME in file F with a spin of K
iterations (a function of its own in a new file, no shared state, so a RunParallel benchmark's
goroutines do not contend on it), K calibrated so that plain ``go test`` measures the TARGET result
that much slower (the size is what ``go test -count 6`` then says, printed). Then, ``--repeats`` times
for each size:

* the paired flow (what a pull request runs): ``paired.execute`` of HEAD against the slowed commit;
* the baseline flow: ``benchpipe bench`` on HEAD saved as the baseline, the slowed commit checked out,
  ``benchpipe bench``, ``benchpipe compare`` with confirmation (:func:`trust.baseline_flow_aa`).

A detection is a FAIL whose regressed rows include TARGET's ns/op. A false alarm is a FAIL, WARN or
inconclusive row of a result that does not call NAME (``--unchanged`` regex of results). The work tree
is returned to HEAD at the end, and the commits are left on a branch ``benchpipe-inject``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from trust import GIT_ENV, baseline_flow_aa, options, run_paired  # noqa: E402

from benchpipe.core import benchfmt  # noqa: E402

SPIN = """package {pkg}

// benchpipeSpin is a slowdown injected by benchpipe's tools/inject.py: k iterations of dependent work.
//
//go:noinline
func benchpipeSpin(k int) int {{
	s := 1
	for i := 0; i < k; i++ {{
		s = s*31 + i
	}}
	return s
}}
"""


def git(repo: Path, *args: str) -> str:
    p = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )
    if p.returncode != 0:
        raise SystemExit(f"inject: git {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout.strip()


def go_ns(repo: Path, pattern: str, count: int, benchtime: str = "1s", package: str = ".") -> list[float]:
    p = subprocess.run(
        [
            "go",
            "test",
            "-run",
            "^$",
            "-bench",
            pattern,
            "-count",
            str(count),
            "-benchtime",
            benchtime,
            package,
        ],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    if p.returncode != 0:
        raise SystemExit(f"inject: go test failed: {(p.stderr or p.stdout)[-500:]}")
    return [v for r in benchfmt.read_text(p.stdout).results for v, u in r.values if u == "ns/op"]


INLINE = """\t{{ // benchpipe inject: {k} iterations of dependent work in this function's own code
\t\ts := 1
\t\tfor i := 0; i < {k}; i++ {{
\t\t\ts = s*31 + i
\t\t}}
\t\tif s == 0 {{
\t\t\tpanic("benchpipe: unreachable")
\t\t}}
\t}}
"""


def inject(repo: Path, file: str, func: str, k: int, inline: bool = False) -> tuple[int, int]:
    """Put the spin at the top of ``func`` (a function or a method) in the work tree: a call to a spin
    function in a file of its own, or (``inline``) the loop itself, in ``func``'s own code. Returns the
    lines it added to ``file`` (first, last)."""
    src = repo / file
    text = src.read_text()
    m = re.search(rf"^func (\([^)]*\)\s*)?{re.escape(func)}\(.*\{{\n", text, re.M)
    if m is None:
        raise SystemExit(f"inject: no func {func} in {file}")
    if inline:
        block = INLINE.format(k=k)
    else:
        pkg = re.search(r"^package (\w+)", text, re.M).group(1)  # type: ignore[union-attr]
        (src.parent / "benchpipe_inject.go").write_text(SPIN.format(pkg=pkg))
        block = f'\tif benchpipeSpin({k}) == 0 {{\n\t\tpanic("benchpipe: unreachable")\n\t}}\n'
    src.write_text(text[: m.end()] + block + text[m.end() :])
    first = text[: m.end()].count("\n") + 1
    return first, first + block.count("\n") - 1


def calibrate(repo: Path, a: argparse.Namespace, pattern: str) -> tuple[float, float]:
    """(the target's ns/op, the ns/op one spin iteration adds to it), from plain go test."""
    base = statistics.median(go_ns(repo, pattern, 3, package=a.package))
    probe = 2000
    inject(repo, a.file, a.func, probe, a.inline)
    slowed = statistics.median(go_ns(repo, pattern, 3, package=a.package))
    git(repo, "checkout", "-q", "--", ".")
    (repo / a.file).parent.joinpath("benchpipe_inject.go").unlink(missing_ok=True)
    return base, max(slowed - base, 1e-6) / probe


def slowed_commits(repo: Path, a: argparse.Namespace, base: str, pattern: str) -> dict[int, dict[str, Any]]:
    """One commit per size on the branch benchpipe-inject; what go test says of each."""
    ns, per_iter = calibrate(repo, a, pattern)
    out = {}
    for size in [int(s) for s in a.sizes.split(",")]:
        k = max(1, round(size / 100 * ns / per_iter))
        for attempt in range(3):  # the spin's cost is not quite linear in k: correct k from what go test says
            git(repo, "checkout", "-q", "-B", "benchpipe-inject", base)
            lines = inject(repo, a.file, a.func, k, a.inline)
            git(repo, "add", "-A")
            git(repo, "commit", "-qm", f"inject: +{size}% in {a.func} (spin {k})")
            sha = git(repo, "rev-parse", "HEAD")
            head_ns = statistics.median(go_ns(repo, pattern, 6, package=a.package))
            git(repo, "checkout", "-q", base)
            base_ns = statistics.median(go_ns(repo, pattern, 6, package=a.package))
            got = (head_ns / base_ns - 1) * 100
            if attempt == 2 or abs(got - size) <= 0.2 * size:
                break
            k = max(1, round(k * size / max(got, 1.0)))
        out[size] = {"commit": sha, "spin": k, "go_test_change_pct": round(got, 1), "lines": list(lines)}
        sys.stderr.write(
            f"inject: +{size}%: spin {k}, go test says {out[size]['go_test_change_pct']:+.1f}%\n"
        )
    return out


def explained(
    explanations: list[dict[str, Any]], func: str, file: str, lines: list[int], unchanged: str
) -> dict[str, Any]:
    """Of the explanations of results that call ``func``: how many name it first, and how many also name the
    injected lines."""
    mine = [e for e in explanations if not re.search(unchanged, e["benchmark"])]
    top = [e["suspects"][0] if e["suspects"] else {} for e in mine]
    named = [s for s in top if re.search(rf"[./]{re.escape(func)}$", s.get("function", ""))]
    with_lines = [
        s
        for s in named
        if any(
            c["file"].endswith(file) and any(r[0] <= lines[0] and lines[1] <= r[1] for r in c["ranges"])
            for c in s.get("changed", [])
        )
    ]
    return {
        "explained": len(mine),
        "top_is_func": len(named),
        "with_lines": len(with_lines),
        "tops": sorted({s.get("function", "") for s in top}),
        "seconds": round(sum(e.get("seconds", 0.0) for e in explanations), 1),
        "budget_s": round(sum(e.get("budget_s", 0.0) for e in explanations), 1),
    }


def judge(
    fail: list[str], warn: list[str], inconclusive: list[str], target: str, unchanged: str
) -> dict[str, Any]:
    """Whether the target's ns/op regressed, and the false alarms among the unchanged results."""
    hit = any(re.fullmatch(rf"{re.escape(target)}(-\d+)? ns/op", f) for f in fail)
    false = sorted(x for x in fail + warn + inconclusive if re.search(unchanged, x.split(" ")[0]))
    return {"detected": hit, "false": false}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--file", required=True)
    ap.add_argument("--func", required=True)
    ap.add_argument(
        "--target", required=True, help='the result calibrated, e.g. BenchmarkParseRawString/"abcd"'
    )
    ap.add_argument("--bench", required=True, help="the benchmarks both flows run (go test's -bench)")
    ap.add_argument("--unchanged", required=True, help="regex of results that do not call --func")
    ap.add_argument("--sizes", default="20,50")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--benchtime", default="300ms", help="the baseline flow's -benchtime (count 6)")
    ap.add_argument("--paired-benchtime", default="100ms")
    ap.add_argument("--package", default=".", help="the package of --file and of the benchmarks")
    ap.add_argument(
        "--inline",
        action="store_true",
        help="the spin loop in the function's own code (else a call to a spin function)",
    )
    ap.add_argument(
        "--explain",
        action="store_true",
        help="judge the explanations: the top function named is --func, with the injected lines",
    )
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    repo = a.dir.resolve()
    base = git(repo, "rev-parse", "HEAD")
    pattern = toolchain_pattern(a.target)
    res: dict[str, Any] = {
        "module": str(repo),
        "func": a.func,
        "target": a.target,
        "bench": a.bench,
        "sizes": slowed_commits(repo, a, base, pattern),
        "runs": [],
    }
    try:
        with tempfile.TemporaryDirectory(prefix="benchpipe-inject-") as cache:
            for rep in range(a.repeats):
                for size, s in res["sizes"].items():
                    why: list[Any] = []
                    c, facts, secs = run_paired(
                        repo,
                        base,
                        s["commit"],
                        [a.package],
                        a.bench,
                        a.paired_benchtime,
                        Path(cache),
                        True,
                        options(),
                        why,
                    )
                    rows = {
                        v: sorted(f"{r.benchmark} {r.unit}" for r in c.rows if r.verdict == v)
                        for v in ("regression", "warn", "inconclusive")
                    }
                    pair = {
                        **judge(
                            rows["regression"], rows["warn"], rows["inconclusive"], a.target, a.unchanged
                        ),
                        "verdict": c.verdict,
                        "seconds": round(secs, 1),
                        "runs": facts.runs,
                    }
                    if a.explain:
                        pair["explain"] = explained(why, a.func, a.file, s["lines"], a.unchanged)
                    seq = baseline_flow_aa(
                        repo,
                        [a.package],
                        a.bench,
                        a.benchtime,
                        Path(cache),
                        between=lambda c=s["commit"]: git(repo, "checkout", "-q", c),
                    )
                    git(repo, "checkout", "-q", base)
                    flow = {
                        **judge(seq["fail"], seq["warn"], seq["inconclusive"], a.target, a.unchanged),
                        "verdict": seq["verdict"],
                        "seconds": seq["seconds"],
                        "confirm_s": seq["confirm_s"],
                    }
                    if a.explain:
                        flow["explain"] = explained(
                            seq["explanations"], a.func, a.file, s["lines"], a.unchanged
                        )
                    res["runs"].append({"repeat": rep, "size": size, "paired": pair, "baseline_flow": flow})
                    sys.stderr.write(
                        f"inject: {rep + 1}/{a.repeats} +{size}%: paired {pair['verdict']} "
                        f"(detected {pair['detected']}, false {pair['false']}, {pair['seconds']}s); "
                        f"baseline flow {flow['verdict']} (detected {flow['detected']}, false "
                        f"{flow['false']}, {flow['seconds']}s, confirmation {flow['confirm_s']}s)\n"
                    )
    finally:
        git(repo, "checkout", "-q", base)
    if a.json:
        a.json.write_text(json.dumps(res, indent=2))
    print(summary(res))
    return 0


def toolchain_pattern(result: str) -> str:
    from benchpipe.go import toolchain

    return toolchain.name_pattern(result)


def summary(res: dict[str, Any]) -> str:
    lines = [f"{Path(res['module']).name}: {res['func']} slowed, target {res['target']}"]
    for size, s in res["sizes"].items():
        runs = [r for r in res["runs"] if r["size"] == size]
        for flow in ("paired", "baseline_flow"):
            det = sum(1 for r in runs if r[flow]["detected"])
            false = sum(1 for r in runs if r[flow]["false"])
            secs = statistics.mean(r[flow]["seconds"] for r in runs) if runs else 0
            lines.append(
                f"  +{size}% (go test: {s['go_test_change_pct']:+.1f}%) {flow}: FAIL {det}/{len(runs)}, "
                f"runs with a false FAIL/WARN {false}/{len(runs)}, mean {secs:.0f}s"
            )
            if runs and "explain" in runs[0][flow]:
                n = sum(r[flow]["explain"]["explained"] for r in runs)
                top = sum(r[flow]["explain"]["top_is_func"] for r in runs)
                both = sum(r[flow]["explain"]["with_lines"] for r in runs)
                secs = sum(r[flow]["explain"].get("seconds", 0.0) for r in runs)
                budget = sum(r[flow]["explain"].get("budget_s", 0.0) for r in runs)
                lines.append(
                    f"    explained regressions: {n}; {res['func']} named first in {top}/{n}, with the "
                    f"injected lines in {both}/{n}; profiling {secs:.0f}s for a budget of {budget:.0f}s"
                )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
