"""Drive the Go toolchain: list packages, build test binaries, run benchmarks.

Benchmarks run from a test binary built once with ``go test -c`` and started
in the package's directory, exactly as ``go test`` does; this separates build
time from run time, measures the peak RSS of the benchmark process itself
(``wait4``), and lets paired comparisons start the same binary many times.
No command line is ever built as a shell string.
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
from pathlib import Path

from .errors import BenchpipeError, NothingToCompare
from .meta import require


@dataclass
class Package:
    import_path: str
    dir: Path
    has_tests: bool


def list_packages(target: Path, patterns: list[str]) -> list[Package]:
    require("go", "install Go from https://go.dev/dl")
    if not (target / "go.mod").exists():
        raise BenchpipeError(f"{target}: not a Go module (no go.mod)")
    fmt = "{{.ImportPath}}\t{{.Dir}}\t{{len .TestGoFiles}}\t{{len .XTestGoFiles}}"
    p = subprocess.run(["go", "list", "-e", "-f", fmt, *patterns], cwd=target, capture_output=True, text=True)
    if p.returncode != 0:
        first = (p.stderr.strip().splitlines() or ["go list failed"])[0]
        raise BenchpipeError(f"go list {' '.join(patterns)}: {first}")
    pkgs = []
    for line in p.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            pkgs.append(Package(parts[0], Path(parts[1]), int(parts[2]) + int(parts[3]) > 0))
    if not pkgs:
        raise NothingToCompare(f"no Go package matches {' '.join(patterns)} in {target}")
    return pkgs


def module_path(target: Path) -> str:
    """The module path of the Go module in ``target`` (``go list -m``)."""
    p = subprocess.run(["go", "list", "-m"], cwd=target, capture_output=True, text=True)
    return p.stdout.strip().splitlines()[0] if p.returncode == 0 and p.stdout.strip() else ""


def build_test_binary(pkg: Package, target: Path, out: Path, log: Callable[[str], None] | None = None) -> float:
    """``go test -c`` one package; returns the build time in seconds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    p = subprocess.run(["go", "test", "-c", "-o", str(out.resolve()), pkg.import_path], cwd=target,
                       capture_output=True, text=True)
    if log:
        log(p.stdout + p.stderr)
    if p.returncode != 0:
        lines = [ln for ln in p.stderr.splitlines() if ln.strip() and not ln.startswith("#")]
        first = lines[0] if lines else "build failed"
        raise BenchpipeError(f"build failed for {pkg.import_path}: {first}")
    return time.monotonic() - t0


def _die_with_parent() -> None:
    """In the child: get SIGKILL when benchpipe dies, so no benchmark outlives an interrupted run."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Hung(BenchpipeError):
    """A test binary ran past its hard time limit and was killed."""


@dataclass
class RunResult:
    returncode: int
    output: str
    maxrss_kb: int
    wall: float


def run_binary(binary: Path, cwd: Path, args: list[str], sink: Callable[[str], None] | None = None,
               on_bench: Callable[[str], None] | None = None, hard_timeout: float = 3600,
               env: dict[str, str] | None = None) -> RunResult:
    """Run a test binary, streaming its output; report each benchmark as it starts."""
    t0 = time.monotonic()
    proc = subprocess.Popen([str(binary.resolve()), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, preexec_fn=_die_with_parent)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    chunks: list[str] = []
    partial = ""
    decoder_buf = b""
    try:
        while True:
            remaining = hard_timeout - (time.monotonic() - t0)
            if remaining <= 0:
                proc.kill()
                raise Hung(f"{binary.name}: killed after {hard_timeout:.0f}s")
            ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
            if not ready:
                continue
            data = os.read(fd, 65536)
            if not data:
                break
            decoder_buf += data
            try:
                text = decoder_buf.decode("utf-8")
                decoder_buf = b""
            except UnicodeDecodeError:
                # keep an incomplete multi-byte sequence for the next read
                cut = max(len(decoder_buf) - 3, 0)
                text = decoder_buf[:cut].decode("utf-8", "replace")
                decoder_buf = decoder_buf[cut:]
            chunks.append(text)
            if sink:
                sink(text)
            partial += text
            lines = partial.split("\n")
            partial = lines[-1]
            if on_bench and partial.startswith("Benchmark") and "\t" in partial:
                on_bench(partial.split()[0])
                partial = partial.replace("\t", " ", 1)  # announce once
        _, status, rusage = os.wait4(proc.pid, 0)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if decoder_buf:
        chunks.append(decoder_buf.decode("utf-8", "replace"))
    proc.returncode = os.waitstatus_to_exitcode(status)
    return RunResult(proc.returncode, "".join(chunks), rusage.ru_maxrss, time.monotonic() - t0)


def diagnose(output: str, pkg: str, returncode: int) -> str:
    """One line naming why a test binary failed."""
    lines = output.splitlines()
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
            detail = lines[i + 1].strip() if i + 1 < len(lines) else ""
            return f"{pkg}: {name} failed" + (f": {detail}" if detail else "")
    if returncode < 0:
        return f"{pkg}: test binary killed by signal {-returncode}"
    return f"{pkg}: test binary exited with status {returncode}"


def progress(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()
