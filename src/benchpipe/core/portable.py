"""What differs between the systems Go developers benchmark on (Linux, macOS), in one place.

- **Linux-only calls** (``prctl(PR_SET_PDEATHSIG)``: a benchmark dies with benchpipe; ``renameat2
  (RENAME_EXCHANGE)``: a baseline is switched in one step) are used only where :func:`linux_calls` says.
  Elsewhere, and with ``BENCHPIPE_PORTABLE=1`` (how CI runs the fallbacks on Linux): a benchmark is killed
  when benchpipe exits or is interrupted, but not when benchpipe itself is SIGKILLed (weaker); a baseline
  is switched by two renames, and a save killed between them is put back whole by the next one (the same
  guarantee, in two steps).
- **Peak RSS** from ``wait4``'s ``ru_maxrss``: kilobytes on Linux, bytes on macOS (:func:`maxrss_kb`).
- **CPU time of a process** (the stall watch) comes from psutil on every system, not ``/proc``.
"""

from __future__ import annotations

import os
import sys


def system() -> str:
    """``linux``, ``darwin``, ...; ``BENCHPIPE_PORTABLE=1`` makes Linux take the other systems' paths."""
    if os.environ.get("BENCHPIPE_PORTABLE") == "1" and sys.platform.startswith("linux"):
        return "portable"
    return sys.platform


def linux_calls() -> bool:
    return system().startswith("linux")


def maxrss_kb(ru_maxrss: int, platform: str | None = None) -> int:
    """Peak RSS in KiB from ``ru_maxrss`` (bytes on macOS, KiB on Linux and the BSDs)."""
    return ru_maxrss // 1024 if (platform or sys.platform) == "darwin" else ru_maxrss
