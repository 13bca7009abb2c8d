"""Find the first commit on which a benchmark regressed beyond the threshold.

Binary search over the first-parent commits after ``good`` up to ``bad``; each
step is a paired, interleaved comparison (with confirmation) of ``good``
against the candidate (both counted instead, with ``measure: instructions``),
restricted to the results ``--bench`` selects (go test's ``-bench`` pattern, as in
every other mode: ``'DigestBytes/16B$'``, ``'^BenchmarkEvaluate$'``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from benchpipe.core import selection
from benchpipe.core.errors import EXIT_OK, NothingToCompare
from benchpipe.core.settings import Settings
from benchpipe.core.verdict import Options
from benchpipe.go import git as gitrev
from benchpipe.render.text import measured_change, regressed_item
from benchpipe.revisions import counted, paired


def regresses_at(plan: paired.Plan, opts: Options, rev: str) -> tuple[bool, str]:
    """Whether ``rev`` regressed against the plan's base, and the regressed rows as the verdict line names
    them."""
    plan.head_rev = rev
    c = counted.execute_as_measured(plan, opts).comparison
    bad = c.regressions
    summary = ", ".join(regressed_item(r.benchmark, r.unit, measured_change(r)) for r in bad)
    return bool(bad), summary


def _search(
    plan: paired.Plan, opts: Options, commits: list[str], why: str, steps: list[dict[str, Any]]
) -> tuple[str, str]:
    """Binary search of ``commits`` (oldest first; the last is known bad, with ``why``) for the first that
    regresses; each step is appended to ``steps``. Returns the first bad commit and why it is bad."""
    lo, hi = -1, len(commits) - 1  # commits[hi] is known bad; lo is known good (-1: the good commit)
    verdicts = {commits[hi]: why}
    while hi - lo > 1:
        mid = (lo + hi) // 2
        is_bad, why = regresses_at(plan, opts, commits[mid])
        sys.stderr.write(f"bisect: {commits[mid][:12]} {'regressed: ' + why if is_bad else 'good'}\n")
        steps.append({"commit": commits[mid], "regressed": is_bad, "why": why})
        if is_bad:
            hi, verdicts[commits[mid]] = mid, why
        else:
            lo = mid
    return commits[hi], verdicts[commits[hi]]


def main(args: argparse.Namespace, opts: Options, settings: Settings) -> int:
    args.base, args.head = args.good, args.bad
    args.bench = selection.check(args.bench_name)  # go test's -bench pattern, as every other mode takes it
    args.changed_only = False
    plan = paired.plan_from(args, settings)
    root = gitrev.toplevel(plan.target.resolve())
    good = gitrev.resolve(root, args.good)
    bad = gitrev.resolve(root, args.bad)
    commits = gitrev.log(root, good, bad)
    if not commits:
        raise NothingToCompare(f"no commits between {args.good} and {args.bad}")
    plan.base_rev = good
    is_bad, why = regresses_at(plan, opts, bad)
    as_json = getattr(args, "format", "text") == "json"
    steps: list[dict[str, Any]] = [{"commit": bad, "regressed": is_bad, "why": why}]
    if not is_bad:
        if as_json:
            _json(
                {
                    "benchmark": args.bench_name,
                    "good": good,
                    "bad": bad,
                    "regressed": False,
                    "first_bad": None,
                    "threshold_pct": opts.threshold_pct,
                    "steps": steps,
                }
            )
        else:
            sys.stdout.write(
                f"bisect: {args.bench_name} did not regress beyond {opts.threshold_pct:g}% between "
                f"{args.good} and {args.bad}\n"
            )
        return EXIT_OK
    first, verdict = _search(plan, opts, commits, why, steps)
    subject = gitrev.git(["log", "-1", "--format=%s", first], root)
    if as_json:
        _json(
            {
                "benchmark": args.bench_name,
                "good": good,
                "bad": bad,
                "regressed": True,
                "first_bad": first,
                "subject": subject,
                "why": verdict,
                "threshold_pct": opts.threshold_pct,
                "steps": steps,
            }
        )
    else:
        sys.stdout.write(f"bisect: first bad commit {first} {subject}\n  {verdict}\n")
    return EXIT_OK


def _json(obj: dict[str, Any]) -> None:
    import json

    sys.stdout.write(json.dumps(obj, indent=2) + "\n")
