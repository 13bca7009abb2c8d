"""The Benchmark health section: the compare stage's findings, measurement overhead from the profiles,
and benchmarks unstable across recent runs of the history."""

from __future__ import annotations

import msgspec

from benchpipe.core import health
from benchpipe.core.artifacts import CompareDoc, ProfileDoc


def _row(f: health.Finding) -> dict[str, str]:
    return {**msgspec.structs.asdict(f), "name": f.benchmark + (f" {f.unit}" if f.unit else "")}


def health_rows(doc: CompareDoc, prof: ProfileDoc) -> list[dict[str, str]]:
    found = list(doc.health)
    harness = {(p.package, p.benchmark): p.cpu.harness_pct if p.cpu else 0.0 for p in prof.benchmarks}
    return [_row(f) for f in found + health.from_profiles(harness)]


def history_rows(centers: dict[str, list[float]], threshold: float) -> list[dict[str, str]]:
    """Benchmarks whose ns/op median moved between recent runs (``centers``: the last runs' medians)."""
    return [_row(f) for f in health.from_history(centers, "ns/op", threshold)]
