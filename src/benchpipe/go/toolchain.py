"""Drive the Go toolchain: list packages, build test binaries, run benchmarks.

Benchmarks run from a test binary built once with ``go test -c`` and started
in the package's directory, exactly as ``go test`` does; this separates build
time from run time, measures the peak RSS of the benchmark process itself
(``wait4``), and lets paired comparisons start the same binary many times.
No command line is ever built as a shell string.

Only packages with a ``func Benchmark`` in their ``_test.go`` files are built,
all in one ``go test -c`` (Go builds them in parallel).

Every benchmark run uses ``-test.v=test2json``, the framing ``go test -json``
uses: Go then prints each result line whole, whatever the code under test
writes, and marks its own lines (``=== RUN``, ``PASS``) with the byte 0x16.
:func:`split_output` keeps the benchfmt text (headers and results); everything
else (the code's log lines) goes to the log.

A benchmark process that uses almost no CPU for ``stall_s`` seconds is
stalled (``-test.timeout`` does not cover benchmarks): it gets SIGQUIT, so Go
prints every goroutine's stack, and :mod:`benchpipe.core.goroutines` names where
the benchmark waits.
"""

from __future__ import annotations

import ctypes
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import psutil

from benchpipe.core import benchfmt, benchtime, credentials, goroutines, portable, selection
from benchpipe.core.errors import BenchpipeError, NothingToCompare
from benchpipe.go.machine import require

FRAMING = "\x16"  # test2json's marker of lines the testing package printed
_HAS_BENCH = re.compile(rb"^func\s+Benchmark\w*\s*\(", re.M)
DEFAULT_PATTERNS = ["./..."]


@dataclass
class Package:
    import_path: str
    dir: Path
    test_files: list[str]
    name: str = ""  # the package clause's name

    @property
    def has_tests(self) -> bool:
        return bool(self.test_files)

    @property
    def has_benchmarks(self) -> bool:
        """A ``func Benchmark…`` in one of the package's ``_test.go`` files."""
        for name in self.test_files:
            try:
                if _HAS_BENCH.search((self.dir / name).read_bytes()):
                    return True
            except OSError:
                continue
        return False


def build_env() -> dict[str, str]:
    """The environment of every ``go`` command benchpipe runs on the code under test: no credentials
    (:func:`benchpipe.core.credentials.for_build`)."""
    return credentials.for_build(os.environ)


