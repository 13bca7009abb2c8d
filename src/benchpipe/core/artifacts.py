"""The artifacts the stages pass each other, as typed, versioned models (msgspec Structs).

One model per file, one writer and one reader each (:mod:`benchpipe.store.artifacts` reads and writes
them):

=======================  ==================  ===================================================
file                     model               writer -> readers
=======================  ==================  ===================================================
``run/bench.json``       :class:`BenchMeta`  bench stage -> compare, profile, record, report, tasks
``baselines/N/meta.json`` :class:`BenchMeta` ``invoke baseline`` (a copy) -> compare, bench
``run/compare.json``     :class:`CompareDoc` compare stage -> profile, report, gate, annotate
``run/profile/profile.json`` :class:`ProfileDoc` profile stage -> report, tasks
paired ``--out`` JSON    :class:`CompareDoc` (with ``paired``) ``compare --base`` -> gate, annotate
history ``runs/*.parquet`` :class:`HistoryRun` record stage -> history queries (one row per sample)
=======================  ==================  ===================================================

Every file carries ``schema_version`` (the model's :data:`SCHEMA_VERSION`). A file written before
versioning (no ``schema_version``: version 0) has the same shape and is read as it is (migrated by
defaulting what it lacks); a file of a newer version than this benchpipe knows is refused with one
line naming the file and both versions. Unknown fields are ignored (a newer minor writer).

A field that a run may not record (an old file, a run outside git) is ``None``: "not recorded" is not
"default", and :mod:`benchpipe.core.comparable` never calls an unrecorded setting a difference.
msgspec (not pydantic): it imports in ~5 ms instead of ~120 ms, which the compare path's speed target
(at most benchstat's time for a whole process) cannot afford; it validates, converts and generates the
JSON Schemas (``docs/schemas/``, :func:`schemas`) as well.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from benchpipe.core.health import Finding
from benchpipe.core.impact import Selection
from benchpipe.core.settings import CompareSection
from benchpipe.core.units import finite
from benchpipe.core.verdict import Comparison, Row

SCHEMA_VERSION = 1
_COMPARE = CompareSection()  # the defaults of a comparison's options (params.yaml's)


class Model(msgspec.Struct, kw_only=True):
    """Base of the artifact models: a versioned JSON object."""

    schema_version: int = SCHEMA_VERSION


class Part(msgspec.Struct, kw_only=True):
    """Base of a nested object of an artifact."""


# --- bench.json / a baseline's meta.json -------------------------------------------------------------------


class RunSettings(Part, kw_only=True):
    """The settings the benchmarks ran with (``go test`` flags); None: not recorded."""

    packages: list[str] = []
    bench: str | None = None
    count: int | None = None
    benchtime: str | None = None
    cpu: str | None = None
    timeout: str | None = None
    benchmem: bool | None = None
    measure: str | None = None  # "time" (go test's ns/op) or "instructions" (instructions/op under valgrind)


class SourceFingerprint(Part, kw_only=True):
    sha256: str = ""
    files: int = 0


class PackageRun(Part, kw_only=True):
    import_path: str
    dir: str = ""
    run_s: float = 0.0
    maxrss_kb: int = 0
    results: int = 0
    bench_s: dict[str, float] = {}  # top-level benchmark -> wall seconds from its start to the next one's


class Failure(Part, kw_only=True):
    """A benchmark the bench stage could not finish (a stall): named, with where it blocked."""

    kind: str
    package: str
    benchmark: str
    running: str = ""
    where: str = ""
    dump: str = ""
    message: str = ""


class BenchMeta(Model, kw_only=True):
    """``bench.json``: how a run was produced (and a baseline's ``meta.json``, a copy of its run's)."""

    mode: str = ""
    target: str = ""
    start_time: str | None = None
    wall_s: float = 0.0
    go_s: float = 0.0
    build_s: float = 0.0
    command: list[str] = []
    commands: list[list[str]] = []
    settings: RunSettings | None = None
    module: str = ""
    source: SourceFingerprint | None = None
    packages: list[PackageRun] = []
    peak_rss_kb: int = 0
    results: int = 0
    failures: list[Failure] = []
    notes: list[str] = []
    go_version: str | None = None
    goos: str | None = None
    goarch: str | None = None
    cpu: str | None = None
    gomaxprocs: int | None = None
    hostname: str | None = None
    commit: str = ""
    dirty: bool | None = None
    branch: str = ""
    shard: str = ""  # K/N when this run is one shard of a suite split across machines


# --- compare.json and the paired verdict -------------------------------------------------------------------


class Geomean(Part, kw_only=True):
    old: float | None = None
    new: float | None = None
    delta_pct: float | None = None
    packages: dict[str, dict[str, float | None]] = {}


class ConfirmFacts(Part, kw_only=True):
    """What confirmation by interleaved rounds did (:func:`benchpipe.revisions.confirm.confirm`)."""

    rounds: int = 0
    confirmed: list[str] = []
    unconfirmed: list[str] = []
    seconds: float = 0.0
    results: int = 0
    runs: int = 0
    resolved: list[str] = []  # inconclusive rows the rounds showed unchanged
    inconclusive: list[str] = []  # inconclusive rows the rounds could not resolve either
    run_as: dict[
        str, str
    ] = {}  # "<package> <result>" -> the -benchtime it ran at and why (toolchain.RunRule)
    budget_s: float = 0.0  # the benchmark run's own time, which confirmation may not exceed (0: unknown)
    explain_s: float = 0.0  # profiling what it confirmed, on both sides: after the budget, not in seconds


class PairedFacts(Part, kw_only=True):
    """A paired comparison's facts: revisions, rounds, design, confirmation (``compare --base``)."""

    base: str = ""
    head: str = ""
    target: str = ""
    head_dirty: bool | None = None
    changed_packages: list[str] | str | None = None
    impact: Selection | None = None  # impact selection: what ran, what was skipped and why
    iterations: dict[str, int] = {}
    run_as: dict[
        str, str
    ] = {}  # "<package> <result>" -> the -benchtime it ran at and why (toolchain.RunRule)
    design: dict[str, Any] = {}
    confirm_runs: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = {}  # where the time went, seconds: build, added, calibrate, rules, rounds, ...
    rounds: int = 0
    runs: int = 0
    confirm_rounds: int = 0
    confirmed: list[str] = []
    unconfirmed: list[str] = []
    resolved: list[str] = []  # inconclusive rows that the confirmation rounds showed unchanged
    inconclusive: list[str] = []  # rows still inconclusive after them


