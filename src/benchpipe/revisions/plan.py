"""What a paired run is asked to do (:class:`Plan`): the revisions, the results, the rounds and their
settings.

Its own module (with the names of results, :data:`BenchRef`, and their reference ns/op, :data:`NsRef`), so
that the orchestration (:mod:`benchpipe.revisions.paired`) and the rounds (:mod:`benchpipe.revisions.rounds`),
which reads a few of its fields, both import it and neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from benchpipe.core.impact import Selection
from benchpipe.core.settings import BenchSection, InstructionsSection, ProfileSection

BenchRef = tuple[str, str]  # (import path, benchmark name: top-level, or full without the -N suffix)
NsRef = dict[tuple[str, str], float]  # (import path, result name as printed, -N included) -> ns/op


@dataclass
class Plan:
    target: Path
    base_rev: str
    head_rev: str | None
    patterns: list[str]
    bench: str
    rounds: int
    confirm_rounds: int
    benchtime: str
    order: str
    timeout: str
    changed_only: bool
    cache: Path
    seed: int = 1
    stall_s: float = BenchSection().stall_s
    cpu: str = ""  # -test.cpu list ("": the machine's GOMAXPROCS)
    early_stop: bool = False  # stop rounds when every row is decided (group-sequential design)
    refs: list[BenchRef] | None = None  # only these results (package, full name without -N); None: all
    iters: dict[BenchRef, int] = field(default_factory=dict)  # fixed b.N per result, measured elsewhere
    reference_ns: NsRef = field(
        default_factory=dict
    )  # ns/op per result at a time benchtime, measured elsewhere
    explain: bool = True  # profile confirmed regressions on both sides and tie them to the diff
    explain_improvements: bool = False  # ... improvements too
    explain_inconclusive: bool = False  # ... and inconclusive rows moved the worse way (a proven culprit)
    explain_dir: Path | None = None  # where their profiles and call graphs are kept (None: not kept)
    profile: ProfileSection = field(default_factory=ProfileSection)  # call graph thresholds
    measure: str = "time"  # "instructions": counted under valgrind instead (benchpipe.revisions.counted)
    budget: int = InstructionsSection().budget  # instructions between a result's two counted runs
    reference_bt: str = ""  # the time go test's ns/op is measured at, for RunParallel's rounds ("": go's 1s)
    extra_rounds: int = (
        0  # more rounds of the results whose rows are still undecided (early_stop, within EXTRA_SHARE)
    )
    impact: Selection | None = None  # the benchmarks that execute the changed code (None: all run)
    deadline: float = 0.0  # time.monotonic() by which every run must have ended (0: none): a hard budget
    check_bt: str = ""  # the time a result runs at when its first round's check fails ("": benchtime)
