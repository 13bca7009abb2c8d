"""The ``benchpipe`` command line: one subcommand per pipeline stage and tool.

Exit codes (every subcommand): 0 pass or warn, 1 regression, 2 error,
3 nothing to compare / nothing matched. Errors are one line on stderr;
set BENCHPIPE_DEBUG=1 for a traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from . import __version__, params
from .errors import EXIT_ERROR, EXIT_NOTHING, EXIT_OK, EXIT_REGRESSION, BenchpipeError, NothingToCompare

RUN = Path("reports/run")
PIPELINE_STAGES = ("bench", "parse", "compare", "profile", "report")
# A failed pipeline stage leaves its exit code here, so `invoke` can exit with it after DVC fails.
LAST_ERROR = RUN / "last-error.json"


def _add_stat_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--alpha", type=float, help="significance level (default 0.05, or params)")
    p.add_argument("--confidence", type=float, help="confidence level of intervals (default 0.95)")
    p.add_argument("--threshold", type=float, metavar="PCT", help="regression threshold in percent (default 10)")


def _options(args: argparse.Namespace, prm: dict[str, Any] | None):
    from .compare import Options, Rule

    c = (prm or {}).get("compare") or {}
    return Options(
        alpha=args.alpha if args.alpha is not None else float(c.get("alpha", 0.05)),
        confidence=args.confidence if args.confidence is not None else float(c.get("confidence", 0.95)),
        threshold_pct=args.threshold if args.threshold is not None else float(c.get("threshold_pct", 10)),
        rules=[Rule.from_dict(r) for r in c.get("rules", []) or []],
    )


def _load_params_opt(path: str | None) -> dict[str, Any] | None:
    if path:
        return params.load(path)
    return params.load("params.yaml") if Path("params.yaml").exists() else None


def cmd_bench(args: argparse.Namespace) -> int:
    from . import bench

    prm = params.load(args.params)
    cfg = params.mode_config(prm)
    target = params.target_dir(prm)
    stall_s = float((prm.get("bench") or {}).get("stall_s", 60))
    info = bench.run(cfg, target, Path(args.out), Path(args.meta), stall_s)
    sys.stderr.write(f"bench: {info['results']} results in {info['wall_s']:.1f}s "
                     f"(go test {info['go_s']:.1f}s) -> {args.out}\n")
    for f in info["failures"]:
        sys.stderr.write(f"bench: error: {f['message']}\n")
    if info["failures"] and not args.keep_going:
        return EXIT_ERROR
    return EXIT_OK


def cmd_parse(args: argparse.Namespace) -> int:
    from . import parse

    parse.run([Path(p) for p in args.inputs], Path(args.out))
    return EXIT_OK


def _verdict_code(verdict: str) -> int:
    return EXIT_REGRESSION if verdict == "FAIL" else EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from . import format as bfmt
    from . import output
    from .compare import compare_parsed

    if args.base or args.target:
        from . import paired

        prm = _load_params_opt(args.params)
        return paired.main(args, _options(args, prm), prm or {})
    if args.current:
        return _compare_stage(args)
    if len(args.files) != 2:
        raise BenchpipeError("compare needs OLD NEW files, or --current (pipeline), or --base REV (paired)")
    for f in args.files:
        if not Path(f).is_file():
            raise BenchpipeError(f"{f}: no such file")
    old = bfmt.read_files([args.files[0]])
    new = bfmt.read_files([args.files[1]])
    for e in old.errors + new.errors:
        sys.stderr.write(e + "\n")
    for side, p, f in (("old", old, args.files[0]), ("new", new, args.files[1])):
        if not p.results:
            raise NothingToCompare(f"{f}: no benchmark results ({side} side)")
    c = compare_parsed(old, new, _options(args, _load_params_opt(args.params)))
    c.old_label, c.new_label = Path(args.files[0]).name, Path(args.files[1]).name
    sys.stdout.write(output.render(c, args.format))
    return _verdict_code(c.verdict)


def _compare_stage(args: argparse.Namespace) -> int:
    from . import atomic, baseline, meta
    from . import format as bfmt
    from .compare import compare_parsed, to_json

    prm = params.load(args.params or "params.yaml")
    name = str(args.baseline or (prm.get("compare") or {}).get("baseline", "main"))
    txt, mj = baseline.paths(name)
    out = Path(args.out or RUN / "compare.json")
    ce = json.loads(Path(args.current_meta).read_text()) if args.current_meta and Path(args.current_meta).exists() else {}
    if not txt.exists():
        atomic.write_json(out, {"verdict": "NONE", "baseline": name, "rows": [], "failures": ce.get("failures", []),
                                "note": f"No baseline: {txt} does not exist (save one with `invoke baseline "
                                        f"--name {name}`).", "threshold_pct": _options(args, prm).threshold_pct,
                                "alpha": _options(args, prm).alpha})
        sys.stderr.write(f"compare: no baseline {txt}; nothing compared\n")
        return EXIT_OK
    old = bfmt.read_files([txt])
    new = bfmt.read_files([args.current])
    for e in old.errors + new.errors:
        sys.stderr.write(e + "\n")
    c = compare_parsed(old, new, _options(args, prm))
    c.old_label, c.new_label = name, "current"
    data = to_json(c)
    be = json.loads(mj.read_text()) if mj.exists() else {}
    data.update({"baseline": name, "baseline_env": be, "current_env": ce, "failures": ce.get("failures", []),
                 "env_warnings": meta.env_differences(be, ce)})
    atomic.write_json(out, data)
    sys.stderr.write(f"compare: {c.verdict} against baseline {name} ({len(c.rows)} rows, "
                     f"{len(c.regressions)} regressed)\n")
    for w in data["env_warnings"]:
        sys.stderr.write(f"compare: warning: {w}\n")
    return EXIT_OK


def cmd_gate(args: argparse.Namespace) -> int:
    p = Path(args.compare)
    if not p.exists():
        raise BenchpipeError(f"{p}: no comparison (run the pipeline first)")
    data = json.loads(p.read_text())
    verdict = data.get("verdict", "NONE")
    failures = data.get("failures") or []
    if failures:
        for f in failures:
            sys.stdout.write(f"error: {f['message']}\n")
        sys.stdout.write(f"verdict: ERROR ({len(failures)} benchmark(s) did not finish; the other results "
                         "are in the report)\n")
        return EXIT_ERROR
    if verdict == "NONE":
        sys.stdout.write(f"verdict: no baseline ({data.get('note', '')})\n")
        return EXIT_NOTHING if args.require_baseline else EXIT_OK
    bad = [f"{r['benchmark']} {r['unit']} {r['delta_pct']:+.2f}%" if r.get("delta_pct") is not None
           else f"{r['benchmark']} {r['unit']}" for r in data.get("rows", []) if r["verdict"] == "regression"]
    line = f"verdict: {verdict} (threshold {data.get('threshold_pct')}%)"
    if bad:
        line += ": regressed " + "; ".join(bad)
    sys.stdout.write(line + "\n")
    return _verdict_code(verdict)


def cmd_profile(args: argparse.Namespace) -> int:
    from . import baseline, profile

    prm = params.load(args.params)
    cfg = params.mode_config(prm)
    name = str((prm.get("compare") or {}).get("baseline", "main"))
    profile.run(prm, cfg, params.target_dir(prm), Path(args.out), Path(args.compare) if args.compare else None,
                baseline.profile_dir(name), Path(args.bench_meta))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from . import report

    prm = params.load(args.params)
    hist = None if args.no_history else Path(args.history)
    report.run(Path(args.meta), Path(args.raw), Path(args.samples), Path(args.compare), Path(args.profile), prm,
               Path(args.out), Path(args.metrics), hist)
    sys.stderr.write(f"report: wrote {args.out}\n")
    return EXIT_OK


def cmd_baseline(args: argparse.Namespace) -> int:
    from . import baseline

    if args.action == "save":
        for n in baseline.save(args.name, Path(args.raw), Path(args.meta), push=not args.no_push,
                               profiles=Path(args.profiles)):
            sys.stderr.write(f"baseline: {n}\n")
        return EXIT_OK
    if baseline.pull(args.name):
        sys.stderr.write(f"baseline: {args.name} is present\n")
        return EXIT_OK
    raise NothingToCompare(f"baseline {args.name!r} not found locally or in the DVC remote "
                           f"(save one with `invoke baseline --name {args.name}`)")


def cmd_history(args: argparse.Namespace) -> int:
    from . import format as bfmt
    from . import history

    hist = Path(args.dir)
    if args.action == "import":
        if not args.file or not Path(args.file).is_file():
            raise BenchpipeError(f"history import: {args.file or 'FILE'}: no such file")
        parsed = bfmt.read_files([args.file])
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
    from . import changepoint

    key = None
    series: list[dict[str, Any]] = []

    def flush() -> None:
        if args.changes and len(series) >= 6:
            for cp in changepoint.detect([r["center"] for r in series]):
                r = series[cp.index]
                sys.stdout.write(f"  change point: {cp.change_pct:+.1f}% from run {r['run_id']} (commit "
                                 f"{r['commit'][:12]}), p={cp.p:.3f}\n")

    for r in rows:
        if (r["benchmark"], r["unit"]) != key:
            flush()
            key, series = (r["benchmark"], r["unit"]), []
            sys.stdout.write(f"{r['benchmark']} {r['unit']}\n")
        series.append(r)
        ci = "" if r["lo"] is None or r["hi"] is None else f" [{r['lo']:.6g}, {r['hi']:.6g}]"
        sys.stdout.write(f"  {r['time']}  {r['commit'][:12] or '-':<12}  {r['center']:>12.6g}{ci}  n={r['n']}  "
                         f"{r['run_id']}\n")
    flush()
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    from . import calibrate

    prm = _load_params_opt(args.params) or {}
    return calibrate.main(args, _options(args, prm), prm)


def cmd_bisect(args: argparse.Namespace) -> int:
    from . import bisect

    prm = _load_params_opt(args.params) or {}
    return bisect.main(args, _options(args, prm), prm)


def _paired_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", help="Go module (inside a git work tree); default params target")
    p.add_argument("--params", help="params.yaml (default ./params.yaml if present)")
    p.add_argument("--rounds", type=int, help="rounds (default params paired.rounds)")
    p.add_argument("--packages", nargs="*", help="package patterns")
    p.add_argument("--benchtime", help="-benchtime of each run")
    p.add_argument("--cache-dir", help="cache directory (default ~/.cache/benchpipe)")
    _add_stat_opts(p)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="benchpipe", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version", version=f"benchpipe {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("bench", help="run the configured Go benchmarks (pipeline stage)")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--out", default=str(RUN / "bench.txt"), help="raw benchmark output (benchfmt)")
    p.add_argument("--meta", default=str(RUN / "bench.json"), help="run metadata (JSON)")
    p.add_argument("--keep-going", action="store_true",
                   help="exit 0 when a benchmark stalled but others have results (the gate exits 2 later)")
    p.set_defaults(fn=cmd_bench)

    p = sub.add_parser("parse", help="benchfmt / go test -json to a Parquet samples table (pipeline stage)")
    p.add_argument("inputs", nargs="+")
    p.add_argument("--out", default=str(RUN / "samples.parquet"))
    p.set_defaults(fn=cmd_parse)

    p = sub.add_parser("compare", help="compare OLD NEW files, the run with a baseline, or two git revisions",
                       description="benchpipe compare OLD NEW | --current FILE (pipeline stage) | "
                                   "--target DIR --base REV [--head REV] (paired, interleaved runs)")
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument("--format", choices=["text", "markdown", "csv", "json"], default="text")
    _add_stat_opts(p)
    p.add_argument("--params", help="params.yaml for rules and defaults (default ./params.yaml if present)")
    p.add_argument("--current", help="pipeline: current raw results")
    p.add_argument("--current-meta", help="pipeline: current run metadata")
    p.add_argument("--baseline", help="pipeline: baseline name (default compare.baseline)")
    p.add_argument("--out", help=f"JSON result file (pipeline default {RUN / 'compare.json'}; paired: none)")
    p.add_argument("--target", help="paired: Go module (git work tree)")
    p.add_argument("--base", help="paired: base revision")
    p.add_argument("--head", help="paired: head revision (default: the working tree)")
    p.add_argument("--rounds", type=int, help="paired: rounds (default params paired.rounds)")
    p.add_argument("--bench", help="paired: benchmark regex")
    p.add_argument("--packages", nargs="*", help="paired: package patterns")
    p.add_argument("--benchtime", help="paired: -benchtime per run")
    p.add_argument("--changed-only", action="store_true", help="paired: only packages that differ")
    p.add_argument("--no-confirm", action="store_true", help="paired: skip confirmation rounds")
    p.add_argument("--cache-dir", help="paired: cache directory (default ~/.cache/benchpipe)")
    p.set_defaults(fn=cmd_compare)

    p = sub.add_parser("calibrate", help="A/A runs of one revision: the machine's noise floor per benchmark")
    p.add_argument("--rev", default="HEAD", help="revision to run against itself (default HEAD)")
    p.add_argument("--bench", help="benchmark regex")
    p.add_argument("--out", help="also write the result here (JSON)")
    _paired_opts(p)
    p.set_defaults(fn=cmd_calibrate, head=None, no_confirm=True)

    p = sub.add_parser("bisect", help="first commit on which a benchmark regressed beyond the threshold")
    p.add_argument("--good", required=True, help="a revision without the regression")
    p.add_argument("--bad", required=True, help="a revision with the regression")
    p.add_argument("--bench", dest="bench_name", required=True, help="benchmark name, e.g. BenchmarkEvaluate")
    p.add_argument("--no-confirm", action="store_true")
    _paired_opts(p)
    p.set_defaults(fn=cmd_bisect)

    p = sub.add_parser("gate", help="print the verdict of the last comparison; exit 1 on FAIL")
    p.add_argument("--compare", default=str(RUN / "compare.json"))
    p.add_argument("--require-baseline", action="store_true", help="exit 3 when there was no baseline")
    p.set_defaults(fn=cmd_gate)

    p = sub.add_parser("profile", help="CPU/memory profiles, traces and call graphs (pipeline stage)")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--compare", default=str(RUN / "compare.json"))
    p.add_argument("--bench-meta", default=str(RUN / "bench.json"), help="benchmarks that stalled are skipped")
    p.add_argument("--out", default=str(RUN / "profile"))
    p.set_defaults(fn=cmd_profile)

    p = sub.add_parser("report", help="render reports/report.md and reports/metrics.json (pipeline stage)")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--meta", default=str(RUN / "bench.json"))
    p.add_argument("--raw", default=str(RUN / "bench.txt"))
    p.add_argument("--samples", default=str(RUN / "samples.parquet"))
    p.add_argument("--compare", default=str(RUN / "compare.json"))
    p.add_argument("--profile", default=str(RUN / "profile"))
    p.add_argument("--out", default="reports/report.md")
    p.add_argument("--metrics", default="reports/metrics.json")
    p.add_argument("--history", default="reports/history", help="history directory this run is appended to")
    p.add_argument("--no-history", action="store_true", help="do not store this run in the history")
    p.set_defaults(fn=cmd_report)

    p = sub.add_parser("history", help="runs stored in the history: per benchmark, each run's median",
                       description="benchpipe history [show] [--benchmark RE] [--unit U] [--last N] | "
                                   "history import FILE --commit C --time T | history compact")
    p.add_argument("action", nargs="?", choices=["show", "import", "compact"], default="show")
    p.add_argument("file", nargs="?", help="import: a benchfmt / go test -json file")
    p.add_argument("--dir", default="reports/history")
    p.add_argument("--benchmark", help="regex of benchmark names")
    p.add_argument("--unit", help="unit as written, e.g. ns/op")
    p.add_argument("--last", type=int, help="only the last N runs of each benchmark")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--commit", help="import: the commit that produced the file")
    p.add_argument("--time", help="import: when it was produced (ISO 8601)")
    p.add_argument("--branch", default="")
    p.add_argument("--changes", action="store_true", help="show: detect change points in each series")
    p.set_defaults(fn=cmd_history)

    p = sub.add_parser("baseline", help="save the current results as a baseline, or pull one")
    p.add_argument("action", choices=["save", "pull"])
    p.add_argument("--name", default="main")
    p.add_argument("--raw", default=str(RUN / "bench.txt"))
    p.add_argument("--meta", default=str(RUN / "bench.json"))
    p.add_argument("--profiles", default=str(RUN / "profile"), help="profiles to keep with the baseline")
    p.add_argument("--no-push", action="store_true")
    p.set_defaults(fn=cmd_baseline)
    return ap


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C: child processes are killed, worktrees removed."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    gc.disable()  # short-lived process building many small acyclic objects
    signal.signal(signal.SIGTERM, _terminate)
    stage = args.cmd in PIPELINE_STAGES and not getattr(args, "base", None) and not getattr(args, "files", None)
    if args.cmd == "bench":
        LAST_ERROR.unlink(missing_ok=True)
    try:
        return int(args.fn(args))
    except BenchpipeError as e:
        sys.stderr.write(f"benchpipe: error: {e.message}\n")
        if stage:
            from . import atomic

            atomic.write_json(LAST_ERROR, {"stage": args.cmd, "code": e.code, "message": e.message})
        return e.code
    except KeyboardInterrupt:
        sys.stderr.write("benchpipe: interrupted\n")
        return 130
    except Exception as e:  # noqa: BLE001 - one line for the user, traceback on request
        if os.environ.get("BENCHPIPE_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(f"benchpipe: internal error: {type(e).__name__}: {e}\n")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