class Lines(Part, kw_only=True):
    """Lines of one file that ``git diff base..head`` changed, as head's line numbers (inclusive ranges)."""

    file: str  # path in the repository
    ranges: list[list[int]] = []  # [first, last] per hunk


class Suspect(Part, kw_only=True):
    """One function of a differential profile, per op on each side (own code: the module's innermost
    frame of each sample; ns/op, or B/op for an allocation diff), and the lines of the diff inside it."""

    function: str
    file: str = ""  # path in the repository ("" outside the module)
    start_line: int = 0
    end_line: int = 0
    unit: str = "ns/op"
    base_own: float = 0.0
    head_own: float = 0.0
    d_own: float = 0.0
    own_pct: float | None = None  # change of its own cost, % (None: none on the base side)
    base_flat: float = 0.0  # as a leaf
    head_flat: float = 0.0
    base_cum: float = 0.0  # with everything it calls
    head_cum: float = 0.0
    d_cum: float = 0.0
    changed: list[Lines] = []  # the diff's lines inside the function (empty: not changed here)
    in_module: bool = True
    why: str = ""  # the line a person reads


class Explanation(Part, kw_only=True):
    """Why one confirmed regression got slower (:mod:`benchpipe.core.attribution`): the functions whose own
    cost grew most, each tied to the lines of the diff inside it, and what else the diff changed."""

    package: str
    benchmark: str  # the result's name without -N
    unit: str = "ns/op"
    base_ns_op: float = 0.0
    head_ns_op: float = 0.0
    samples: list[int] = []  # CPU samples (base, head)
    runs: list[str] = []  # how the profiling ran, per side
    seconds: float = 0.0  # what the profiling runs took
    budget_s: float = 0.0  # what the result's paired rounds took, which they may not exceed
    suspects: list[Suspect] = []
    allocs: list[Suspect] = []  # the allocation diff (B/op), where B/op or allocs/op regressed
    changed_on_path: list[Suspect] = []  # changed functions whose cumulative cost grew (callers of a suspect)
    summary: str = ""  # one line: the top suspect and its lines, or why none was changed
    cause: str = ""  # when no changed function is in its profile: what else may be the cause
    notes: list[str] = []
    graph: str = ""  # the head side's call graph coloured by change (a file beside the JSON)
    diff: str = ""  # the revisions the lines are of, "base..head"


class BisectStep(Part, kw_only=True):
    """One commit a culprit search measured: regressed against the last good commit, good, or skipped
    (it does not build, or the result is missing there), with why."""

    commit: str
    outcome: str  # "bad" | "good" | "skipped"
    why: str = ""


