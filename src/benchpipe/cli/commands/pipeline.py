"""``benchpipe pipeline``: run the DVC pipeline with a run's overrides, one run per checkout at a time.

What the ``invoke`` tasks do, in one command (the tasks only pass their options on):

1. the overrides of the run (``--mode``, ``--target``, ``--packages``, ``--bench``, ``--count``,
   ``--benchtime``, ``--set KEY=JSON``) as dotted keys, over ``BENCHPIPE_OVERRIDES``; another module
   than params.yaml's target gets all its packages unless ``--packages`` says otherwise;
2. a lock on the checkout (``.dvc/tmp/benchpipe.lock``): a second run waits, saying so, up to
   ``BENCHPIPE_LOCK_TIMEOUT`` seconds (default 1800), then gives up with exit 2;
3. ``benchpipe settings``' work, in this process (a bad key or value stops here, in one line), and
   ``dvc repro``, or ``dvc repro -f -s STAGE`` for each of ``--stages``, in this process, each stage
   forked from a server that has the stages imported (:mod:`benchpipe.cli.stagefork`); a failed stage's
   own exit code (its one line is above) rather than DVC's;
4. where the time went: ``go test`` in the bench, profile and confirmation steps vs everything else,
   and that fixed cost by process (each stage's own, :mod:`benchpipe.cli.timing`, and DVC's);
5. ``--gate``: the report's path and ``benchpipe gate``'s verdict and exit code.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchpipe.cli import dvclock, stagefork, timing
from benchpipe.cli.commands import settings
from benchpipe.cli.common import RUN, parse_sets
from benchpipe.core.errors import EXIT_ERROR, EXIT_OK, BenchpipeError
from benchpipe.core.untrusted import visible
from benchpipe.store import params

LOCK = Path(".dvc") / "tmp" / "benchpipe.lock"
TIMES = Path(".dvc") / "tmp" / "benchpipe-times.jsonl"  # each process's own time (benchpipe.cli.timing)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "pipeline", help="run the DVC pipeline with this run's overrides (what invoke tasks call)"
    )
    p.add_argument("--mode", help="modes entry to run (default params mode)")
    p.add_argument("--target", help="Go module directory")
    p.add_argument("--packages", help="package patterns, comma or space separated")
    p.add_argument("--bench", help="benchmark regex")
    p.add_argument("--count", type=int, help="runs of each benchmark")
    p.add_argument("--benchtime", help="go test -benchtime")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=JSON", help="any other override (dotted key)"
    )
    p.add_argument(
        "--stages", help="comma-separated stages to re-run (dvc repro -f -s); default the whole pipeline"
    )
    p.add_argument(
        "--stages-if-run",
        action="store_true",
        help="run --stages only when the last run's compare.json and samples.parquet exist, else all",
    )
    p.add_argument("--gate", action="store_true", help="then print the report's path and run benchpipe gate")
    p.add_argument("--require-baseline", action="store_true", help="gate: no baseline exits 3")
    p.add_argument("--strict-env", action="store_true", help="gate: not comparable exits 3")
    p.add_argument("--report-only", action="store_true", help="gate: exit 0 on a regression")
    p.add_argument("--params", default="params.yaml")
    p.set_defaults(fn=run)


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The run's overrides as dotted keys (what ``BENCHPIPE_OVERRIDES`` and ``params.run.yaml`` hold)."""
    o: dict[str, Any] = {}
    if args.mode:
        o["mode"] = args.mode
    m = args.mode or params.load(args.params).mode
    if args.target:
        o["target"] = str(Path(args.target).expanduser().resolve())
    if args.packages:
        o[f"modes.{m}.packages"] = args.packages.split(",") if "," in args.packages else args.packages.split()
    elif (
        args.target
        and Path(o["target"]) != params.target_dir(params.load(args.params, run_file=False)).resolve()
    ):
        o[f"modes.{m}.packages"] = [
            "./..."
        ]  # the mode's patterns are params.yaml's target's: another module gets all
    if args.bench:
        o[f"modes.{m}.bench"] = args.bench
    if args.count:
        o[f"modes.{m}.count"] = int(args.count)
    if args.benchtime:
        o[f"modes.{m}.benchtime"] = args.benchtime
    return {**o, **parse_sets(args.set)}


