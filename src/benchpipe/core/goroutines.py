"""Read a Go goroutine dump (SIGQUIT, or ``fatal error: all goroutines are asleep``)
and say where a stalled benchmark is blocked.

A dump is blocks separated by blank lines; each starts with a header
``goroutine N [gp=… m=…] [<wait reason>[, N minutes]]:`` followed by frames,
two lines each: ``pkg.Func(args)`` and ``\\t/path/file.go:LINE +0x…``, and may end
with ``created by …`` (see the runtime's traceback.go). The benchmark's
goroutine is the one whose stack holds the ``Benchmark…`` function called
from ``testing.(*B).runN``; for ``b.RunParallel`` benchmarks the workers are
goroutines created by ``testing.(*B).RunParallel``. The place to report is the
innermost frame whose file lies inside the user's module, with the wait
reason (``chan send``, ``select``, ``sync.Mutex.Lock``, ``semacquire`` ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_HEADER = re.compile(r"^goroutine (\d+)(?: gp=\S+)?(?: m=\S+)?(?: mp=\S+)? \[([^\]]*)\]:?$")
_FILE = re.compile(r"^\t(.+\.go):(\d+)(?: |$)")
_BENCH_FUNC = re.compile(r"\.(Benchmark\w*)")


@dataclass(frozen=True)
class Frame:
    function: str
    file: str
    line: int


@dataclass(frozen=True)
class Goroutine:
    id: int
    state: str  # the wait reason, e.g. "chan send" (", 2 minutes" removed)
    frames: tuple[Frame, ...]  # innermost first
    created_by: str


@dataclass(frozen=True)
class Blocked:
    """Where the benchmark waits: its goroutine's state and innermost frame in the module."""

    state: str
    frame: Frame
    benchmark: str

    def describe(self, root: Path) -> str:
        try:
            rel = str(Path(self.frame.file).resolve().relative_to(root.resolve()))
        except ValueError:
            rel = self.frame.file
        func = self.frame.function.rsplit("/", 1)[-1]
        return f"blocked in {self.state} at {rel}:{self.frame.line} ({func})"


def parse(dump: str) -> list[Goroutine]:
    """Every goroutine block in ``dump`` (text around it is ignored)."""
    out: list[Goroutine] = []
    lines = dump.splitlines()
    i = 0
    while i < len(lines):
        m = _HEADER.match(lines[i].strip("\x16"))
        if not m:
            i += 1
            continue
        gid, state = int(m.group(1)), m.group(2).split(",")[0].strip()
        frames: list[Frame] = []
        created = ""
        i += 1
        while i < len(lines) and lines[i].strip():
            ln = lines[i]
            if ln.startswith("created by "):
                created = ln[len("created by ") :].split(" in goroutine")[0].strip()
                i += 2
                continue
            fm = _FILE.match(lines[i + 1]) if i + 1 < len(lines) else None
            if fm and not ln.startswith("\t"):
                frames.append(
                    Frame(ln.rsplit("(", 1)[0] if ln.endswith(")") else ln, fm.group(1), int(fm.group(2)))
                )
                i += 2
                continue
            i += 1
        out.append(Goroutine(gid, state, tuple(frames), created))
    return out


def _in_module(f: Frame, root: Path) -> bool:
    try:
        Path(f.file).resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def blocked(dump: str, root: Path) -> Blocked | None:
    """Where the benchmark running when the dump was taken is blocked, or None if no frame is found."""
    gs = parse(dump)

    def bench_name(g: Goroutine) -> str:
        for f in g.frames:
            m = _BENCH_FUNC.search(f.function)
            if m and "testing." not in f.function:
                return m.group(1)
        return ""

    bench = [
        g for g in gs if bench_name(g) and any(f.function.startswith("testing.(*B).runN") for f in g.frames)
    ]
    workers = [g for g in gs if g.created_by.startswith("testing.(*B).RunParallel")]
    for g in bench + workers:
        own = [f for f in g.frames if _in_module(f, root)]
        if not own:
            continue
        # The benchmark goroutine of a RunParallel benchmark waits for its workers: report a worker.
        if (
            g in bench
            and workers
            and g.frames
            and g.frames[0].function.startswith(("sync.", "runtime."))
            and any(f.function.startswith("testing.(*B).RunParallel") for f in g.frames)
        ):
            continue
        return Blocked(g.state or "running", own[0], bench_name(g) or (bench_name(bench[0]) if bench else ""))
    return None
