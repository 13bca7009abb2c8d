"""Where a pipeline run's time goes, per process: each ``benchpipe`` stage DVC starts appends its own wall
time (from the process's start, interpreter and imports included) to the file ``BENCHPIPE_TIMES`` names;
``benchpipe pipeline`` reads them back to print the split (stages, ``go test`` inside them, and DVC itself:
the rest).

The contract: one JSON object per line, ``{"cmd": str, "s": float, "how": str}`` (``how``: "" for a process
of its own, ``fork`` for a stage forked from the pipeline's process, ``early`` for one forked before DVC
started: :mod:`benchpipe.cli.stagefork`); a missing or unreadable file is no timings (the split then says
only the total)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

ENV = "BENCHPIPE_TIMES"
_IMPORTED = time.monotonic()


def since_start() -> float:
    """Seconds since this process started (Linux's /proc; elsewhere since this module was imported)."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORTED


def record(cmd: str, how: str = "") -> None:
    """Append this process's wall time under ``cmd`` when ``BENCHPIPE_TIMES`` names a file."""
    where = os.environ.get(ENV)
    if not where:
        return
    try:
        with open(where, "a", encoding="utf-8") as f:
            f.write(json.dumps({"cmd": cmd, "s": round(since_start(), 3), "how": how}) + "\n")
    except OSError:
        pass


def read(path: Path) -> list[tuple[str, float, str]]:
    """The (command, seconds, how) lines of a timings file, in order; [] when there are none."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            d = json.loads(line)
            out.append((str(d["cmd"]), float(d["s"]), str(d.get("how", ""))))
        except (ValueError, KeyError, TypeError):
            continue
    return out
