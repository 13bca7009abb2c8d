"""Profiling both sides of confirmed regressions, and tying what got slower to the diff.

For each result to explain, the test binaries both sides already built run again under the CPU profiler
at the same work as its rounds (:func:`benchpipe.go.toolchain.run_rule`: the same fixed b.N on both
sides, scaled up, or a time for a RunParallel result), alternating sides base, head, head, base so that
drift hits both alike; where B/op or allocs/op regressed, one run per side records every allocation
(``-memprofilerate=1``). All of it costs at most what the result's paired rounds cost (``budget``: their
wall time), and nothing when nothing regressed.

The head side's Go sources give each function's range (:func:`benchpipe.go.benchsrc.function_end`),
``git diff`` the changed lines (:func:`benchpipe.go.git.changed_lines`), and
:func:`benchpipe.core.attribution.explain` the verdict. The profiles, and the head's call graph coloured by
the change of each function's cumulative cost, are kept in ``out_dir`` when one is given.
"""

from __future__ import annotations

import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchpipe.core import benchfmt, benchtime, pprof
from benchpipe.core.artifacts import Explanation, Lines
from benchpipe.core.attribution import SideProfile, Span, SpanOf, explain, in_module, package_of, shares
from benchpipe.core.errors import BenchpipeError
from benchpipe.core.settings import ProfileSection
from benchpipe.go import benchsrc, toolchain
from benchpipe.go import git as gitrev
from benchpipe.render import callgraph
from benchpipe.revisions.rounds import BenchRef, RoundValues, Side

ORDER = ("base", "head", "head", "base")  # the CPU runs of one result: drift hits both sides alike
MIN_RUN_S = 0.2  # a CPU run shorter than this gives too few samples to be worth its process start
BUDGET_SHARE = (
    0.85  # of the budget planned for the runs' benchtime: process start and profile writing are the rest
)
ALLOC_UNITS = ("B/op", "allocs/op")


@dataclass
class Diff:
    """The revisions the explanation ties to: the repository, the module inside it, the changed lines."""

    root: Path
    rel: Path  # the module's directory in the repository
    module: str  # its module path
    head_dir: Path  # the head side's module directory (its sources)
    hunks: dict[str, list[tuple[int, int]]]
    spec: str  # "base..head" as the explanation names it
    declarations: list[Lines] = field(default_factory=list)  # changed Go lines outside any function

    @classmethod
    def between(cls, root: Path, rel: Path, head_dir: Path, base: str, head: str | None) -> Diff:
        module = toolchain.module_path(head_dir)
        hunks = gitrev.changed_lines(root, base, head, rel)
        return cls(
            root,
            rel,
            module,
            head_dir,
            hunks,
            f"{base[:12]}..{head[:12] if head else 'working tree'}",
            outside_functions(hunks, head_dir, rel),
        )


def _declares(line: str) -> bool:
    """A source line that may declare something (not blank, a comment, an import or a closing brace)."""
    t = line.strip()
    return (
        bool(t)
        and not t.startswith(("//", "import", "/*", "*"))
        and t not in (")", "}", "(")
        and not (t.startswith('"') and t.endswith('"'))
    )


def outside_functions(hunks: dict[str, list[tuple[int, int]]], head_dir: Path, rel: Path) -> list[Lines]:
    """The changed lines of the module's Go sources (tests apart) that no function holds."""
    out = []
    prefix = rel.as_posix().removeprefix(".").strip("/")
    for file, ranges in sorted(hunks.items()):
        if not file.endswith(".go") or file.endswith("_test.go"):
            continue
        try:
            text = (head_dir / (file[len(prefix) + 1 :] if prefix else file)).read_text(errors="replace")
        except OSError:
            continue
        spans, lines = benchsrc.function_spans(text), text.split("\n")
        loose = [
            [a, b]
            for a, b in ranges
            if not any(s <= a and b <= e for s, e in spans) and any(_declares(ln) for ln in lines[a - 1 : b])
        ]
        if loose:
            out.append(Lines(file=file, ranges=loose))
    return out


def span_resolver(diff: Diff) -> SpanOf:
    """``span_of`` for :func:`benchpipe.core.attribution.explain`: a module function's file in the repository
    and its lines in the head's source (the package from the symbol, the file name from the profile, so a
    binary built in another directory resolves too)."""
    texts: dict[Path, str] = {}

    def span_of(function: str, filename: str, start: int) -> Span | None:
        if not in_module(function, diff.module):
            return None
        reldir = package_of(function)[len(diff.module) :].lstrip("/").removesuffix("_test")
        path = diff.head_dir / reldir / Path(filename).name
        if path not in texts:
            try:
                texts[path] = path.read_text(errors="replace")
            except OSError:
                texts[path] = ""
        end = benchsrc.function_end(texts[path], start)
        repo = (diff.rel / reldir / path.name).as_posix().removeprefix("./")
        return Span(repo, start, end) if end else None

    return span_of


