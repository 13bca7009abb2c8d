"""``benchpipe compare``: two files, the pipeline's compare stage, or two git revisions (paired)."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path
from typing import Any

from benchpipe.cli.common import RUN, add_stat_opts, options, verdict_code
from benchpipe.core.errors import EXIT_ERROR, EXIT_OK, BenchpipeError, NothingSelected, NothingToCompare
from benchpipe.store import cachedir, params


def _paired_options(p: argparse.ArgumentParser) -> None:
    """The options of a paired comparison of two revisions (``--base``)."""
    p.add_argument("--target", help="paired: Go module (git work tree)")
    p.add_argument("--base", help="paired: base revision")
    p.add_argument("--head", help="paired: head revision (default: the working tree)")
    p.add_argument("--rounds", type=int, help="paired: rounds (default params paired.rounds)")
    p.add_argument("--bench", help="paired: benchmark regex")
    p.add_argument("--packages", nargs="*", help="paired: package patterns")
    p.add_argument("--benchtime", help="paired: -benchtime per run")
    p.add_argument("--changed-only", action="store_true", help="paired: only packages that differ")
    p.add_argument(
        "--all",
        action="store_true",
        help="paired: run every benchmark (no impact selection: params impact.enabled)",
    )
    p.add_argument(
        "--fixed-rounds",
        action="store_true",
        help="paired: run every round (no early stop when all rows are decided; paired.early_stop)",
    )
    p.add_argument(
        "--no-confirm",
        action="store_true",
        help="skip confirmation rounds (paired), or re-running flagged rows against the baseline's "
        "commit (pipeline)",
    )
    p.add_argument(
        "--no-explain",
        action="store_true",
        help="paired: do not profile confirmed regressions on both sides (the 'why' under each row)",
    )
    p.add_argument(
        "--explain-improvements",
        action="store_true",
        help="paired: profile and explain confirmed improvements too",
    )
    p.add_argument(
        "--measure",
        choices=["time", "instructions"],
        help="paired: time (interleaved go test runs) or instructions (counted under valgrind, exact); "
        "default params measure",
    )
    p.add_argument(
        "--shard", help="paired: K/N: only shard K of N of the packages (benchpipe merge joins them)"
    )


def register(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help="compare OLD NEW files, the run with a baseline, or two git revisions",
        description="benchpipe compare OLD NEW | --current FILE (pipeline stage) | "
        "--target DIR --base REV [--head REV] (paired, interleaved runs)",
    )
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument("--format", choices=["text", "markdown", "csv", "json"], default="text")
    add_stat_opts(p)
    p.add_argument("--params", help="params.yaml for rules and defaults (default ./params.yaml if present)")
    p.add_argument("--current", help="pipeline: current raw results")
    p.add_argument("--current-meta", help="pipeline: current run metadata")
    p.add_argument("--samples", help="pipeline: the parse stage's samples.parquet (b.N of every sample)")
    p.add_argument("--baseline", help="pipeline: baseline name (default compare.baseline)")
    p.add_argument("--out", help=f"JSON result file (pipeline default {RUN / 'compare.json'}; paired: none)")
    _paired_options(p)
    p.add_argument(
        "--only-changed",
        action="store_true",
        help="show only rows that changed (regressions, warnings, improvements); the verdict is the same",
    )
    p.add_argument(
        "--strict-env",
        action="store_true",
        help="files: exit 3 when the two files were recorded with other settings",
    )
    p.add_argument("--cache-dir", help="paired: cache directory (default ~/.cache/benchpipe)")
    p.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from benchpipe.core import benchfmt, comparable, shift, stats
    from benchpipe.core.verdict import compare_samples
    from benchpipe.render import text as output

    if args.base or args.target:
        return _paired(args)
    if args.current:
        return _compare_stage(args)
    if len(args.files) != 2:
        raise BenchpipeError("compare needs OLD NEW files, or --current (pipeline), or --base REV (paired)")
    for f in args.files:
        if not Path(f).is_file():
            raise BenchpipeError(f"{f}: no such file")
    big = sum(Path(f).stat().st_size for f in args.files) > 1 << 20  # enough rows for the batch statistics
    old, new = benchfmt.read_pair(args.files[0], args.files[1], meanwhile=stats.load_batch if big else None)
    for e in old.errors + new.errors:
        sys.stderr.write(e + "\n")
    for side, p, f in (("old", old, args.files[0]), ("new", new, args.files[1])):
        if not p.values:
            raise NothingToCompare(f"{f}: no benchmark results ({side} side)")
    c = compare_samples(
        old.values, new.values, {**old.units, **new.units}, options(args, params.load_optional(args.params))
    )
    c.old_label, c.new_label = Path(args.files[0]).name, Path(args.files[1]).name
    moved = shift.detect(c.rows)
    if moved:
        c.shift = moved.describe(confirmed=False)
    diffs = comparable.differences(
        comparable.from_config(old.first_config),
        comparable.from_config(new.first_config),
        c.old_label,
        c.new_label,
    )
    if diffs:
        c.not_comparable = diffs
        if c.verdict == "PASS":
            c.verdict = "WARN"
    if args.only_changed:
        c.rows = [r for r in c.rows if r.verdict != "unchanged"]
    sys.stdout.write(output.render(c, args.format))
    if diffs and args.strict_env:
        raise NothingToCompare("not comparable: " + "; ".join(diffs))
    return verdict_code(c.verdict)


def _compare_stage(args: argparse.Namespace) -> int:
    from benchpipe.stages import compare

    settings = params.load(args.params or "params.yaml")
    name = str(args.baseline or settings.compare.baseline)
    meta = Path(args.current_meta) if args.current_meta else None
    opts = options(args, settings)
    confirm_fn = None
    if settings.compare.confirm and not args.no_confirm:
        from benchpipe.revisions import confirm

        out = Path(args.out or RUN / "compare.json")
        confirm_fn = functools.partial(
            confirm.confirm,
            opts=opts,
            rounds=settings.paired.confirm_rounds,
            cache=cachedir.cache_root(args.cache_dir),
            stall_s=settings.bench.stall_s,
            profile=settings.profile,
            explain_dir=out.with_name(out.stem + "-explain"),
            min_budget_s=settings.compare.confirm_min_s,
            run_bt=str(settings.paired.benchtime),
        )
    from benchpipe.store import baselines, objstore

    source = (
        compare.HistoryBaseline(
            objstore.configured(settings.history.store),
            settings.history.baseline_runs,
            settings.history.baseline_samples,
        )
        if baselines.is_history(name)
        else None
    )
    compare.run(
        name,
        Path(args.current),
        meta,
        Path(args.out or RUN / "compare.json"),
        opts,
        confirm_fn,
        Path(args.samples) if args.samples else None,
        source,
    )
    return EXIT_OK


def _paired(args: argparse.Namespace) -> int:
    """Base and head revisions run interleaved; calibration warnings; the table on stdout."""
    from benchpipe.core.artifacts import compare_doc
    from benchpipe.render import explain
    from benchpipe.render import text as output
    from benchpipe.revisions import calibrate, paired
    from benchpipe.store import artifacts

    if not args.base:
        raise BenchpipeError("paired comparison needs --base REV")
    settings = params.load_optional(args.params)
    opts = options(args, settings)
    plan = _impact(paired.plan_from(args, settings), settings, args)
    if plan.early_stop:  # the results a design leaves undecided get up to twice its rounds again, as long
        plan.extra_rounds = 2 * plan.rounds  # as that makes at most half its runs (paired.EXTRA_SHARE)
    if args.shard and (empty := _shard(plan, args)) is not None:
        return empty
    try:
        from benchpipe.revisions import counted

        out = counted.execute_as_measured(plan, opts)
    except NothingSelected as e:
        return _none_selected(args, plan, e.message)
    except NothingToCompare as e:
        if not args.shard:
            raise
        return _empty_shard(args, e.message)  # another shard may hold the matching benchmarks
    c, facts = out.comparison, out.facts
    if plan.measure == "time":
        c.warnings += calibrate.threshold_warnings(plan, c)
        c.warnings.append(
            "base and head ran interleaved with the same settings (benchtime, -cpu, -benchmem, "
            "machine): comparable by construction"
        )
    doc = compare_doc(
        c, paired=facts, shard=args.shard or "", explanations=out.explanations, failures=out.failures
    )
    if args.out:
        artifacts.write(args.out, doc)
    if args.only_changed:
        c.rows = [r for r in c.rows if r.verdict != "unchanged"]
        doc.rows = [r for r in doc.rows if r.verdict != "unchanged"]
    if args.format == "json":
        sys.stdout.write(json.dumps(artifacts.to_dict(doc), indent=2) + "\n")
    else:
        sys.stdout.write(output.render(c, args.format))
        sys.stdout.write(explain.text(out.explanations) if args.format == "text" else "")
    _notes(facts, {f"{r.benchmark} {r.unit}" for r in c.regressions}, out.failures)
    return EXIT_ERROR if out.failures else verdict_code(c.verdict)


def _notes(facts: Any, regressed: set[str], failures: list[Any]) -> None:
    """The paired run's notes on stderr: what confirmation found, failures, where the time went."""
    if confirmed := [x for x in facts.confirmed if x in regressed]:
        sys.stderr.write(f"paired: confirmed regressions: {', '.join(confirmed)}\n")
    if other := [x for x in facts.confirmed if x not in regressed]:
        sys.stderr.write(f"paired: confirmed changes that are not regressions: {', '.join(other)}\n")
    if facts.unconfirmed:
        sys.stderr.write(f"paired: not confirmed: {', '.join(facts.unconfirmed)}\n")
    for f in failures:
        sys.stderr.write(f"paired: FAILED: {f.message}\n")
    if facts.phases:
        spent = ", ".join(f"{k} {v:.1f}s" for k, v in facts.phases.items())
        sys.stderr.write(f"paired: time: {spent}\n")


