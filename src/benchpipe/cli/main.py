"""The ``benchpipe`` command line: one subcommand per pipeline stage and tool.

Exit codes (every subcommand): 0 pass or warn, 1 regression, 2 error,
3 nothing to compare / nothing matched. Errors are one line on stderr;
set BENCHPIPE_DEBUG=1 for a traceback.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import NoReturn

from benchpipe import __version__
from benchpipe.cli import commands, console, timing
from benchpipe.cli.common import RUN
from benchpipe.core.errors import EXIT_ERROR, BenchpipeError
from benchpipe.core.untrusted import visible

PIPELINE_STAGES = ("bench", "parse", "compare", "profile", "record", "report")


def last_error(args: argparse.Namespace) -> Path:
    """Where a failed pipeline stage leaves its exit code, so ``benchpipe pipeline`` can exit with it after
    DVC fails: beside the run's outputs (the directory of the stage's ``--meta``, else its ``--out``; the
    pipeline's are ``reports/run``), never in a directory the stage was not pointed at."""
    anchor = getattr(args, "meta", None) or getattr(args, "out", None)
    return Path(anchor).parent / "last-error.json" if anchor else RUN / "last-error.json"


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser: with ``argv`` naming a subcommand first, that one's only (a stage's
    process imports no other command's module); else every subcommand's (``--help``, a typo's error)."""
    ap = argparse.ArgumentParser(prog="benchpipe", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version", version=f"benchpipe {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True)
    first = argv[0] if argv else None
    for name in [first] if first in commands.NAMES else commands.NAMES:
        commands.load(name).register(sub)
    return ap


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C: child processes are killed, worktrees removed."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    console.install()  # every line printed is inert in a terminal and a CI log
    args = build_parser(sys.argv[1:] if argv is None else argv).parse_args(argv)
    gc.disable()  # short-lived process building many small acyclic objects
    signal.signal(signal.SIGTERM, _terminate)
    stage = (
        args.cmd in PIPELINE_STAGES and not getattr(args, "base", None) and not getattr(args, "files", None)
    )
    if args.cmd == "bench":
        last_error(args).unlink(missing_ok=True)
    try:
        return int(args.fn(args))
    except BenchpipeError as e:
        sys.stderr.write(f"benchpipe: error: {visible(e.message)}\n")
        if stage:
            from benchpipe.store import atomic

            atomic.write_json(last_error(args), {"stage": args.cmd, "code": e.code, "message": e.message})
        return e.code
    except KeyboardInterrupt:
        sys.stderr.write("benchpipe: interrupted\n")
        return 130
    except Exception as e:  # noqa: BLE001 - one line for the user, traceback on request
        if os.environ.get("BENCHPIPE_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(f"benchpipe: internal error: {type(e).__name__}: {visible(e)}\n")
        return EXIT_ERROR


def run() -> NoReturn:
    """The ``benchpipe`` command: :func:`main`, then the process exits without the interpreter's teardown.

    Everything benchpipe writes is closed by then (files and connections are opened in ``with`` blocks, child
    processes are waited for), so freeing every object one by one only costs time: ~50 ms after a
    100,000-line compare. Standard output and error are flushed first.
    """
    code = main()
    timing.record(sys.argv[1] if len(sys.argv) > 1 else "")
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # e.g. a closed pipe (`benchpipe compare a b | head`): the output is gone anyway
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
