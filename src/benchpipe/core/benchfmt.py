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
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress
from math import isfinite
from operator import ne
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


SLUG_MAX = 120  # characters: a file name stays well within every file system's 255 bytes


def slug(name: str) -> str:
    """A file-name-safe form of a benchmark, package or directory name (graphs, stall dumps): at most
    :data:`SLUG_MAX` characters, a longer name cut and told apart from others by a digest of the whole."""
    s = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    if len(s) <= SLUG_MAX:
        return s
    return f"{s[: SLUG_MAX - 13]}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"


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
    val = line[i + 1 :]
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


Key = tuple[str, str, str]  # (package, full result name, unit)


def samples(parsed: Parsed) -> dict[Key, list[float]]:
    """Values keyed by (package, benchmark, unit), in input order."""
    out: dict[Key, list[float]] = {}
    for res in parsed.results:
        pkg, name = res.config.get("pkg", ""), res.name
        for v, unit in res.values:
            key = (pkg, name, unit)
            vals = out.get(key)
            if vals is None:
                out[key] = [v]
            else:
                vals.append(v)
    return out


RunKey = tuple[str, str, str]  # (package, name without -N, unit)


def with_iters(parsed: Parsed) -> dict[RunKey, tuple[list[float], list[int]]]:
    """Each result's values and the b.N of each, by (package, name without -N, unit), in input order."""
    out: dict[RunKey, tuple[list[float], list[int]]] = {}
    for r in parsed.results:
        for v, u in r.values:
            vals, iters = out.setdefault((r.package, r.base_name, u), ([], []))
            vals.append(v)
            iters.append(r.iters)
    return out


def iterations(run: dict[RunKey, tuple[list[float], list[int]]]) -> dict[tuple[str, str], int]:
    """Each result's smallest b.N, keyed by (package, name without -N): the fixed b.N it is re-run at."""
    out: dict[tuple[str, str], int] = {}
    for (pkg, name, _), (_, iters) in run.items():
        least = max(min(iters), 1)
        out[(pkg, name)] = min(out.get((pkg, name), least), least)
    return out


@dataclass
class FileValues:
    """A file's values by (package, benchmark, unit) — what a comparison needs, without per-line objects."""

    values: dict[Key, list[float]]
    units: dict[str, UnitInfo]
    errors: list[str]
    first_config: dict[str, str]  # the configuration of the first result (its recorded settings)


def read_samples(path: str | Path) -> FileValues:
    """The samples of one file: :func:`_columns` when the file is plain, well-formed benchfmt (the common
    case, read a column at a time), else the full line reader (JSON events, split results, malformed
    lines). Both give the same values in the same order."""
    data = Path(path).read_bytes()
    fast = _columns(data, str(path))
    if fast is not None:
        return fast
    parsed = read_text(data.decode("utf-8", errors="replace"), str(path))
    first = parsed.results[0].config if parsed.results else {}
    return FileValues(samples(parsed), parsed.units, parsed.errors, dict(first))


_NOT_RESULT = re.compile(rb"\n(?!Benchmark)")  # the newline before every line that is not a result
_CHUNK = 1 << 20  # result lines are split and converted about 1 MB at a time: a small peak of token objects


