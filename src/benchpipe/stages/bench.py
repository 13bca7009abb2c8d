"""The ``bench`` stage: run the configured benchmarks of a Go module.

For each package with tests matched by the mode's patterns: build the test
binary (``go test -c``), then run it as ``go test -run '^$' -bench <regex>
-benchmem -count N -benchtime T [-cpu L]`` would. The raw output is kept
exactly as Go printed it (valid benchfmt: benchstat reads it), with ``ok``
lines as ``go test`` adds them, plus metadata (Go version, platform, CPU,
GOMAXPROCS, target commit and dirty flag, start time, commands, build and
wall times, peak RSS of each benchmark process).

Only packages with benchmarks are built (concurrently); patterns that match
no package fall back to ``./...`` with a note. The code's own output (log
lines) goes to ``bench.log``; ``bench.txt`` holds only benchfmt (see
:func:`benchpipe.go.toolchain.split_output`).

Failures (build error, panic, failed benchmark, timeout) stop the stage with
one line naming the problem and exit 2; everything Go printed is kept in
``bench.log`` beside the output. A *stalled* benchmark (no CPU progress for
``bench.stall_s`` seconds) does not stop the stage: it is recorded in the
metadata's ``failures`` with where it blocked and its goroutine dump
(``stall-<pkg>-<bench>.txt`` beside the output), the rest of its package runs
again without it, and the gate exits 2 after the report is written. No
benchmark matched: exit 3.

With ``measure: instructions`` each selected result is counted under valgrind instead
(:mod:`benchpipe.go.instructions`): one ``instructions/op`` row per result (exact: one
run is the sample), declared ``Unit instructions/op assume=exact`` so benchstat judges
it as benchpipe does; the binaries keep their symbols (the per-function counts are
named). No valgrind: one line, exit 2, never a wall-time run in its place.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import msgspec

from benchpipe.core import benchfmt, comparable, shards
from benchpipe.core.artifacts import BenchMeta, Failure, PackageRun, RunSettings, SourceFingerprint
from benchpipe.core.errors import BenchpipeError, NothingToCompare
from benchpipe.core.settings import InstructionsSection, Mode
from benchpipe.core.units import go_duration_ns
from benchpipe.go import benchsrc, instructions, machine, toolchain
from benchpipe.store import artifacts, atomic


def go_test_flags(cfg: Mode, skip: str = "") -> list[str]:
    """Test-binary flags for a mode's settings (the ``-test.`` forms of go test's flags)."""
    return toolchain.bench_args(
        str(cfg.bench), cfg.count, str(cfg.benchtime), str(cfg.cpu or ""), timeout=str(cfg.timeout), skip=skip
    )


def equivalent_command(cfg: Mode) -> list[str]:
    """The ``go test`` command that runs what the bench stage runs (from the same flags)."""
    return toolchain.go_test_command(go_test_flags(cfg), cfg.package_list)


def _timeout_seconds(s: str) -> float:
    ns = go_duration_ns(s)
    return ns / 1e9 if ns is not None else 600.0


def _run_package(
    binary: Path,
    pkg: toolchain.Package,
    cfg: Mode,
    hard: float,
    stall_s: float,
    log: Callable[[str], None],
    announce: Callable[[str], None],
    run_dir: Path,
    root: Path,
    ran: list[list[str]],
) -> tuple[str, float, int, list[Failure]]:
    """Run one package's benchmarks; a stalled benchmark is recorded and the package run again without it.
    Each run's argv is appended to ``ran``.

    Returns (benchfmt text, wall seconds, peak RSS in KiB, failures).
    """
    text, wall, rss = "", 0.0, 0
    failures: list[Failure] = []
    done: list[str] = []  # top-level benchmarks already run (or stalled) in an earlier attempt
    while True:
        flags = go_test_flags(cfg, toolchain.names_regex(done) if done else "")
        ran.append(toolchain.binary_argv(binary, flags))
        try:
            res = toolchain.run_binary(
                binary, pkg.dir, flags, sink=log, on_bench=announce, hard_timeout=hard, stall_s=stall_s
            )
        except toolchain.Hung:
            raise BenchpipeError(
                f"{pkg.import_path}: benchmark hit the -timeout ({cfg.timeout}) and was killed"
            ) from None
        wall += res.wall
        rss = max(rss, res.maxrss_kb)
        text += toolchain.split_output(res.output)
        if res.stall is None:
            if res.returncode != 0:
                raise BenchpipeError(toolchain.diagnose(res.output, pkg.import_path, res.returncode, root))
            return text, wall, rss, failures
        st = res.stall
        top = benchfmt.top_level(st.benchmark) if st.benchmark else "?"
        dump = run_dir / f"stall-{benchfmt.slug(pkg.import_path)}-{top}.txt"
        atomic.write_text(dump, st.dump)
        msg = f"{pkg.import_path}: {st.describe(st.benchmark or 'a benchmark')}; goroutine dump in {dump}"
        toolchain.progress(f"bench: STALLED: {msg}")
        failures.append(
            Failure(
                kind="stall",
                package=pkg.import_path,
                benchmark=top,
                running=st.benchmark or "",
                where=st.where or "",
                dump=str(dump),
                message=msg,
            )
        )
        before = len(done)
        done += [n for n in dict.fromkeys(benchfmt.top_level(x) for x in res.started) if n not in done]
        if len(done) == before:  # stalled before any benchmark started: running again would stall again
            return text, wall, rss, failures


def _count_package(
    binary: Path,
    pkg: toolchain.Package,
    cfg: Mode,
    budget: int,
    announce: Callable[[str], None],
    ran: list[list[str]],
    notes: list[str],
) -> tuple[str, float]:
    """Count each result of one package under valgrind: (benchfmt text, wall seconds); every process's argv
    is appended to ``ran``. A count that does not prove itself is left out, with a note saying why."""
    t0 = time.monotonic()
    text = f"pkg: {pkg.import_path}\n"
    timeout = str(cfg.timeout)
    for name in instructions.result_names(binary, pkg.dir, pkg.import_path, str(cfg.bench), timeout, ran):
        announce(name)
        counted = instructions.measure(binary, pkg.dir, name, timeout, budget, ran)
        if counted.unproven:
            notes.append(
                f"{pkg.import_path} {name}: left out, its instruction count is not exact: {counted.unproven}"
            )
            continue
        text += instructions.line(counted)
    return text, time.monotonic() - t0


def _wall_times(starts: list[tuple[str, float]], end: float) -> dict[str, float]:
    """Wall seconds per top-level benchmark: from each start to the next (or the package's end), summed over
    its -count runs: what ``--shard`` balances by, recorded in the history."""
    out: dict[str, float] = {}
    if not starts:
        return out
    for (name, t), nxt in zip(starts, [s[1] for s in starts[1:]] + [end], strict=True):
        out[name] = round(out.get(name, 0.0) + max(0.0, nxt - t), 3)
    return out


class _Log:
    """What Go printed besides benchfmt (``bench.log``), kept on success and on failure."""

    def __init__(self, path: Path) -> None:
        self.path, self.parts = path, []  # type: ignore[var-annotated]

    def __call__(self, text: str) -> None:
        self.parts.append(text)

    def save(self) -> None:
        atomic.write_text(self.path, "".join(self.parts))

    def fail(self, err: BenchpipeError) -> NoReturn:
        self.save()
        err.message += f" (output kept in {self.path})"
        raise err


def shard_selection(
    pkgs: list[toolchain.Package],
    binaries: list[Path],
    cfg: Mode,
    shard: str,
    durations: dict[tuple[str, str], float],
) -> dict[str, str]:
    """This shard's part of the benchmark set: package -> -bench regex (packages absent: another shard's).
    Top-level benchmarks are the units, weighted by their recorded duration; with none recorded for the
    module, whole packages (weighted by their number of benchmarks)."""
    names = {
        p.import_path: toolchain.list_benchmarks(b, p, str(cfg.bench))
        for p, b in zip(pkgs, binaries, strict=True)
    }
    if not durations:
        return {
            pkg: str(cfg.bench)
            for pkg in shards.part(shard, {pkg: float(len(ns)) for pkg, ns in names.items() if ns})
        }
    known = [durations[(pkg, b)] for pkg, ns in names.items() for b in ns if (pkg, b) in durations]
    mean = sum(known) / len(known) if known else 1.0
    mine: dict[str, list[str]] = {}
    for pkg, b in shards.part(
        shard, {(pkg, b): durations.get((pkg, b), mean) for pkg, ns in names.items() for b in ns}
    ):
        mine.setdefault(pkg, []).append(b)
    return {pkg: toolchain.names_regex(sorted(bs)) for pkg, bs in mine.items()}


@dataclass
class _Runs:
    """What running the packages gave: benchfmt text, per-package facts, failures, every process's argv
    (``commands``: exactly what ran), Go's seconds (build and runs) and the build's."""

    text: list[str] = field(default_factory=list)
    packages: list[PackageRun] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reader must know (counts left out)
    go_s: float = 0.0
    build_s: float = 0.0


def _announcer(pkg: str, t_start: float, starts: list[tuple[str, float]]) -> Callable[[str], None]:
    """Progress for each benchmark as it starts; its start time is kept for the wall time per benchmark."""
    t_pkg = time.monotonic()

    def announce(name: str) -> None:
        starts.append((benchfmt.top_level(name), time.monotonic()))
        now = time.monotonic()
        toolchain.progress(f"bench: {pkg} {name} (package {now - t_pkg:.1f}s, total {now - t_start:.1f}s)")

    return announce


def _run_one(
    binary: Path,
    pkg: toolchain.Package,
    pcfg: Mode,
    target: Path,
    out_txt: Path,
    stall_s: float,
    log: _Log,
    t_start: float,
    counted: InstructionsSection | None,
    runs: _Runs,
) -> None:
    """Run (or count) one package's benchmarks into ``runs``."""
    soft = _timeout_seconds(str(pcfg.timeout))
    hard = soft + min(60.0, max(5.0, soft * 0.1))  # Go's -timeout does not always stop a hung benchmark
    starts: list[tuple[str, float]] = []
    announce = _announcer(pkg.import_path, t_start, starts)
    rss, fails = 0, []
    try:
        if counted is not None:
            text, run_s = _count_package(
                binary, pkg, pcfg, counted.budget, announce, runs.commands, runs.notes
            )
        else:
            root = toolchain.cwd_module(target)
            text, run_s, rss, fails = _run_package(
                binary, pkg, pcfg, hard, stall_s, log, announce, out_txt.parent, root, runs.commands
            )
    except BenchpipeError as e:
        log.fail(e)
    runs.go_s += run_s
    runs.failures += fails
    runs.text.append(text + f"ok  \t{pkg.import_path}\t{run_s:.3f}s\n")
    runs.packages.append(
        PackageRun(
            import_path=pkg.import_path,
            dir=str(pkg.dir),
            run_s=round(run_s, 3),
            maxrss_kb=rss,
            results=len(benchfmt.read_text(text).results),
            bench_s=_wall_times(starts, time.monotonic()),
        )
    )