def run_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a process that runs the code under test (``extra`` on top): no credentials, none
    of what only builds need (:func:`benchpipe.core.credentials.for_run`)."""
    return credentials.for_run({**os.environ, **(extra or {})})


def list_packages(target: Path, patterns: list[str]) -> list[Package]:
    """Packages matching ``patterns`` in the module at ``target`` (patterns that match nothing are
    dropped)."""
    require("go", "install Go from https://go.dev/dl")
    if not (target / "go.mod").exists():
        raise BenchpipeError(f"{target}: not a Go module (no go.mod)")
    fmt = '{{.ImportPath}}\t{{.Dir}}\t{{join .TestGoFiles ","}}\t{{join .XTestGoFiles ","}}\t{{.Name}}'
    p = subprocess.run(
        ["go", "list", "-e", "-f", fmt, *patterns],
        cwd=target,
        capture_output=True,
        text=True,
        env=build_env(),
    )
    if p.returncode != 0:
        first = (p.stderr.strip().splitlines() or ["go list failed"])[0]
        raise BenchpipeError(f"go list {' '.join(patterns)}: {first}")
    pkgs = []
    for line in p.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 5 and parts[1]:
            files = [f for f in (parts[2] + "," + parts[3]).split(",") if f]
            pkgs.append(Package(parts[0], Path(parts[1]), files, parts[4]))
    return pkgs


def resolve_packages(target: Path, patterns: list[str] | None) -> tuple[list[Package], list[str], str]:
    """Packages with benchmarks for ``patterns``; patterns matching no package fall back to ``./...``.

    Returns the packages, the patterns used and a note when the fallback applied.
    """
    pats = list(patterns or DEFAULT_PATTERNS)
    note = ""
    pkgs = list_packages(target, pats)
    if not pkgs and pats != DEFAULT_PATTERNS:
        note = f"no package matches {' '.join(pats)} in {target}: benchmarking ./... instead"
        pats = list(DEFAULT_PATTERNS)
        pkgs = list_packages(target, pats)
    if not pkgs:
        raise NothingToCompare(f"no Go package matches {' '.join(pats)} in {target}")
    return [p for p in pkgs if p.has_tests and p.has_benchmarks], pats, note


def module_path(target: Path) -> str:
    """The module path of the Go module in ``target`` (``go list -m``)."""
    p = subprocess.run(["go", "list", "-m"], cwd=target, capture_output=True, text=True, env=build_env())
    return p.stdout.strip().splitlines()[0] if p.returncode == 0 and p.stdout.strip() else ""


def source_fingerprint(target: Path) -> dict[str, Any]:
    """SHA-256 over the module's Go sources (``*.go``, ``go.mod``, ``go.sum``: relative path and content,
    in path order; hidden directories skipped): what DVC's lock records of the code that ran, wherever
    the target is (a ``--target`` elsewhere, or the repository root itself)."""
    import hashlib

    h = hashlib.sha256()
    files = 0
    for d, dirs, names in os.walk(target):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        for n in sorted(names):
            if n.endswith(".go") or n in ("go.mod", "go.sum"):
                f = Path(d) / n
                h.update(str(f.relative_to(target)).encode() + b"\0")
                h.update(f.read_bytes())
                files += 1
    return {"sha256": h.hexdigest(), "files": files}


def build_test_binary(
    pkg: Package,
    target: Path,
    out: Path,
    log: Callable[[str], None] | None = None,
    trimpath: bool = False,
    coverpkg: str = "",
) -> float:
    """``go test -c`` one package; returns the build time in seconds. ``trimpath``: without the checkout's
    directory in the binary (``-trimpath``), so two checkouts of the same code build the same bytes.
    ``coverpkg``: with coverage counters (set mode) in the packages it matches."""
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    cover = ["-cover", "-covermode=set", f"-coverpkg={coverpkg}"] if coverpkg else []
    p = subprocess.run(
        [
            "go",
            "test",
            "-c",
            *(["-trimpath"] if trimpath else []),
            *cover,
            "-o",
            str(out.resolve()),
            pkg.import_path,
        ],
        cwd=target,
        capture_output=True,
        text=True,
        env=build_env(),
    )
    if log:
        log(p.stdout + p.stderr)
    if p.returncode != 0:
        raise _build_error(p.stderr, pkg.import_path)
    return time.monotonic() - t0


def _build_error(stderr: str, default_pkg: str) -> BenchpipeError:
    """One line for a failed ``go test -c``: the package Go names (``# pkg``) and Go's first error line."""
    failing = next(
        (ln[2:].split()[0] for ln in stderr.splitlines() if ln.startswith("# ") and ln[2:].split()),
        default_pkg,
    )
    lines = [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("#")]
    return BenchpipeError(f"build failed for {failing}: {lines[0] if lines else 'build failed'}")


def _binary_name(pkg: Package) -> str:
    """The file ``go test -c -o DIR/`` writes for a package: ``<package name>.test``."""
    name = pkg.name if pkg.name and pkg.name != "main" else pkg.import_path.rsplit("/", 1)[-1]
    return name + ".test"


def build_test_binaries(
    pkgs: list[Package],
    target: Path,
    out_dir: Path,
    log: Callable[[str], None] | None = None,
    strip: bool = True,
    ran: list[list[str]] | None = None,
) -> tuple[list[Path], float]:
    """Build several packages' test binaries into ``out_dir``; (binary per package, build seconds).

    One ``go test -c -o DIR/ PKG...`` per batch of packages with distinct binary
    names (Go builds a batch in parallel, with its cache), linked as ``go test``
    links test binaries (``-s -w``: no symbol table or DWARF, which benchmarks
    never read; ``strip=False`` keeps them, for tools that name functions). A failure names the package and
    Go's first error line. Each ``go test -c`` argv is appended to ``ran``.
    """
    t0 = time.monotonic()
    batches: list[list[Package]] = []
    for pkg in pkgs:
        batch = next((b for b in batches if all(_binary_name(x) != _binary_name(pkg) for x in b)), None)
        if batch is None:
            batches.append(batch := [])
        batch.append(pkg)
    where: dict[str, Path] = {}
    for i, batch in enumerate(batches):
        d = out_dir / f"batch{i}"
        d.mkdir(parents=True, exist_ok=True)
        argv = build_argv([x.import_path for x in batch], str(d.resolve()) + os.sep, strip)
        if ran is not None:
            ran.append(argv)
        p = subprocess.run(
            argv,
            cwd=target,
            capture_output=True,
            text=True,
            env=build_env(),
        )
        if log:
            log(p.stdout + p.stderr)
        if p.returncode != 0:
            raise _build_error(p.stderr, batch[0].import_path)
        for x in batch:
            where[x.import_path] = d / _binary_name(x)
    missing = [x.import_path for x in pkgs if not where[x.import_path].exists()]
    if missing:
        raise BenchpipeError(f"build failed for {missing[0]}: go test -c wrote no test binary")
    return [where[x.import_path] for x in pkgs], time.monotonic() - t0


# Go's selection by a -bench pattern lives in core.selection (one matcher for every mode, the report and the
# history); these names stay here for the drivers that build runs from it.
names_regex, split_levels, selects_top = selection.names_regex, selection.split_levels, selection.selects_top
restrict, name_pattern = selection.restrict, selection.name_pattern


class RunKind(Enum):
    """How a result runs again (:class:`RunRule`); the value is how the artifacts and the report say it."""

    FIXED_N = "fixed b.N"
    PARALLEL = "time: RunParallel"
    CHECKED = (
        "time"  # a fixed-b.N run measured apart from go test's: at a time benchtime (the reason in ``why``)
    )
    AS_GIVEN = "as given"


@dataclass(frozen=True)
class RunRule:
    """How one benchmark result runs again, outside the bench stage: the one rule every mode uses.

    A result runs at its fixed b.N (``Nx``: no ramp-up, the same work on both sides, B/op amortised
    over the same N), except a ``b.RunParallel`` result: Go sizes RunParallel's grain of iterations from
    the previous run of the benchmark, and at ``Nx`` the only previous run is the b.N=1 probe, so every
    goroutine would contend on one counter for each iteration (a 2 ns operation measures 7-28 ns). It
    runs at a time benchtime, as ``go test`` runs it."""

    benchtime: str  # the -test.benchtime given to the binary
    kind: RunKind
    why: str = ""  # CHECKED: what the check run measured

    @property
    def fixed(self) -> bool:
        return self.kind is RunKind.FIXED_N

    @property
    def how(self) -> str:
        """As the artifacts say it: ``fixed b.N``, ``time: RunParallel``, ``time: <why>``, ``as given``."""
        return f"{self.kind.value}: {self.why}" if self.why else self.kind.value

    def describe(self) -> str:
        return f"{self.benchtime} ({self.how})"


def run_rule(bt: str, iters: int | None = None, parallel: bool = False) -> RunRule:
    """The :class:`RunRule` of a result measured at ``iters`` iterations (None: not measured yet) whose mode
    runs at ``bt`` (a time, or the user's own ``Nx``, which stands for every shape)."""
    if benchtime.parse(bt).fixed or not iters:
        return RunRule(bt, RunKind.AS_GIVEN)
    if parallel:
        return RunRule(bt, RunKind.PARALLEL)
    return RunRule(str(benchtime.iterations(iters)), RunKind.FIXED_N)


FIXED_N_TOLERANCE = 1.5  # a result whose ns/op at its fixed b.N is this far from its time benchtime's


def checked_rule(rule: RunRule, bt: str, fixed_ns: float, time_ns: float) -> RunRule:
    """``rule`` after one run at it: a fixed-b.N result whose ns/op differs from its ns/op at a time benchtime
    by more than :data:`FIXED_N_TOLERANCE` either way is not measured as go test measures it (state its
    benchmark carries from one run to the next, such as a buffer grown by Go's ramp-up runs, or a
    RunParallel the source scan did not find), so it runs at the time benchtime ``bt`` too."""
    if not rule.fixed or fixed_ns <= 0 or time_ns <= 0:
        return rule
    if 1 / FIXED_N_TOLERANCE <= fixed_ns / time_ns <= FIXED_N_TOLERANCE:
        return rule
    return RunRule(
        bt, RunKind.CHECKED, f"{fixed_ns:.4g} ns/op at {rule.benchtime} vs {time_ns:.4g} at a time benchtime"
    )


GO_DEFAULT_BENCHTIME = "1s"  # what go test runs a benchmark for without -benchtime
PARALLEL_TOLERANCE = 0.10  # a RunParallel result whose ns/op at a short time is this far from go test's


def parallel_agrees(short_ns: float, long_ns: float) -> bool:
    """A RunParallel result's ns/op at a short time agrees with go test's at its own time (within
    :data:`PARALLEL_TOLERANCE`, or either unknown). At a short time RunParallel can measure apart from go
    test: its iterations are handed to the goroutines in grains sized from the previous run, and at 100 ms
    the goroutines' start-up and a coarser last grain weigh more."""
    return short_ns <= 0 or long_ns <= 0 or abs(short_ns / long_ns - 1) <= PARALLEL_TOLERANCE


def bench_args(
    bench: str,
    count: int,
    bt: str,
    cpu: str = "",
    *,
    timeout: str,
    benchmem: bool = True,
    skip: str = "",
    iters: int | None = None,
    parallel: bool = False,
    framing: bool = True,
    extra: tuple[str, ...] = (),
) -> list[str]:
    """Test-binary flags for a benchmark run: the ``-test.`` forms of ``go test``'s flags, with test2json
    framing (``framing``; a run under valgrind reads plain output). The one builder of every run's flags: the
    bench stage, paired rounds, confirmation, profiling (:func:`profile_flags` in ``extra``) and instruction
    counts.

    With ``iters`` (a result's measured b.N), :func:`run_rule` decides the benchtime it runs at."""
    bt = run_rule(bt, iters, parallel).benchtime
    args = [
        "-test.run=^$",
        f"-test.bench={bench}",
        *(["-test.v=test2json"] if framing else []),
        f"-test.count={int(count)}",
        f"-test.benchtime={bt}",
        f"-test.timeout={timeout}",
    ]
    if benchmem:
        args.append("-test.benchmem")
    if cpu:
        args.append(f"-test.cpu={cpu}")
    if skip:
        args.append(f"-test.skip={skip}")
    return args + list(extra)


def profile_flags(
    cpu: Path | None = None, mem: Path | None = None, memrate: int | None = None, trace: Path | None = None
) -> tuple[str, ...]:
    """The profiling flags of a run (``extra`` of :func:`bench_args`)."""
    out = [f"-test.cpuprofile={cpu}"] if cpu else []
    if mem:
        out += [
            f"-test.memprofile={mem}",
            *([f"-test.memprofilerate={memrate}"] if memrate is not None else []),
        ]
    return tuple(out + ([f"-test.trace={trace}"] if trace else []))


def go_test_command(args: list[str], packages: list[str]) -> list[str]:
    """The ``go test`` command line that runs what the test-binary flags ``args`` run (for people: the report
    and the artifacts say it), from the same flags: ``-test.X=V`` is ``-X V``; test2json framing is
    benchpipe's."""
    out = ["go", "test"]
    for a in args:
        flag, _, value = a.removeprefix("-test.").partition("=")
        if flag == "v":
            continue
        out += [f"-{flag}", value] if value else [f"-{flag}"]
    return out + packages


def affected_packages(module: Path, files: list[str]) -> set[str] | None:
    """The module's packages (``module``: a checkout of it) that a change of ``files`` (paths relative to
    the module's directory) can affect: those whose files, or whose in-module dependencies' files (test
    imports included), are among them; None means all (go.mod or go.sum changed)."""
    if any(Path(f).name in ("go.mod", "go.sum") for f in files):
        return None
    module_root = module.resolve()
    changed = {Path(f).parent for f in files}
    fmt = '{{.ImportPath}}\t{{.Dir}}\t{{join .Deps " "}} {{join .TestImports " "}} {{join .XTestImports " "}}'
    p = subprocess.run(
        ["go", "list", "-f", fmt, "./..."], cwd=module, capture_output=True, text=True, env=build_env()
    )
    if p.returncode != 0:
        raise BenchpipeError(f"go list -deps failed: {(p.stderr.strip().splitlines() or ['?'])[0]}")
    dirs: dict[str, Path] = {}
    deps: dict[str, set[str]] = {}
    for line in p.stdout.splitlines():
        path, d, dl = (line.split("\t") + ["", ""])[:3]
        dirs[path] = Path(d).resolve().relative_to(module_root)
        deps[path] = set(dl.split())
    affected = set()
    for pkg, pdir in dirs.items():
        closure = {pkg} | deps[pkg]
        for d in list(deps[pkg]):
            closure |= deps.get(d, set())
        if any(dirs[d] in changed for d in closure if d in dirs) or pdir in changed:
            affected.add(pkg)
    return affected


def build_argv(import_paths: list[str], out: str, strip: bool = True) -> list[str]:
    """The ``go test -c`` that builds test binaries into ``out`` (a directory ending in a separator), linked
    as ``go test`` links them (``-s -w``) unless ``strip`` is false (tools that name functions)."""
    return ["go", "test", "-c", *(["-ldflags=-s -w"] if strip else []), "-o", out, *import_paths]


def list_benchmarks(binary: Path, pkg: Package, regex: str) -> list[str]:
    """Top-level benchmark names of a test binary that ``go test -bench regex`` would start (its first level
    matches them)."""
    res = run_binary(binary, pkg.dir, ["-test.list", "^Benchmark"], hard_timeout=120)
    if res.returncode != 0:
        raise BenchpipeError(
            f"cannot list benchmarks of {pkg.import_path}: "
            + diagnose(res.output, pkg.import_path, res.returncode)
        )
    return [
        n.strip()
        for n in res.output.splitlines()
        if n.startswith("Benchmark") and selects_top(regex, n.strip())
    ]


def _die_with_parent() -> None:
    """In the child: get SIGKILL when benchpipe dies, so no benchmark outlives an interrupted run (Linux;
    elsewhere :func:`run_binary` kills it on exit or interrupt: :mod:`benchpipe.core.portable`)."""
    if not portable.linux_calls():
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Hung(BenchpipeError):
    """A test binary ran past its hard time limit and was killed."""


@dataclass
class Stall:
    """A benchmark process that made no CPU progress for ``seconds``; where it was blocked."""

    benchmark: str  # the benchmark that was running (test2json framing), e.g. "BenchmarkX/sub"
    seconds: float
    where: str  # "blocked in chan send at pkg/file.go:12 (pkg.(*T).Method)", or "" if not found
    dump: str  # the goroutine dump Go printed on SIGQUIT

    def describe(self, name: str, context: str = "") -> str:
        """ "<name> stalled<context> (no CPU progress for Ns), blocked in ... at file:line"."""
        return f"{name} stalled{context} (no CPU progress for {self.seconds:g}s)" + (
            f", {self.where}" if self.where else ""
        )


@dataclass
class RunResult:
    returncode: int
    output: str
    maxrss_kb: int
    wall: float
    started: list[str]  # benchmarks in the order they started (test2json "=== RUN" lines)
    stall: Stall | None = None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and its reaped children (psutil: Linux, macOS, ...), or None."""
    try:
        t = psutil.Process(pid).cpu_times()
    except (psutil.Error, OSError):
        return None
    return t.user + t.system + t.children_user + t.children_system


class _Progress:
    """No progress: less than 2% of one core (at least 0.05 s) of CPU over the last ``window`` seconds."""

    def __init__(self, window: float) -> None:
        self.window = window
        self.samples: list[tuple[float, float]] = []

    def stalled(self, now: float, cpu: float | None) -> bool:
        if self.window <= 0 or cpu is None:
            return False
        self.samples.append((now, cpu))
        old = [s for s in self.samples if s[0] <= now - self.window]
        if not old:
            return False
        self.samples = self.samples[len(old) - 1 :]
        return cpu - old[-1][1] < max(0.05, 0.02 * self.window)


class _Stream:
    """A test binary's output as it arrives: its text (UTF-8, a multi-byte character split across reads
    kept whole), passed on to ``sink`` without the test2json framing, and the benchmarks it starts
    (test2json's ``=== RUN`` lines; top-level ones reported to ``on_bench``)."""

    def __init__(self, sink: Callable[[str], None] | None, on_bench: Callable[[str], None] | None) -> None:
        self.sink, self.on_bench = sink, on_bench
        self.chunks: list[str] = []
        self.partial = ""
        self.pending = b""
        self.started: list[str] = []

    def feed(self, data: bytes) -> None:
        self.pending += data
        try:
            text = self.pending.decode("utf-8")
            self.pending = b""
        except UnicodeDecodeError:  # keep an incomplete multi-byte sequence for the next read
            cut = max(len(self.pending) - 3, 0)
            text = self.pending[:cut].decode("utf-8", "replace")
            self.pending = self.pending[cut:]
        self.chunks.append(text)
        if self.sink:
            self.sink(text.replace(FRAMING, ""))
        lines = (self.partial + text).split("\n")
        self.partial = lines[-1]
        for ln in lines[:-1]:
            if ln.startswith(FRAMING + "=== RUN"):
                name = ln.split(maxsplit=2)[-1].strip()
                self.started.append(name)
                if self.on_bench and "/" not in name:
                    self.on_bench(name)

    def text(self) -> str:
        if self.pending:
            self.chunks.append(self.pending.decode("utf-8", "replace"))
            self.pending = b""
        return "".join(self.chunks)


def binary_argv(binary: Path, args: list[str]) -> list[str]:
    """The argv :func:`run_binary` starts a test binary with (what the artifacts record as its command)."""
    return [str(binary.resolve()), *args]


def _watch(
    proc: subprocess.Popen[bytes], stream: _Stream, t0: float, hard_timeout: float, stall_s: float, name: str
) -> Stall | None:
    """Read a running binary's output into ``stream`` until it ends: killed past ``hard_timeout``
    (:class:`Hung`), sent SIGQUIT when it makes no CPU progress for ``stall_s`` (the :class:`Stall` returned;
    killed when it has not ended 15 s later)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    progress_ = _Progress(stall_s)
    stall: Stall | None = None
    quit_at = 0.0
    while True:
        now = time.monotonic()
        remaining = hard_timeout - (now - t0)
        if remaining <= 0 or (quit_at and now - quit_at > 15):
            proc.kill()
            if not quit_at:
                raise Hung(f"{name}: killed after {hard_timeout:.0f}s")
        if not quit_at and progress_.stalled(now, cpu_seconds(proc.pid)):
            stall = Stall(stream.started[-1] if stream.started else "", stall_s, "", "")
            quit_at = now
            proc.send_signal(signal.SIGQUIT)
        ready, _, _ = select.select([fd], [], [], max(0.0, min(remaining, 1.0)))
        if not ready:
            continue
        data = os.read(fd, 65536)
        if not data:
            return stall
        stream.feed(data)


def run_binary(
    binary: Path,
    cwd: Path,
    args: list[str],
    sink: Callable[[str], None] | None = None,
    on_bench: Callable[[str], None] | None = None,
    hard_timeout: float = 3600,
    env: dict[str, str] | None = None,
    stall_s: float = 0,
) -> RunResult:
    """Run a test binary, streaming its output; report each benchmark as it starts.

    With ``stall_s`` > 0, a process without CPU progress for that long gets
    SIGQUIT; the result then carries a :class:`Stall` (the returncode is Go's 2).
    """
    t0 = time.monotonic()
    proc = subprocess.Popen(
        binary_argv(binary, args),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=credentials.for_run(os.environ if env is None else env),
        preexec_fn=_die_with_parent,
    )
    stream = _Stream(sink, on_bench)
    try:
        stall = _watch(proc, stream, t0, hard_timeout, stall_s, binary.name)
        _, status, rusage = os.wait4(proc.pid, 0)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    output, started = stream.text(), stream.started
    if stall is not None:
        root = cwd_module(cwd)
        b = goroutines.blocked(output, root)
        stall.where = b.describe(root) if b else ""
        stall.dump = output
    return RunResult(
        proc.returncode, output, portable.maxrss_kb(rusage.ru_maxrss), time.monotonic() - t0, started, stall
    )


def cwd_module(d: Path) -> Path:
    """The root of the Go module holding directory ``d`` (the nearest go.mod), else ``d``."""
    for p in [d, *d.resolve().parents]:
        if (p / "go.mod").exists():
            return p
    return d


def split_output(output: str) -> str:
    """The benchfmt text of a test2json-framed run: Go's header lines (``goos:``,
    ``goarch:``, ``pkg:``, ``cpu:``, printed before the first benchmark), every
    whole result line and ``PASS``. Everything else (the code's own output)
    reaches the log through :func:`run_binary`'s sink."""
    bench: list[str] = []
    first_run = False
    for ln in output.splitlines():
        if ln.startswith(FRAMING):
            first_run = True
            if ln == FRAMING + "PASS":
                bench.append("PASS")
            continue
        if ln.startswith("Benchmark"):
            if isinstance(benchfmt.parse_result(ln), tuple):
                bench.append(ln)
            continue
        if not first_run and ln.split(":", 1)[0] in ("goos", "goarch", "pkg", "cpu") and ": " in ln:
            bench.append(ln)
    return "".join(x + "\n" for x in bench)


def _fail_detail(lines: list[str], at: int) -> str:
    """What a benchmark's ``b.Fatal``/``b.Error`` said: the first ``file.go:N: message`` line of its run (Go
    prints them before ``--- FAIL``), else the line after ``--- FAIL`` when it is not Go's bare ``FAIL``."""
    start = next((j for j in range(at - 1, -1, -1) if lines[j].lstrip().startswith("=== RUN")), -1)
    for ln in lines[start + 1 : at]:
        if re.match(r"\s+[\w./-]+\.go:\d+: ", ln):
            return ln.strip()
    after = lines[at + 1].strip() if at + 1 < len(lines) else ""
    return "" if after in ("FAIL", "") else after


def diagnose(output: str, pkg: str, returncode: int, root: Path | None = None) -> str:
    """One line naming why a test binary failed (with ``root``, where a deadlocked benchmark waits)."""
    output = output.replace(FRAMING, "")
    lines = output.splitlines()
    fatal = [ln[len("fatal error: ") :] for ln in lines if ln.startswith("fatal error: ")]
    if fatal:
        b = goroutines.blocked(output, root) if root else None
        where = f" in {b.benchmark}: {b.describe(root)}" if b and root else ""
        return f"{pkg}: fatal error: {fatal[0]}{where}"
    # A panic may follow a benchmark's name on the same line ("BenchmarkX-2 \tpanic: ...").
    panics = [m.group(1).strip() for ln in lines if (m := re.search(r"(?:^|\s)panic: (.*)", ln))]
    for msg in panics:
        if msg.startswith("test timed out"):
            return f"{pkg}: benchmark hit the -timeout ({msg.split('after', 1)[-1].strip()})"
    if panics:
        return f"{pkg}: benchmark panicked: {panics[0]}"
    for i, ln in enumerate(lines):
        if "--- FAIL:" in ln:
            name = ln.split("--- FAIL:", 1)[1].split()[0]
            return f"{pkg}: {name} failed" + (f": {detail}" if (detail := _fail_detail(lines, i)) else "")
    if returncode < 0:
        return f"{pkg}: test binary killed by signal {-returncode}"
    return f"{pkg}: test binary exited with status {returncode}"


def progress(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()
