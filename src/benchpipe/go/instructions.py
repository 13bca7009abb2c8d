"""Instructions per op under valgrind: the deterministic measure (``--measure instructions``).

Contract: :func:`measure` runs one benchmark result of a built test binary under valgrind's cachegrind
(``--cache-sim=no``: the instruction count only) at two b.N values, N1 and N2, and returns
(instructions at N2 - instructions at N1) / (N2 - N1). Everything outside the benchmark loop (process
start-up, the b.N=1 probe, the benchmark's setup, ``testing``'s bookkeeping) is the same in both runs and
cancels; what is left is the loop's own instructions, counted by a CPU simulator, so a shared noisy machine
gives the same number every time (the runtime's background work leaves a residue of about 0.03% at the
default budget). N2 - N1 is chosen so that the difference is about ``budget`` instructions
(:data:`BUDGET`, about a second of valgrind per run), from probe runs 100, 1000, ... ops longer than N1.

A count proves itself before it is judged exactly (:func:`prove`): a third b.N must give the same per-op
count, and so must a second count run from another directory path; a result that fails either carries
why (``PerOp.unproven``) and is never judged exactly (a paired row is inconclusive; the bench stage leaves
it out, with a note).

The runs are made deterministic by the environment (:data:`ENV`): no GC cycles (``GOGC=off``, with a
memory limit as a safety net), one P (``GOMAXPROCS=1``, ``-test.cpu=1``: a ``b.RunParallel`` benchmark runs
its body on one goroutine, and valgrind serialises threads anyway), no asynchronous preemption, and no
memory-profile sampling (its random intervals walk stacks). The per-function self counts of the same runs
(cachegrind's ``fn=`` records, divided the same way) say where the instructions went.

Instruction counts miss what wall time sees: cache misses, branch mispredictions, memory bandwidth,
contention, syscalls and the GC's work. Where valgrind is missing or cannot run (it has no macOS on Apple
silicon port), :func:`require` is one line and exit 2: there is never a silent fallback to wall time.
"""

from __future__ import annotations

import functools
import math
import platform
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchpipe.core.errors import BenchpipeError
from benchpipe.core.units import INSTRUCTIONS
from benchpipe.go import toolchain

UNIT = INSTRUCTIONS
ENV = {
    "GOGC": "off",
    "GOMEMLIMIT": "4GiB",
    "GOMAXPROCS": "1",
    "GODEBUG": "asyncpreemptoff=1,memprofilerate=0",
}
BUDGET = 200_000_000  # instructions between the two runs: ~1 s of cachegrind; residue ~0.03% of it
N1 = 10  # the short run: past the b.N=1 probe, cheap
PROBE_OPS = 100  # the first estimate: a run this many ops longer than N1 (x10 until it differs by PROBE_MIN)
PROBE_MIN = 2_000_000  # instructions: 40x the residue of the runtime's background work
CAVEAT = (
    "instruction counts (valgrind, GOMAXPROCS=1, GOGC=off) miss cache misses, branch mispredictions, "
    "memory bandwidth, contention, syscalls and the GC's work: a change only wall time shows is the "
    "wall-time verdict's to find"
)
REPRODUCE_PCT = 0.5  # a count's proofs must agree within this (the residue is ~0.03%: 15x headroom)
PARALLEL_NOTE = "b.RunParallel results run their body on one goroutine under valgrind (GOMAXPROCS=1)"


@functools.cache
def require() -> str:
    """The valgrind executable, or one line (exit 2) saying why the instruction measure cannot run here."""
    system, machine = platform.system(), platform.machine().lower()
    if system == "Darwin" and machine in ("arm64", "aarch64"):
        raise BenchpipeError(
            "--measure instructions needs valgrind, which does not run on macOS on Apple silicon; "
            "run it on Linux (CI) or use --measure time"
        )
    if system not in ("Linux", "Darwin", "FreeBSD"):
        raise BenchpipeError(f"--measure instructions needs valgrind, which does not run on {system}")
    exe = shutil.which("valgrind")
    if not exe:
        raise BenchpipeError(
            "--measure instructions needs valgrind, which is not installed "
            "(Debian/Ubuntu: apt-get install valgrind); or use --measure time"
        )
    return exe


@dataclass
class Count:
    """One run under cachegrind: its b.N, the process's instructions, and each function's own."""

    n: int
    total: int
    functions: dict[str, int] = field(default_factory=dict)
    where: dict[str, tuple[str, int]] = field(
        default_factory=dict
    )  # function -> (source file, first line counted)
    lines: dict[tuple[str, int], int] = field(default_factory=dict)  # (source file, line) -> instructions
    output: str = ""  # what the test binary printed (its benchmark lines)


