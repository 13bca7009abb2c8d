"""Render a :class:`~benchpipe.core.verdict.Comparison` as text (benchstat's layout),
Markdown, CSV or JSON.

Text shows one table per unit, values tidied (ns/op as sec/op, MB/s as B/s)
and scaled to four significant digits, ``± x%`` for the confidence interval,
``~`` or ``+x.xx% (p=… n=…)`` for the change, a geomean row and numbered
footnotes for warnings, then benchpipe's verdict line.
"""

from __future__ import annotations

import csv
import io
import json

from benchpipe.core import stats
from benchpipe.core.artifacts import CompareDoc, compare_doc, to_dict
from benchpipe.core.units import format_value, pair_formatter, scale_for, tidy
from benchpipe.core.untrusted import LIMIT, md_code, md_text
from benchpipe.core.verdict import Comparison, Row

_SUP = "¹²³⁴⁵⁶⁷⁸⁹"


def _display_name(name: str) -> str:
    return name[len("Benchmark") :] if name.startswith("Benchmark") else name


def change_text(significant: bool, delta_pct: float | None, same: bool) -> str:
    """The one change cell: ``~`` when not significant, ``?`` when undefined, else the signed percent."""
    if not significant:
        return "~"
    if delta_pct is None:
        return "?"
    if same:
        return "0.00%"
    return f"{delta_pct:+.2f}%"


def delta_text(r: Row) -> str:
    return change_text(r.significant, r.delta_pct, r.old.center == r.new.center)


def measured_change(r: Row | None) -> str:
    """A row's measured change, significant or not (confirmation, paired and bisect notes): ``+12.34%``,
    ``changed`` when undefined, ``missing`` without a row."""
    if r is None:
        return "missing"
    return f"{r.delta_pct:+.2f}%" if r.delta_pct is not None else "changed"


def regressed_change(r: Row) -> str:
    """The change the verdict line gives a regressed row: its table cell, or, for a row that interleaved
    rounds found regressed where the first test did not (its cell is ``~``), the change it measured."""
    return delta_text(r) if r.significant else measured_change(r)


def change_with_p(r: Row) -> str:
    """The change cell of a table row with its p-value (the report's comparison, the job summary)."""
    return delta_text(r) + (f" (p={r.p:.3f})" if r.p is not None else "")


def regressed_item(benchmark: str, unit: str, change: str) -> str:
    """One regressed row as the verdict line names it."""
    return f"{_display_name(benchmark)} {unit} {change}"


class _Notes:
    def __init__(self) -> None:
        self.notes: list[str] = []

    def mark(self, warnings: list[str]) -> str:
        marks = ""
        for w in warnings:
            if w not in self.notes:
                self.notes.append(w)
            i = self.notes.index(w)
            marks += _SUP[i] if i < len(_SUP) else f"[{i + 1}]"
        return marks


def _text_table(c: Comparison, unit: str, rows: list[Row], g: dict | None, notes: _Notes) -> list[str]:
    """One benchstat-style table; each row is scaled on its own (old and new share a scale)."""
    out: list[str] = []
    shown, f0 = tidy(unit)

    def cells(old: float | None, new: float | None) -> tuple[str, str]:
        scale = scale_for(shown, [x * f0 for x in (old, new) if x is not None])
        return tuple("" if x is None else format_value(x * f0, scale) for x in (old, new))  # type: ignore[return-value]

    body = []
    mark = notes.mark
    for r in rows:
        old_v, new_v = _cells(r, shown, f0)
        r_w = r.warnings  # a side's own warnings are marked on its value, the rest on the change
        o_w, n_w = (
            [w for w in stats.summary_warnings(s, r.p is None, c.confidence) if w in r_w]
            for s in (r.old, r.new)
        )
        if o_w:
            old_v = _with_marks(old_v, mark(o_w))
        if n_w:
            new_v = _with_marks(new_v, mark(n_w))
        delta = delta_text(r)
        if r.p is not None:  # the p-value and the sample sizes
            n_old, n_new = r.old.n, r.new.n
            n = f"n={n_old}" if n_old == n_new else f"n={n_old}+{n_new}"
            delta = f"{delta} (p={r.p:.3f} {n})" if r.p != 0 else f"{delta} ({n})"
        if r_w:
            delta = _with_marks(delta, mark([w for w in r_w if w not in o_w and w not in n_w]))
        body.append((_display_name(r.benchmark), old_v, new_v, delta))
    if g:
        undefined = notes.mark(["summaries must be >0 to compute geomean"])
        old_v, new_v = cells(g["old"], g["new"])
        body.append(
            [
                "geomean",
                old_v or undefined,
                new_v or undefined,
                f"{g['delta_pct']:+.2f}%" if g["delta_pct"] is not None else "?",
            ]
        )
    w0 = max(len(b[0]) for b in body)
    w1 = max([len(b[1]) for b in body] + [len(c.old_label), len(shown)])
    w2 = max([len(b[2]) for b in body] + [len(shown)])
    w3 = max([len(b[3]) for b in body] + [len("vs base")])
    out.append(f"{'':{w0}} │ {c.old_label:^{w1}} │ {c.new_label:^{w2 + 2 + w3}} │")
    out.append(f"{'':{w0}} │ {shown:^{w1}} │ {shown:^{w2}}  {'vs base':<{w3}} │")
    for b in body:
        out.append(f"{b[0]:<{w0}}   {b[1]:>{w1}}   {b[2]:>{w2}}  {b[3]:>{w3}}".rstrip())
    out.append("")
    return out


