"""Read benchmarks' source: which ones time their setup in a ``b.N`` loop.

For each ``_test.go`` file of a package directory, every function with a
``*testing.B`` parameter is found with its body (brace matching that skips
strings, runes and comments). A function whose loop runs to ``b.N`` (``for
i := 0; i < b.N; i++``, ``for range b.N``) with statements before the loop
that cost something (a call or an allocation; not benchmark bookkeeping such
as ``b.ReportAllocs``, ``b.SetBytes``, ``b.Skip``...) and no ``b.ResetTimer`` /
``b.StartTimer`` between them times its setup. A ``Benchmark*`` function
inherits that from a helper it calls (``benchmarkX(b, ...)`` inside a
``b.Run``). Functions that use ``b.Loop`` are fine by construction.

:func:`parallel` names the benchmarks that call ``b.RunParallel``, directly or
through functions of the package they call: such results cannot run at a fixed
b.N (:func:`benchpipe.go.toolchain.run_rule`).

Reads files only; a file that cannot be read is skipped. The module's ``go``
directive decides whether ``b.Loop`` (Go 1.24+) is the fix to suggest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from benchpipe.core.health import Source

_FUNC = re.compile(r"^func\s+(\w+)\s*\(\s*(\w+)\s+\*testing\.B\s*\)\s*\{", re.M)
_BOOKKEEPING = re.compile(
    r"^(\w+)\.(ReportAllocs|SetBytes|Helper|Parallel|Skip\w*|Log\w*|Cleanup|ReportMetric|"
    r"StopTimer|SetParallelism)\("
)
_GO_DIRECTIVE = re.compile(r"^go\s+(\d+)\.(\d+)", re.M)
# Setup that costs something: a call (conversions and len/cap are not), or an allocation (make, new).
_CALL = re.compile(r"\b(?!(?:byte|rune|string|u?int\d*|float\d+|len|cap)\()[A-Za-z_][\w.]*\(")


def _body(text: str, start: int) -> tuple[str, int]:
    """The text of a function body whose opening brace is at ``start - 1``, and the index after it."""
    depth, i, n = 1, start, len(text)
    while i < n and depth:
        c = text[i]
        if c in "\"'`":
            end = text.find(c, i + 1) if c == "`" else _string_end(text, i)
            i = n if end < 0 else end + 1
            continue
        if text.startswith("//", i):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if text.startswith("/*", i):
            e = text.find("*/", i + 2)
            i = n if e < 0 else e + 2
            continue
        depth += c == "{"
        depth -= c == "}"
        i += 1
    return text[start : i - 1], i


def _string_end(text: str, i: int) -> int:
    q, j = text[i], i + 1
    while j < len(text) and text[j] != q and text[j] != "\n":
        j += 2 if text[j] == "\\" else 1
    return j


def _statements(body: str) -> list[str]:
    """Top-level lines of a body, without comments and blank lines, in order (nested blocks collapsed)."""
    out, depth = [], 0
    for raw in body.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if depth == 0:
            out.append(line)
        depth += line.count("{") - line.count("}")
        depth = max(depth, 0)
    return out


def timed_setup(body: str, b: str) -> tuple[str, bool]:
    """(the first timed setup statement before a b.N loop, whether the function has a b.N loop)."""
    loop = re.compile(rf"^for\b.*\b{re.escape(b)}\.N\b")
    setup = ""
    for st in _statements(body):
        if loop.search(st):
            return setup, True
        if re.search(rf"\b{re.escape(b)}\.(ResetTimer|StartTimer|Loop|RunParallel|Run)\(", st):
            return "", False
        if not setup and not _BOOKKEEPING.match(st) and _CALL.search(st):
            setup = st[:60]
    return "", False


def go_minor(module: Path) -> int:
    """The minor version of the module's ``go`` directive (0 when unknown)."""
    for d in [module, *module.parents]:
        f = d / "go.mod"
        if f.is_file():
            m = _GO_DIRECTIVE.search(f.read_text(errors="replace"))
            return int(m.group(2)) if m and m.group(1) == "1" else 0
    return 0


def _texts(directory: Path, pattern: str) -> Iterator[tuple[Path, str]]:
    """The files of a directory matching ``pattern``, in name order, with their text (unreadable ones
    skipped)."""
    for f in sorted(directory.glob(pattern)):
        try:
            yield f, f.read_text(errors="replace")
        except OSError:
            continue


def scan(package: str, directory: Path) -> list[Source]:
    """Benchmarks of one package directory that time setup in a b.N loop (directly or through a helper)."""
    funcs: dict[str, tuple[str, str, str]] = {}  # name -> (body, where, setup)
    for f, text in _texts(directory, "*_test.go"):
        for m in _FUNC.finditer(text):
            body, _ = _body(text, m.end())
            setup, has_loop = timed_setup(body, m.group(2))
            line = text.count("\n", 0, m.start()) + 1
            funcs[m.group(1)] = (body, f"{f.name}:{line}", setup if has_loop else "")
    b_loop = go_minor(directory) >= 24
    out = []
    for name, (body, where, setup) in funcs.items():
        if not name.startswith("Benchmark"):
            continue
        if not setup:  # a helper it calls may time its setup
            for helper, (_, hwhere, hsetup) in funcs.items():
                if hsetup and not helper.startswith("Benchmark") and re.search(rf"\b{helper}\(", body):
                    where, setup = hwhere, hsetup
                    break
        if setup:
            out.append(Source(package, name, where, setup, b_loop))
    return out


