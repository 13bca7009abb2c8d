"""Splitting a benchmark suite across machines: ``--shard K/N``.

The units are top-level benchmarks (package, name) weighted by their last recorded duration, or whole
packages when nothing is recorded (weight: their number of benchmarks). :func:`plan` assigns them
greedily, heaviest first, each to the least loaded shard (ties: the lower shard; equal weights: by
name), which is deterministic on every machine and keeps the slowest shard near total/N whenever no
single unit outweighs a shard's share (longest-processing-time-first: at most 4/3 of the optimum).
"""

from __future__ import annotations

import re
from typing import TypeVar

from benchpipe.core.errors import BenchpipeError

K = TypeVar("K")


def parse(spec: str) -> tuple[int, int]:
    """``"2/3"`` -> (2, 3); one line naming the problem otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:/|of)\s*(\d+)\s*", spec)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise BenchpipeError(f"--shard {spec!r}: expected K/N with 1 <= K <= N, e.g. 2/3")
    return int(m.group(1)), int(m.group(2))


def plan(weights: dict[K, float], n: int) -> list[list[K]]:
    """The units of each of ``n`` shards (sorted), balanced by weight."""
    loads = [0.0] * n
    out: list[list[K]] = [[] for _ in range(n)]
    for key, w in sorted(weights.items(), key=lambda kw: (-kw[1], str(kw[0]))):
        i = min(range(n), key=lambda j: (loads[j], j))
        out[i].append(key)
        loads[i] += w
    return [sorted(part, key=str) for part in out]


def part(spec: str, weights: dict[K, float]) -> list[K]:
    """Shard ``spec``'s (K/N) units: the one planning rule of the bench stage (top-level benchmarks by
    recorded duration, else packages by their number of benchmarks) and of paired compares (packages, equal
    weights: a pull request's job has no history)."""
    k, n = parse(spec)
    return plan(weights, n)[k - 1]


def suffix(spec: str) -> str:
    """The shard as it names history objects: ``2of3``."""
    k, n = parse(spec)
    return f"{k}of{n}"