def center_cells(r: Row) -> tuple[str, str]:
    """The two "value ± interval" cells of a row, in the unit as shown, old and new on one scale."""
    shown, f0 = tidy(r.unit)
    return _cells(r, shown, f0)


def _cells(r: Row, shown: str, f0: float) -> tuple[str, str]:
    old, new = r.old, r.new
    o, n = pair_formatter(shown)(old.center * f0, new.center * f0)
    return f"{o} ± {old.pct_range()}", f"{n} ± {new.pct_range()}"


def _with_marks(text: str, marks: str) -> str:
    return f"{text} {marks}" if marks else text


def not_comparable_block(c: Comparison) -> list[str]:
    """The block that leads the output when the two sides were recorded with other settings."""
    if not c.not_comparable:
        return []
    return (
        ["NOT COMPARABLE: the two sides were recorded with different settings (verdict at least WARN):"]
        + [f"  - {d}" for d in c.not_comparable]
        + [""]
    )


def shift_line(shift: str) -> str:
    """The line that leads the verdict when the whole run moved one way."""
    return f"RUN-WIDE SHIFT: {shift}" if shift else ""


def render_text(c: Comparison) -> str:
    out: list[str] = not_comparable_block(c) + ([shift_line(c.shift), ""] if c.shift else [])
    notes = _Notes()
    packages: list[str] = []
    for r in c.rows:
        if r.package not in packages:
            packages.append(r.package)
    for pkg in packages:
        if pkg:
            out.append(f"pkg: {pkg}")
        for unit in c.units:
            rows = [r for r in c.rows if r.unit == unit and r.package == pkg]
            if rows:
                g = (c.geomean.get(unit) or {}).get("packages", {}).get(pkg)
                out += _text_table(c, unit, rows, g, notes)
    for i, n in enumerate(notes.notes):
        out.append(f"{_SUP[i] if i < len(_SUP) else f'[{i + 1}]'} {n}")
    for w in c.warnings:
        out.append(f"warning: {w}")
    if c.added:
        out.append("added: " + ", ".join(c.added))
    if c.removed:
        out.append("removed: " + ", ".join(c.removed))
    out.append(verdict_line(c))
    return "\n".join(out) + "\n"


def verdict_text(verdict: str, threshold_pct: float, alpha: float, regressed: list[str]) -> str:
    """The one verdict line (text output, the gate): verdict, threshold, alpha, what regressed."""
    s = f"verdict: {verdict} (threshold {threshold_pct:g}%, alpha {alpha:g})"
    return s + (": regressed " + "; ".join(regressed) if regressed else "")


def verdict_line(c: Comparison) -> str:
    return verdict_text(
        c.verdict,
        c.threshold_pct,
        c.alpha,
        [regressed_item(r.benchmark, r.unit, regressed_change(r)) for r in c.regressions],
    )


def verdict_line_doc(doc: CompareDoc) -> str:
    """:func:`verdict_line` of a comparison's JSON (``compare.json``, a paired ``--out``): the same line the
    comparison printed, for the gate and the job summary."""
    regressed = [regressed_item(r.benchmark, r.unit, regressed_change(r)) for r in doc.regressions()]
    return verdict_text(doc.verdict, doc.threshold_pct, doc.alpha, regressed)


def md_escape(s: str) -> str:
    """Arbitrary text safe as Markdown prose or a table cell (:func:`benchpipe.core.untrusted.md_text`)."""
    return md_text(s, LIMIT)


def render_markdown(c: Comparison) -> str:
    lead = [*not_comparable_block(c), shift_line(c.shift)]
    out = [f"> {md_escape(ln)}" for ln in lead if ln] + [
        "| Benchmark | Unit | Previous | Current | Change | p | Verdict |",
        "|-----------|------|----------|---------|--------|---|---------|",
    ]
    for r in c.rows:
        old, new = center_cells(r)
        p = "" if r.p is None else f"{r.p:.3f}"
        out.append(
            f"| {md_escape(_display_name(r.benchmark))} | {md_escape(tidy(r.unit)[0])} | {md_escape(old)} | "
            f"{md_escape(new)} | "
            f"{delta_text(r)} | {p} | {r.verdict} |"
        )
    out.append("")
    out.append(md_code(verdict_line(c), limit=8 * LIMIT))
    return "\n".join(out) + "\n"


def render_csv(c: Comparison) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "package",
            "benchmark",
            "unit",
            "old_center",
            "old_lo",
            "old_hi",
            "old_n",
            "new_center",
            "new_lo",
            "new_hi",
            "new_n",
            "delta_pct",
            "p",
            "significant",
            "verdict",
        ]
    )
    for r in c.rows:
        w.writerow(
            [
                r.package,
                r.benchmark,
                r.unit,
                r.old.center,
                r.old.lo,
                r.old.hi,
                r.old.n,
                r.new.center,
                r.new.lo,
                r.new.hi,
                r.new.n,
                "" if r.delta_pct is None else r.delta_pct,
                "" if r.p is None else r.p,
                r.significant,
                r.verdict,
            ]
        )
    return buf.getvalue()


def render(c: Comparison, fmt: str) -> str:
    if fmt == "json":  # the versioned artifact, as the compare stage writes compare.json
        return json.dumps(to_dict(compare_doc(c)), indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(c)
    if fmt == "csv":
        return render_csv(c)
    return render_text(c)