@contextmanager
def exclusive(path: Path = LOCK) -> Iterator[None]:
    """One pipeline at a time per checkout: a second run waits (with a message) or gives up clearly."""
    limit = float(os.environ.get("BENCHPIPE_LOCK_TIMEOUT", "1800"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        t0, told = time.monotonic(), False
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:  # noqa: PERF203 - polling on purpose
                if not told:
                    sys.stderr.write(
                        "benchpipe: another benchpipe run is using this checkout; waiting for it to "
                        f"finish (up to {limit:.0f}s, BENCHPIPE_LOCK_TIMEOUT)\n"
                    )
                    told = True
                if time.monotonic() - t0 > limit:
                    raise BenchpipeError(
                        "gave up waiting for the other run (BENCHPIPE_LOCK_TIMEOUT)"
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class StageFailed(Exception):
    """A step failed and said why in its own line; the pipeline exits with its code and adds nothing."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _call(argv: list[str], env: dict[str, str] | None = None) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    if argv[0] == "dvc":
        return _dvc(argv[1:], env)
    return subprocess.run(argv, env=env).returncode


def _dvc(args: list[str], env: dict[str, str] | None = None) -> int:
    """``dvc ARGS`` in this process, its output through :func:`quiet_dvc`: a process of its own would start
    an interpreter, import DVC and tear it all down again (about 0.2 s of the fixed cost). ``env``: the
    environment DVC and its stages see (this process's otherwise); DVC's exit code."""
    import logging
    from contextlib import redirect_stdout

    saved = dict(os.environ)
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    out = _Quiet(sys.stdout)
    try:
        with redirect_stdout(out):  # type: ignore[type-var]
            from dvc.cli import main as dvc_main  # its log handlers take the stream imported under

            dvclock.install()  # dvc.lock read with DVC's safe loader: ~0.35 s of a six-stage run
            stagefork.install()  # each stage forked from this process, its modules imported once
            for name in ("dvc", "dvc_objects", "dvc_data"):  # ... or the one an earlier call set
                for h in logging.getLogger(name).handlers:
                    if isinstance(h, logging.StreamHandler) and isinstance(h.stream, _Quiet):
                        h.setStream(out)
            return int(dvc_main(args))
    finally:
        out.close()
        os.environ.clear()
        os.environ.update(saved)


class _Advice:
    """DVC's advice to ``git add dvc.lock`` and to enable auto staging, which it prints on every run (what
    to commit is in benchpipe's README and ``benchpipe init``'s last lines): :meth:`keep` is False for its
    lines."""

    def __init__(self) -> None:
        self.skipping = False

    def keep(self, line: str) -> bool:
        if line.startswith(("To track the changes with git, run:", "To enable auto staging, run:")):
            self.skipping = True
            return False
        if self.skipping and (
            not line.strip() or line.startswith("\t") or line.strip().startswith(("git add", "dvc config"))
        ):
            return False
        self.skipping = False
        return True


def quiet_dvc(lines: Any) -> Any:
    """DVC's output lines without its advice (:class:`_Advice`)."""
    advice = _Advice()
    return (line for line in lines if advice.keep(line))


class _Quiet:
    """A text stream for DVC's standard output: whole lines on to ``out``, but DVC's advice
    (:class:`_Advice`)."""

    def __init__(self, out: Any) -> None:
        self.out, self.pending, self.advice = out, "", _Advice()

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if self.advice.keep(line + "\n"):
                self.out.write(line + "\n")
        self.out.flush()
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def isatty(self) -> bool:
        return False

    def close(self) -> None:
        if self.pending and self.advice.keep(self.pending):
            self.out.write(self.pending)
        self.pending = ""
        self.out.flush()

    @property
    def closed(self) -> bool:
        return False

    def fileno(self) -> int:
        return int(self.out.fileno())


def stage_code() -> int:
    """The exit code of the stage that failed (DVC only says that one did); the stage printed why above."""
    try:
        return int(json.loads((RUN / "last-error.json").read_text())["code"])
    except (OSError, ValueError, KeyError, TypeError):
        return EXIT_ERROR


def go_seconds(since: float) -> tuple[float, float, float]:
    """``go test`` seconds of the bench, profile and confirmation steps that ran in this pipeline (DVC skips
    unchanged stages: an artifact older than ``since`` did not run)."""
    from benchpipe.core.artifacts import BenchMeta, CompareDoc, ProfileDoc
    from benchpipe.store import artifacts

    def fresh(p: Path) -> bool:
        return p.exists() and p.stat().st_mtime >= since

    def read(p: Path, model: type) -> Any:
        try:
            return artifacts.read(p, model) if fresh(p) else None
        except BenchpipeError:
            return None

    bench, prof = read(RUN / "bench.json", BenchMeta), read(RUN / "profile" / "profile.json", ProfileDoc)
    cmp = read(RUN / "compare.json", CompareDoc)
    return (
        bench.go_s if bench else 0.0,
        prof.go_s if prof else 0.0,
        cmp.confirm.seconds + cmp.confirm.explain_s if cmp is not None and cmp.confirm is not None else 0.0,
    )


def repro(o: dict[str, Any], stages: list[str]) -> None:
    """Record the overrides and run the pipeline (or re-run ``stages``), printing where the time went."""
    t0 = time.monotonic()
    started = time.time()
    TIMES.unlink(missing_ok=True)
    os.environ[timing.ENV] = str(TIMES.resolve())
    env = dict(os.environ)
    merged = {**json.loads(env.get(params.ENV) or "{}"), **o}
    if stages:
        env[params.ENV] = json.dumps(merged)
        stagefork.start(early=False)
        try:
            for s in stages:
                if _call(["dvc", "repro", "-f", "-s", s], env):
                    raise StageFailed(stage_code())
        finally:
            stagefork.close()
    else:
        # Record the run's overrides where the stages declare them (dvc.lock then shows what ran); a bad key
        # or
        # value stops here, in one line, before anything runs.
        try:  # in this process: a process of its own cost ~0.1 s of the fixed cost
            settings.run(argparse.Namespace(run=json.dumps(merged), params="params.yaml"))
        except BenchpipeError as e:
            sys.stderr.write(f"benchpipe: error: {visible(e.message)}\n")
            raise StageFailed(e.code) from None
        stagefork.start()  # the stages' fork server; the bench stage builds while DVC starts
        try:
            if _call(["dvc", "repro"]):  # the stages read the overrides from params.run.yaml
                raise StageFailed(stage_code())
        finally:
            stagefork.close()
    total = time.monotonic() - t0
    go_bench, go_prof, go_confirm = go_seconds(started - 1)
    confirm = f" + {go_confirm:.1f}s (re-running flagged rows interleaved)" if go_confirm else ""
    print(
        f"time: go test {go_bench:.1f}s (benchmarks) + {go_prof:.1f}s (profiling){confirm}, "
        f"everything else (DVC, parsing, statistics, report) {total - go_bench - go_prof - go_confirm:.1f}s"
    )
    if split := timing_split(timing.read(TIMES), total, {"bench": go_bench, "profile": go_prof}, go_confirm):
        print(split)


def timing_split(
    times: list[tuple[str, float, str]], total: float, go: dict[str, float], go_confirm: float
) -> str:
    """The fixed cost per process: each stage's own time besides its ``go test`` (the compare stage's
    confirmation is go test too), and DVC's (the total less the stages), and how the stages were started
    (:mod:`benchpipe.cli.stagefork`); "" without timings."""
    if not times:
        return ""
    go = {**go, "compare": go_confirm}
    parts = [f"{cmd} {max(0.0, s - go.get(cmd, 0.0)):.2f}s" for cmd, s, _ in times]
    dvc = total - sum(s for _, s, _ in times)
    early = [cmd for cmd, _, how in times if how == "early"]
    forked = [cmd for cmd, _, how in times if how in ("early", "fork")]
    every = len(forked) == len(times)
    how = "every stage forked from this process" if every else "forked: " + ", ".join(forked)
    how += f", {' and '.join(early)} before DVC started" if early else ""
    return f"fixed cost by process (besides go test): {', '.join(parts)}, DVC and this process {dvc:.2f}s" + (
        f" ({how})" if forked else ""
    )


def run(args: argparse.Namespace) -> int:
    o = overrides(args)
    stages = [s for s in (args.stages or "").split(",") if s]
    if (
        stages
        and args.stages_if_run
        and not ((RUN / "compare.json").exists() and (RUN / "samples.parquet").exists())
    ):
        stages = []
    try:
        with exclusive():
            repro(o, stages)
    except StageFailed as e:
        return e.code
    print(f"report: {Path('reports/report.md').resolve()}")
    if not args.gate:
        return EXIT_OK
    argv = ["benchpipe", "gate"] + ([] if args.require_baseline else ["--allow-missing-baseline"])
    argv += (["--strict-env"] if args.strict_env else []) + (["--report-only"] if args.report_only else [])
    return _call(argv)
