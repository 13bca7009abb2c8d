"""The ``compare`` stage: the run's results against a saved baseline.

Reads ``baselines/<name>.txt`` (+ ``.meta.json``) and the run's ``bench.txt``
(the comparison: the same reader for both sides, as benchstat reads them),
``bench.json`` and the parse stage's ``samples.parquet`` (each sample's b.N:
health findings, and the b.N confirmation re-runs at); writes ``compare.json``: the comparison (see
:func:`benchpipe.core.artifacts.compare_doc`: its rows are :class:`benchpipe.core.verdict.Row`), both runs'
environments, the differences between them, and the benchmarks that did not finish (from the
run's metadata, so the gate can fail on them). No baseline: verdict ``NONE``.
Comparable runs only: the settings that shape numbers (see
:mod:`benchpipe.core.comparable`) that differ between the baseline and the run
are listed under ``not_comparable`` and make the verdict at least WARN. A
baseline recorded on another Go module is no baseline for this one (verdict
``NONE``, a full report); a baseline sharing no benchmark with the run likewise.
The run's benchmark health (:mod:`benchpipe.core.health`: spread, bimodal
rows, B/op that varies with b.N, setup timed in a b.N loop) goes under
``health``, with or without a baseline; a row that regresses or warns while a
finding covers it says so in its warnings. When most unrelated benchmarks
moved the same way (:mod:`benchpipe.core.shift`), ``shift`` says so.
Rows the U test flags can be re-judged by ``confirm`` (the CLI passes
:func:`benchpipe.revisions.confirm.confirm`: paired rounds against the
baseline's commit) before the verdict is written; its facts go under
``confirm``. The stage always exits 0; ``benchpipe gate`` turns the verdict
into an exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from benchpipe.core import benchfmt, comparable, health, shift
from benchpipe.core.artifacts import (
    BenchMeta,
    CompareDoc,
    ConfirmFacts,
    Explanation,
    compare_doc,
)
from benchpipe.core.errors import BenchpipeError, NothingToCompare
from benchpipe.core.verdict import Comparison, Options, Row, compare_samples
from benchpipe.go import benchsrc, toolchain
from benchpipe.go import git as gitrev
from benchpipe.store import artifacts, atomic, baselines, history, samples
from benchpipe.store.objstore import Store


# Re-judges a comparison's flagged rows given the baseline's and the run's metadata and the run's b.N per
# result (package, name without -N); returns what it did.
@dataclass
class HistoryBaseline:
    """Where ``--baseline history:BRANCH`` looks, and how many runs and samples it pools."""

    store: Store
    runs: int
    samples: int


Confirm = Callable[
    [Comparison, BenchMeta, BenchMeta, dict[tuple[str, str], int]], tuple[ConfirmFacts, list[Explanation]]
]


def findings(
    run: dict[benchfmt.RunKey, tuple[list[float], list[int]]], ce: BenchMeta, opts: Options
) -> list[health.Finding]:
    """The run's health findings: from its samples, and from its benchmarks' source where the run recorded
    its package directories."""
    sources = [
        s
        for p in ce.packages
        if p.dir and Path(p.dir).is_dir()
        for s in benchsrc.scan(p.import_path, Path(p.dir))
    ]
    return health.from_run(run, opts) + health.from_sources(sources)


def baseline_findings(txt: Path, opts: Options) -> list[health.Finding]:
    """The baseline's own spread and bimodality (health checks both sides: a noisy baseline hides a
    regression as surely as a noisy run), each detail saying it is the baseline's."""
    try:
        run = benchfmt.with_iters(benchfmt.read_files([txt]))
    except BenchpipeError:
        return []
    return [
        msgspec.structs.replace(f, detail=f"in the baseline: {f.detail}")
        for f in health.from_run(run, opts)
        if f.problem in ("wide spread", "bimodal")
    ]


def flag_untrusted(c: Comparison, found: list[health.Finding]) -> None:
    """A row that regressed or warns while a finding says it cannot be trusted says so."""
    for r in c.rows:
        if r.verdict in ("regression", "warn"):
            for f in health.untrusted(found, r.package, r.benchmark, r.unit):
                r.warnings.append(f"untrustworthy ({f.problem}: {f.detail}); see Benchmark health")


def _none(
    out: Path, name: str, ce: BenchMeta, opts: Options, note: str, found: list[health.Finding]
) -> CompareDoc:
    doc = CompareDoc(
        verdict="NONE",
        baseline=name,
        failures=ce.failures,
        note=note,
        threshold_pct=opts.threshold_pct,
        alpha=opts.alpha,
        health=found,
        shard=ce.shard,
    )
    artifacts.write(out, doc)
    sys.stderr.write(f"compare: {note}\n")
    return doc


def from_history(name: str, ce: BenchMeta, source: HistoryBaseline, work: Path) -> tuple[Path, Path, str]:
    """``history:BRANCH``: the newest matching runs of BRANCH in the history store (the newest one alone for
    instruction counts), written as a baseline (bench.txt, meta.json) under ``work``; returns their paths and
    what was used (a missing bench.txt and why when nothing matches)."""
    branch = name[len(baselines.HISTORY) :] or "main"
    s = ce.settings
    like = {
        k: str(getattr(s, k))
        for k in ("benchtime", "cpu", "measure")
        if s is not None and getattr(s, k) is not None
    }
    # counts are exact, one per run: runs of older commits pooled in would mix code versions (a count
    # regressed since then and not reverted would be judged against two values, neither of them exact)
    runs = 1 if s is not None and s.measure == "instructions" else source.runs
    got = history.baseline(source.store, branch, ce.module, like, source.samples, runs)
    txt, meta = work / "bench.txt", work / "meta.json"
    if got is None:
        txt.unlink(missing_ok=True)
        return (
            txt,
            meta,
            (
                f"no run of {ce.module or 'this module'} on branch {branch} with a commit and the same "
                f"settings ({', '.join(f'{k} {v}' for k, v in like.items()) or 'any'}) in {source.store}"
            ),
        )
    text, bmeta, used = got
    atomic.write_text(txt, text)
    artifacts.write(meta, bmeta)
    return txt, meta, f"{len(used)} run(s) of branch {branch} in {source.store}: {', '.join(used)}"


