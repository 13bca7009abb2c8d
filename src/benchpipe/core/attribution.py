"""Why a confirmed regression got slower, tied to the change that did it.

Given the profiles of both sides of a regressed result, each side's measured cost per op, and the lines
``git diff base..head`` changed, :func:`explain` returns an :class:`~benchpipe.core.artifacts.Explanation`:

- **Per function, per op, on each side.** Each profile's samples are shares of its total (several runs
  of a side are pooled), scaled to that side's measured ns/op (or B/op for an allocation diff), so the
  functions' costs add up to the numbers the comparison shows. A function's *own* cost charges each
  sample to the innermost frame of the module (the standard library and runtime work done on its
  behalf is its own); samples with no module frame stay outside the module (runtime, GC, dependencies).
- **Suspects** are the module's functions whose own cost grew most, never a harness frame
  (``testing.*``, the timer): at most :data:`TOP`, each at least :data:`MIN_SHARE` of the growth.
- **Tied to the diff.** A suspect whose source range (from the profile's line table and the Go source,
  resolved by the caller's ``span_of``) holds changed lines names them; one without says "not changed
  here". Changed functions whose cumulative cost grew (a caller that now calls a suspect more often)
  are listed as changed on its path. A regression with no changed function in its profile says that the
  environment, a dependency or ``go.mod`` may be the cause.

Pure: profiles are decoded and sources and diffs read by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from benchpipe.core import pprof
from benchpipe.core.artifacts import Explanation, Lines, Suspect
from benchpipe.core.units import INSTRUCTIONS

TOP = 3  # suspects named per result
MIN_SHARE = 0.10  # a suspect's own growth is at least this share of the result's growth

# The harness and the benchmark's own measurement, not the code under test: never a suspect or a target.
HARNESS = re.compile(r"^(time\.(Now|Since|now|runtimeNow\w*)|runtime\.(nanotime\w*|walltime\w*)|testing\.)")

Hunks = dict[str, list[tuple[int, int]]]  # path in the repository -> head's changed line ranges (inclusive)


@dataclass(frozen=True)
class Span:
    """Where a function's source is, in the repository (head side)."""

    file: str
    start: int
    end: int


SpanOf = Callable[[str, str, int], Span | None]  # (function, profile file name, start line) -> its span


@dataclass
class Cost:
    """One function's share of a side's profiles: flat (leaf), cumulative, own (innermost module frame)."""

    flat: float = 0.0
    cum: float = 0.0
    own: float = 0.0


def package_of(function: str) -> str:
    """The import path of a Go symbol: ``a/b/c.(*T).M`` -> ``a/b/c``."""
    slash = function.rfind("/")
    return function[: slash + 1] + function[slash + 1 :].split(".", 1)[0]


def short(function: str) -> str:
    """A function without its import path's directories: ``a/b/c.(*T).M`` -> ``c.(*T).M``."""
    return function[function.rfind("/") + 1 :]


def in_module(function: str, module: str) -> bool:
    """A symbol of the module's own code (its packages, tests included), not a harness frame."""
    pkg = package_of(function)
    return bool(module) and (pkg == module or pkg.startswith(module + "/"))


def shares(
    profiles: list[pprof.Profile], module: str, sample_type: str = "cpu"
) -> tuple[dict[str, Cost], int]:
    """Each function's flat, cumulative and own share (0..1) of the pooled profiles' total, and the number
    of samples pooled."""
    out: dict[str, Cost] = {}
    total, n = 0.0, 0
    for prof in profiles:
        idx = prof.index_of(sample_type)
        for smp in prof.samples:
            v, frames = smp.values[idx], prof.frames(smp)
            if not v or not frames:
                continue
            total, n = total + v, n + 1
            names = [f[0] for f in frames]
            out.setdefault(names[0], Cost()).flat += v
            for name in set(names):
                out.setdefault(name, Cost()).cum += v
            own = next((x for x in names if in_module(x, module) and not HARNESS.match(x)), names[0])
            out.setdefault(own, Cost()).own += v
    for c in out.values():
        c.flat, c.cum, c.own = (c.flat / total, c.cum / total, c.own / total) if total else (0.0, 0.0, 0.0)
    return out, n


def where(files: list[Lines]) -> str:
    """``parser.go:394–402, 410`` for changed lines."""
    parts = []
    for f in files:
        spans = [f"{a}–{b}" if b > a else str(a) for a, b in f.ranges]
        parts.append(f"{f.file}:{', '.join(spans)}")
    return "; ".join(parts)


def changed_lines(span: Span | None, hunks: Hunks) -> list[Lines]:
    """The diff's lines inside a function's span, clipped to it."""
    if span is None:
        return []
    inside = [
        [max(a, span.start), min(b, span.end)]
        for a, b in hunks.get(span.file, [])
        if a <= span.end and b >= span.start
    ]
    return [Lines(file=span.file, ranges=inside)] if inside else []