def _columns(data: bytes, path: str) -> FileValues | None:
    """Read plain benchfmt a column at a time; None when any line needs the full reader.

    Result lines between two other lines share one configuration. They are taken about a megabyte at a
    time (whole lines), grouped by their number of fields, and each group is split into columns (names,
    iteration counts, then value and unit columns) whose numbers are converted in one pass each; the
    other lines are found by one search, without splitting the file into lines. Anything unusual — a JSON
    event, a result with no numbers or an odd field count, a name column out of step, a bad number —
    returns None.
    """
    # Byte offsets where each line that is not a result starts (the end of the data closes the last segment).
    others = [] if data.startswith(b"Benchmark") else [0]
    others += [m.end() for m in _NOT_RESULT.finditer(data)]
    out = Parsed()
    config: dict[str, str] = {}
    first_config: dict[str, str] | None = None
    # (pkg, name) -> (order of its first line, units in first-seen order); (pkg, name, unit) -> values
    seen: dict[tuple[str, bytes], tuple[tuple[int, int], list[bytes]]] = {}
    values: dict[tuple[str, bytes, bytes], list[float]] = {}
    pos = 0
    for at in [*others, len(data) + 1]:
        if at > pos:  # result lines data[pos:at - 1] (the newline before the next line excluded)
            if first_config is None:
                first_config = config
            pkg = config.get("pkg", "")
            stop = min(at - 1, len(data))
            while pos < stop:
                end = data.find(b"\n", pos + _CHUNK, stop)
                end = stop if end < 0 else end
                if not _segment(data[pos:end], pos, pkg, seen, values):
                    return None
                pos = end + 1
        if at > len(data):
            break
        nl = data.find(b"\n", at)
        raw = data[at:] if nl < 0 else data[at:nl]
        if raw[:1] == b"{":
            return None  # a JSON event (go test -json): the line reader
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        if line.startswith("Unit "):
            _unit_line(line, path, data.count(b"\n", 0, at) + 1, out)
        elif kv := _is_config(line):
            config = dict(config)
            if kv[1]:
                config[kv[0]] = kv[1]
            else:
                config.pop(kv[0], None)
        pos = len(data) + 1 if nl < 0 else nl + 1
    ordered: dict[Key, list[float]] = {}
    unit_names: dict[bytes, str] = {}
    for (pkg, name), (_, units) in sorted(seen.items(), key=lambda kv: kv[1][0]):
        sname = name.decode("utf-8", errors="replace")
        for u in units:
            su = unit_names.get(u) or unit_names.setdefault(u, u.decode("utf-8", errors="replace"))
            ordered[(pkg, sname, su)] = values[(pkg, name, u)]
    return FileValues(ordered, out.units, out.errors, dict(first_config or {}))


Group = tuple[Sequence[int], list[bytes], int]  # (line indices, the lines' tokens, fields per line)


def _groups(chunk: bytes, n_lines: int) -> list[Group] | None:
    """The chunk's lines grouped by their number of fields (one group when all have the same); None when
    one benchmark has lines of several field counts (the line reader keeps their order)."""
    toks = chunk.split()
    k, rem = divmod(len(toks), n_lines)
    if (
        rem == 0
        and k >= 4
        and not k % 2
        and toks[0].startswith(b"Benchmark")
        and toks[-k].startswith(b"Benchmark")
    ):  # _unit_columns checks every name
        return [(range(n_lines), toks, k)]
    by_k: dict[int, tuple[list[int], list[bytes]]] = {}
    for i, ln in enumerate(chunk.split(b"\n")):
        f = ln.split()
        idx, acc = by_k.setdefault(len(f), ([], []))
        idx.append(i)
        acc += f
    groups: list[Group] = [(idx, acc, n) for n, (idx, acc) in by_k.items()]
    names_per_group = [set(acc[::n]) for _, acc, n in groups]
    if sum(map(len, names_per_group)) != len(set().union(*names_per_group)):
        return None
    return groups


def _unit_columns(toks: list[bytes], k: int) -> list[tuple[bytes, list[float]]] | None:
    """The (unit, values) columns of lines of ``k`` fields each; None if any line is unusual."""
    if k < 4 or k % 2:
        return None
    names = toks[::k]
    if (b"\n" + b"\n".join(names)).count(b"\nBenchmark") != len(names) or not b"".join(toks[1::k]).isdigit():
        return None  # a name column out of step, or an iteration count that is not a count
    cols = []
    for j in range(2, k, 2):
        try:
            vals = list(map(float, toks[j::k]))
        except ValueError:
            return None
        if not isfinite(sum(vals)):  # an inf or nan (or a sum past the float range: the line reader decides)
            return None
        units = toks[j + 1 :: k]
        if units.count(units[0]) != len(units) or units[0][:1].isdigit():
            return None  # several units in one column, or a number where a unit belongs
        if any(u == units[0] for u, _ in cols):
            return None  # a unit twice on one line: each value is a sample of it (the line reader keeps both)
        cols.append((units[0], vals))
    return cols