def _baseline(name: str, ce: BenchMeta, source: HistoryBaseline | None, out: Path) -> tuple[Path, Path, str]:
    """The baseline's bench.txt and meta.json, and what was used when it comes from the history."""
    if baselines.is_history(name) and source is not None:
        txt, meta_json, used = from_history(name, ce, source, out.parent / "baseline-history")
        sys.stderr.write(f"compare: baseline {name}: {used}\n")
        return txt, meta_json, used
    txt, meta_json = baselines.paths(name)
    if Path(".dvc").is_dir() and not baselines.shared_remote(Path(".")):
        sys.stderr.write(f"compare: note: {baselines.LOCAL_REMOTE_HINT}\n")
    return txt, meta_json, ""


def _missing(name: str, txt: Path, used: str, ce: BenchMeta, be: BenchMeta | None) -> str:
    """Why there is no baseline to compare with ("" when there is one)."""
    if not txt.exists():
        if used:
            return f"No baseline: {used}."
        return f"No baseline: {txt} does not exist (save one with `invoke baseline --name {name}`)."
    if be is not None and be.module and ce.module and be.module != ce.module:
        return (
            f"No baseline for {ce.module}: baseline {name!r} was recorded on "
            f"{be.module} (save one for this module with `invoke baseline`)."
        )
    return ""


def unaffected(be: BenchMeta, ce: BenchMeta, rows: list[Row]) -> set[str] | None:
    """The compared packages the change from the baseline's commit to the run cannot affect: neither
    changed nor depending on a package that did (None: not known; no commits, or the baseline's commit
    is not in this clone)."""
    if not be.commit or not ce.commit or not ce.target:
        return None
    try:
        target = Path(ce.target).resolve()
        root = gitrev.toplevel(target)
        files = gitrev.module_changes(
            root, be.commit, None if ce.dirty else ce.commit, target.relative_to(root)
        )
        affected = toolchain.affected_packages(target, files)
    except (BenchpipeError, ValueError, OSError):
        return None
    return set() if affected is None else {r.package for r in rows} - affected


def _say(c: Comparison, name: str, diffs: list[str], facts: ConfirmFacts | None) -> None:
    """The comparison's lines on stderr: the verdict, what is not comparable, what confirmation did."""
    sys.stderr.write(
        f"compare: {c.verdict} against baseline {name} ({len(c.rows)} rows, {len(c.regressions)} regressed)\n"
    )
    for w in diffs:
        sys.stderr.write(f"compare: not comparable: {w}\n")
    if facts is not None and facts.unconfirmed:
        sys.stderr.write(
            f"compare: not confirmed by interleaved rounds (drift): {', '.join(facts.unconfirmed)}\n"
        )
    if facts is not None and facts.confirmed:
        sys.stderr.write(f"compare: confirmed by interleaved rounds: {', '.join(facts.confirmed)}\n")


def run(
    name: str,
    current: Path,
    current_meta: Path | None,
    out: Path,
    opts: Options,
    confirm: Confirm | None = None,
    samples_file: Path | None = None,
    source: HistoryBaseline | None = None,
) -> CompareDoc:
    ce = artifacts.read(current_meta, BenchMeta, missing_ok=True)
    txt, meta_json, used = _baseline(name, ce, source, out)
    by_result = (
        samples.with_iters(samples_file)
        if samples_file is not None
        else benchfmt.with_iters(benchfmt.read_files([current]))
    )
    found = findings(by_result, ce, opts)
    be = artifacts.read(meta_json, BenchMeta, missing_ok=True) if txt.exists() else None
    missing = _missing(name, txt, used, ce, be)
    if missing or be is None:
        return _none(out, name, ce, opts, missing, found)
    old, new = benchfmt.read_pair(txt, current)
    for e in old.errors + new.errors:
        sys.stderr.write(e + "\n")
    found += baseline_findings(txt, opts)
    try:
        c = compare_samples(old.values, new.values, {**old.units, **new.units}, opts)
    except NothingToCompare as e:
        return _none(
            out, name, ce, opts, f"No benchmark in common with baseline {name!r}: {e.message}", found
        )
    c.old_label, c.new_label = name, "current"
    moved = shift.detect(c.rows)
    if moved:  # is it the machine? only the benchmarks the change cannot affect may say so
        moved = shift.detect(c.rows, unaffected(be, ce, c.rows)) or moved
        c.shift = moved.describe(confirmed=confirm is not None)
        sys.stderr.write(f"compare: {c.shift}\n")
    facts, explained = confirm(c, be, ce, benchfmt.iterations(by_result)) if confirm else (None, [])
    flag_untrusted(c, found)
    diffs = comparable.differences(comparable.from_meta(be), comparable.from_meta(ce))
    if diffs and c.verdict == "PASS":
        c.verdict = "WARN"
    doc = compare_doc(c, baseline=name, not_comparable=diffs)
    doc.baseline_env, doc.current_env, doc.failures = be, ce, ce.failures
    doc.confirm, doc.health, doc.shard = facts, found, ce.shard
    regressed = {(r.package, benchfmt.base_name(r.benchmark)) for r in doc.regressions()}
    doc.explanations = [e for e in explained if (e.package, e.benchmark) in regressed]
    artifacts.write(out, doc)
    _say(c, name, diffs, facts)
    return doc