@dataclass
class PerOp:
    """One result's instructions per op, the two runs it rests on, and each function's own per op."""

    name: str  # as go test prints it at -test.cpu=1 (no -N suffix)
    value: float
    n1: int
    n2: int
    functions: dict[str, float] = field(default_factory=dict)
    where: dict[str, tuple[str, int]] = field(default_factory=dict)
    lines: dict[tuple[str, int], float] = field(
        default_factory=dict
    )  # per op, by source line (inlining apart)
    unproven: str = ""  # why the count did not reproduce (:func:`prove`): not to be judged exactly


def read_cachegrind(path: Path) -> Count:
    """A cachegrind output file: total Ir, self Ir per function (symbol: inlined code counts in its caller),
    each function's source file and first counted line, and Ir per source line (the inlined code's own)."""
    funcs: dict[str, int] = {}
    lines: dict[tuple[str, int], int] = {}
    where: dict[str, tuple[str, int]] = {}
    fl = fn = ""
    total = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line[:1].isdigit():
                parts = line.split()
                if len(parts) >= 2:
                    funcs[fn] = funcs.get(fn, 0) + int(parts[1])
                    at = int(parts[0])
                    lines[(fl, at)] = lines.get((fl, at), 0) + int(parts[1])
                    if at and (fn not in where or at < where[fn][1]):
                        where[fn] = (fl, at)
            elif line.startswith("fn="):
                fn = line[3:].rstrip("\n")
            elif line.startswith("fl="):
                fl = line[3:].rstrip("\n")
            elif line.startswith("summary:"):
                total = int(line.split()[1])
    if total is None:
        raise BenchpipeError(f"{path}: cachegrind wrote no summary")
    return Count(0, total, funcs, where, lines)


def count(
    binary: Path,
    cwd: Path,
    name: str,
    n: int,
    timeout: str,
    scratch: Path,
    ran: list[list[str]] | None = None,
) -> Count:
    """Run result ``name`` (full name, no -N suffix) at b.N = ``n`` under cachegrind (its argv appended to
    ``ran``)."""
    out = scratch / f"cg-{n}.out"
    args = [
        "--tool=cachegrind",
        "--cache-sim=no",
        f"--cachegrind-out-file={out}",
        str(binary.resolve()),
        *toolchain.bench_args(
            toolchain.name_pattern(name), 1, f"{n}x", "1", timeout=timeout, benchmem=False, framing=False
        ),
    ]
    argv = [require(), "-q", *args]
    if ran is not None:
        ran.append(argv)
    env = {**_base_env(), **ENV, "PWD": str(cwd)}  # the directory as the process sees it (os.Getwd)
    p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env)
    if p.returncode != 0 or not out.exists():
        first = next((ln for ln in (p.stdout + p.stderr).splitlines() if ln.strip()), "no output")
        raise BenchpipeError(f"{name}: the run under valgrind failed (exit {p.returncode}): {first}")
    if "\nBenchmark" not in "\n" + p.stdout and not p.stdout.startswith("Benchmark"):
        raise BenchpipeError(f"{name}: no result under valgrind (selected by {toolchain.name_pattern(name)})")
    got = read_cachegrind(out)
    out.unlink()
    got.n, got.output = n, p.stdout
    return got


def _base_env() -> dict[str, str]:
    return {
        k: v
        for k, v in toolchain.run_env().items()
        if not k.startswith(("GOGC", "GOMAXPROCS", "GODEBUG", "GOMEMLIMIT"))
    }


def per_op(a: Count, b: Count) -> tuple[float, dict[str, float]]:
    """Instructions per op between two runs, and each function's own (those that changed)."""
    dn = b.n - a.n
    funcs = {f: (b.functions.get(f, 0) - v) / dn for f, v in a.functions.items()}
    funcs.update({f: v / dn for f, v in b.functions.items() if f not in a.functions})
    return (b.total - a.total) / dn, {f: v for f, v in funcs.items() if abs(v) >= 0.005}


def second_n(estimate: float, budget: int) -> int:
    """N2 for a result of ``estimate`` instructions per op: about ``budget`` instructions past N1 (at least
    the probe), rounded up to 1, 2 or 5 times a power of ten, so that a small wobble of the estimate gives the
    same N2 (and the same count: amortised costs depend on N) on every run."""
    want = max(PROBE_OPS, math.ceil(budget / max(estimate, 1.0)))
    power = 10 ** (len(str(want)) - 1)
    return N1 + next(m * power for m in (1, 2, 5, 10) if m * power >= want)


