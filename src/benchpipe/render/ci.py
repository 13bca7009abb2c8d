"""What a CI job shows of a comparison: a Markdown summary (the job summary, a pull-request comment) and
GitHub Actions annotations, from the JSON a comparison writes (the pipeline's ``compare.json`` or a
paired compare's ``--out``).

Only rows that changed are listed (regressions, warnings, improvements); the unchanged ones are counted. A
run-wide shift and regressed rows that benchmark health calls untrustworthy are said above the table.
Annotations: ``::error::`` for each regressed row, ``::warning::`` for each row that warns or that did
not finish, with the benchmark, unit, change and p-value in one line.
"""

from __future__ import annotations

from typing import Any

from benchpipe.render.text import verdict_line_json

_ORDER = {"regression": 0, "warn": 1, "improvement": 2}
_MARK = {"regression": "🔴 regression", "warn": "🟡 warn", "improvement": "🟢 improvement"}


def _change(r: dict[str, Any]) -> str:
    d = r.get("delta_pct")
    change = "changed" if d is None else f"{d:+.2f}%"
    return change + (f" (p={r['p']:.3f})" if r.get("p") is not None else "")


def _center(side: dict[str, Any]) -> str:
    c = side.get("center")
    return "?" if c is None else f"{c:.4g}"


def summary_markdown(data: dict[str, Any], title: str = "benchpipe") -> str:
    """The job summary / PR comment: verdict, method, the changed rows, what was not comparable."""
    verdict = data.get("verdict", "NONE")
    rows = data.get("rows") or []
    changed = sorted((r for r in rows if r.get("verdict") in _ORDER), key=lambda r: _ORDER[r["verdict"]])
    out = [f"## {title}: {verdict}", ""]
    if verdict == "NONE":
        out.append(f"No comparison: {data.get('note', 'no baseline')}")
    if data.get("method"):
        out.append(f"Method: {data['method']}; threshold {data.get('threshold_pct', 10):g}%, "
                   f"alpha {data.get('alpha', 0.05):g}.")
    paired = data.get("paired") or {}
    if paired:
        out.append(f"Base `{str(paired.get('base', ''))[:12]}` vs head `{str(paired.get('head', ''))[:12]}`, "
                   f"{paired.get('rounds', '?')} interleaved rounds ({paired.get('seconds', '?')} s).")
    for d in data.get("not_comparable") or []:
        out.append(f"- ⚠️ not comparable: {d}")
    if data.get("shift"):
        out.append(f"- ⚠️ run-wide shift: {data['shift']}")
    for r in rows:
        if r.get("verdict") == "regression":
            out += [f"- ⚠️ `{r['benchmark']}` {r['unit']}: {w}" for w in r.get("warnings") or []
                    if w.startswith("untrustworthy")]
    for f in data.get("failures") or []:
        out.append(f"- ❌ did not finish: {f.get('message', f)}")
    if changed:
        out += ["", "| benchmark | unit | old | new | change | verdict |", "|---|---|---|---|---|---|"]
        for r in changed:
            out.append(f"| `{r['benchmark']}` | {r['unit']} | {_center(r['old'])} | {_center(r['new'])} | "
                       f"{_change(r)} | {_MARK[r['verdict']]} |")
    unchanged = len(rows) - len(changed)
    if rows:
        out += ["", f"{unchanged} of {len(rows)} rows unchanged.", "", f"`{verdict_line_json(data)}`"]
    return "\n".join(out) + "\n"


def _escape(s: str) -> str:
    """Workflow-command escaping of a message (%, CR, LF)."""
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def annotations(data: dict[str, Any]) -> list[str]:
    """GitHub Actions workflow commands, one per regressed or warning row and per failure."""
    out = []
    for r in data.get("rows") or []:
        level = {"regression": "error", "warn": "warning"}.get(r.get("verdict", ""))
        if level:
            out.append(f"::{level} title=benchpipe {r['verdict']}::"
                       + _escape(f"{r['benchmark']} {r['unit']}: {_change(r)}, threshold {r.get('threshold_pct', 10):g}%"))
    for f in data.get("failures") or []:
        out.append("::error title=benchpipe: did not finish::" + _escape(str(f.get("message", f))))
    return out
