"""A comparison of two git revisions by instruction counts (``compare --base ... --measure instructions``).

Both sides are checked out and built as the paired comparison does
(:func:`benchpipe.revisions.paired.open_sides`); every result both sides have is counted once on each side
under valgrind (:mod:`benchpipe.go.instructions`, base then head, one result at a time). A count is exact up
to a residue far below the threshold, so one sample per side is the comparison: each row is judged as an exact
unit (any change is real; a regression when it is worse than ``instructions.threshold_pct``), with no U test,
no rounds and no confirmation. Each regressed (or, with ``explain_improvements``, improved) result is
explained from the same runs: the exact per-function instructions per op on each side, tied to the lines of
the diff (:func:`benchpipe.core.attribution.explain_counts`).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchpipe.core.artifacts import Explanation, PairedFacts
from benchpipe.core.attribution import explain_counts, in_module
from benchpipe.core.units import UnitInfo
from benchpipe.core.verdict import INCONCLUSIVE, Comparison, Options, compare_samples, overall
from benchpipe.go import benchsrc, instructions, toolchain
from benchpipe.go import git as gitrev
from benchpipe.revisions import paired, profiles
from benchpipe.revisions.paired import Outcome, Plan, open_sides
from benchpipe.revisions.rounds import RoundValues, Side

METHOD = "instruction counts under valgrind (exact: one count per side, no test needed)"
Counts = dict[tuple[str, str], instructions.PerOp]  # (package, result) -> its count


def _names(side: Side, pkg: str, tops: list[str], bench: str, timeout: str) -> list[str]:
    return instructions.result_names(
        side.binaries[pkg], side.dirs[pkg], pkg, toolchain.restrict(bench, tops), timeout
    )


def count_sides(base: Side, head: Side, refs: list[tuple[str, str]], plan: Plan) -> tuple[Counts, Counts]:
    """Each result both sides select, counted on base then head."""
    tops: dict[str, list[str]] = {}
    for pkg, name in refs:
        tops.setdefault(pkg, []).append(name.split("/")[0])
    counts: tuple[Counts, Counts] = ({}, {})
    for pkg, names in sorted(tops.items()):
        on_base = set(_names(base, pkg, names, plan.bench, plan.timeout))  # one listing run per side
        both = [n for n in _names(head, pkg, names, plan.bench, plan.timeout) if n in on_base]
        for name in both:
            for side, out in zip((base, head), counts, strict=True):
                toolchain.progress(f"paired: counting {side.label} {pkg} {name} under valgrind")
                out[(pkg, name)] = instructions.measure(
                    side.binaries[pkg], side.dirs[pkg], name, plan.timeout, plan.budget
                )
    return counts


class Sources:
    """A side's Go sources, for charging each counted line to the function declared around it (code inlined
    into a caller is its own function's; a binary built in another worktree is matched by path suffix)."""

    def __init__(self, module_dir: Path, module: str) -> None:
        self.dir, self.module = module_dir, module
        self.files: dict[str, tuple[str, list[tuple[int, int]], list[str]] | None] = {}

    def _file(self, fl: str) -> tuple[str, list[tuple[int, int]], list[str]] | None:
        if fl not in self.files:
            parts = Path(fl).parts
            found = next(
                (Path(*parts[i:]) for i in range(1, len(parts)) if (self.dir / Path(*parts[i:])).is_file()),
                None,
            )
            if found is None or found.suffix != ".go":
                self.files[fl] = None
            else:
                text = (self.dir / found).read_text(errors="replace")
                pkg = "/".join([self.module, *found.parent.parts])
                self.files[fl] = (pkg, benchsrc.function_spans(text), text.split("\n"))
        return self.files[fl]

    def functions(self, r: instructions.PerOp) -> tuple[dict[str, float], dict[str, tuple[str, int]]]:
        """Per-op instructions of each function (the module's by source line, the rest by symbol) and where
        the module's are declared."""
        funcs = {f: v for f, v in r.functions.items() if not in_module(f, self.module)}
        located: dict[str, tuple[str, int]] = {}
        for (fl, line), v in r.lines.items():
            src = self._file(fl)
            decl = benchsrc.enclosing(src[1], src[2], line) if src else None
            if src is None or decl is None:
                continue
            symbol = f"{src[0]}.{decl[0]}"
            funcs[symbol] = funcs.get(symbol, 0.0) + v
            located[symbol] = (fl, decl[1])
        return funcs, located


