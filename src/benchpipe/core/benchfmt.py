"""Reader for the Go benchmark format (benchfmt, proposal 14313) and ``go test -json``.

A file is a sequence of lines:

* result lines ``BenchmarkName-N <iters> <value> <unit> [<value> <unit>...]``;
* configuration lines ``key: value`` (lower-case key, no spaces; a space or
  tab after the colon) that apply to the results after them; ``key:`` with an
  empty value deletes the key;
* unit metadata ``Unit <unit> key=value ...`` (``better=``, ``assume=``);
* anything else (PASS, ok, logs) is ignored.

``go test -json`` events are recognised per line, not per file: a line that
parses as a JSON object with an ``Action`` is a test event, and the text of
``output`` events is concatenated per package and read as above; any other
line is text (a JSON log line the code under test printed is just a log line).

Code that logs while it is benchmarked splits plain ``go test -bench``
output: Go prints ``BenchmarkX-2   \t`` before running the benchmark, then the
code's lines, then the numbers on a line of their own. The reader joins such a
split result: a result name with no numbers is kept pending, and the next line
that is only numbers (``<iters> <value> <unit>...``) completes it; a pending
name that is never completed is reported as the malformed line it is.

Malformed lines never stop the reader: each becomes a ``file:line: message``
in :attr:`Parsed.errors` and the rest of the file is used. :func:`stream_file`
reads a file line by line and yields results one at a time (bounded memory).
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from math import isfinite
from pathlib import Path

from benchpipe.core.units import UnitInfo

_PROCS = re.compile(r"-(\d+)$")


@dataclass(slots=True)
class Result:
    """One result line."""

    name: str  # full name as in the input, e.g. "BenchmarkEvaluate-2"
    iters: int
    values: list[tuple[float, str]]
    config: dict[str, str]
    file: str
    line: int

    @property
    def base_name(self) -> str:
        """The name without the ``-N`` GOMAXPROCS suffix."""
        return base_name(self.name)

    @property
    def procs(self) -> int:
        return procs(self.name)

    @property
    def package(self) -> str:
        return self.config.get("pkg", "")


def base_name(name: str) -> str:
    """A result name without the ``-N`` GOMAXPROCS suffix."""
    return _PROCS.sub("", name)


def procs(name: str) -> int:
    """GOMAXPROCS from a result name's ``-N`` suffix (1 when absent)."""
    m = _PROCS.search(name)
    return int(m.group(1)) if m else 1


def top_level(name: str) -> str:
    """The top-level benchmark of a result name: no ``-N`` suffix, no sub-benchmark parts."""
    return _PROCS.sub("", name).split("/", 1)[0]


@dataclass
class Parsed:
    """Everything read from one or more files."""

    results: list[Result] = field(default_factory=list)
    units: dict[str, UnitInfo] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _is_config(line: str) -> tuple[str, str] | None:
    i = line.find(":")
    if i <= 0:
        return None
    key = line[:i]
    if not key[0].islower() or any(c.isspace() or c.isupper() for c in key):
        return None
    val = line[i + 1:]
    if val == "":
        return key, ""
    if val[0] not in " \t":
        return None
    return key, val.strip(" \t")


def parse_result(line: str) -> tuple[str, int, list[tuple[float, str]]] | str | None:
    """Parse a result line: a tuple, an error message, or None to skip."""
    fields = line.split()
    n = len(fields)
    if n >= 4 and not n % 2:  # fast path: a well-formed line
        try:
            iters = int(fields[1])
            values = [(float(fields[i]), fields[i + 1]) for i in range(2, n, 2)]
        except ValueError:
            pass
        else:
            if iters >= 0 and all(isfinite(v) for v, _ in values):
                return fields[0], iters, values
    return _diagnose_result(fields)


def _diagnose_result(fields: list[str]) -> tuple[str, int, list[tuple[float, str]]] | str | None:
    """The slow path of :func:`_parse_result`: say exactly what is wrong."""
    name = fields[0]
    if len(fields) == 1:
        return None  # a bare name, as `go test -v` prints before running
    try:
        iters = int(fields[1])
    except ValueError:
        return "parsing iteration count: invalid syntax"
    if iters < 0:
        return "parsing iteration count: negative"
    rest = fields[2:]
    if not rest:
        return "missing measurements"
    values: list[tuple[float, str]] = []
    for i in range(0, len(rest), 2):
        try:
            v = float(rest[i])
        except ValueError:
            return f"parsing measurement: invalid syntax {rest[i]!r}"
        if v != v or v in (float("inf"), float("-inf")):
            return f"parsing measurement: not a finite number {rest[i]!r}"
        if i + 1 >= len(rest):
            return "missing units"
        values.append((v, rest[i + 1]))
    return name, iters, values


