"""The ``compare`` stage: the run's results against a saved baseline.

Reads ``baselines/<name>.txt`` (+ ``.meta.json``) and the run's ``bench.txt``
and ``bench.json``; writes ``compare.json``: the comparison (see
:func:`benchpipe.core.verdict.to_json`), both runs' environments, the
differences between them, and the benchmarks that did not finish (from the
run's metadata, so the gate can fail on them). No baseline: verdict ``NONE``.
Comparable runs only: the settings that shape numbers (see
:mod:`benchpipe.core.comparable`) that differ between the baseline and the run
are listed under ``not_comparable`` and make the verdict at least WARN. A
baseline recorded on another Go module is no baseline for this one (verdict
``NONE``, a full report); a baseline sharing no benchmark with the run likewise.
Rows the U test flags can be re-judged by ``confirm`` (the CLI passes
:func:`benchpipe.revisions.confirm.confirm`: paired rounds against the
baseline's commit) before the verdict is written; its facts go under
``confirm``. The stage always exits 0; ``benchpipe gate`` turns the verdict
into an exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchpipe.core import benchfmt as bfmt
from benchpipe.core import comparable
from benchpipe.core.errors import NothingToCompare
from benchpipe.core.verdict import Comparison, Options, compare_samples, to_json
from benchpipe.store import atomic, baselines

# Re-judges a comparison's flagged rows given the baseline's and the run's metadata; returns facts.
Confirm = Callable[[Comparison, dict[str, Any], dict[str, Any]], dict[str, Any]]


def _none(out: Path, name: str, ce: dict, opts: Options, note: str) -> dict:
    data = {"verdict": "NONE", "baseline": name, "rows": [], "failures": ce.get("failures", []), "note": note,
            "threshold_pct": opts.threshold_pct, "alpha": opts.alpha}
    atomic.write_json(out, data)
    sys.stderr.write(f"compare: {note}\n")
    return data


def run(name: str, current: Path, current_meta: Path | None, out: Path, opts: Options,
        confirm: Confirm | None = None) -> dict:
    txt, meta_json = baselines.paths(name)
    ce = atomic.read_json(current_meta)
    if not txt.exists():
        return _none(out, name, ce, opts, f"No baseline: {txt} does not exist (save one with `invoke baseline "
                                          f"--name {name}`).")
    be = atomic.read_json(meta_json)
    if be.get("module") and ce.get("module") and be["module"] != ce["module"]:
        return _none(out, name, ce, opts, f"No baseline for {ce['module']}: baseline {name!r} was recorded on "
                                          f"{be['module']} (save one for this module with `invoke baseline`).")
    old, new = bfmt.read_pair(txt, current)
    for e in old.errors + new.errors:
        sys.stderr.write(e + "\n")
    try:
        c = compare_samples(old.values, new.values, {**old.units, **new.units}, opts)
    except NothingToCompare as e:
        return _none(out, name, ce, opts, f"No benchmark in common with baseline {name!r}: {e.message}")
    c.old_label, c.new_label = name, "current"
    facts = confirm(c, be, ce) if confirm else {}
    diffs = comparable.differences(comparable.from_meta(be), comparable.from_meta(ce))
    if diffs and c.verdict == "PASS":
        c.verdict = "WARN"
    data = to_json(c)
    data.update({"baseline": name, "baseline_env": be, "current_env": ce, "failures": ce.get("failures", []),
                 "not_comparable": diffs, "confirm": facts})
    atomic.write_json(out, data)
    sys.stderr.write(f"compare: {c.verdict} against baseline {name} ({len(c.rows)} rows, "
                     f"{len(c.regressions)} regressed)\n")
    for w in diffs:
        sys.stderr.write(f"compare: not comparable: {w}\n")
    if facts.get("unconfirmed"):
        sys.stderr.write(f"compare: not confirmed by interleaved rounds (drift): {', '.join(facts['unconfirmed'])}\n")
    if facts.get("confirmed"):
        sys.stderr.write(f"compare: confirmed by interleaved rounds: {', '.join(facts['confirmed'])}\n")
    return data