def per_op(samples: RoundValues, side: str, ref: BenchRef, unit: str) -> float:
    """A side's median per op of a result's unit in its rounds (``-cpu`` variants summed: one run executes
    each of them)."""
    pkg, name = ref
    vals = [
        statistics.median(v.values())
        for (p, n, u), v in samples.values[side].items()
        if p == pkg and benchfmt.base_name(n) == name and u == unit and v
    ]
    return sum(vals)


def _run(
    side: Side, ref: BenchRef, benchtime: str, flags: list[str], plan_cpu: str, timeout: str, stall_s: float
) -> toolchain.RunResult:
    pkg, name = ref
    args = toolchain.bench_args(
        toolchain.name_pattern(name), 1, benchtime, plan_cpu, timeout=timeout, extra=tuple(flags)
    )
    res = toolchain.run_binary(side.binaries[pkg], side.dirs[pkg], args, hard_timeout=3600, stall_s=stall_s)
    if res.stall is not None or res.returncode != 0:
        raise BenchpipeError(
            f"{side.label} side: {name} under the profiler: "
            + (res.stall.describe(name) if res.stall else toolchain.diagnose(res.output, pkg, res.returncode))
        )
    return res


@dataclass
class Job:
    """One result to explain: how its rounds ran, what they cost, and where its files go."""

    ref: BenchRef
    rule: toolchain.RunRule
    budget_s: float  # the wall time of its paired rounds, both sides
    run_s: float  # one round run's mean wall time
    allocs: bool  # B/op or allocs/op regressed: an allocation diff too
    workdir: Path
    sign: int = 1  # -1: an improvement (what got faster)


def _cpu_benchtime(job: Job, runs: int) -> str:
    """The CPU runs' -benchtime: the rounds' work scaled so that ``runs`` runs fit the budget."""
    each = max(MIN_RUN_S, BUDGET_SHARE * job.budget_s / runs)
    bt = benchtime.parse(job.rule.benchtime)
    if job.rule.fixed and bt.iters is not None:
        scale = max(1.0, each / max(job.run_s, 1e-3))
        return str(benchtime.iterations(bt.iters * scale))
    if bt.fixed:
        return job.rule.benchtime  # the user's own Nx stands
    # a time benchtime: a run's wall time is its benchtime plus start and ramp-up, in the rounds' proportion
    per_s = (bt.ns or 1e8) / 1e9 / max(job.run_s, 1e-3)
    return str(benchtime.seconds(each * per_s))


def profile_pair(
    base: Side, head: Side, job: Job, cpu: str, timeout: str, stall_s: float
) -> tuple[dict[str, list[pprof.Profile]], dict[str, list[pprof.Profile]], list[str]]:
    """The CPU profiles of each side (ABBA), the allocation profiles where asked, and how they ran."""
    sides = {"base": base, "head": head}
    cpu_budget = job.budget_s / 2 if job.allocs else job.budget_s
    bt = _cpu_benchtime(
        Job(job.ref, job.rule, cpu_budget, job.run_s, job.allocs, job.workdir, job.sign), len(ORDER)
    )
    cpu_profiles: dict[str, list[pprof.Profile]] = {"base": [], "head": []}
    for i, label in enumerate(ORDER):
        path = job.workdir / f"cpu-{label}-{i}.prof"
        _run(sides[label], job.ref, bt, list(toolchain.profile_flags(cpu=path)), cpu, timeout, stall_s)
        cpu_profiles[label].append(pprof.load(path))
    mem: dict[str, list[pprof.Profile]] = {"base": [], "head": []}
    if job.allocs:
        for label in ("base", "head"):
            path = job.workdir / f"mem-{label}.prof"
            _run(
                sides[label],
                job.ref,
                job.rule.benchtime,
                list(toolchain.profile_flags(mem=path, memrate=1)),
                cpu,
                timeout,
                stall_s,
            )
            mem[label].append(pprof.load(path))
    how = [f"CPU: {len(ORDER)} runs at -benchtime {bt} ({' '.join(ORDER)})"]
    if job.allocs:
        how.append(f"allocations: 1 run per side at -benchtime {job.rule.benchtime}, -memprofilerate=1")
    return cpu_profiles, mem, how