def _run_all(
    pkgs: list[toolchain.Package],
    cfg: Mode,
    target: Path,
    out_txt: Path,
    stall_s: float,
    log: _Log,
    t_start: float,
    shard: str = "",
    durations: dict[tuple[str, str], float] | None = None,
    counted: InstructionsSection | None = None,
    quiet: Callable[[], None] | None = None,
) -> _Runs:
    """Build the packages' test binaries and run them (only ``shard``'s part of them), or count their results'
    instructions (``counted``). ``quiet`` is called between the two: it returns when the machine is the
    benchmarks' (see :func:`run`)."""
    runs = _Runs()
    with tempfile.TemporaryDirectory(prefix="benchpipe-bin-") as tmp:
        toolchain.progress(f"bench: building {len(pkgs)} package(s) with benchmarks")
        try:
            binaries, runs.build_s = toolchain.build_test_binaries(
                pkgs, target, Path(tmp), log, strip=counted is None, ran=runs.commands
            )
        except BenchpipeError as e:
            log.fail(e)
        runs.go_s = runs.build_s
        if quiet is not None:
            quiet()
        part = shard_selection(pkgs, binaries, cfg, shard, durations or {}) if shard else None
        for pkg, binary in zip(pkgs, binaries, strict=True):
            if part is not None and pkg.import_path not in part:
                continue
            pcfg = msgspec.structs.replace(cfg, bench=part[pkg.import_path]) if part is not None else cfg
            _run_one(binary, pkg, pcfg, target, out_txt, stall_s, log, t_start, counted, runs)
    return runs