def _shard(plan: Any, args: argparse.Namespace) -> int | None:
    """Narrow ``plan`` to its shard's packages; the exit of a shard with none (None: it has some)."""
    from benchpipe.revisions import paired

    plan.patterns = paired.shard_packages(plan, args.shard)
    if not plan.patterns and plan.impact is not None and not paired.shard_packages(plan, "1/1"):
        return _none_selected(args, plan, "no benchmark executes the changed code")
    if not plan.patterns:
        return _empty_shard(args, "more shards than packages with benchmarks")
    return None


def _impact(plan: Any, settings: Any, args: argparse.Namespace) -> Any:
    """``plan`` with the impact selection of a paired comparison (:mod:`benchpipe.revisions.impact`),
    said on stderr; as it is under ``--all``, ``--changed-only`` or ``impact.enabled: false``."""
    from benchpipe.revisions import impact
    from benchpipe.store import objstore

    if not settings.impact.enabled or args.all or args.changed_only or plan.refs:
        return plan
    try:
        store = objstore.configured(settings.history.store)
    except BenchpipeError as e:
        sys.stderr.write(f"impact: history store not used ({e.message})\n")
        store = None
    req = impact.Request(
        plan.target,
        plan.base_rev,
        plan.head_rev,
        plan.patterns,
        plan.bench,
        plan.cache,
        store,
        settings.impact,
    )
    sel = impact.choose(req)
    sys.stderr.write(f"impact: {sel.map_note}\n")
    if sel.fallback:
        sys.stderr.write("impact: package-level selection (the packages the diff affects)\n")
    elif sel.run_all:
        sys.stderr.write(f"impact: every benchmark runs: {sel.run_all[0]}\n")
    else:
        sys.stderr.write(
            f"impact: {len(sel.skipped)} benchmarks skipped (they execute none of the "
            f"{len(sel.changed_functions)} changed functions); --all runs them\n"
        )
    plan.impact, plan.changed_only = sel, sel.fallback == "package"
    return plan