def _explain(
    plan: Plan,
    c: Comparison,
    base: Counts,
    head: Counts,
    diff: profiles.Diff,
    sources: tuple[Sources, Sources],
) -> list[Explanation]:
    signs = {"regression": 1, **({"improvement": -1} if plan.explain_improvements else {})}
    out = []
    span_of = profiles.span_resolver(diff)
    for r in c.rows:
        key = (r.package, r.benchmark)
        if r.verdict not in signs or key not in base or key not in head:
            continue
        (bf, bw), (hf, hw) = sources[0].functions(base[key]), sources[1].functions(head[key])
        b, h = base[key], head[key]
        e = explain_counts(
            r.package,
            r.benchmark,
            (b.value, bf),
            (h.value, hf),
            {**bw, **hw},
            diff.module,
            span_of,
            diff.hunks,
            signs[r.verdict],
            diff.declarations,
        )
        e.diff = diff.spec
        e.runs = [
            f"base: counted under valgrind at b.N {b.n1} and {b.n2}",
            f"head: counted under valgrind at b.N {h.n1} and {h.n2}",
        ]
        out.append(e)
    return out


def unproven(c: Comparison, base: Counts, head: Counts) -> None:
    """Rows whose count did not prove itself on either side (:func:`benchpipe.go.instructions.prove`) are
    inconclusive, with why: never a FAIL or a PASS from a count that does not reproduce."""
    for r in c.rows:
        key = (r.package, r.benchmark)
        why = [
            f"{label}: {n.unproven}"
            for label, n in (("base", base.get(key)), ("head", head.get(key)))
            if n is not None and n.unproven
        ]
        if why:
            r.verdict = INCONCLUSIVE
            r.warnings.append("inconclusive: the count is not exact here, " + "; ".join(why))
    c.verdict = overall(c.rows)


def execute(plan: Plan, opts: Options) -> Outcome:
    """Count both sides' results; the rows judged exactly; regressions explained from the counts."""
    instructions.require()
    facts, t0 = PairedFacts(), time.monotonic()
    with gitrev.worktrees() as wt, tempfile.TemporaryDirectory(prefix="benchpipe-counted-") as scratch:
        s = open_sides(plan, wt, Path(scratch), facts)
        base, head = count_sides(s.base, s.head, s.refs, plan)
        old = {(p, n, instructions.UNIT): [v.value] for (p, n), v in base.items()}
        new = {(p, n, instructions.UNIT): [v.value] for (p, n), v in head.items()}
        c = compare_samples(
            old, new, {instructions.UNIT: UnitInfo(instructions.UNIT, "lower", "exact")}, opts
        )
        c.added, c.removed = s.added, s.removed
        unproven(c, base, head)
        explained = []
        if plan.explain and any(r.verdict == "regression" or plan.explain_improvements for r in c.rows):
            diff = profiles.Diff.between(s.root, s.rel, s.head.module, s.base.rev, s.head.rev or None)
            explained = _explain(
                plan,
                c,
                base,
                head,
                diff,
                (Sources(s.base.module, diff.module), Sources(s.head.module, diff.module)),
            )
    c.method = METHOD
    c.old_label = f"base {s.base.name}"
    c.new_label = f"head {s.head.name}" + (" (dirty)" if s.head.dirty else "")
    c.warnings += [instructions.CAVEAT] + ([instructions.PARALLEL_NOTE] if s.head.parallel else [])
    if s.head.dirty:
        c.warnings.append("head is the working tree with uncommitted changes")
    facts.run_as = {
        f"{p} {n}": f"instructions: b.N {v.n1} and {v.n2} under valgrind"
        for (p, n), v in sorted(head.items())
    }
    facts.runs, facts.rounds = 2 * len(head), 1
    facts.seconds = round(time.monotonic() - t0, 1)
    return Outcome(c, facts, RoundValues(), explained)


def execute_as_measured(plan: Plan, opts: Options) -> Outcome:
    """The comparison of two revisions ``plan.measure`` names: counted instructions (:func:`execute`) or
    interleaved timed rounds (:func:`benchpipe.revisions.paired.execute`). The one place that chooses, for
    every mode that compares two revisions (``compare --base``, bisect, culprit finding)."""
    return execute(plan, opts) if plan.measure == "instructions" else paired.execute(plan, opts)