def run(
    cfg: Mode,
    mode: str,
    target: Path,
    out_txt: Path,
    out_meta: Path,
    stall_s: float,
    notes: list[str] | None = None,
    shard: str = "",
    durations: dict[tuple[str, str], float] | None = None,
    counted: InstructionsSection | None = None,
    quiet: Callable[[], None] | None = None,
) -> BenchMeta:
    """Run the benchmarks (or, with ``counted``, count their instructions); write raw output and metadata;
    return the metadata. ``quiet``, when given, is called after the test binaries are built and before the
    first runs: it waits for work that shares the machine during the build (the pipeline's preloading,
    :mod:`benchpipe.cli.stagefork`) to end."""
    if counted is not None:
        instructions.require()
        notes = [*(notes or []), instructions.CAVEAT]
        cfg = msgspec.structs.replace(cfg, cpu="1")  # one P under valgrind
    started = datetime.now(UTC)
    t_start = time.monotonic()
    env = machine.environment(target)
    log = _Log(out_txt.with_suffix(".log"))
    pkgs, patterns, note = toolchain.resolve_packages(target, cfg.package_list)
    if note:
        toolchain.progress(f"bench: {note}")
    cfg = msgspec.structs.replace(cfg, packages=patterns)
    if not pkgs:
        raise NothingToCompare(f"no package with benchmarks matches {' '.join(patterns)} in {target}")
    if counted is not None and any(benchsrc.parallel(p.dir) for p in pkgs):
        notes = [*(notes or []), instructions.PARALLEL_NOTE]
    runs = _run_all(pkgs, cfg, target, out_txt, stall_s, log, t_start, shard, durations, counted, quiet)
    n_total = sum(p.results for p in runs.packages)
    if not n_total and shard and not runs.packages:
        notes = [*(notes or []), f"shard {shard} has no benchmarks (fewer units than shards)"]
    elif not n_total:
        log.save()
        if runs.failures or runs.notes:
            raise BenchpipeError(runs.failures[0].message if runs.failures else runs.notes[0])
        raise NothingToCompare(f"no benchmark matched -bench {cfg.bench!r} in {' '.join(cfg.package_list)}")
    notes = [*(notes or []), *([note] if note else []), *runs.notes]
    info = _meta(cfg, mode, target, started, t_start, runs, counted, shard, env, notes)
    declared = "" if counted is None else instructions.declared(info.goos, info.goarch, info.cpu)
    atomic.write_text(out_txt, comparable.config_lines(info) + declared + "".join(runs.text))  # with settings
    artifacts.write(out_meta, info)
    log.save()
    return info