_ANY_FUNC = re.compile(r"^func\s+(?:\([^)]*\)\s*)?(\w+)\s*[\[(]", re.M)
_FUNC_VAR = re.compile(r"^var\s+(\w+)\s*=\s*func\s*\(", re.M)  # a package-level function value
_RUN_PARALLEL = re.compile(r"\.RunParallel\(")


def _functions(directory: Path) -> dict[str, str]:
    """Every top-level function (and method, and package-level function value: ``var f = func(...) {...}``) of
    a package directory's ``.go`` files: name -> its body (the braces after the signature's line; methods of
    one name share an entry)."""
    out: dict[str, str] = {}
    for _, text in _texts(directory, "*.go"):
        for m in [*_ANY_FUNC.finditer(text), *_FUNC_VAR.finditer(text)]:
            brace = _body_start(text, m.end())
            if brace >= 0:
                out[m.group(1)] = out.get(m.group(1), "") + _body(text, brace + 1)[0]
    return out


def _body_start(text: str, i: int) -> int:
    """The index of a function's opening brace, from just inside its first ``(`` or ``[`` (-1: none)."""
    depth = 1
    while i < len(text):
        c = text[i]
        depth += c in "(["
        depth -= c in ")]"
        if c == "{" and depth == 0:
            return i
        if c == "\n" and depth == 0 and text[i - 1] != ",":
            return -1  # a declaration without a body
        i += 1
    return -1


_FUNC_KEYWORD = re.compile(r"\bfunc\b\s*[\w(\[]")


def function_end(text: str, start_line: int) -> int:
    """The line of the closing brace of the function (or function literal) that starts on ``start_line``
    (1-based, as a profile's function table gives it); 0 when no function starts there."""
    lines = text.split("\n")
    if not 0 < start_line <= len(lines):
        return 0
    line = lines[start_line - 1]
    m = _FUNC_KEYWORD.search(line)
    if m is None or "//" in line[: m.start()]:
        return 0
    paren = text.find("(", sum(len(ln) + 1 for ln in lines[: start_line - 1]) + m.start())
    brace = _body_start(text, paren + 1) if paren >= 0 else -1
    if brace < 0:
        return 0
    _, after = _body(text, brace + 1)
    return text.count("\n", 0, after - 1) + 1


def function_spans(text: str) -> list[tuple[int, int]]:
    """The (first, last) lines of every top-level function of a Go source."""
    out = []
    for i, line in enumerate(text.split("\n"), 1):
        if line.startswith("func ") and (end := function_end(text, i)):
            out.append((i, end))
    return out


_DECL = re.compile(
    r"^func\s+(?:\(\s*\w*\s*(?P<ptr>\*?)\s*(?P<recv>\w+)(?:\[[^\]]*\])?\s*\)\s*)?(?P<name>\w+)"
)


def enclosing(spans: list[tuple[int, int]], lines: list[str], line: int) -> tuple[str, int] | None:
    """The function declared around ``line`` of a source (its :func:`function_spans` and its lines): its name
    as Go's symbols spell it after the package (``Name``, ``T.Name``, ``(*T).Name``) and its first line."""
    for start, end in spans:
        if start <= line <= end:
            m = _DECL.match(lines[start - 1])
            if not m:
                return None
            recv = m["recv"]
            name = (
                f"(*{recv}).{m['name']}"
                if recv and m["ptr"]
                else f"{recv}.{m['name']}"
                if recv
                else m["name"]
            )
            return name, start
    return None


def parallel(directory: Path) -> set[str]:
    """Top-level ``Benchmark*`` names of a package directory that call ``RunParallel``, in their own body
    (sub-benchmark closures included) or in a function of the package they call, at any depth."""
    funcs = _functions(directory)
    uses = {name for name, body in funcs.items() if _RUN_PARALLEL.search(body)}
    calls = {
        name: {g for g in funcs if g != name and re.search(rf"\b{re.escape(g)}\(", body)}
        for name, body in funcs.items()
    }
    changed = True
    while changed:
        more = {name for name, callees in calls.items() if name not in uses and callees & uses}
        uses |= more
        changed = bool(more)
    return {name for name in uses if name.startswith("Benchmark")}


def shapes(directory: Path) -> dict[str, str]:
    """Each top-level ``Benchmark*`` of a package directory and its shape, as the fidelity table names it:
    ``RunParallel``, ``family`` (sub-benchmarks), ``b.Loop``, ``SetBytes``, ``ReportMetric``, ``setup +
    ResetTimer``, or ``b.N loop``."""
    funcs, par = _functions(directory), parallel(directory)
    checks = [
        ("family", r"\.Run\("),
        ("b.Loop", r"\.Loop\(\)"),
        ("SetBytes", r"\.SetBytes\("),
        ("ReportMetric", r"\.ReportMetric\("),
        ("setup + ResetTimer", r"\.ResetTimer\("),
    ]
    out = {}
    for name, body in funcs.items():
        if name.startswith("Benchmark"):
            out[name] = (
                "RunParallel"
                if name in par
                else next((shape for shape, rx in checks if re.search(rx, body)), "b.N loop")
            )
    return out
