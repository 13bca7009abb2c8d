"""Culprits for people: one line each for a terminal or a log (:func:`line`), and the Markdown issue body a
team gets (:func:`issue_body`). Commit subjects, benchmark names and Go's messages are untrusted text:
code spans and escaped prose only (:mod:`benchpipe.core.untrusted`)."""

from __future__ import annotations

import hashlib

from benchpipe.core.artifacts import Culprit
from benchpipe.core.untrusted import md_code, md_text, visible
from benchpipe.render import explain


def _change(c: Culprit) -> str:
    if c.change_pct is None:
        return ""
    ci = f" [{c.lo_pct:+.1f}%, {c.hi_pct:+.1f}%]" if c.lo_pct is not None and c.hi_pct is not None else ""
    return f"{c.change_pct:+.1f}%{ci}"


def line(c: Culprit) -> str:
    """One line: the result, and its culprit, range, or why there is none."""
    what = f"{c.benchmark} {c.unit}"
    if c.status == "found":
        top = c.explanations[0].summary if c.explanations else ""
        return visible(
            f"culprit: {what}: {c.commit[:12]} {c.subject!r} {_change(c)}" + (f"; {top}" if top else "")
        )
    if c.status == "range":
        return visible(f"culprit: {what}: between {c.last_good[:12]} and {c.first_bad[:12]}: {c.why}")
    return visible(f"culprit: {what}: {c.status}: {c.why}")


def md_line(c: Culprit, commit_url: str = "") -> str:
    """One Markdown line for the report: the result and its culprit (linked), subject, change and function,
    or the range proven."""
    what = f"{md_code(c.benchmark)} {md_code(c.unit)}"
    if c.status == "range":
        lo, hi = md_code(c.last_good[:12]), md_code(c.first_bad[:12])
        return f"{what}: between {lo} and {hi} ({md_text(c.why)})"
    link = commit_url.replace("{commit}", c.commit) if commit_url else ""
    commit = f"[{md_code(c.commit[:12])}]({link})" if link else md_code(c.commit[:12])
    top = c.explanations[0].suspects[0].function if c.explanations and c.explanations[0].suspects else ""
    fn = f", in {md_code(top)}" if top else ""
    return f"{what}: {commit} {md_text(c.subject)} {_change(c)}{fn}"


def issue_body(culprits: list[Culprit], commit_url: str = "") -> str:
    """The Markdown body of an issue naming each culprit (or range) with its explanation; its first line is
    the hidden :func:`marker`."""
    found = [c for c in culprits if c.status in ("found", "range")]
    out = [marker(culprits), f"## benchpipe: {len(found)} regression(s) landed on the default branch", ""]
    for c in culprits:
        out.append(f"### {md_code(c.benchmark)} {md_code(c.unit)}")
        out.append("")
        if c.status == "found":
            link = commit_url.replace("{commit}", c.commit) if commit_url else ""
            commit = f"[{md_code(c.commit[:12])}]({link})" if link else md_code(c.commit[:12])
            out.append(
                f"- **Culprit**: {commit} {md_text(c.subject)} — {_change(c) or 'change not measured'}"
            )
        elif c.status == "range":
            lo, hi = md_code(c.last_good[:12]), md_code(c.first_bad[:12])
            out.append(f"- **Range**: after {lo}, up to {hi}: {md_text(c.why)}")
        else:
            out.append(f"- **{c.status}**: {md_text(c.why)}")
        out.append(
            f"- Searched {c.commits} first-parent commit(s) of {md_code(c.good[:12])}..{md_code(c.bad[:12])} "
            f"in {len(c.steps)} paired step(s), {c.seconds:.0f}s"
        )
        for e in c.explanations:
            out += ["", *explain.markdown(e)]
        out.append("")
    return "\n".join(out) + "\n"


def marker(culprits: list[Culprit]) -> str:
    """The hidden line that names an issue's culprits (by result and commit), so a second job never opens it
    twice."""
    keys = sorted(
        hashlib.sha256(
            f"{c.package}\0{c.benchmark}\0{c.unit}\0{c.commit or c.first_bad}".encode()
        ).hexdigest()[:16]
        for c in culprits
        if c.status in ("found", "range")
    )
    return f"<!-- benchpipe-culprit {' '.join(keys)} -->"


TITLE_LIMIT = 200


def issue_title(culprits: list[Culprit]) -> str:
    """A plain-text title (controls and bidirectional marks removed, cut to :data:`TITLE_LIMIT`)."""
    found = [c for c in culprits if c.status in ("found", "range")]
    first = found[0] if found else None
    if first is None:
        return "benchpipe: no culprit"
    what = f"{first.benchmark} {first.unit}"
    where = (
        f"{first.commit[:12]} {first.subject}"
        if first.status == "found"
        else f"{first.last_good[:12]}..{first.first_bad[:12]}"
    )
    more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
    text = f"benchpipe: {what} regressed{(' ' + _change(first)) if _change(first) else ''} in {where}{more}"
    return visible(text, limit=TITLE_LIMIT)
