"""Run benchpipe on the corpus of real Go modules, as a user would, and check every result arrived.

For each module of ``modules.txt`` (``--ci``: those marked for CI; ``--only``:
one module path): fetch it (:mod:`fetch`), run ``invoke quick --target DIR
--benchtime <its benchtime>`` in this checkout (``--mode full`` for the scale
run), then run plain ``go test -json`` with the same flags on the same packages
and count its results independently (output joined per package, whole result
lines). A module passes when the pipeline exits 0 (or 2 for a stall it names),
the two counts are equal and the report has its sections. Prints one line per
module and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch  # noqa: E402

from benchpipe.core.artifacts import BenchMeta  # noqa: E402
from benchpipe.store import artifacts  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESULT = re.compile(r"^Benchmark\S+\s+\d+(\s+\S+\s+\S+)+\s*$")
MODES = {"quick": {"count": 3, "cpu": ""}, "full": {"count": 5, "cpu": "1,2"}}


def go_json_results(
    target: Path, packages: list[str], count: int, benchtime: str, cpu: str, skip: list[str] | None = None
) -> int:
    """How many results plain ``go test -json`` reports for these flags (``skip``: benchmarks that stall)."""
    args = [
        "go",
        "test",
        "-json",
        "-run",
        "^$",
        "-bench",
        ".",
        "-benchmem",
        "-count",
        str(count),
        "-benchtime",
        benchtime,
        "-timeout",
        "60m",
    ] + (["-cpu", cpu] if cpu else [])
    if skip:
        args += ["-skip", "^(" + "|".join(skip) + ")$"]
    args += packages
    p = subprocess.run(args, cwd=target, capture_output=True, text=True)
    text: dict[str, str] = {}
    for line in p.stdout.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get("Action") == "output":
            text[ev["Package"]] = text.get(ev["Package"], "") + ev["Output"]
    return sum(1 for t in text.values() for ln in t.splitlines() if RESULT.match(ln))


def check(
    m: fetch.Module, target: Path, mode: str, repo: Path = ROOT, env: dict[str, str] | None = None
) -> tuple[bool, str]:
    """Run ``invoke MODE`` in ``repo`` on ``target``; (passed, one-line summary)."""
    t0 = time.monotonic()
    argv = ["invoke", mode, "--target", str(target), "--benchtime", m.benchtime]
    argv += ["--packages", ",".join(m.packages)] if m.packages else []
    p = subprocess.run(argv, cwd=repo, capture_output=True, text=True, env={**os.environ, **(env or {})})
    wall = time.monotonic() - t0
    meta = (
        artifacts.read(repo / "reports" / "run" / "bench.json", BenchMeta)
        if p.returncode in (0, 2)
        else BenchMeta()
    )
    if p.returncode not in (0, 2) or (p.returncode == 2 and not meta.failures):
        last = (p.stderr.strip().splitlines() or p.stdout.strip().splitlines() or ["?"])[-1]
        return False, f"invoke {mode} exited {p.returncode}: {last}"
    ours = sum(
        1 for ln in (repo / "reports" / "run" / "bench.txt").read_text().splitlines() if RESULT.match(ln)
    )
    pkgs = [x.import_path for x in meta.packages]
    stalled = [f.benchmark for f in meta.failures]
    ref = go_json_results(target, pkgs, MODES[mode]["count"], m.benchtime, MODES[mode]["cpu"], stalled)
    report = (repo / "reports" / "report.md").read_text()
    sections = all(s in report for s in ("### Summary", "### Quick Metrics", "### Detailed Results"))
    stalls = [f.message for f in meta.failures]
    ok = ours == ref and sections and (not stalls or p.returncode == 2)
    return ok, (
        f"{ours} results (go test -json: {ref}), {len(pkgs)} packages, report "
        f"{'complete' if sections else 'INCOMPLETE'}, {wall:.0f}s"
        + (f"; stalled: {stalls}" if stalls else "")
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ci", action="store_true", help="only the modules marked for CI")
    ap.add_argument("--only", help="one module path")
    ap.add_argument("--mode", choices=sorted(MODES), default="quick")
    args = ap.parse_args()
    root = fetch.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    failed = 0
    for m in fetch.modules(args.ci):
        if args.only and m.path != args.only:
            continue
        ok, msg = check(m, fetch.fetch(m, root), args.mode)
        failed += not ok
        sys.stdout.write(
            f"{'ok  ' if ok else 'FAIL'} {m.path}@{m.version} ({args.mode}, -benchtime {m.benchtime}): "
            f"{msg}\n"
        )
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
