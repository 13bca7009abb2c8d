"""Impact selection: which benchmarks a change can make slower, from what each one executes.

A :class:`CoverageMap` says, for one commit, which functions of the module each top-level benchmark executes
(Go coverage of one run at a small b.N, blocks resolved to declarations by Go's own source positions:
:mod:`benchpipe.go.coverage`). A :class:`Change` is one file of a diff with its declarations on both sides
and the lines the diff touches on each (:mod:`benchpipe.revisions.impact` gathers them). :func:`select`
keeps a benchmark when

- it executes a function the diff changes (a method by its receiver type, a closure as its enclosing
  function, a function's ``//go:`` directives as part of it), or a removed one;
- it is new or its own source changed (any change to a package's test files selects that package's
  benchmarks: helpers, ``TestMain`` and test-only ``init`` are not in the coverage);

and runs everything, with the reason, when the diff touches what coverage cannot see: ``go.mod`` /
``go.sum``, a build constraint or a file's package clause, cgo, assembly or other non-Go sources, files
that may be embedded or read (any non-Go file but documentation), ``//go:generate`` / ``//go:embed``
lines, package-level ``var`` / ``const`` / ``init``, a type's declaration (its fields are its layout), a
method added or removed (a method set decides which interfaces a type satisfies), a side-effect import, a
Go file that does not parse, and a map older than the allowed age. The rules are conservative by design:
the promise is to never skip a benchmark a full run would flag; speed comes second.

Pure: the callers bring the declarations, the hunks and the map.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import msgspec

# Files no benchmark compiles or reads: changing them selects nothing.
DOC_SUFFIXES = (".md", ".markdown", ".rst", ".adoc")
DOC_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS", "CONTRIBUTORS", "CODEOWNERS", "PATENTS")
DOC_DIRS = (".github", ".gitlab", ".dvc", "reports")
DOC_FILES = (".gitignore", ".gitattributes", ".gitlab-ci.yml", ".dvcignore", "dvc.lock", ".golangci.yml")
ASSEMBLY = (".s", ".S", ".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".m", ".f", ".F", ".swig", ".syso")


class Decl(msgspec.Struct, frozen=True):
    """A top-level declaration: ``kind`` func, method, init, var, const, type or import; ``name`` F, T.M
    (the receiver's type without ``*`` or type parameters), a type's name, an import's path."""

    kind: str
    name: str
    start: int
    end: int
    blank: bool = False  # an import for its side effects (``_`` or ``.``)


class FileDecls(msgspec.Struct, frozen=True):
    """One Go file's declarations and the facts about it that coverage cannot see."""

    file: str  # relative to the module's directory
    package: str = ""
    header: int = 0  # the package clause's line (build constraints are above it)
    constraint: bool = False  # it has a build constraint
    cgo: bool = False
    embed: bool = False
    generate: bool = False
    generated: bool = False
    decls: list[Decl] = []
    error: str = ""


class CoverageMap(msgspec.Struct, kw_only=True):
    """What each top-level benchmark executes, at one commit: ``"<import path> <BenchmarkName>"`` ->
    function ids (``<import path>.<F or T.M>``)."""

    commit: str
    module: str  # the module path
    target: str = ""  # the module's directory in its repository ("" or "." at its top)
    benchtime: str = ""  # what each benchmark ran at to be covered
    seconds: float = 0.0  # what building the map cost
    benchmarks: dict[str, list[str]] = {}
    failed: dict[str, str] = {}  # benchmarks whose covered run failed (selected whenever their package is)


class Change(msgspec.Struct, kw_only=True):
    """One file of a diff: its path (relative to the module), its status (A, M or D), the old and the new
    lines it touches ([first, last], inclusive), and the declarations of each side (None: that side has no
    such file or it is not Go)."""

    path: str
    status: str = "M"
    old_lines: list[tuple[int, int]] = []
    new_lines: list[tuple[int, int]] = []
    old: FileDecls | None = None
    new: FileDecls | None = None
    nested: str = ""  # the directory of the nested module (its own go.mod) the file lies in


class Skipped(msgspec.Struct, frozen=True):
    benchmark: str  # "<import path> <BenchmarkName>"
    reason: str


class Selection(msgspec.Struct, kw_only=True):
    """What to run: ``run_all`` with its reasons, or the ``selected`` benchmarks (each with why) and the
    ``skipped`` ones (each with why not). A benchmark the map does not know runs. The JSON's ``impact``."""

    map_commit: str = ""
    map_note: str = ""  # which map, and how far it is from the merge base
    run_all: list[str] = []  # reasons to run everything (empty: selection applies)
    fallback: str = ""  # "package": no map; the packages the diff affects run (the reason)
    selected: dict[str, str] = {}  # "<import path> <BenchmarkName>" -> why
    skipped: list[Skipped] = []
    skipped_packages: list[str] = []  # packages none of whose benchmarks run (not built)
    changed_functions: list[str] = []
    map_seconds: float = 0.0  # what building a missing map cost this run (0: a stored one was used)

    def kept(self, results: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Of (package, top-level benchmark) pairs, in order, those that run."""
        if self.run_all:
            return list(results)
        skipped = {s.benchmark for s in self.skipped}
        return [r for r in results if key(*r) not in skipped]


def key(pkg: str, bench: str) -> str:
    return f"{pkg} {bench}"


def import_path(module: str, file: str) -> str:
    """The import path of the package ``file`` (relative to the module's directory) belongs to."""
    parent = str(PurePosixPath(file).parent)
    return module if parent in ("", ".") else f"{module}/{parent}"


def is_doc(path: str) -> bool:
    p = PurePosixPath(path)
    return (
        p.suffix.lower() in DOC_SUFFIXES
        or p.name in DOC_FILES
        or p.name.split(".")[0].upper() in DOC_NAMES
        or p.parts[0] in DOC_DIRS
    )


def _hits(decls: FileDecls, lines: list[tuple[int, int]]) -> tuple[list[Decl], bool]:
    """The declarations the line ranges touch, and whether any touches what decides how the file builds: its
    package clause, or the lines above it when the file has a build constraint."""
    hit = [d for d in decls.decls if any(a <= d.end and d.start <= b for a, b in lines)]
    clause = any(a <= decls.header <= b for a, b in lines)
    return hit, clause or (decls.constraint and any(a <= decls.header for a, _ in lines))


def function_at(decls: FileDecls, line: int) -> Decl | None:
    """The function or method whose lines hold ``line`` (a coverage block's first line)."""
    for d in decls.decls:
        if d.kind in ("func", "method", "init") and d.start <= line <= d.end:
            return d
    return None


def _methods(d: FileDecls | None) -> set[str]:
    return {x.name for x in d.decls if x.kind == "method"} if d is not None else set()


def _file_reason(c: Change) -> str | None:
    """Why a changed file runs everything by what it is and where it lies ("" : it selects nothing; None: its
    declarations decide)."""
    name, parts = PurePosixPath(c.path).name, PurePosixPath(c.path).parts[:-1]
    if name in ("go.mod", "go.sum", "go.work", "go.work.sum"):
        return f"{c.path} changed (dependencies, the Go version)"
    if PurePosixPath(c.path).suffix in ASSEMBLY:
        return f"{c.path} changed (assembly or cgo source: coverage does not see it)"
    if c.nested:
        return f"{c.path} changed, in the nested module {c.nested} (a replace directive may use it)"
    if "vendor" in parts:
        return f"{c.path} changed (vendored code: coverage is not taken there)"
    data = any(p == "testdata" or p[:1] in "._" for p in parts)  # directories the go command leaves out
    if not c.path.endswith(".go") or data:
        return "" if is_doc(c.path) else f"{c.path} changed (a file a benchmark may embed or read)"
    for d in (c.old, c.new):
        if d is not None and d.error:
            return f"{c.path} does not parse ({d.error})"
        if d is not None and d.cgo and not name.endswith("_test.go"):
            return f"{c.path} changed and uses cgo"
    return None


def _reasons(c: Change, module: str) -> tuple[list[str], set[str], set[str]]:
    """What one changed file asks: reasons to run everything, changed function ids, and packages whose
    benchmarks all run (their test code changed)."""
    if (why := _file_reason(c)) is not None:
        return [why] if why else [], set(), set()
    pkg = import_path(module, c.path)
    if c.path.endswith("_test.go"):
        return [], set(), {pkg}
    sides = [(d, lines) for d, lines in ((c.old, c.old_lines), (c.new, c.new_lines)) if d is not None]
    all_reasons: list[str] = []
    funcs: set[str] = set()
    for d, lines in sides:
        hit, header = _hits(d, [(1, 10**9)] if c.status in ("A", "D") else lines)  # A, D: the whole file
        if header and c.status == "M":
            all_reasons.append(f"{c.path}: its build constraints or package clause changed")
        for x in hit:
            if x.kind in ("func", "method"):
                funcs.add(f"{pkg}.{x.name}")
            elif x.kind == "import":
                if x.blank:
                    all_reasons.append(f"{c.path}: side-effect import {x.name} changed")
            elif x.kind == "type":
                all_reasons.append(f"{c.path}: type {x.name} changed (its fields are its layout)")
            else:
                what = "init" if x.kind == "init" else f"package-level {x.kind} {x.name}"
                all_reasons.append(f"{c.path}: {what} changed")
        if (d.embed or d.generate) and hit and not all_reasons:
            all_reasons.append(f"{c.path}: a file with //go:embed or //go:generate changed")
    old, new = _methods(c.old), _methods(c.new)
    if added := sorted(new - old):
        all_reasons.append(f"{c.path}: method {added[0]} added (the type's method set changed)")
    if removed := sorted(old - new):
        all_reasons.append(f"{c.path}: method {removed[0]} removed (the type's method set changed)")
    return all_reasons, funcs, set()


def select(
    changes: list[Change],
    cmap: CoverageMap,
    benchmarks: list[tuple[str, str]],
) -> Selection:
    """The selection among ``benchmarks`` (import path, top-level name) under a diff of ``changes`` from the
    map's commit. A benchmark the head side has and ``benchmarks`` does not is new: it runs (only skipped
    ones do not)."""
    sel = Selection(map_commit=cmap.commit)
    funcs: set[str] = set()
    whole: set[str] = set()
    for c in changes:
        reasons, f, pkgs = _reasons(c, cmap.module)
        sel.run_all += [r for r in reasons if r not in sel.run_all]
        funcs |= f
        whole |= pkgs
    sel.changed_functions = sorted(funcs)
    for pkg, name in benchmarks:
        k = key(pkg, name)
        executed = cmap.benchmarks.get(k)
        if pkg in whole:
            sel.selected[k] = "its package's test code changed"
        elif k in cmap.failed:
            sel.selected[k] = f"its covered run failed: {cmap.failed[k]}"
        elif executed is None:
            sel.selected[k] = "new since the map (not covered)"
        elif hits := sorted(funcs.intersection(executed)):
            sel.selected[k] = (
                "executes " + ", ".join(hits[:3]) + (f" (+{len(hits) - 3})" if len(hits) > 3 else "")
            )
        else:
            sel.skipped.append(Skipped(k, "executes none of the changed functions"))
    if sel.run_all:
        sel.selected, sel.skipped = {}, []
        return sel
    kept = {k.split(" ", 1)[0] for k in sel.selected} | whole
    sel.skipped_packages = sorted({s.benchmark.split(" ", 1)[0] for s in sel.skipped} - kept)
    return sel
