"""Whether explanations name the function that was slowed and the lines that did it, on real modules.

``python tools/explain_quality.py [--repeats 5] [--only NAME] [--out DIR]``

For each case, :mod:`inject` (``--inline --explain``) commits a calibrated slowdown inside one function of
a corpus module (fetched by ``tests/corpus/fetch.py``), runs the paired flow and the baseline flow
``--repeats`` times, and counts, over the confirmed regressions of results that call the function, how
often the explanation's first function is the slowed one, and how often it also names the injected lines.
One case is under ``b.RunParallel`` (fastjson's ``parseRawString``, under the ``BenchmarkParseRawString``
family), one under a plain sub-benchmark family (zap's ``(*Buffer).AppendString``, under
``BenchmarkBuffers``). Writes ``explain-<name>.json`` per case into ``--out``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path.home() / ".cache" / "benchpipe" / "corpus"

CASES = {
    "fastjson": {
        "dir": "github.com_valyala_fastjson@v1.6.10",
        "file": "parser.go",
        "func": "parseRawString",
        "package": ".",
        "target": 'BenchmarkParseRawString/"abcd"',
        "bench": "BenchmarkParseRawString|BenchmarkParseRawNumber",
        "unchanged": "BenchmarkParseRawNumber",
    },
    "zap": {
        "dir": "go.uber.org_zap@v1.27.0",
        "file": "buffer/buffer.go",
        "func": "AppendString",
        "package": "./buffer",
        "target": "BenchmarkBuffers/CustomBuffer",
        "bench": "^BenchmarkBuffers$",
        "unchanged": "ByteSlice|BytesBuffer",
    },
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--size", default="30", help="the slowdown, percent of the target's ns/op in go test")
    ap.add_argument("--only", choices=sorted(CASES))
    ap.add_argument("--out", type=Path, default=ROOT / "reports")
    a = ap.parse_args()
    status = 0
    for name, case in CASES.items():
        if a.only and name != a.only:
            continue
        repo = CORPUS / case["dir"]
        if not repo.is_dir():
            sys.stderr.write(f"explain_quality: {repo} missing: python tests/corpus/fetch.py\n")
            return 2
        status |= subprocess.run(
            [
                sys.executable,
                str(ROOT / "tools" / "inject.py"),
                str(repo),
                "--file",
                case["file"],
                "--func",
                case["func"],
                "--package",
                case["package"],
                "--target",
                case["target"],
                "--bench",
                case["bench"],
                "--unchanged",
                case["unchanged"],
                "--sizes",
                a.size,
                "--repeats",
                str(a.repeats),
                "--inline",
                "--explain",
                "--json",
                str(a.out / f"explain-{name}.json"),
            ]
        ).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
