"""Culprit finding on generated histories of a real module, run as the default-branch job would run.

``python tools/culprit_histories.py MODULE --bench RE [--packages P] [--histories 4] [--clean 1]
[--commits 20] [--every 5] [--seed 1] [--measure time|instructions] --json FILE``

Each history is a fresh git repository of MODULE with ``--commits`` commits on top of it:

- neutral commits: a comment appended to a random Go file, or an unexported function no one calls added
  to one;
- one slowdown (two in every other history), at a random position: a busy loop of dependent integer
  operations put at the top of one of ``TARGETS`` (functions that some benchmark of ``--bench`` executes
  under ``b.RunParallel`` in zap), its length drawn from the target's range: about +15 % to +50 % on zap's
  one-field benchmarks, the issue's range (each culprit's measured change against its parent is in the
  JSON).

``--clean`` more histories (run first) have neutral commits only. The default-branch job runs at the first
commit and then every ``--every`` commits, as CI would on each push, with the commands of the generated
workflow:
``benchpipe bench`` (the quick mode as the workflow runs it: ``--bench``, count 3 at 1s unless ``--count``
and ``--benchtime`` say otherwise), ``benchpipe compare --baseline history:main``
(confirmation included), ``benchpipe record`` into a history store on disk, and ``benchpipe culprit``.

For every injected slowdown it checks that a culprit names its exact commit, with the injected function
named first in the explanation; for every history, that no culprit names any other commit. It prints and
keeps, per history, the culprits, their cost (seconds of ``benchpipe culprit``) and the cost of one paired
compare of the same results (``benchpipe compare --base <parent> --head <culprit>``), side by side.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
# (file, the line that opens the function's body, the function's name in a profile, the loop's length range:
# about +15 % to +50 % on the benchmarks that call it at count 3 and 1 s, fitted to culprit-zap-3.json, which
# ran with 100-330 and 30-100 and measured +28..+90 % and +15..+74 %; AppendString runs ~3x per operation)
_ENC = "zapcore/json_encoder.go"
TARGETS = [
    (_ENC, "func (enc *jsonEncoder) AppendBool(val bool) {", "AppendBool", (50, 160)),
    (_ENC, "func (enc *jsonEncoder) AppendInt64(val int64) {", "AppendInt64", (50, 160)),
    (_ENC, "func (enc *jsonEncoder) AppendString(val string) {", "AppendString", (30, 70)),
]
NEUTRAL_FILES = ["zapcore/level.go", "config.go", "options.go", "zapcore/field.go", "array.go"]
ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}


def sh(argv: list[str], cwd: Path, env: dict[str, str] | None = None, check: bool = True) -> str:
    import os

    p = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, env={**os.environ, **ENV, **(env or {})}
    )
    if check and p.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv[:3])} exit {p.returncode}: {(p.stderr or p.stdout)[-600:]}")
    return p.stdout


def spin(k: int) -> str:
    return (
        f"\tbpSpinX := 1\n\tfor bpSpinI := 0; bpSpinI < {k}; bpSpinI++ {{\n"
        "\t\tbpSpinX = bpSpinX*31 + bpSpinI ^ (bpSpinX >> 3)\n\t}\n"
        '\tif bpSpinX == 7 {\n\t\tpanic("unreachable")\n\t}\n'
    )


def neutral(repo: Path, rng: random.Random, i: int) -> str:
    f = repo / rng.choice(NEUTRAL_FILES)
    if rng.random() < 0.5:
        f.write_text(f.read_text() + f"\n// neutral change {i}: a comment\n")
        return f"docs: comment {i}"
    pkg = next(ln.split()[1] for ln in f.read_text().splitlines() if ln.startswith("package "))
    f.write_text(f.read_text() + f"\nfunc bpUnused{i}(n int) int {{ return n * {i + 2} }}\n")
    assert pkg
    return f"refactor: unused helper {i}"


def inject(repo: Path, target: tuple[str, str, str, tuple[int, int]], k: int) -> str:
    f = repo / target[0]
    text = f.read_text()
    assert target[1] in text, target
    f.write_text(text.replace(target[1] + "\n", target[1] + "\n" + spin(k), 1))
    return f"encoder: {target[2]} checks more"


def params(repo: Path, out: Path, a: argparse.Namespace) -> Path:
    p = yaml.safe_load((ROOT / "params.yaml").read_text())
    p["target"], p["measure"] = str(repo), a.measure
    p["modes"]["quick"].update(
        {"packages": a.packages, "bench": a.bench, "count": a.count, "benchtime": a.benchtime}
    )
    out.write_text(yaml.safe_dump(p))
    return out


def job(work: Path, prm: Path, store: Path, name: str, repo: Path) -> dict[str, Any]:
    """The default-branch job at the repository's checked-out commit: bench, compare, record, culprit."""
    env = {"GITHUB_REF_NAME": "main", "GITHUB_RUN_ID": "", "BENCHPIPE_HISTORY": str(store)}
    sh(
        ["benchpipe", "bench", "--params", str(prm), "--out", f"{name}.txt", "--meta", f"{name}.json"],
        work,
        env,
    )
    sh(
        [
            "benchpipe",
            "compare",
            "--params",
            str(prm),
            "--baseline",
            "history:main",
            "--current",
            f"{name}.txt",
            "--current-meta",
            f"{name}.json",
            "--out",
            f"{name}-compare.json",
        ],
        work,
        env,
    )
    sh(
        [
            "benchpipe",
            "record",
            "--params",
            str(prm),
            "--raw",
            f"{name}.txt",
            "--meta",
            f"{name}.json",
            "--history",
            str(store),
            "--out",
            f"{name}-record.json",
            "--dvc-out",
            str(store),
        ],
        work,
        env,
    )
    t0 = time.monotonic()
    sh(
        [
            "benchpipe",
            "culprit",
            "--compare",
            f"{name}-compare.json",
            "--history",
            str(store),
            "--params",
            str(prm),
            "--target",
            str(repo),
            "--out",
            f"{name}-culprit.json",
            "--issue",
            f"{name}-culprit.md",
        ],
        work,
        env,
    )
    cmp = json.loads((work / f"{name}-compare.json").read_text())
    doc = json.loads((work / f"{name}-culprit.json").read_text())
    rows = [
        (r["benchmark"], r["verdict"], r.get("delta_pct"), r.get("warnings", [])[:3])
        for r in cmp.get("rows", [])
        if r["unit"] == "ns/op" and r["verdict"] != "unchanged"
    ]
    return {
        "verdict": cmp.get("verdict"),
        "rows": rows,  # the ns/op rows the run's comparison did not call unchanged
        "culprits": doc.get("culprits", []),
        "seconds": round(time.monotonic() - t0, 1),
    }


