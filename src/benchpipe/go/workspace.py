"""The Go modules of a directory and the packages of a module that hold benchmarks, for ``benchpipe init``.

A directory with a ``go.work`` lists the modules its ``use`` directives name; else a directory with a
``go.mod`` is one module; else every ``go.mod`` below it (``vendor``, ``testdata`` and hidden
directories apart, at most :data:`MAX_DEPTH` levels down). Read from the files, without the Go toolchain.
"""

from __future__ import annotations

import re
from pathlib import Path

MAX_DEPTH = 4
_SKIP = {"vendor", "testdata", "node_modules"}
_USE = re.compile(r"^\s*use\s+(?:\(\s*([^)]*)\)|(\S+))", re.M)
_BENCH = re.compile(r"^func\s+Benchmark\w*\s*\(\s*\w+\s+\*testing\.B\s*\)", re.M)


def _work_uses(gowork: Path) -> list[Path]:
    out = []
    text = re.sub(r"//[^\n]*", "", gowork.read_text(errors="replace"))
    for block, single in _USE.findall(text):
        for d in block.split() if block else [single]:
            out.append((gowork.parent / d.strip('"')).resolve())
    return out


def _below(directory: Path, depth: int) -> list[Path]:
    if (directory / "go.mod").is_file():
        return [directory]
    if depth >= MAX_DEPTH:
        return []
    out: list[Path] = []
    for d in sorted(p for p in directory.iterdir() if p.is_dir()):
        if d.name in _SKIP or d.name.startswith((".", "_")):
            continue
        out += _below(d, depth + 1)
    return out


def modules(directory: Path) -> list[Path]:
    """The module directories of ``directory`` (absolute), as go.work, go.mod or the tree says."""
    directory = directory.resolve()
    if (directory / "go.work").is_file():
        return [m for m in _work_uses(directory / "go.work") if (m / "go.mod").is_file()]
    return _below(directory, 0)


def _nested(module: Path, rel: Path) -> bool:
    """Whether the directory ``rel`` of ``module`` belongs to a module nested inside it."""
    return any((module / Path(*rel.parts[:i]) / "go.mod").is_file() for i in range(1, len(rel.parts) + 1))


def bench_packages(module: Path) -> list[str]:
    """The module's package directories with a ``Benchmark`` function, as patterns (``.``, ``./pkg/x``)."""
    out = set()
    for f in module.rglob("*_test.go"):
        rel = f.parent.relative_to(module)
        if any(p in _SKIP or p.startswith((".", "_")) for p in rel.parts) or _nested(module, rel):
            continue
        try:
            if _BENCH.search(f.read_text(errors="replace")):
                out.add("." if rel == Path(".") else f"./{rel.as_posix()}")
        except OSError:
            continue
    return sorted(out)
