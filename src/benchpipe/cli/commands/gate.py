"""``benchpipe gate``: the verdict of the last comparison as an exit code.

Exit codes: 0 pass or warn, 1 regression, 2 a benchmark did not finish (stalled), 3 no baseline
(unless ``--allow-missing-baseline``: a first run) or not comparable (with ``--strict-env``).
``--report-only`` prints the same verdict but exits 0 for regressions (errors still exit 2). ``--format json``
prints the verdict, the regressed rows, the differences in settings and the failures as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchpipe.cli.common import RUN, verdict_code
from benchpipe.core.errors import EXIT_ERROR, EXIT_NOTHING, EXIT_OK, BenchpipeError
from benchpipe.core.untrusted import visible

if TYPE_CHECKING:
    from benchpipe.core.artifacts import CompareDoc


def register(sub: Any) -> None:
    p = sub.add_parser("gate", help="print the verdict of the last comparison; exit 1 on FAIL")
    p.add_argument("--compare", default=str(RUN / "compare.json"))
    p.add_argument(
        "--allow-missing-baseline",
        action="store_true",
        help="exit 0 when there was no baseline (a first run); without it, no baseline exits 3",
    )
    p.add_argument(
        "--strict-env",
        action="store_true",
        help="exit 3 when the baseline was recorded with other settings (not comparable)",
    )
    p.add_argument(
        "--report-only", action="store_true", help="print the verdict, exit 0 even on a regression"
    )
    p.add_argument(
        "--record",
        default=str(RUN / "record.json"),
        help="the record stage's result: a run that was not stored in the history exits 2",
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(fn=run)


def decide(doc: CompareDoc, require_baseline: bool, strict_env: bool) -> tuple[int, list[str]]:
    """The exit code and the lines that explain it."""
    from benchpipe.render.text import shift_line, verdict_line_doc

    if doc.failures:
        return EXIT_ERROR, [f"error: {f.message}" for f in doc.failures] + [
            f"verdict: ERROR ({len(doc.failures)} benchmark(s) did not finish; the other results are in the "
            "report)"
        ]
    if doc.verdict == "NONE":
        return (EXIT_NOTHING if require_baseline else EXIT_OK), [f"verdict: no baseline ({doc.note})"]
    diffs = [f"not comparable: {d}" for d in doc.not_comparable]
    if diffs and strict_env:
        return EXIT_NOTHING, diffs + ["verdict: not comparable (--strict-env)"]
    if doc.shift:
        diffs.append(shift_line(doc.shift))
    return verdict_code(doc.verdict), diffs + [verdict_line_doc(doc)] + untrusted(doc)


def untrusted(doc: CompareDoc) -> list[str]:
    """A line for each regressed row that benchmark health says cannot be trusted: a FAIL never rests on
    one silently."""
    return [
        f"note: {r.benchmark} {r.unit} regressed, but {w}"
        for r in doc.regressions()
        for w in r.warnings
        if w.startswith("untrustworthy")
    ]


def run(args: argparse.Namespace) -> int:
    from benchpipe.core.artifacts import CompareDoc
    from benchpipe.render.text import measured_change
    from benchpipe.store import artifacts

    p = Path(args.compare)
    if not p.exists():
        raise BenchpipeError(f"{p}: no comparison (run the pipeline first)")
    doc = artifacts.read(p, CompareDoc)
    code, lines = decide(doc, not args.allow_missing_baseline, args.strict_env)
    if args.report_only and code != EXIT_ERROR:
        code = EXIT_OK
    from benchpipe.core.artifacts import RecordDoc

    rec = artifacts.read(Path(args.record), RecordDoc, missing_ok=True)
    if rec.error:
        lines.append(f"error: this run was not stored in the history {rec.store}: {rec.error}")
        code = EXIT_ERROR
    if args.format == "json":
        # full benchmark names for tools (the text line shortens them as benchstat does)
        regressed = [
            f"{r.benchmark} {r.unit}" + (f" {measured_change(r)}" if r.delta_pct is not None else "")
            for r in doc.regressions()
        ]
        sys.stdout.write(
            json.dumps(
                {
                    "verdict": doc.verdict,
                    "exit_code": code,
                    "threshold_pct": doc.threshold_pct,
                    "alpha": doc.alpha,
                    "regressed": regressed,
                    "not_comparable": doc.not_comparable,
                    "failures": [f.message for f in doc.failures],
                    "note": doc.note,
                    "stored": not rec.error,
                },
                indent=2,
            )
            + "\n"
        )
    else:
        # one line each, whatever a (forged) comparison holds: no untrusted text starts a line in a CI log
        sys.stdout.write("\n".join(visible(ln) for ln in lines) + "\n")
    return code