def _meta(
    cfg: Mode,
    mode: str,
    target: Path,
    started: datetime,
    t_start: float,
    runs: _Runs,
    counted: InstructionsSection | None,
    shard: str,
    env: dict[str, Any],
    notes: list[str],
) -> BenchMeta:
    """The run's metadata (bench.json), with the machine's environment ``env``."""
    return BenchMeta(
        mode=mode,
        target=str(target),
        start_time=started.isoformat(timespec="seconds"),
        wall_s=round(time.monotonic() - t_start, 3),
        go_s=round(runs.go_s, 3),
        build_s=round(runs.build_s, 3),
        command=equivalent_command(cfg),
        commands=runs.commands,
        settings=RunSettings(
            packages=cfg.package_list,
            bench=str(cfg.bench),
            count=cfg.count,
            benchtime=str(cfg.benchtime),
            cpu=str(cfg.cpu or ""),
            timeout=str(cfg.timeout),
            benchmem=True,
            measure="time" if counted is None else "instructions",
        ),
        module=toolchain.module_path(target),
        source=msgspec.convert(toolchain.source_fingerprint(target), SourceFingerprint),  # dvc.lock hashes it
        packages=runs.packages,
        peak_rss_kb=max((p.maxrss_kb for p in runs.packages), default=0),
        results=sum(p.results for p in runs.packages),
        failures=runs.failures,
        notes=notes,
        shard=shard,
        **env,
    )
