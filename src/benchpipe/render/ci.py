"""What a CI job shows of a comparison: a Markdown summary (the job summary, a pull-request comment) and
GitHub Actions annotations, from the JSON a comparison writes (the pipeline's ``compare.json`` or a
paired compare's ``--out``).

Only rows that changed are listed (regressions, warnings, improvements); the unchanged ones are counted. A
run-wide shift and regressed rows that benchmark health calls untrustworthy are said above the table.
Annotations: ``::error::`` for each regressed row, ``::warning::`` for each row that warns or that did
not finish, with the benchmark, unit, change and p-value in one line.
"""

from __future__ import annotations

from benchpipe.core import benchfmt
from benchpipe.core.artifacts import CompareDoc
from benchpipe.core.units import INSTRUCTIONS
from benchpipe.core.untrusted import LIMIT, md_code, md_text, workflow_data
from benchpipe.core.verdict import Row
from benchpipe.render import explain
from benchpipe.render.report.comparison import impact_lines, timed_results
from benchpipe.render.text import center_cells, change_with_p, verdict_line_doc

MARKER = "<!-- benchpipe -->"  # the hidden first line that finds benchpipe's one comment on a pull request

_ORDER = {"regression": 0, "warn": 1, "inconclusive": 2, "improvement": 3}
_MARK = {
    "regression": "🔴 regression",
    "warn": "🟡 warn",
    "inconclusive": "🟠 inconclusive",
    "improvement": "🟢 improvement",
}


def _failed(kind: str) -> str:
    """How a failure is named: a stall did not finish; a benchmark that failed, panicked or timed out
    failed."""
    return "did not finish" if kind == "stall" else "failed"


def _change(r: Row) -> str:
    """The row's change as the comparison's tables write it, with its p-value."""
    return change_with_p(r)


def _lead(doc: CompareDoc) -> list[str]:
    """What comes before the table: method, paired facts, differences, shift, untrusted rows, failures."""
    out = []
    if doc.verdict == "NONE":
        out.append(f"No comparison: {md_text(doc.note or 'no baseline')}")
    if doc.method:
        out.append(f"Method: {md_text(doc.method)}; threshold {doc.threshold_pct:g}%, alpha {doc.alpha:g}.")
    if doc.paired is not None:
        how = (
            "each result counted once per side under valgrind"
            if _counted(doc)
            else f"{doc.paired.rounds} interleaved rounds"
        )
        out.append(
            f"Base {md_code(doc.paired.base[:12])} vs head {md_code(doc.paired.head[:12])}, {how} "
            f"({doc.paired.seconds} s)."
        )
    out += [f"- ⚠️ not comparable: {md_text(d)}" for d in doc.not_comparable]
    if doc.shift:
        out.append(f"- ⚠️ run-wide shift: {md_text(doc.shift)}")
    out += [
        f"- ⚠️ {md_code(r.benchmark)} {md_code(r.unit)}: {md_text(w)}"
        for r in doc.regressions()
        for w in r.warnings
        if w.startswith("untrustworthy")
    ]
    out += [f"- ❌ {_failed(f.kind)}: {md_code(f.message)}" for f in doc.failures]
    out += [f"- ⏱ re-run at a time benchtime, as go test runs it: {md_code(t)}" for t in timed_results(doc)]
    return out


def _counted(doc: CompareDoc) -> bool:
    """A comparison of instruction counts only (``--measure instructions``)."""
    return bool(doc.rows) and all(r.unit == INSTRUCTIONS for r in doc.rows)


def summary_markdown(doc: CompareDoc, title: str = "benchpipe", graphs_url: str = "") -> str:
    """The job summary / PR comment: verdict, method, the changed rows, what was not comparable, and why
    each explained result changed (with a link to its call graph under ``graphs_url``, where the workflow
    uploads the explain directory)."""
    changed = sorted((r for r in doc.rows if r.verdict in _ORDER), key=lambda r: _ORDER[r.verdict])
    out = [MARKER, f"## {md_text(title)}: {md_text(doc.verdict)}", "", *_lead(doc)]
    if changed:
        out += ["", "| benchmark | unit | old | new | change | verdict |", "|---|---|---|---|---|---|"]
        for r in changed:
            old, new = center_cells(r)
            out.append(
                f"| {md_code(r.benchmark, table=True)} | {md_code(r.unit, table=True)} | {md_text(old)} | "
                f"{md_text(new)} | {md_text(_change(r))} | {_MARK[r.verdict]} |"
            )
    if doc.explanations:
        how = (
            "exact instruction counts of both sides"
            if _counted(doc)
            else "each result profiled on both sides"
        )
        out += ["", f"**Why** ({how}; the lines of the diff inside each function):", ""]
        for e in doc.explanations:
            out += explain.markdown(e, graphs_url)
    if lines := impact_lines(doc):
        out += ["", md_text(lines[0])]
        if lines[1:]:
            out += ["", f"<details><summary>Skipped ({len(lines) - 1})</summary>", ""]
            out += [
                f"- {md_code(w.split(': skipped, ', 1)[0])}: {md_text(w.split(': skipped, ', 1)[-1])}"
                for w in lines[1:]
            ]
            out += ["", "</details>"]
    if doc.rows:
        out += [
            "",
            f"{len(doc.rows) - len(changed)} of {len(doc.rows)} rows unchanged.",
            "",
            md_code(verdict_line_doc(doc), limit=8 * LIMIT),
        ]
    return "\n".join(out) + "\n"


def annotations(doc: CompareDoc) -> list[str]:
    """GitHub Actions workflow commands, one per regressed or warning row and per failure."""
    out = []
    for r in doc.rows:
        level = {"regression": "error", "warn": "warning", "inconclusive": "warning"}.get(r.verdict)
        if level:
            why = (
                next((w for w in r.warnings if w.startswith("inconclusive")), "")
                if r.verdict == "inconclusive"
                else ""
            )
            if r.verdict == "regression" and r.unit == "ns/op":
                why = next(
                    (
                        f"why: {e.summary}"
                        for e in doc.explanations
                        if (e.package, e.benchmark) == (r.package, benchfmt.base_name(r.benchmark))
                    ),
                    "",
                )
            out.append(
                f"::{level} title=benchpipe {r.verdict}::"
                + workflow_data(
                    f"{r.benchmark} {r.unit}: {_change(r)}, threshold {r.threshold_pct:g}%"
                    + (f"; {why}" if why else "")
                )
            )
    out += [f"::error title=benchpipe {_failed(f.kind)}::" + workflow_data(f.message) for f in doc.failures]
    return out


COMMENT_LIMIT = 65_536  # characters GitHub accepts in one comment body


def comment_body(text: str, full_url: str = "", limit: int = COMMENT_LIMIT) -> str:
    """A comment body: starts with :data:`MARKER` (how the comment is found again), at most ``limit``
    characters; a longer summary is cut at a line, with a line that says where the whole one is."""
    if not text.startswith(MARKER):
        text = f"{MARKER}\n{text}"
    if len(text) <= limit:
        return text
    where = (
        f" in the [job summary](<{full_url}>)"
        if full_url.startswith(("https://", "http://"))
        else " in the job summary"
    )
    tail = f"\n\n_The summary is longer than a comment may be; the rest is{where}._\n"
    cut = text[: limit - len(tail)]
    return cut[: cut.rfind("\n") + 1 or len(cut)] + tail