class Culprit(Model, kw_only=True):
    """The commit a regression that landed on the default branch came in with (``benchpipe culprit``).

    ``status``: ``found`` (``commit`` is the first bad commit of ``good..bad``), ``range`` (the budget
    ended, or commits around the culprit were skipped: ``last_good..first_bad`` is the narrowest range
    proven), ``not reproduced`` (the paired rounds of ``good`` against ``bad`` do not regress),
    ``undecided`` (they stay inconclusive, also at twice the rounds: not recorded, a later run tries
    again), or
    ``attributed`` (a culprit recorded before covers it: nothing was bisected), or ``reverted`` (the run
    improved a result whose culprit is recorded: ``commit`` is that culprit)."""

    package: str
    benchmark: str  # the result, without -N
    unit: str = "ns/op"
    good: str  # the last run's commit without the regression
    bad: str  # this run's commit
    status: str
    commit: str = ""
    subject: str = ""
    last_good: str = ""
    first_bad: str = ""
    change_pct: float | None = None  # the culprit against its parent: median ratio's change ...
    lo_pct: float | None = None  # ... and its interval
    hi_pct: float | None = None
    why: str = ""
    explanations: list[Explanation] = []
    steps: list[BisectStep] = []
    commits: int = 0  # first-parent commits in good..bad
    seconds: float = 0.0
    trigger: str = "run"  # what raised it: "run" (this run's confirmed regression) or "change point"


class CulpritDoc(Model, kw_only=True):
    """What ``benchpipe culprit`` found for one default-branch run (``culprit.json``)."""

    good: str = ""
    bad: str = ""
    culprits: list[Culprit] = []
    note: str = ""  # why nothing was searched (no regression, no baseline commit)


class CompareDoc(Model, kw_only=True):
    """``compare.json`` (and a paired comparison's JSON): the verdict, its rows and what it rests on.

    ``verdict`` is PASS / WARN / FAIL, or NONE (no baseline: ``note`` says why, ``rows`` is empty)."""

    verdict: str = "NONE"  # the empty document: no comparison
    threshold_pct: float = _COMPARE.threshold_pct
    alpha: float = _COMPARE.alpha
    method: str = ""
    not_comparable: list[str] = []
    shift: str = ""
    old: str = ""
    new: str = ""
    rows: list[Row] = []
    geomean: dict[str, Geomean] = {}
    added: list[str] = []
    removed: list[str] = []
    warnings: list[str] = []
    note: str = ""
    baseline: str = ""
    baseline_env: BenchMeta | None = None
    current_env: BenchMeta | None = None
    failures: list[Failure] = []
    confirm: ConfirmFacts | None = None  # None: confirmation was off (--no-confirm, compare.confirm: false)
    health: list[Finding] = []
    paired: PairedFacts | None = None
    shard: str = ""  # K/N: the comparison of one shard; `benchpipe merge` joins them
    shards: list[str] = []  # a merged comparison: the shards it joins
    explanations: list[Explanation] = []  # why each confirmed regression got slower (paired: its profiles)

    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.verdict == "regression"]


# --- profile.json ------------------------------------------------------------------------------------------


class FuncCost(Part, kw_only=True):
    """One function's row of a CPU or memory table (ns or bytes/objects, shares in %)."""

    function: str
    file: str = ""
    line: int = 0
    flat: int | float = 0  # ns (CPU) or bytes / objects (memory): integers in whole-run profiles
    cum: int | float = 0
    flat_pct: float = 0.0
    cum_pct: float = 0.0
    flat_ns_op: float | None = None
    cum_ns_op: float | None = None


class CpuProfile(Part, kw_only=True):
    total_ns: int | float = 0
    duration_ns: int = 0
    samples: int = 0
    ns_per_op: float | None = None
    gc_alloc_pct: float = 0.0
    harness_pct: float = 0.0
    flat: list[FuncCost] = []
    cum: list[FuncCost] = []
    own: list[FuncCost] = []


class MemTable(Part, kw_only=True):
    total: int | float = 0
    setup: int | float = 0
    top: list[FuncCost] = []
    # per op of two runs' difference that go test's own B/op (allocs/op) does not count: allocated outside
    # the timer in proportion to b.N (a buffer sized by b.N before b.ResetTimer); not in ``total``
    outside_timer: float = 0.0


class MemProfile(Part, kw_only=True):
    """Allocation hotspots: per op of the timed loop (``per_op``, two runs) or of the whole run."""

    iterations: list[int] = []
    per_op: bool = False
    alloc_space: MemTable = msgspec.field(default_factory=MemTable)
    alloc_objects: MemTable = msgspec.field(default_factory=MemTable)


class DiffRow(Part, kw_only=True):
    function: str
    base_flat: float = 0.0
    cur_flat: float = 0.0
    d_flat: float = 0.0
    base_cum: float = 0.0
    cur_cum: float = 0.0
    d_cum: float = 0.0
    d_own: float = 0.0


