"""The ``compare`` stage: the run's results against a saved baseline.

Reads ``baselines/<name>.txt`` (+ ``.meta.json``) and the run's ``bench.txt``
and ``bench.json``; writes ``compare.json``: the comparison (see
:func:`benchpipe.core.verdict.to_json`), both runs' environments, the
differences between them, and the benchmarks that did not finish (from the
run's metadata, so the gate can fail on them). No baseline: verdict ``NONE``.
The stage always exits 0; ``benchpipe gate`` turns the verdict into an exit code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchpipe.core import benchfmt as bfmt
from benchpipe.core.verdict import Options, compare_parsed, to_json
from benchpipe.go import machine
from benchpipe.store import atomic, baselines


def run(name: str, current: Path, current_meta: Path | None, out: Path, opts: Options) -> dict:
    txt, mj = baselines.paths(name)
    ce = json.loads(current_meta.read_text()) if current_meta and current_meta.exists() else {}
    if not txt.exists():
        data = {"verdict": "NONE", "baseline": name, "rows": [], "failures": ce.get("failures", []),
                "note": f"No baseline: {txt} does not exist (save one with `invoke baseline --name {name}`).",
                "threshold_pct": opts.threshold_pct, "alpha": opts.alpha}
        atomic.write_json(out, data)
        sys.stderr.write(f"compare: no baseline {txt}; nothing compared\n")
        return data
    old = bfmt.read_files([txt])
    new = bfmt.read_files([current])
    for e in old.errors + new.errors:
        sys.stderr.write(e + "\n")
    c = compare_parsed(old, new, opts)
    c.old_label, c.new_label = name, "current"
    data = to_json(c)
    be = json.loads(mj.read_text()) if mj.exists() else {}
    data.update({"baseline": name, "baseline_env": be, "current_env": ce, "failures": ce.get("failures", []),
                 "env_warnings": machine.env_differences(be, ce)})
    atomic.write_json(out, data)
    sys.stderr.write(f"compare: {c.verdict} against baseline {name} ({len(c.rows)} rows, "
                     f"{len(c.regressions)} regressed)\n")
    for w in data["env_warnings"]:
        sys.stderr.write(f"compare: warning: {w}\n")
    return data