def _segment(
    chunk: bytes,
    offset: int,
    pkg: str,
    seen: dict[tuple[str, bytes], tuple[tuple[int, int], list[bytes]]],
    values: dict[tuple[str, bytes, bytes], list[float]],
) -> bool:
    """Whole result lines of one configuration (``chunk``, at byte ``offset`` of the file) into
    ``seen``/``values``; False if any is unusual."""
    groups = _groups(chunk, chunk.count(b"\n") + 1)
    if groups is None:
        return False
    for index, toks, k in groups:
        cols = _unit_columns(toks, k)
        if cols is None:
            return False
        names = toks[::k]
        # Runs of one name (go test -count prints a benchmark's results one after another).
        bounds = [0, *compress(range(1, len(names)), map(ne, names[1:], names)), len(names)]
        runs = [(names[bounds[r]], bounds[r], bounds[r + 1]) for r in range(len(bounds) - 1)]
        _store(pkg, offset, index, runs, cols, seen, values)
    return True


def _store(
    pkg: str,
    offset: int,
    index: Sequence[int],
    runs: list[tuple[bytes, int, int]],
    cols: list[tuple[bytes, list[float]]],
    seen: dict[tuple[str, bytes], tuple[tuple[int, int], list[bytes]]],
    values: dict[tuple[str, bytes, bytes], list[float]],
) -> None:
    """Each run's values into ``values`` and its first line and units into ``seen``."""
    fresh = [(pkg, name) for name, _, _ in runs]
    if len(set(fresh)) == len(fresh) and seen.keys().isdisjoint(fresh):
        # The common case: each benchmark of the chunk in one run, none seen before. Bulk inserts.
        units = [u for u, _ in cols]
        seen.update(zip(fresh, [((offset, index[a]), list(units)) for _, a, _ in runs], strict=True))
        for u, vals in cols:
            values.update(
                zip([(pkg, name, u) for name, _, _ in runs], [vals[a:b] for _, a, b in runs], strict=True)
            )
        return
    for name, a, _ in runs:
        if (pkg, name) not in seen:
            seen[(pkg, name)] = ((offset, index[a]), [])
    for u, vals in cols:
        for name, a, b in runs:
            got = seen[(pkg, name)][1]
            if u not in got:
                got.append(u)
            lst = values.get((pkg, name, u))
            if lst is None:
                values[(pkg, name, u)] = vals[a:b]
            else:
                lst += vals[a:b]


def read_pair(
    old: str | Path, new: str | Path, meanwhile: Callable[[], object] | None = None
) -> tuple[FileValues, FileValues]:
    """The samples of two files, read side by side: the new file in a forked child (its samples come back
    marshalled through a pipe) while this process reads the old one, then runs ``meanwhile`` (e.g. an
    import the comparison will need) until the child is done. Where fork is unavailable, or the child
    fails, both are read here."""
    import marshal
    import os

    if not hasattr(os, "fork"):
        if meanwhile:
            meanwhile()
        return read_samples(old), read_samples(new)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: read, send, leave without running any cleanup of the parent's
        code = 0
        try:
            os.close(r)
            s = read_samples(new)
            payload = marshal.dumps(
                (
                    s.values,
                    {u: (i.unit, i.better, i.assume) for u, i in s.units.items()},
                    s.errors,
                    s.first_config,
                )
            )
            with os.fdopen(w, "wb") as f:
                f.write(payload)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(w)
    try:
        first = read_samples(old)
        if meanwhile:
            meanwhile()
    finally:
        with os.fdopen(r, "rb") as f:
            payload = f.read()
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not payload:
        return first, read_samples(new)
    values, units, errors, config = marshal.loads(payload)
    return first, FileValues(values, {u: UnitInfo(*t) for u, t in units.items()}, errors, config)
