"""What each benchmark executes (Go coverage) and what each Go file declares (go/parser): the inputs of
impact selection (:mod:`benchpipe.core.impact`).

:func:`declarations` runs a small Go program shipped with benchpipe (``decls/decls.go``, built once per Go
version into the cache) that prints each file's top-level declarations with go/parser's positions, so a
coverage block or a diff hunk maps to a declaration by Go's own reading of the source, not a regex.

:func:`build_map` builds each package's test binary with coverage counters over the whole module
(``-cover -coverpkg=<module>/...``, cached by commit), runs each top-level benchmark once at a small b.N
(``-test.benchtime 10x``: Go runs b.N = 1, then 10) with ``-test.coverprofile``, and resolves every block
that ran to its function. A benchmark whose covered run fails is recorded as failed (selection then keeps
it). Coverage includes the setup before the timed loop: conservative, as selection wants.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from benchpipe.core import selection
from benchpipe.core.errors import BenchpipeError
from benchpipe.core.impact import CoverageMap, FileDecls, function_at, import_path, key
from benchpipe.go import machine, toolchain

SOURCE = Path(__file__).with_name("decls") / "decls.go"
BENCHTIME = "10x"  # b.N 1, then 10: paths taken only above b.N = 1 are seen
SKIP_DIRS = ("vendor", "testdata")


@functools.cache
def _tool(cache: Path) -> Path:
    """The declarations program, built once per source and Go version (and looked up once per process)."""
    src = SOURCE.read_bytes()
    digest = hashlib.sha256(src + machine.go_env()["go_version"].encode()).hexdigest()[:16]
    exe = cache / "tools" / f"decls-{digest}"
    if exe.exists():
        return exe
    exe.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="benchpipe-decls-") as tmp:
        (Path(tmp) / "decls.go").write_bytes(src)
        p = subprocess.run(
            ["go", "build", "-o", str(Path(tmp, "decls").resolve()), "decls.go"],
            cwd=tmp,
            capture_output=True,
            text=True,
            env={**toolchain.build_env(), "GO111MODULE": "on", "GOFLAGS": ""},
        )
        if p.returncode != 0:
            raise BenchpipeError(f"building benchpipe's declarations reader failed: {p.stderr.strip()[:200]}")
        _into_place(Path(tmp, "decls"), exe)
    return exe


def _into_place(built: Path, dest: Path) -> None:
    """Move a built file into the cache whole (a rename within the cache's file system)."""
    partial = dest.with_name(f".{dest.name}.{os.getpid()}")
    partial.write_bytes(built.read_bytes())
    partial.chmod(0o755)
    os.replace(partial, dest)


def declarations(root: Path, files: list[str], cache: Path) -> dict[str, FileDecls]:
    """Each Go file's declarations (``files`` relative to ``root``)."""
    out: dict[str, FileDecls] = {}
    exe = _tool(cache)
    for i in range(0, len(files), 500):
        p = subprocess.run([str(exe), str(root), *files[i : i + 500]], capture_output=True, text=True)
        if p.returncode != 0:
            raise BenchpipeError(f"reading declarations failed: {p.stderr.strip()[:200]}")
        for line in p.stdout.splitlines():
            d = msgspec.json.decode(line, type=FileDecls)
            out[d.file] = d
    return out


def go_files(module: Path) -> list[str]:
    """The module's non-test Go files, relative to it (vendor, testdata, hidden and ``_`` directories and
    nested modules left out, as the go command leaves them out)."""
    out = []
    for f in sorted(module.rglob("*.go")):
        rel = f.relative_to(module)
        parts = rel.parts[:-1]
        if f.name.endswith("_test.go") or any(p in SKIP_DIRS or p[:1] in "._" for p in parts):
            continue
        if any((module.joinpath(*parts[: i + 1]) / "go.mod").exists() for i in range(len(parts))):
            continue
        out.append(rel.as_posix())
    return out


def executed(profile: str, module: str, decls: dict[str, FileDecls]) -> set[str]:
    """Function ids (``<import path>.<F or T.M>``) with a block that ran, from a coverage profile's text."""
    by_file = {f"{module}/{rel}": d for rel, d in decls.items()}
    out: set[str] = set()
    for line in profile.splitlines()[1:]:
        try:
            where, _, count = line.rsplit(" ", 2)
            name, span = where.rsplit(":", 1)
            first = int(span.split(".", 1)[0])
        except ValueError:
            continue
        if count == "0" or (d := by_file.get(name)) is None:
            continue
        if (fn := function_at(d, first)) is not None:
            out.add(f"{import_path(module, d.file)}.{fn.name}")
    return out


def build_map(
    module: Path,
    patterns: list[str],
    bench_re: str,
    cache: Path,
    commit: str,
    timeout: str = "10m",
    log: Callable[[str], None] = toolchain.progress,
) -> CoverageMap:
    """The coverage map of the module checked out at ``module`` (its commit ``commit``: the covered binaries
    are cached under it; "" builds them in a temporary directory)."""
    t0 = time.monotonic()
    mpath = toolchain.module_path(module)
    if not mpath:
        raise BenchpipeError(f"{module}: not a Go module (go list -m failed)")
    decls = declarations(module, go_files(module), cache)
    pkgs, _, _ = toolchain.resolve_packages(module, patterns)
    cmap = CoverageMap(commit=commit, module=mpath, benchtime=BENCHTIME)
    with tempfile.TemporaryDirectory(prefix="benchpipe-cover-") as tmp:
        for pkg in pkgs:
            if commit:
                binary = (
                    cache
                    / "builds"
                    / f"{commit}-cover"
                    / f"{hashlib.sha256(pkg.import_path.encode()).hexdigest()[:16]}.test"
                )
            else:
                binary = Path(tmp) / f"{len(list(Path(tmp).iterdir()))}.test"
            if not binary.exists():
                log(f"impact: building {pkg.import_path} with coverage")
                built = Path(tmp) / "built.test"
                toolchain.build_test_binary(pkg, module, built, trimpath=True, coverpkg=f"{mpath}/...")
                binary.parent.mkdir(parents=True, exist_ok=True)
                _into_place(built, binary)
            names = toolchain.list_benchmarks(binary, pkg, bench_re)
            for name in names:
                prof = Path(tmp) / "cover.out"
                prof.unlink(missing_ok=True)
                args = toolchain.bench_args(
                    selection.name_pattern(name),
                    1,
                    BENCHTIME,
                    timeout=timeout,
                    framing=False,
                    extra=(f"-test.coverprofile={prof}",),
                )
                res = toolchain.run_binary(binary, pkg.dir, args, env=toolchain.run_env(), hard_timeout=600)
                k = key(pkg.import_path, name)
                if res.returncode != 0 or not prof.exists():
                    lines = [ln for ln in res.output.splitlines() if ln.strip()]
                    cmap.failed[k] = (lines[-1] if lines else f"exit {res.returncode}")[:200]
                    continue
                cmap.benchmarks[k] = sorted(executed(prof.read_text(), mpath, decls))
    cmap.seconds = round(time.monotonic() - t0, 2)
    log(f"impact: coverage of {len(cmap.benchmarks)} benchmarks in {cmap.seconds:.1f}s")
    return cmap


def dumps(cmap: CoverageMap) -> bytes:
    return json.dumps(msgspec.to_builtins(cmap), indent=1, sort_keys=True).encode()
