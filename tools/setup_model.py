"""The setup model against plain ``go test`` at several ``-benchtime`` values.

``python tools/setup_model.py DIR --packages P --bench RE [--benchtimes 100ms,300ms,1s,3s] [--count 3]``

A benchmark that allocates before its loop without ``b.ResetTimer`` reports that setup divided by b.N in
B/op and allocs/op, so plain ``go test`` gives another B/op at every benchtime. For every result ``--bench``
selects, this runs plain ``go test -run ^$ -bench RE -benchmem -count N -benchtime T`` at each benchtime,
fits :func:`benchpipe.core.setup.split` (value = per-op + setup / b.N) to all the runs, and prints, per
benchtime, go test's median and the per-op part's median (each run's value less its share of the setup):
the per-op part must be the same at every benchtime, within noise, where go test's value is not. ``--json
FILE`` keeps every run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchpipe.core import benchfmt, setup

UNITS = ("B/op", "allocs/op", "ns/op")


def go_test(module: Path, packages: list[str], bench: str, count: int, bt: str) -> list[benchfmt.Result]:
    argv = ["go", "test", "-run", "^$", "-bench", bench, "-benchmem", "-count", str(count), "-benchtime", bt]
    p = subprocess.run([*argv, *packages], cwd=module, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"setup_model: {' '.join(argv)} failed: {(p.stdout + p.stderr).strip().splitlines()[-1:]}")
    return benchfmt.read_text(p.stdout, f"go test -benchtime {bt}").results


def measure(module: Path, packages: list[str], bench: str, count: int, times: list[str]) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {}
    for bt in times:
        sys.stderr.write(f"setup_model: go test -benchtime {bt}\n")
        for r in go_test(module, packages, bench, count, bt):
            vals = {u: v for v, u in r.values if u in UNITS}
            runs.setdefault(r.name, []).append({"benchtime": bt, "iters": r.iters, **vals})
    out: dict[str, Any] = {}
    for name, rs in runs.items():
        res: dict[str, Any] = {"runs": rs, "units": {}}
        for unit in UNITS:
            pts = [(r["iters"], r[unit]) for r in rs if unit in r]
            fit = setup.split([v for _, v in pts], [n for n, _ in pts]) if pts else None
            per_bt = {}
            for bt in times:
                here = [(r["iters"], r[unit]) for r in rs if r["benchtime"] == bt and unit in r]
                if not here:
                    continue
                parts = fit.per_op_parts([v for _, v in here], [n for n, _ in here]) if fit else []
                per_bt[bt] = {
                    "median_iters": statistics.median(n for n, _ in here),
                    "go_test": statistics.median(v for _, v in here),
                    "per_op": statistics.median(parts) if parts else None,
                }
            res["units"][unit] = {
                "per_op": fit.per_op if fit else None,
                "setup": fit.setup if fit else None,
                "by_benchtime": per_bt,
            }
        out[name] = res
    return out


def table(res: dict[str, Any], times: list[str]) -> str:
    lines = [
        "| result | unit | setup (per run) | " + " | ".join(f"{bt}: go test / per-op" for bt in times) + " |",
        "|---|---|---|" + "---|" * len(times),
    ]
    for name, r in sorted(res.items()):
        for unit in ("B/op", "allocs/op"):
            u = r["units"][unit]
            if u["setup"] is None:
                lines.append(f"| `{name}` | {unit} | not separable (one b.N) |" + " |" * len(times))
                continue
            cells = []
            for bt in times:
                c = u["by_benchtime"].get(bt)
                cell = f"{c['go_test']:.4g} / {c['per_op']:.4g} (b.N {c['median_iters']:.0f})" if c else ""
                cells.append(cell)
            lines.append(f"| `{name}` | {unit} | {u['setup']:.4g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--packages", default="./...")
    ap.add_argument("--bench", default=".")
    ap.add_argument("--benchtimes", default="100ms,300ms,1s,3s")
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    times = a.benchtimes.split(",")
    res = measure(Path(a.dir).resolve(), a.packages.split(","), a.bench, a.count, times)
    print(table(res, times))
    if a.json:
        Path(a.json).write_text(
            json.dumps({"module": a.dir, "bench": a.bench, "count": a.count, "results": res}, indent=1) + "\n"
        )


if __name__ == "__main__":
    main()
