"""Are two runs comparable? The settings and environment that shape benchmark numbers.

Benchtime changes b.N, and b.N changes per-op cost (caches, GC, amortised
setup); the ``-cpu`` list and GOMAXPROCS change what parallel benchmarks
measure; ``-benchmem`` adds units; the Go version, platform and CPU model
change everything. A run records these (bench.json, and as benchfmt
configuration lines at the top of bench.txt, so files carry them too); two
runs whose recorded values differ are "not comparable" and the difference is
named. A value one side does not record is not a difference (old files).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchpipe.core.artifacts import BenchMeta

# (key, label): the benchfmt configuration key and how the difference is named.
SHAPING = [
    ("go", "Go version"),
    ("goos", "GOOS"),
    ("goarch", "GOARCH"),
    ("cpu", "CPU"),
    ("gomaxprocs", "GOMAXPROCS"),
    ("benchtime", "benchtime"),
    ("cpu-list", "-cpu list"),
    ("benchmem", "-benchmem"),
    ("measure", "measure"),
]


def from_meta(meta: BenchMeta) -> dict[str, str]:
    """The shaping settings of a run's metadata (bench.json / a baseline's meta.json)."""
    s = meta.settings
    out = {
        "benchtime": s.benchtime if s else None,
        "cpu-list": s.cpu if s else None,
        "benchmem": (True if s.benchmem is None else s.benchmem) if s else None,
        "gomaxprocs": meta.gomaxprocs,
        "go": meta.go_version,
        "goos": meta.goos,
        "goarch": meta.goarch,
        "cpu": meta.cpu,
        "measure": s.measure if s else None,
    }
    return {k: _text(v) for k, v in out.items() if v is not None}


def from_config(config: dict[str, str]) -> dict[str, str]:
    """The shaping settings a benchfmt file carries in its configuration lines."""
    return {k: v for k, v in config.items() if k in dict(SHAPING)}


def config_lines(meta: BenchMeta) -> str:
    """benchfmt configuration lines for a run's settings (Go prints goos, goarch and cpu itself)."""
    s = from_meta(meta)
    return "".join(f"{k}: {s[k]}\n" for k, _ in SHAPING if k in s and k not in ("goos", "goarch", "cpu"))


def differences(
    old: dict[str, str], new: dict[str, str], old_label: str = "baseline", new_label: str = "current"
) -> list[str]:
    """Each shaping setting both sides record with different values, named."""
    return [
        f"{label} differs: {old_label} {old[k]} vs {new_label} {new[k]}"
        for k, label in SHAPING
        if k in old and k in new and old[k] != new[k]
    ]


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    s = str(v)
    return s if s else "default"