def explain_one(
    base: Side,
    head: Side,
    job: Job,
    samples: RoundValues,
    diff: Diff,
    span_of: SpanOf,
    profile_cfg: ProfileSection,
    cpu: str,
    timeout: str,
    stall_s: float,
) -> Explanation:
    """Profile one result on both sides and explain it (a failure to profile is a note)."""
    pkg, name = job.ref
    t0 = time.monotonic()
    try:
        cpu_p, mem_p, how = profile_pair(base, head, job, cpu, timeout, stall_s)
    except (BenchpipeError, pprof.ProfileError) as e:
        return Explanation(package=pkg, benchmark=name, notes=[f"not profiled: {e.message}"], diff=diff.spec)
    side = {
        label: SideProfile(cpu_p[label], per_op(samples, label, job.ref, "ns/op"))
        for label in ("base", "head")
    }
    allocs = None
    if job.allocs:
        allocs = (
            SideProfile(mem_p["base"], per_op(samples, "base", job.ref, "B/op"), "alloc_space"),
            SideProfile(mem_p["head"], per_op(samples, "head", job.ref, "B/op"), "alloc_space"),
        )
    out = explain(
        pkg,
        name,
        side["base"],
        side["head"],
        diff.module,
        span_of,
        diff.hunks,
        allocs,
        job.sign,
        diff.declarations,
    )
    out.runs, out.diff = how, diff.spec
    out.seconds, out.budget_s = round(time.monotonic() - t0, 1), round(job.budget_s, 1)
    out.graph = _graph(cpu_p, out, job.workdir, profile_cfg)
    return out


def _graph(
    profiles: dict[str, list[pprof.Profile]], out: Explanation, workdir: Path, cfg: ProfileSection
) -> str:
    """The head's call graph (its first CPU run) coloured by each function's change of cumulative cost."""
    b, _ = shares(profiles["base"], "")
    h, _ = shares(profiles["head"], "")
    delta = {
        f: (h[f].cum if f in h else 0.0) * out.head_ns_op - (b[f].cum if f in b else 0.0) * out.base_ns_op
        for f in set(b) | set(h)
    }
    prof = profiles["head"][0]
    data = callgraph.gprof2dot_json(prof, prof.index_of("cpu"), "cpu", "ns")
    svg, note = callgraph.render(
        data, workdir / "diff.svg", cfg.node_threshold, cfg.edge_threshold, callgraph.change_colors(delta)
    )
    if note:
        out.notes.append(note)
    return f"{workdir.name}/diff.svg" if svg else ""


def jobs(
    rows: list[tuple[BenchRef, set[str], int]],
    rules: dict[BenchRef, toolchain.RunRule],
    samples: RoundValues,
    workdir: Path,
) -> list[Job]:
    """One job per result with rows to explain (their units; 1 regressed, -1 improved), budgeted by its
    rounds' wall time."""
    out = []
    for i, (ref, units, sign) in enumerate(rows, 1):
        wall, runs = samples.wall.get(ref, 0.0), samples.runs.get(ref, 0)
        if not runs or ref not in rules:
            continue
        d = workdir / f"{i:02d}-{ref[1].replace('/', '__')[:80]}"
        d.mkdir(parents=True, exist_ok=True)
        out.append(Job(ref, rules[ref], wall, wall / runs, bool(units & set(ALLOC_UNITS)), d, sign))
    return out


def explain_all(
    base: Side,
    head: Side,
    todo: list[Job],
    samples: RoundValues,
    diff: Diff,
    profile_cfg: ProfileSection,
    cpu: str,
    timeout: str,
    stall_s: float,
) -> list[Explanation]:
    """Every job explained, in order; the time it took is reported as progress."""
    span_of, t0, out = span_resolver(diff), time.monotonic(), []
    for job in todo:
        toolchain.progress(
            f"explain: profiling {job.ref[0]} {job.ref[1]} on both sides (budget {job.budget_s:.1f}s)"
        )
        out.append(explain_one(base, head, job, samples, diff, span_of, profile_cfg, cpu, timeout, stall_s))
    if todo:
        toolchain.progress(f"explain: {len(todo)} result(s) profiled in {time.monotonic() - t0:.1f}s")
    return out


def keep(workdir: Path, out_dir: Path | None, explanations: list[Explanation]) -> None:
    """Copy the profiles and graphs into ``out_dir``; graph paths become relative to its parent (where the
    JSON is written). Without ``out_dir`` nothing is kept and no graph is named."""
    if out_dir is not None:
        if out_dir.exists():
            shutil.rmtree(out_dir)
        shutil.copytree(workdir, out_dir)
    for e in explanations:
        e.graph = f"{out_dir.name}/{e.graph}" if out_dir is not None and e.graph else ""