def _suspect(
    fn: str,
    b: Cost,
    h: Cost,
    base_total: float,
    head_total: float,
    unit: str,
    span: Span | None,
    hunks: Hunks,
) -> Suspect:
    base_own, head_own = b.own * base_total, h.own * head_total
    changed = changed_lines(span, hunks)
    s = Suspect(
        function=fn,
        unit=unit,
        base_own=base_own,
        head_own=head_own,
        d_own=head_own - base_own,
        own_pct=(head_own / base_own - 1) * 100 if base_own > 0 else None,
        base_flat=b.flat * base_total,
        head_flat=h.flat * head_total,
        base_cum=b.cum * base_total,
        head_cum=h.cum * head_total,
        d_cum=h.cum * head_total - b.cum * base_total,
        changed=changed,
        file=span.file if span else "",
        start_line=span.start if span else 0,
        end_line=span.end if span else 0,
    )
    s.why = f"{cost(s)}; " + (f"{CHANGED}{where(changed)}" if changed else NOT_CHANGED)
    return s


CHANGED = "changed in this diff: "
NOT_CHANGED = "not changed here: called more often, or its inputs changed"
NO_CHANGED_FUNCTION = "no function changed in this diff is in its profile"


def cost(s: Suspect) -> str:
    """``+3.1 ns/op own code (+170%)``."""
    pct = f" ({s.own_pct:+.0f}%)" if s.own_pct is not None else " (new)"
    return f"{s.d_own:+,.1f} {s.unit} own code{pct}"


@dataclass(frozen=True)
class SideProfile:
    """One side of a differential profile: its pooled profiles and its measured cost per op."""

    profiles: list[pprof.Profile]
    per_op: float  # ns/op (or B/op) as the comparison measured it
    sample_type: str = "cpu"


def suspects(
    base: SideProfile, head: SideProfile, module: str, unit: str, span_of: SpanOf, hunks: Hunks, sign: int = 1
) -> tuple[list[Suspect], list[Suspect], float, tuple[int, int]]:
    """The module's functions whose own cost grew most (suspects; with ``sign`` -1, fell most: an
    improvement), changed functions whose cumulative cost moved the same way (on the path), the change
    outside the module's code, and the samples of each side."""
    bc, bn = shares(base.profiles, module, base.sample_type)
    hc, hn = shares(head.profiles, module, head.sample_type)
    named, path, outside = rank(
        Sides(bc, hc, base.per_op, head.per_op),
        _locations(base.profiles + head.profiles),
        module,
        unit,
        span_of,
        hunks,
        sign,
    )
    return named, path, outside, (bn, hn)


@dataclass(frozen=True)
class Sides:
    """Both sides' per-function shares (0..1 of each side's total) and each side's cost per op."""

    base: dict[str, Cost]
    head: dict[str, Cost]
    base_total: float
    head_total: float


def rank(
    s: Sides,
    located: dict[str, tuple[str, int]],
    module: str,
    unit: str,
    span_of: SpanOf,
    hunks: Hunks,
    sign: int = 1,
    stacks: bool = True,
) -> tuple[list[Suspect], list[Suspect], float]:
    """Suspects, changed functions on the path, and the change outside the module's code, from both sides'
    per-function shares (profiles' or exact counts'). Without ``stacks`` (counts have no cumulative cost),
    the path is the changed functions the result ran at all."""
    bc, hc = s.base, s.head
    growth = sign * (s.head_total - s.base_total)
    rows = []
    for fn in set(bc) | set(hc):
        if not in_module(fn, module) or HARNESS.match(fn):
            continue
        file, line = located.get(fn, ("", 0))
        rows.append(
            _suspect(
                fn,
                bc.get(fn, Cost()),
                hc.get(fn, Cost()),
                s.base_total,
                s.head_total,
                unit,
                span_of(fn, file, line) if file else None,
                hunks,
            )
        )
    floor = MIN_SHARE * max(growth, sum(sign * r.d_own for r in rows if sign * r.d_own > 0), 1e-12)
    rows.sort(key=lambda r: (-sign * r.d_own, r.function))
    named = [r for r in rows if sign * r.d_own >= floor][:TOP]
    on_path = (lambda r: sign * r.d_cum >= floor) if stacks else (lambda r: r.head_own > 0 or r.base_own > 0)
    path = sorted(
        (r for r in rows if r.changed and on_path(r) and r not in named),
        key=lambda r: (-sign * r.d_cum, r.function),
    )[:TOP]
    outside = sum(
        (hc[f].own * s.head_total if f in hc else 0.0) - (bc[f].own * s.base_total if f in bc else 0.0)
        for f in set(bc) | set(hc)
        if not in_module(f, module) or HARNESS.match(f)
    )
    return named, path, outside


