"""The Recommendations section, from measured facts only: the module's own hottest code, measurement
overhead, what made a regression slower, allocation hotspots, GC pressure, regressions and the baseline."""

from __future__ import annotations

from typing import Any

from benchpipe.core import benchfmt
from benchpipe.core.artifacts import Explanation
from benchpipe.core.attribution import HARNESS, in_module, short, where
from benchpipe.render.report.fmt import code_escape
from benchpipe.render.text import md_escape


def explained(explanations: list[Explanation]) -> list[str]:
    """Where each explained regression got slower: its top function, and the lines of the diff in it."""
    out = []
    for e in explanations:
        if not e.suspects:
            continue
        s = e.suspects[0]
        tail = (
            f"changed in this diff at `{code_escape(where(s.changed))}`: start there"
            if s.changed
            else "not changed in this diff: it is called more often, or its inputs changed"
        )
        out.append(
            f"{md_escape(e.benchmark)} got slower in `{code_escape(short(s.function))}` ({s.d_own:+,.1f} "
            f"ns/op of its own code); {tail}."
        )
    return out


def allocations(alloc_hot: list[dict[str, Any]], module: str) -> list[str]:
    """The module's own allocation hotspots (never a harness or runtime frame)."""
    own = [h for h in alloc_hot if in_module(h["function"], module) and not HARNESS.match(h["function"])]
    if alloc_hot and not own:
        return [
            "The timed loops allocate nothing in the module's own code: the allocations profiled are the "
            "harness's and the runtime's (`testing`, `runtime`)."
        ]
    out = []
    for h in own[:2]:
        amount = (
            f"{h['flat']:,.1f} B/op ({h['flat_pct']:.1f}% of the loop's bytes) in {md_escape(h['benchmark'])}"
            if h.get("per_op")
            else f"{h['flat_pct']:.1f}% of bytes"
        )
        out.append(
            f"`{code_escape(h['function'])}` allocates {amount}: consider reusing buffers or preallocating."
        )
    return out


def optimizations(
    profiles: list[dict[str, Any]],
    diffs: list[dict[str, Any]],
    alloc_hot: list[dict[str, Any]],
    alloc_per_op: list[dict[str, str]],
    gc_level: str,
    explanations: list[Explanation] | None = None,
    module: str = "",
) -> list[str]:
    out = explained(explanations or [])
    done = {e.benchmark for e in explanations or [] if e.suspects}
    # Ranked by the module's own code (the harness and the benchmark's own timer are overhead, not targets).
    own_hot = sorted(((f, p) for p in profiles for f in p["own"][:1]), key=lambda fp: -fp[0]["flat_pct"])
    for f, p in own_hot[:10]:  # one per profiled benchmark, the costliest share first
        cost = (
            f"costs {f['flat_ns_op']:,.0f} ns of {p['ns_per_op']:,.0f} ns/op ({f['flat_pct']:.1f}%)"
            if p["per_op"]
            else f"takes {f['flat_pct']:.1f}% of CPU"
        )
        out.append(
            f"`{code_escape(f['function'])}` {cost} in {md_escape(p['benchmark'])} "
            f"({md_escape(f['where'])}): the first place to look in your code."
        )
    out += [
        "Measurement overhead: timer and testing-harness frames (`time.Now`, `runtime.nanotime`, "
        "`testing.*`) "
        f"take {p['harness_pct']:.1f}% of CPU in {md_escape(p['benchmark'])}: its ns/op includes the "
        "benchmark's own timing."
        for p in profiles
        if p["harness_pct"] >= 10
    ]
    for d in diffs:
        if d["benchmark"] in done:
            continue
        top = d["rows"][0]
        out.append(
            f"{md_escape(d['benchmark'])} got slower mostly in `{code_escape(top['function'])}` "
            f"({top['d_own']:+.0f} ns/op of own-code time, differential profile below)."
        )
    out += allocations(alloc_hot, module)
    if not profiles and alloc_per_op:
        a = alloc_per_op[0]
        out.append(
            f"{md_escape(a['benchmark'])} allocates the most per op ({a['bytes']} B/op in {a['allocs']} "
            f"allocs/op): `invoke profile --bench '{code_escape(benchfmt.base_name(a['benchmark']))}'` shows "
            "where."
        )
    if gc_level in ("Medium", "High"):
        out.append(f"GC pressure is {gc_level}: reduce allocations per op.")
    return out


def baseline_advice(flagged: list[str], compared: bool, baseline: str) -> list[str]:
    if not compared:
        return [
            f"No baseline to compare with: `invoke baseline --name {md_escape(baseline or 'main')}` saves "
            "this run."
        ]
    if flagged:
        return [
            "The regressions above block the baseline update; if they are intended, save a new baseline "
            "with `invoke baseline`."
        ]
    return [
        "No regression: if the changes are intentional, `invoke baseline` records this run as the new "
        "baseline."
    ]


def recommendations(
    ctx: dict[str, Any], threshold: float, compared: bool, baseline: str
) -> dict[str, list[str]]:
    """The three lists of the section, from the other sections' context."""
    return {
        "rec_opt": optimizations(
            ctx["profiles"],
            ctx["diffs"],
            ctx["alloc_hot_all"],
            ctx["alloc_per_op"],
            ctx["gc"]["level"],
            ctx["explanations"],
            ctx["run"].module,
        ),
        "rec_reg": [f"{md_escape(f)} regressed beyond {threshold}%." for f in ctx["flagged"]],
        "rec_base": baseline_advice(ctx["flagged"], compared, baseline),
    }