class ProfileDiff(Part, kw_only=True):
    """The differential profile of a regressed benchmark against its baseline's profile."""

    note: str = ""
    rows: list[DiffRow] = []
    base_ns_per_op: float = 0.0
    cur_ns_per_op: float = 0.0
    base_iterations: int = 0
    cur_iterations: int = 0
    graph: str = ""


class Graphs(Part, kw_only=True):
    cpu: str = ""


class ProfiledBenchmark(Part, kw_only=True):
    package: str
    benchmark: str
    dir: str = ""
    maxrss_kb: int = 0
    cpu_benchtime: str = ""
    cpu_benchtime_why: str = ""
    trace: bool = False  # the CPU run also wrote trace.out (profile.trace)
    profiled_ns_op: float | None = None  # the CPU run's ns/op, where the benchmark run's is known too
    iterations: int = 0
    alloc_bytes_per_s: float = 0.0
    notes: list[str] = []
    graphs: Graphs = msgspec.field(default_factory=Graphs)
    cpu: CpuProfile | None = None
    mem: MemProfile | None = None
    gc_pressure: str = "Low"
    diff: ProfileDiff | None = None


class ProfileDoc(Model, kw_only=True):
    """``profile.json``: which benchmarks were profiled and why, and what their profiles say."""

    bench: str = ""
    why: str = ""
    benchtime: str = ""
    memprofilerate: int = 1
    benchmarks: list[ProfiledBenchmark] = []
    notes: list[str] = []
    go_s: float = 0.0


# --- the history -------------------------------------------------------------------------------------------


class HistoryRun(Model, kw_only=True):
    """The columns every row of a run's history file repeats (one row per sample besides these)."""

    run_id: str
    time: str
    commit: str = ""
    branch: str = ""
    dirty: bool = False
    go_version: str = ""
    machine: str = ""
    cpu: str = ""
    goos: str = ""
    goarch: str = ""
    mode: str = ""
    params: str = "{}"
    module: str = ""

    @classmethod
    def of(cls, run_id: str, time: str, meta: BenchMeta) -> HistoryRun:
        settings = msgspec.to_builtins(meta.settings) if meta.settings is not None else {}
        return cls(
            run_id=run_id,
            time=time,
            commit=meta.commit,
            branch=meta.branch,
            dirty=bool(meta.dirty),
            go_version=meta.go_version or "",
            machine=meta.hostname or "",
            cpu=meta.cpu or "",
            goos=meta.goos or "",
            goarch=meta.goarch or "",
            mode=meta.mode,
            params=json.dumps(settings, sort_keys=True),
            module=meta.module,
        )


class RecordDoc(Model, kw_only=True):
    """``record.json``: whether the record stage stored the run in the history, and where or why not."""

    stored: bool = False
    run_id: str = ""
    store: str = ""
    shard: str = ""
    error: str = ""  # why the run was not stored (the report and the gate say so; the gate exits 2)


MODELS: dict[str, type[Model]] = {
    "bench": BenchMeta,
    "compare": CompareDoc,
    "profile": ProfileDoc,
    "record": RecordDoc,
    "history-run": HistoryRun,
}


def schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each artifact model, by name (``docs/schemas/<name>.schema.json``)."""
    out = {}
    for name, model in MODELS.items():
        s = msgspec.json.schema(model)
        s["$id"] = f"https://benchpipe.invalid/schemas/{name}.schema.json"
        s["title"] = f"benchpipe {name} (schema_version {SCHEMA_VERSION})"
        out[name] = s
    return out


def to_dict(obj: msgspec.Struct) -> dict[str, Any]:
    """The JSON object of a model (fields in declaration order); a number that is not finite (a summary's
    NaN center or infinite bound, an undefined change) is null, as JSON has no such numbers."""
    return msgspec.json.decode(msgspec.json.encode(obj))


def compare_doc(c: Comparison, **fields: Any) -> CompareDoc:
    """The artifact of a comparison, with the compare stage's or a paired run's own ``fields`` (baseline,
    environments, confirmation, paired facts, ...); its rows are the comparison's own."""
    geomean = {
        u: Geomean(
            old=finite(g["old"]),
            new=finite(g["new"]),
            delta_pct=finite(g["delta_pct"]),
            packages={p: {k: finite(v) for k, v in pg.items()} for p, pg in g["packages"].items()},
        )
        for u, g in c.geomean.items()
    }
    own: dict[str, Any] = {
        "verdict": c.verdict,
        "threshold_pct": c.threshold_pct,
        "alpha": c.alpha,
        "method": c.method,
        "not_comparable": c.not_comparable,
        "shift": c.shift,
        "old": c.old_label,
        "new": c.new_label,
        "rows": c.rows,
        "geomean": geomean,
        "added": c.added,
        "removed": c.removed,
        "warnings": c.warnings,
    }
    return CompareDoc(**{**own, **fields})