def paired_cost(repo: Path, prm: Path, parent: str, commit: str, bench: str, cache: Path) -> float:
    t0 = time.monotonic()
    sh(
        [
            "benchpipe",
            "compare",
            "--params",
            str(prm),
            "--target",
            str(repo),
            "--base",
            parent,
            "--head",
            commit,
            "--bench",
            bench,
            "--all",
            "--cache-dir",
            str(cache),
            "--format",
            "json",
        ],
        repo,
    )
    return round(time.monotonic() - t0, 1)


def history(module: Path, tmp: Path, a: argparse.Namespace, seed: int, injections: int) -> dict[str, Any]:
    rng = random.Random(seed)
    repo, work, store = tmp / "repo", tmp / "work", tmp / "store"
    shutil.copytree(module, repo, ignore=shutil.ignore_patterns(".git"))
    sh(["chmod", "-R", "u+w", str(repo)], tmp)
    work.mkdir()
    sh(["git", "init", "-q", "-b", "main"], repo)
    sh(["git", "add", "-A"], repo)
    sh(["git", "commit", "-qm", "base"], repo)
    positions = sorted(rng.sample(range(1, a.commits + 1), injections))
    targets = rng.sample(TARGETS, injections)
    injected: list[dict[str, Any]] = []
    for i in range(1, a.commits + 1):
        if i in positions:
            t = targets[positions.index(i)]
            k = rng.randint(*t[3])
            msg = inject(repo, t, k)
        else:
            msg = neutral(repo, rng, i)
        sh(["git", "commit", "-qam", msg], repo)
        if i in positions:
            injected.append(
                {"commit": sh(["git", "rev-parse", "HEAD"], repo).strip(), "function": t[2], "k": k}
            )
    commits = sh(["git", "rev-list", "--first-parent", "--reverse", "HEAD"], repo).split()
    prm = params(repo, tmp / "params.yaml", a)
    jobs = []
    for i in range(0, len(commits), a.every):
        sh(["git", "checkout", "-q", "-B", "main", commits[i]], repo)
        j = job(work, prm, store, f"run{i}", repo)
        j["at"] = i
        jobs.append(j)
        print(
            f"  job at commit {i}: {j['verdict']}, culprits "
            f"{[(c['status'], c['commit'][:8], c['trigger']) for c in j['culprits']]}",
            flush=True,
        )
    if (len(commits) - 1) % a.every:
        sh(["git", "checkout", "-q", "-B", "main", commits[-1]], repo)
        jobs.append({**job(work, prm, store, "runlast", repo), "at": len(commits) - 1})
    found = [c for j in jobs for c in j["culprits"] if c["status"] == "found"]
    out = {"seed": seed, "injected": injected, "jobs": jobs, "attributed": [], "false": []}
    for inj in injected:
        hits = [c for c in found if c["commit"] == inj["commit"]]
        first = (
            hits[0]["explanations"][0]["suspects"][0]["function"]
            if hits and hits[0]["explanations"] and hits[0]["explanations"][0]["suspects"]
            else ""
        )
        ok = bool(hits) and inj["function"] in first
        one = f"^{hits[0]['benchmark']}$" if hits else ""  # the same result: one paired compare of it
        cost = (
            paired_cost(repo, prm, inj["commit"] + "~1", inj["commit"], one, tmp / "cache") if hits else None
        )
        out["attributed"].append(
            {
                **inj,
                "found": bool(hits),
                "function_first": first,
                "ok": ok,
                "culprit_s": hits[0]["seconds"] if hits else None,
                "paired_compare_s": cost,
            }
        )
    out["false"] = [c["commit"] for c in found if c["commit"] not in {x["commit"] for x in injected}]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("module", type=Path)
    ap.add_argument("--bench", required=True)
    ap.add_argument("--packages", nargs="*", default=["."])
    ap.add_argument("--histories", type=int, default=4)
    ap.add_argument("--clean", type=int, default=1)
    ap.add_argument("--commits", type=int, default=20)
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=3, help="the quick mode's count (params.yaml's: 3)")
    ap.add_argument("--benchtime", default="1s", help="the quick mode's -benchtime (params.yaml's: 1s)")
    ap.add_argument("--measure", default="time", choices=["time", "instructions"], help="params measure")
    ap.add_argument("--json", type=Path, required=True)
    a = ap.parse_args()
    results = []
    for h in range(a.histories + a.clean):
        injections = 0 if h < a.clean else 1 + (h - a.clean) % 2  # the clean ones first
        with tempfile.TemporaryDirectory(prefix="culprit-history-") as tmp:
            print(f"history {h + 1}: {injections} injected slowdown(s)", flush=True)
            r = history(a.module, Path(tmp), a, a.seed + h, injections)
        results.append(r)
        for x in r["attributed"]:
            print(
                f"  injected {x['function']} at {x['commit'][:8]}: found {x['found']}, first "
                f"{x['function_first'] or '-'}; culprit {x['culprit_s']}s vs paired compare "
                f"{x['paired_compare_s']}s"
            )
        print(f"  false culprits: {r['false']}", flush=True)
        a.json.write_text(
            json.dumps(
                {
                    "module": str(a.module),
                    "bench": a.bench,
                    "measure": a.measure,
                    "count": a.count,
                    "benchtime": a.benchtime,
                    "histories": results,
                },
                indent=1,
            )
        )
    ok = sum(x["ok"] for r in results for x in r["attributed"])
    total = sum(len(r["attributed"]) for r in results)
    false = sum(len(r["false"]) for r in results)
    print(f"attributed to the exact commit with the function first: {ok}/{total}; false culprits: {false}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
