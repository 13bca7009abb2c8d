"""``benchpipe history``: query, list, import, compact and export the run history.

The store is ``--dir`` (a directory or an object-store URL), else ``BENCHPIPE_HISTORY``, else params.yaml's
``history.store`` (default ``reports/history``). ``history runs --format json`` lists the runs;
``history export --out FILE`` writes the long CSV ``dvc plots`` reads (ns/op per run and benchmark)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchpipe.core.errors import EXIT_OK, BenchpipeError, NothingToCompare


def register(sub: Any) -> None:
    p = sub.add_parser(
        "history",
        help="runs stored in the history: per benchmark, each run's median",
        description="benchpipe history [show] [--benchmark RE] [--unit U] [--last N] | history runs | "
        "history import FILE --commit C --time T | history compact | history export --out F",
    )
    p.add_argument(
        "action", nargs="?", choices=["show", "runs", "import", "compact", "export"], default="show"
    )
    p.add_argument("file", nargs="?", help="import: a benchfmt / go test -json file")
    p.add_argument(
        "--dir", help="history store: directory or URL (default BENCHPIPE_HISTORY, else params history.store)"
    )
    p.add_argument("--params", help="params.yaml (default ./params.yaml if present, else every default)")
    p.add_argument("--out", help="export: the CSV to write (default reports/history.csv)")
    p.add_argument(
        "--benchmark",
        help="go test's -bench pattern (names without their -N suffix), or ^NAME$ for one stored name",
    )
    p.add_argument("--unit", help="unit as written, e.g. ns/op")
    p.add_argument("--last", type=int, help="only the last N runs of each benchmark")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--commit", help="import: the commit that produced the file")
    p.add_argument("--time", help="import: when it was produced (ISO 8601)")
    p.add_argument("--branch", default="")
    p.add_argument("--changes", action="store_true", help="show: detect change points in each series")
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.core import benchfmt
    from benchpipe.store import history, objstore, params

    hist = (
        objstore.open_store(args.dir)
        if args.dir
        else objstore.configured(params.load_optional(args.params).history.store)
    )
    hist.check()
    if args.action == "runs":
        return _runs(history.runs(hist), args.format)
    if args.action == "export":
        out = Path(args.out or "reports/history.csv")
        history.write_plot_csv(history.query(hist, unit="ns/op", warn=False), out)
        sys.stderr.write(f"history: wrote {out}\n")
        return EXIT_OK
    if args.action == "import":
        if not args.file or not Path(args.file).is_file():
            raise BenchpipeError(f"history import: {args.file or 'FILE'}: no such file")
        parsed = benchfmt.read_files([args.file])
        for e in parsed.errors:
            sys.stderr.write(e + "\n")
        rid = history.import_file(hist, parsed, args.commit or "", args.time or "", args.branch)
        sys.stderr.write(f"history: imported {len(parsed.results)} results as run {rid}\n")
        return EXIT_OK
    if args.action == "compact":
        n, out = history.compact(hist)
        sys.stderr.write(f"history: merged {n} summary files" + (f" into {out}" if out else "") + "\n")
        return EXIT_OK
    rows = history.query(hist, args.benchmark, args.unit, args.last)
    if not rows:
        if args.benchmark and history.query(hist, None, args.unit, 1, warn=False):
            raise NothingToCompare(f"no benchmark in the history matches {args.benchmark!r}")
        raise NothingToCompare(f"the history in {hist} is empty")
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    from benchpipe.core import changepoint
    from benchpipe.core.grouping import spans

    for (name, unit), start, end in spans([(r["benchmark"], r["unit"]) for r in rows]):
        sys.stdout.write(f"{name} {unit}\n")
        series = rows[start:end]
        for r in series:
            ci = "" if r["lo"] is None or r["hi"] is None else f" [{r['lo']:.6g}, {r['hi']:.6g}]"
            sys.stdout.write(
                f"  {r['time']}  {r['commit'][:12] or '-':<12}  {r['center']:>12.6g}{ci}  n={r['n']}  "
                f"{r['run_id']}\n"
            )
        if args.changes:
            for cp in changepoint.changes([r["center"] for r in series]):
                r = series[cp.index]
                sys.stdout.write(
                    f"  change point: {cp.change_pct:+.1f}% from run {r['run_id']} (commit "
                    f"{r['commit'][:12]}), p={cp.p:.3f}\n"
                )
    return EXIT_OK


def _runs(runs: list[dict[str, Any]], fmt: str) -> int:
    if fmt == "json":
        sys.stdout.write(json.dumps(runs, indent=2) + "\n")
        return EXIT_OK
    for r in runs:
        sys.stdout.write(
            f"{r['time']}  {r['run_id']}  {str(r['commit'])[:12] or '-':<12}  {r['branch'] or '-':<10}  "
            f"{r['benchmarks']} benchmark(s)  {r['module'] or ''}\n"
        )
    return EXIT_OK
