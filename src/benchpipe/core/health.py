"""Benchmark health: which results cannot be trusted, why, and the fix in the benchmark's own code.

A verdict is only as good as the numbers under it. From one run's results
(and, where given, its profiles and the benchmarks' source) this finds:

* **wide spread** — a timing row whose confidence interval reaches further
  from the median than the row's threshold: a change of the threshold's size
  cannot be told from noise;
* **bimodal** — the samples fall into two groups far apart compared with
  their spread inside each group (:func:`bimodal`): two regimes (GC cycles,
  a cache or map that grows with b.N, CPU frequency), so a median moves when
  the share of each regime does;
* **varies with b.N** — a unit assumed exact (B/op, allocs/op) whose samples
  differ by more than the row's threshold: growth amortised over the
  iterations (a buffer reused across them), so it depends on b.N, which
  differs from run to run (a byte or two of runtime jitter is not listed);
* **measurement overhead** — timer and testing-harness frames take at least
  :data:`OVERHEAD_PCT` of the profile's CPU samples;
* **unstable across runs** — in the history, the medians of the benchmark's
  last runs (at least :data:`HISTORY_MIN_RUNS`) spread wider than the
  threshold around their median: the machine or the benchmark drifts, so a
  sequential comparison of any two runs is a coin toss;
* **setup in the timed loop** — a ``b.N`` loop with setup before it and no
  ``b.ResetTimer``: the setup is timed, once per b.N ramp-up step
  (:class:`Source`, read by :mod:`benchpipe.go.benchsrc`).

Findings are facts for the report's "Benchmark health" section and for the
gate, which never FAILs on a row listed here without saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from benchpipe.core.benchfmt import RunKey, base_name, top_level
from benchpipe.core.units import TIME_PER_OP, UnitInfo
from benchpipe.core.verdict import Options, constant

OVERHEAD_PCT = 25.0
HISTORY_MIN_RUNS = 5
BIMODAL_MIN_N = 6
BIMODAL_GAP = 3.0  # the gap must be this many times the widest group's range


class Finding(msgspec.Struct, frozen=True):
    """A reason a benchmark's numbers cannot be trusted: compare.json's ``health``, as found."""

    package: str
    benchmark: str  # a result's name without -N, or a top-level benchmark for source findings
    unit: str  # "" when the finding is about the benchmark, not one of its units
    # "wide spread" | "bimodal" | "varies with b.N" | "measurement overhead" | "setup in the timed loop"
    problem: str
    detail: str
    fix: str

    def covers(self, package: str, benchmark: str, unit: str) -> bool:
        """The finding applies to a comparison row (a benchmark-level finding covers all its units)."""
        name = base_name(benchmark)
        return (
            (not self.package or not package or self.package == package)
            and (self.benchmark in (name, top_level(name)))
            and (not self.unit or self.unit == unit)
        )


@dataclass(frozen=True)
class Source:
    """What a benchmark's code does, as read from its ``_test.go`` file."""

    package: str
    benchmark: str  # top-level name
    where: str  # file:line of the loop
    setup: str  # the first setup statement before a b.N loop that is timed ("" when none)
    b_loop_ok: bool  # the module's go directive allows b.Loop (Go 1.24+)


