"""The ``parse`` stage: benchmark text (benchfmt or go test -json) to a Parquet samples table.

Malformed lines are reported on stderr as ``file:line: message`` and skipped;
the rest is used. An input with no result at all is an error (exit 3).
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import format, store
from .errors import BenchpipeError, NothingToCompare


def run(inputs: list[Path], out: Path) -> int:
    for p in inputs:
        if not p.exists():
            raise BenchpipeError(f"{p}: no such file")
    parsed = format.read_files(inputs)
    for e in parsed.errors:
        sys.stderr.write(e + "\n")
    if not parsed.results:
        raise NothingToCompare(f"{', '.join(map(str, inputs))}: no benchmark results found")
    n = store.write_parquet(store.columns(parsed), out)
    sys.stderr.write(f"parse: {len(parsed.results)} results, {n} samples -> {out}"
                     + (f" ({len(parsed.errors)} malformed lines skipped)" if parsed.errors else "") + "\n")
    return n