def _none_selected(args: argparse.Namespace, plan: Any, why: str) -> int:
    """No benchmark executes the changed code: PASS, with the skipped ones listed (exit 0)."""
    from benchpipe.core.artifacts import CompareDoc, PairedFacts
    from benchpipe.go import git as gitrev
    from benchpipe.store import artifacts

    root = gitrev.toplevel(plan.target.resolve())
    base = gitrev.resolve(root, plan.base_rev)
    head = gitrev.resolve(root, plan.head_rev) if plan.head_rev else "working tree"
    facts = PairedFacts(base=base, head=head, target=str(plan.target.resolve()), impact=plan.impact)
    doc = CompareDoc(verdict="PASS", shard=args.shard or "", paired=facts, note=f"impact selection: {why}")
    if args.out:
        artifacts.write(args.out, doc)
    if args.format == "json":
        sys.stdout.write(json.dumps(artifacts.to_dict(doc), indent=2) + "\n")
    else:
        sys.stdout.write(
            f"verdict: PASS (impact selection: {why}; {len(plan.impact.skipped)} benchmarks skipped, "
            "--all runs them)\n"
        )
    return EXIT_OK


def _empty_shard(args: argparse.Namespace, why: str) -> int:
    """A shard with nothing to compare (no package of its own, or none of its benchmarks match): an empty
    part; the merge says NONE when every shard is empty."""
    from benchpipe.core.artifacts import CompareDoc
    from benchpipe.store import artifacts

    doc = CompareDoc(verdict="NONE", shard=args.shard, note=f"shard {args.shard}: nothing to compare ({why})")
    if args.out:
        artifacts.write(args.out, doc)
    sys.stderr.write(f"paired: {doc.note}\n")
    return EXIT_OK