def counted_shares(per_function: dict[str, float], total: float) -> dict[str, Cost]:
    """Exact per-function instruction counts per op as shares: a function's own count is its flat and own
    cost (no call stacks: the standard library's work for it counts as outside the module's code)."""
    return {f: Cost(v / total, v / total, v / total) for f, v in per_function.items()} if total else {}


def _locations(profiles: list[pprof.Profile]) -> dict[str, tuple[str, int]]:
    """Each function's source file and first line, as the profiles' function table records them."""
    out: dict[str, tuple[str, int]] = {}
    for prof in profiles:
        for f in prof.functions.values():
            if f.filename and f.start_line:
                out[f.name] = (f.filename, f.start_line)
    return out


def cause(
    named: list[Suspect], path: list[Suspect], hunks: Hunks, declarations: list[Lines] | None = None
) -> str:
    """Why no changed function explains it ("" when one does): Go declarations the diff changed outside any
    function (a constant, a variable, a type), a dependency it changed, or else the environment, a
    dependency or go.mod."""
    if any(s.changed for s in named + path):
        return ""
    if declarations:
        return (
            f"the diff changes declarations outside functions at {where(declarations)} (constants, "
            "variables, types): they may be the cause"
        )
    dependency = sorted(f for f in hunks if f.rsplit("/", 1)[-1] in ("go.mod", "go.sum"))
    if dependency:
        return f"{', '.join(dependency)} changed in this diff (a dependency may be the cause)"
    return "the environment, a dependency or go.mod may be the cause"


def summary(named: list[Suspect], path: list[Suspect], why_not: str) -> str:
    """The one line under a regressed row."""
    if not named:
        return f"no function of the module's own code changed cost enough to name in its profile: {why_not}"
    top = named[0]
    line = f"{top.function}: {top.why}"
    if why_not:
        return f"{line}; {NO_CHANGED_FUNCTION}: {why_not}"
    if not top.changed and path:
        line += f"; changed on its path: {path[0].function} ({where(path[0].changed)})"
    return line


def explain_counts(
    package: str,
    benchmark: str,
    base: tuple[float, dict[str, float]],
    head: tuple[float, dict[str, float]],
    located: dict[str, tuple[str, int]],
    module: str,
    span_of: SpanOf,
    hunks: Hunks,
    sign: int = 1,
    declarations: list[Lines] | None = None,
) -> Explanation:
    """The explanation of one result from exact instruction counts per op on each side ((total, per
    function)): the suspects' deltas are the counts' own, with no sampling."""
    sides = Sides(counted_shares(base[1], base[0]), counted_shares(head[1], head[0]), base[0], head[0])
    named, path, outside = rank(sides, located, module, INSTRUCTIONS, span_of, hunks, sign, stacks=False)
    why_not = cause(named, path, hunks, declarations)
    out = Explanation(
        package=package,
        benchmark=benchmark,
        unit=INSTRUCTIONS,
        base_ns_op=base[0],
        head_ns_op=head[0],
        suspects=named,
        changed_on_path=path,
        cause=why_not,
        summary=summary(named, path, why_not),
    )
    growth = sign * (head[0] - base[0])
    if growth > 0 and sign * outside > MIN_SHARE * growth:
        out.notes.append(
            f"{outside:+,.1f} instructions/op of the change are outside the module's own functions "
            "(the standard library, the runtime, dependencies)"
        )
    return out


def explain(
    package: str,
    benchmark: str,
    base: SideProfile,
    head: SideProfile,
    module: str,
    span_of: SpanOf,
    hunks: Hunks,
    allocs: tuple[SideProfile, SideProfile] | None = None,
    sign: int = 1,
    declarations: list[Lines] | None = None,
) -> Explanation:
    """The explanation of one regressed result (``sign`` -1: an improved one) from its CPU profiles, and its
    allocation profiles where B/op or allocs/op moved too."""
    named, path, outside, samples = suspects(base, head, module, "ns/op", span_of, hunks, sign)
    why_not = cause(named, path, hunks, declarations)
    out = Explanation(
        package=package,
        benchmark=benchmark,
        base_ns_op=base.per_op,
        head_ns_op=head.per_op,
        samples=list(samples),
        suspects=named,
        changed_on_path=path,
        cause=why_not,
        summary=summary(named, path, why_not),
    )
    growth = sign * (head.per_op - base.per_op)
    if growth > 0 and sign * outside > MIN_SHARE * growth:
        out.notes.append(
            f"{outside:+,.1f} ns/op of the change is outside the module's code (runtime, GC, "
            "dependencies called with no frame of the module on the stack)"
        )
    if allocs is not None:
        out.allocs = suspects(allocs[0], allocs[1], module, "B/op", span_of, hunks, sign)[0]
    return out
