"""Explanations of regressions (:class:`~benchpipe.core.artifacts.Explanation`) as people read them: plain
text under ``benchpipe compare``'s table, and Markdown for the job summary, the pull-request comment and
the report. Every name that comes from the module (functions, files, benchmarks) is escaped as text: a
hostile file or benchmark name stays text in a PR comment."""

from __future__ import annotations

from urllib.parse import quote

from benchpipe.core.artifacts import Explanation, Suspect
from benchpipe.core.attribution import CHANGED, NO_CHANGED_FUNCTION, NOT_CHANGED, cost, short, where
from benchpipe.core.units import INSTRUCTIONS
from benchpipe.core.untrusted import md_text
from benchpipe.render.report.fmt import code_escape


def text(explanations: list[Explanation]) -> str:
    """The block under the comparison's table."""
    if not explanations:
        return ""
    how = "exact instruction counts" if explanations[0].unit == INSTRUCTIONS else "profiles"
    out = ["", f"why ({how} of both sides, diff {explanations[0].diff}):"]
    for e in explanations:
        out.append(f"  {e.benchmark} ({e.package}): {e.base_ns_op:,.1f} -> {e.head_ns_op:,.1f} {e.unit}")
        out += [f"    {short(s.function)} {s.why}" for s in e.suspects]
        out += [
            f"    changed on its path: {short(s.function)} {s.d_cum:+,.1f} {s.unit} "
            f"{'own' if s.unit == INSTRUCTIONS else 'cumulative'}; "
            f"{where(s.changed)}"
            for s in e.changed_on_path
        ]
        out += [f"    allocations: {short(s.function)} {s.why}" for s in e.allocs]
        if e.cause:
            out.append(f"    {NO_CHANGED_FUNCTION}: {e.cause}")
        out += [f"    note: {n}" for n in e.notes]
    return "\n".join(out) + "\n"


def _md_suspect(s: Suspect, prefix: str = "") -> str:
    tail = f"{CHANGED}`{code_escape(where(s.changed))}`" if s.changed else NOT_CHANGED
    return f"  - {prefix}`{code_escape(short(s.function))}` {cost(s)}; {tail}"


def markdown(e: Explanation, graph_url: str = "") -> list[str]:
    """A short "why" for one regressed result: its suspects, each with its changed lines."""
    out = [
        f"- **why `{code_escape(e.benchmark)}`** ({e.base_ns_op:,.1f} → {e.head_ns_op:,.1f} "
        f"{md_text(e.unit)}):"
    ]
    out += [_md_suspect(s) for s in e.suspects]
    out += [_md_suspect(s, "changed on its path: ") for s in e.changed_on_path]
    out += [_md_suspect(s, "allocations: ") for s in e.allocs]
    if e.cause:
        out.append(f"  - {NO_CHANGED_FUNCTION}: {_md_plain(e.cause)}")
    out += [f"  - note: {_md_plain(n)}" for n in e.notes]
    if graph_url and e.graph:
        out.append(graph_link(graph_url, e.graph))
    return out


def graph_link(url: str, graph: str) -> str:
    """A link to a call graph the workflow uploaded: ``url`` with ``{graph}`` replaced by its path, or ``url``
    itself (a run's page, where the artifact is) with the path named."""
    if "{graph}" in url:
        return f"  - [call graph coloured by change](<{url.replace('{graph}', quote(graph))}>)"
    link = quote(url, safe=":/?&=#%")
    return f"  - [call graph coloured by change](<{link}>) (`{code_escape(graph)}` in the uploaded reports)"


def _md_plain(s: str) -> str:
    """Text that may hold names, safe in a Markdown list item."""
    return md_text(s)
