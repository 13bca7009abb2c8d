"""The Performance Comparison section, from the compare stage's :class:`CompareDoc`."""

from __future__ import annotations

from typing import Any

from benchpipe.core import comparable
from benchpipe.core.artifacts import BenchMeta, CompareDoc
from benchpipe.core.units import tidy
from benchpipe.render import explain
from benchpipe.render.report.fmt import code_escape
from benchpipe.render.text import center_cells, change_with_p


def comparison(doc: CompareDoc) -> dict[str, Any]:
    """The verdict, the comparison table and environments (``cmp``), and the regressed and warned rows."""
    flagged = [
        f"{r.benchmark} ({r.unit} {r.delta_pct:+.1f}%)"
        if r.delta_pct is not None
        else f"{r.benchmark} ({r.unit})"
        for r in doc.regressions()
    ]
    warned = [
        f"{r.benchmark} {r.unit}: {'; '.join(r.warnings) or 'worse but within threshold'}"
        for r in doc.rows
        if r.verdict in ("warn", "inconclusive")
    ]
    return {
        "cmp": table(doc) if doc.rows else None,
        "cmp_note": doc.note or "No baseline to compare with.",
        "verdict": doc.verdict if doc.rows else "NONE (no baseline)",
        "threshold": doc.threshold_pct,
        "alpha": doc.alpha,
        "flagged": flagged,
        "warned": warned,
        "why": [line for e in doc.explanations for line in explain.markdown(e)],
    }


def table(doc: CompareDoc) -> dict[str, Any]:
    rows = []
    for r in doc.rows:
        row = r
        change = change_with_p(row)
        old_cell, new_cell = center_cells(row)
        rows.append(
            {
                "name": r.benchmark,
                "unit": tidy(r.unit)[0],
                "old": old_cell,
                "new": new_cell,
                "change": change,
                "verdict": r.verdict,
            }
        )
    be, ce = doc.baseline_env or BenchMeta(), doc.current_env or BenchMeta()
    bs, cs = comparable.from_meta(be), comparable.from_meta(ce)
    env_rows = [
        {"label": lab, "old": bs.get(k, "?"), "new": cs.get(k, "?")}
        for k, lab in comparable.SHAPING
        if k in bs or k in cs or k != "measure"
    ]  # a run before measures existed measured time
    env_rows += [
        {"label": lab, "old": "?" if old is None else old, "new": "?" if new is None else new}
        for lab, old, new in [
            ("Module", be.module, ce.module),
            ("Commit", be.commit, ce.commit),
            ("Time", be.start_time, ce.start_time),
        ]
    ]
    if doc.paired is not None:
        title = (
            f"Paired comparison: base `{code_escape(doc.paired.base or '?')[:12]}` vs head "
            f"`{code_escape(doc.paired.head or '?')[:12]}`"
        )
    else:
        title = (
            f"Baseline `{code_escape(doc.baseline or '?')}` ({be.start_time or 'unknown time'}, "
            f"commit `{code_escape(be.commit or '?')[:12]}`) vs current"
        )
    return {
        "rows": doc.rows,
        "not_comparable": doc.not_comparable,
        "method": doc.method,
        "alpha": doc.alpha,
        "table": rows,
        "env_rows": env_rows,
        "title": title,
        "run_as": timed_results(doc),
        "impact": impact_lines(doc),
    }


SKIPPED_LISTED = 100  # skipped benchmarks listed one by one; the rest are counted


def impact_lines(doc: CompareDoc) -> list[str]:
    """Impact selection in plain sentences (untrusted names left to the caller's escaping): what ran and
    why, then one line per skipped benchmark with its reason."""
    sel = doc.paired.impact if doc.paired is not None else None
    if sel is None:
        return []
    if sel.fallback:
        return [f"Impact selection: {sel.map_note}; the packages the diff affects ran."]
    if sel.run_all:
        return [f"Impact selection: every benchmark ran: {sel.run_all[0]} ({sel.map_note})."]
    out = [
        f"Impact selection: {len(sel.selected)} benchmarks execute the changed code and ran; "
        f"{len(sel.skipped)} skipped ({sel.map_note}; --all runs them)."
    ]
    out += [f"{s.benchmark}: skipped, {s.reason}" for s in sel.skipped[:SKIPPED_LISTED]]
    if len(sel.skipped) > SKIPPED_LISTED:
        out.append(f"... and {len(sel.skipped) - SKIPPED_LISTED} more (the JSON lists them all)")
    return out


def timed_results(doc: CompareDoc) -> list[str]:
    """The results re-run at a time benchtime rather than their fixed b.N (paired rounds or confirmation),
    each with the benchtime and why: ``<result>: 100ms (time: RunParallel)``."""
    run_as = (
        doc.paired.run_as if doc.paired is not None else doc.confirm.run_as if doc.confirm is not None else {}
    )
    return [f"{name.split(' ', 1)[-1]}: {how}" for name, how in sorted(run_as.items()) if "(time:" in how]