def bimodal(values: list[float]) -> tuple[float, float] | None:
    """The centers of two groups when the sorted samples split at one gap much wider than either group's
    range (each group at least two samples), else None."""
    xs = sorted(values)
    n = len(xs)
    if n < BIMODAL_MIN_N or xs[0] == xs[-1]:
        return None
    gap, at = max((xs[i + 1] - xs[i], i + 1) for i in range(n - 1))
    lo, hi = xs[:at], xs[at:]
    if len(lo) < 2 or len(hi) < 2:
        return None
    widest = max(lo[-1] - lo[0], hi[-1] - hi[0])
    if gap <= BIMODAL_GAP * widest:
        return None
    return lo[len(lo) // 2], hi[len(hi) // 2]


def _varies(
    pkg: str, name: str, unit: str, vals: list[float], iters: list[int], threshold: float
) -> list[Finding]:
    """A unit assumed exact whose values differ by more than the threshold (or reach 0) across b.N."""
    if constant(vals) or (min(vals) > 0 and (max(vals) - min(vals)) / min(vals) * 100 <= threshold):
        return []
    detail = f"{unit} from {min(vals):g} to {max(vals):g} over b.N {min(iters)}…{max(iters)}"
    fix = (
        "the benchmark reuses state across iterations (a buffer, a pool, a cache), so its growth is "
        "amortised over b.N: reset it inside the loop to measure one iteration, or compare at a fixed "
        "-benchtime Nx"
    )
    return [Finding(pkg, name, unit, "varies with b.N", detail, fix)]


def from_run(
    run: dict[RunKey, tuple[list[float], list[int]]], opts: Options, units: dict[str, UnitInfo] | None = None
) -> list[Finding]:
    """Findings from one run's samples and their b.N (:func:`benchpipe.core.benchfmt.with_iters`): spread,
    bimodality, values that vary with b.N."""
    out: list[Finding] = []
    for (pkg, name, unit), (vals, iters) in run.items():
        threshold, exact, ignore = opts.resolve(name, unit, (units or {}).get(unit, UnitInfo(unit)))
        if ignore:
            continue
        if exact:
            out += _varies(pkg, name, unit, vals, iters, threshold)
            continue
        if unit not in TIME_PER_OP:
            continue
        two = bimodal(vals)
        if two:
            out.append(
                Finding(
                    pkg,
                    name,
                    unit,
                    "bimodal",
                    f"two groups of samples, around {two[0]:.4g} and {two[1]:.4g} {unit}",
                    "look for work that happens in some runs only (GC cycles, a map or cache that grows "
                    "with b.N, lazy initialisation): move it out of the loop or make every iteration "
                    "do the same work",
                )
            )
            continue
        s = opts.summary(name, unit, vals)
        if len(vals) >= 2 and s.center > 0 and s.lo > -float("inf") and s.hi < float("inf"):
            spread = max(s.hi - s.center, s.center - s.lo) / s.center * 100
            if spread > threshold:
                out.append(
                    Finding(
                        pkg,
                        name,
                        unit,
                        "wide spread",
                        f"±{spread:.0f}% around the median, wider than the {threshold:g}% threshold",
                        "a change of the threshold's size cannot be told from noise: run longer "
                        "(-benchtime), make each iteration's work the same, or compare paired "
                        "(invoke compare --base REV)",
                    )
                )
    return out


def from_profiles(harness: dict[tuple[str, str], float]) -> list[Finding]:
    """Findings from profiles: benchmarks whose CPU goes mostly to timers and the testing harness."""
    return [
        Finding(
            pkg,
            base_name(name),
            "",
            "measurement overhead",
            f"timer and harness frames take {pct:.0f}% of the CPU profile",
            "the benchmark times its own calls (time.Now per operation) or does too little per iteration: "
            "time whole batches, or do more work per iteration, so the code under test dominates",
        )
        for (pkg, name), pct in sorted(harness.items())
        if pct >= OVERHEAD_PCT
    ]


def from_history(centers: dict[str, list[float]], unit: str, threshold: float) -> list[Finding]:
    """Findings from the history: benchmarks whose median moves between runs by more than ``threshold``."""
    out = []
    for name, cs in sorted(centers.items()):
        xs = sorted(c for c in cs if c > 0)
        if len(xs) < HISTORY_MIN_RUNS:
            continue
        mid = xs[len(xs) // 2]
        spread = max(xs[-1] - mid, mid - xs[0]) / mid * 100
        if spread > threshold:
            out.append(
                Finding(
                    "",
                    base_name(name),
                    unit,
                    "unstable across runs",
                    f"the medians of its last {len(xs)} runs in the history reach ±{spread:.0f}% around "
                    f"their median, wider than the {threshold:g}% threshold",
                    "compare paired (invoke compare --base REV: both sides in one interleaved run), "
                    "or find what differs between runs (machine, GOMAXPROCS, data that grows)",
                )
            )
    return out


def from_sources(sources: list[Source]) -> list[Finding]:
    """Findings from the benchmarks' code: setup timed inside a b.N benchmark."""
    out = []
    for s in sources:
        if not s.setup:
            continue
        fix = (
            "use `for b.Loop() { ... }` (Go 1.24+): only the loop is timed and setup runs once"
            if s.b_loop_ok
            else "call b.ResetTimer() after the setup (or use b.Loop once the module requires Go 1.24)"
        )
        out.append(
            Finding(
                s.package,
                s.benchmark,
                "",
                "setup in the timed loop",
                f"a b.N loop at {s.where} with setup before it (`{s.setup}`) and no b.ResetTimer: the "
                "setup is timed, once per b.N step",
                fix,
            )
        )
    return out


def untrusted(findings: list[Finding], package: str, benchmark: str, unit: str) -> list[Finding]:
    """The findings that apply to one comparison row."""
    return [f for f in findings if f.covers(package, benchmark, unit)]