def measure(
    binary: Path,
    cwd: Path,
    name: str,
    timeout: str = "10m",
    budget: int = BUDGET,
    ran: list[list[str]] | None = None,
) -> PerOp:
    """One result's instructions per op (see the module's contract); each run's argv is appended to
    ``ran``."""
    with tempfile.TemporaryDirectory(prefix="benchpipe-vg-") as tmp:
        a = count(binary, cwd, name, N1, timeout, Path(tmp), ran)
        ops = PROBE_OPS
        while True:  # longer probes until the difference stands clear of the residue
            b = count(binary, cwd, name, N1 + ops, timeout, Path(tmp), ran)
            if b.total - a.total >= PROBE_MIN or ops >= budget:
                break
            ops *= 10
        n2 = second_n((b.total - a.total) / ops, budget)
        if n2 > b.n:
            b = count(binary, cwd, name, n2, timeout, Path(tmp), ran)
        value, funcs = per_op(a, b)
        unproven = prove(binary, cwd, name, timeout, Path(tmp), a, b, value, ran)
    dn = b.n - a.n
    lines = {k: (v - a.lines.get(k, 0)) / dn for k, v in b.lines.items()}
    return PerOp(
        name,
        value,
        a.n,
        b.n,
        funcs,
        {f: w for f, w in b.where.items() if f in funcs},
        {k: v for k, v in lines.items() if abs(v) >= 0.005},
        unproven,
    )


def _agree(v: float, other: float) -> bool:
    return abs(other - v) <= max(abs(v) * REPRODUCE_PCT / 100, 1.0)


def prove(
    binary: Path,
    cwd: Path,
    name: str,
    timeout: str,
    scratch: Path,
    a: Count,
    b: Count,
    value: float,
    ran: list[list[str]] | None = None,
) -> str:
    """Why the count ``value`` (from runs ``a`` and ``b``) cannot be judged exactly, or "" when it proves
    itself: a third b.N halfway between gives the same per-op count (the cost is linear in b.N), and a
    second count at ``b``'s b.N, run from another directory path (a symlink to ``cwd``: another worktree's
    path changes the process's environment and stack the same way), gives it again. Work handed to another
    goroutine, or a cost that depends on b.N, fails one of them."""
    n3 = a.n + (b.n - a.n) // 2
    third = count(binary, cwd, name, n3, timeout, scratch, ran)
    v3 = (third.total - a.total) / (n3 - a.n)
    if not _agree(value, v3):
        return (
            f"not linear in b.N: {v3:,.1f} instructions/op at b.N {n3}, {value:,.1f} at b.N {b.n} "
            "(work done outside the loop's goroutine, or a cost that depends on b.N)"
        )
    elsewhere = scratch / ("d" * 64)
    elsewhere.symlink_to(cwd.resolve(), target_is_directory=True)
    again = count(binary, elsewhere, name, b.n, timeout, scratch, ran)
    v2 = (again.total - a.total) / (b.n - a.n)
    if not _agree(value, v2):
        return (
            f"not reproduced: a second count from another directory gives {v2:,.1f} instructions/op, "
            f"the first {value:,.1f} (work scheduled by time, not by the loop)"
        )
    return ""


def result_names(
    binary: Path, cwd: Path, pkg: str, bench: str, timeout: str, ran: list[list[str]] | None = None
) -> list[str]:
    """The full names of the results ``-bench`` selects in a package (one native run at b.N=1, -cpu 1; its
    argv appended to ``ran``)."""
    from benchpipe.core import benchfmt

    args = toolchain.bench_args(bench, 1, "1x", "1", timeout=timeout, benchmem=False)
    if ran is not None:
        ran.append(toolchain.binary_argv(binary, args))
    res = toolchain.run_binary(binary, cwd, args, hard_timeout=600)
    if res.returncode != 0:
        raise BenchpipeError(toolchain.diagnose(res.output, pkg, res.returncode))
    names = [r.name for r in benchfmt.read_text(toolchain.split_output(res.output)).results]
    return list(dict.fromkeys(names))


def declared(goos: str | None, goarch: str | None, cpu: str | None) -> str:
    """The header a counted run's benchfmt file carries: its machine, and the unit's metadata (exact,
    lower is better)."""
    return f"goos: {goos}\ngoarch: {goarch}\ncpu: {cpu}\nUnit {UNIT} assume=exact better=lower\n"


def line(r: PerOp) -> str:
    """The result as a benchfmt line (b.N is the longer run's)."""
    return f"{r.name}\t{r.n2}\t{r.value:.2f} {UNIT}\n"