def _numbered(path: str, raw_lines: Iterable[str], errors: list[str]) -> Iterator[tuple[int, str]]:
    """Numbered lines of benchmark text, decoding ``go test -json`` events line by line.

    One printed line may be split over several events; event text is joined
    per package and numbered by the event line where it began. A line that
    starts with ``{`` and is not a JSON object is text, unless it claims to be
    an event (mentions ``"Action"``) or events were already seen: then it is a
    malformed event and reported.
    """
    pending: dict[str, tuple[int, str]] = {}
    seen_events = False
    for n, raw in enumerate(raw_lines, 1):
        if raw.lstrip()[:1] != "{":
            yield n, raw
            continue
        try:
            ev = json.loads(raw)
        except ValueError:
            ev = None
        if not isinstance(ev, dict) or "Action" not in ev:
            if ev is None and (seen_events or '"Action"' in raw):
                errors.append(f"{path}:{n}: not a JSON test event")
            else:
                yield n, raw
            continue
        seen_events = True
        if ev.get("Action") != "output" or not isinstance(ev.get("Output"), str):
            continue
        pkg = str(ev.get("Package", ""))
        start, buf = pending.get(pkg, (n, ""))
        buf += ev["Output"]
        while "\n" in buf:
            line, buf = buf.split("\n", 1)
            yield start, line
            start = n
        pending[pkg] = (start if buf else n, buf)
    for start, buf in pending.values():
        if buf:
            yield start, buf


def iter_lines(path: str, data: str, errors: list[str]) -> Iterable[tuple[int, str]]:
    return _numbered(path, data.splitlines(), errors)


def read_text(data: str, path: str = "<input>", parsed: Parsed | None = None) -> Parsed:
    """Read benchmark text (benchfmt or go test -json) into ``parsed``.

    Results share one configuration dict until a configuration line changes
    it; treat ``Result.config`` as read-only.
    """
    out = parsed if parsed is not None else Parsed()
    was_enabled = gc.isenabled()
    gc.disable()  # many small acyclic objects: cyclic GC passes only cost time here
    try:
        out.results.extend(results(iter_lines(path, data, out.errors), path, out))
    finally:
        if was_enabled:
            gc.enable()
    return out


def stream_file(path: str | Path, out: Parsed) -> Iterator[Result]:
    """Results of a file, read line by line (bounded memory); errors and units go to ``out``."""
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        lines = (ln.rstrip("\n") for ln in f)
        yield from results(_numbered(str(path), lines, out.errors), str(path), out)


def _continuation(line: str) -> tuple[int, list[tuple[float, str]]] | None:
    """The numbers of a split result (``<iters> <value> <unit>...``), or None."""
    fields = line.split()
    n = len(fields)
    if n < 3 or not n % 2 or not fields[0].isdigit():
        return None
    try:
        values = [(float(fields[i]), fields[i + 1]) for i in range(1, n, 2)]
    except ValueError:
        return None
    if not all(isfinite(v) for v, _ in values) or any(u[:1].isdigit() for _, u in values):
        return None
    return int(fields[0]), values


def results(numbered: Iterable[tuple[int, str]], path: str, out: Parsed) -> Iterator[Result]:
    """The reader proper: results from numbered lines; errors and unit metadata go to ``out``."""
    config: dict[str, str] = {}
    errors = out.errors
    # A result name still waiting for its numbers: (name, line number, error if never completed).
    pending: tuple[str, int, str | None] | None = None
    for n, line in numbered:
        if line.startswith("Benchmark"):
            if pending and pending[2]:
                errors.append(f"{path}:{pending[1]}: {pending[2]}")
            pending = None
            r = parse_result(line)
            if r is None:
                pending = (line.split()[0], n, None)
                continue
            if isinstance(r, str):
                pending = (line.split()[0], n, r)
                continue
            yield Result(r[0], r[1], r[2], config, path, n)
            continue
        if pending is not None and line[:1] in " \t0123456789":
            rest = _continuation(line)
            if rest is not None:
                yield Result(pending[0], rest[0], rest[1], config, path, pending[1])
                pending = None
                continue
        line = line.rstrip("\r")
        if line.startswith("Unit "):
            _unit_line(line, path, n, out)
            continue
        kv = _is_config(line)
        if kv:
            key, val = kv
            config = dict(config)
            if val:
                config[key] = val
            else:
                config.pop(key, None)
    if pending and pending[2]:
        errors.append(f"{path}:{pending[1]}: {pending[2]}")


def _unit_line(line: str, path: str, n: int, out: Parsed) -> None:
    fields = line.split()
    if len(fields) < 2:
        out.errors.append(f"{path}:{n}: missing unit")
        return
    unit = fields[1]
    info = out.units.get(unit, UnitInfo(unit))
    for kv in fields[2:]:
        key, eq, val = kv.partition("=")
        if not eq:
            out.errors.append(f"{path}:{n}: expected key=value")
            continue
        if key == "better" and val in ("higher", "lower"):
            if info.better and info.better != val:
                out.errors.append(f"{path}:{n}: metadata better of unit {unit} already set to {info.better}")
                continue
            info = UnitInfo(unit, val, info.assume)
        elif key == "assume" and val in ("nothing", "exact"):
            info = UnitInfo(unit, info.better, val)
        else:
            out.errors.append(f"{path}:{n}: unknown unit metadata {kv}")
    out.units[unit] = info


def read_files(paths: Iterable[str | Path]) -> Parsed:
    """Read several files into one :class:`Parsed`; missing files raise OSError."""
    out = Parsed()
    for p in paths:
        data = Path(p).read_text(encoding="utf-8", errors="replace")
        read_text(data, str(p), out)
    return out
