"""The ``parse`` stage: benchmark text (benchfmt or go test -json) to a Parquet samples table.

The input is streamed line by line into an on-disk DuckDB table and copied to
Parquet, so a run of any size is parsed in bounded memory. Malformed lines
are reported on stderr as ``file:line: message`` and skipped; the rest is
used. An input with no result at all is an error (exit 3).
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchpipe.core import benchfmt
from benchpipe.core.errors import BenchpipeError, NothingToCompare
from benchpipe.store import samples as store


def run(inputs: list[Path], out: Path) -> int:
    """Stream the inputs into ``out``; memory stays bounded whatever the input size."""
    for p in inputs:
        if not p.exists():
            raise BenchpipeError(f"{p}: no such file")
    sink = benchfmt.Parsed()
    counted = [0]

    def results():
        for p in inputs:
            for r in benchfmt.stream_file(p, sink):
                counted[0] += 1
                yield r
            for e in sink.errors:
                sys.stderr.write(e + "\n")
            sink.errors.clear()

    n = store.write_parquet_stream(results(), out)
    if not counted[0]:
        out.unlink(missing_ok=True)
        raise NothingToCompare(f"{', '.join(map(str, inputs))}: no benchmark results found")
    sys.stderr.write(f"parse: {counted[0]} results, {n} samples -> {out}\n")
    return n
