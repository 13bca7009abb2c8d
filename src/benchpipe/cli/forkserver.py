"""A fork server for the pipeline's stages: a process forked from ``benchpipe pipeline``'s before DVC is
imported, which imports the stages' modules once (:func:`preload`) and forks each stage from itself when
the pipeline asks (:mod:`benchpipe.cli.stagefork` decides what it asks). It preloads while the pipeline's
process imports and starts DVC, side by side on a 2-core machine, so neither waits for the other.

The server may also start one stage at once, before it preloads: the bench stage, which resolves and builds
its test binaries meanwhile, then waits (:func:`wait_quiet`, the end of a pipe the server holds) until the
pipeline releases it; by then the server has preloaded and DVC has started, so no benchmark shares the
machine with either.

The protocol: the pipeline writes one JSON request per line and reads one JSON reply per line,
``{"code": int}`` (a stage's exit code; negative: the signal that ended it):

- ``{"run": [ARGS], "cwd": str, "env": {..}}``: fork a child that runs ``benchpipe ARGS`` there, with that
  environment; reply when it has exited;
- ``{"release": true}``: the early stage may measure; reply when it has exited;
- ``{"stop": true}``: stop the early stage (SIGTERM: it unwinds as on Ctrl-C, its ``go`` children killed);
- end of file (the pipeline closed the pipe or died): stop the early stage if it still waits, and exit.

The server ignores Ctrl-C (the stage and the pipeline handle theirs) and passes SIGTERM on to the stages it
runs: :meth:`Server.close` sends it when the pipeline ends while a stage runs (its own SIGTERM, or an
error), so the stage unwinds (its ``go`` children killed) instead of running on without it.

A child gets what DVC gives the command it replaces: the working directory and environment, ``sys.argv``,
fresh standard streams on file descriptors 1 and 2 and the default signal handlers; it runs
:func:`benchpipe.cli.main.main`, records its time (:mod:`benchpipe.cli.timing`: since its fork; ``how``:
``fork``, or ``early``) and exits with the stage's code, as the process would.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import signal
import sys
from typing import Any, NoReturn

from benchpipe.cli import timing

STAGES = ("bench", "parse", "compare", "profile", "record", "report")
# What the stages import when they run (inside their functions): their own stage modules and libraries
# (numpy: the report's change points, once the history is long enough); not the paired flow's.
LAZY = (
    *(f"benchpipe.stages.{name}" for name in STAGES),
    "yaml",
    "numpy",
    "benchpipe.core.settings",
    "benchpipe.core.artifacts",
    "benchpipe.core.benchfmt",
    "benchpipe.core.comparable",
    "benchpipe.core.shift",
    "benchpipe.core.stats",
    "benchpipe.core.verdict",
    "benchpipe.go.toolchain",
    "benchpipe.render.text",
    "benchpipe.render.explain",
    "benchpipe.revisions.confirm",
    "benchpipe.store.artifacts",
    "benchpipe.store.atomic",
    "benchpipe.store.baselines",
    "benchpipe.store.history",
    "benchpipe.store.objstore",
    "benchpipe.store.params",
)
QUIET_ENV = "BENCHPIPE_QUIET_FD"  # the early stage's end of the pipe the server closes when it may measure

Spec = tuple[list[str], str, dict[str, str]]  # a stage's ARGS, directory and environment


def preload() -> None:
    """Import every stage's command module and what the stages import lazily."""
    for name in STAGES:
        importlib.import_module(f"benchpipe.cli.commands.{name}")
    for name in LAZY:
        importlib.import_module(name)


def wait_quiet() -> None:
    """In the early stage: return once the server releases it (at once in any other process)."""
    fd = os.environ.pop(QUIET_ENV, "")
    if not fd.isdigit():
        return
    with contextlib.suppress(OSError):
        while os.read(int(fd), 1):
            pass
        os.close(int(fd))


class Server:
    """The pipeline's side: :meth:`call` sends a request and returns the reply's code (None: the server is
    gone); :meth:`close` ends it."""

    def __init__(self, early: Spec | None) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(req_w)
            os.close(rep_r)
            _serve(req_r, rep_w, early)  # never returns
        os.close(req_r)
        os.close(rep_w)
        self.early, self.busy = early, False
        self.req = os.fdopen(req_w, "w", encoding="utf-8")
        self.rep = os.fdopen(rep_r, "r", encoding="utf-8")

    def call(self, msg: dict[str, Any]) -> int | None:
        self.busy = True
        try:
            self.req.write(json.dumps(msg) + "\n")
            self.req.flush()
            line = self.rep.readline()
            code = int(json.loads(line)["code"]) if line else None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        self.busy = False
        return code

    def close(self) -> None:
        if self.busy:  # the pipeline is ending while a stage runs: the stage is stopped, not left running
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
        elif self.early is not None:
            self.call({"stop": True})
        self.early = None
        with contextlib.suppress(OSError):
            self.req.close()
        with contextlib.suppress(OSError):
            self.rep.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


class _Early:
    def __init__(self, pid: int, w: int) -> None:
        self.pid, self.w = pid, w

    def release(self) -> int:
        os.close(self.w)
        return _reap(self.pid)

    def stop(self) -> int:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        os.close(self.w)
        return _reap(self.pid)


def _serve(req_r: int, rep_w: int, early: Spec | None) -> NoReturn:
    """The server's loop (in the forked server process)."""
    running: set[int] = set()  # the stages forked and not yet reaped: SIGTERM is passed on to them

    def terminate(signum: int, frame: object) -> None:
        for pid in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, terminate)
    pipes = (req_r, rep_w)
    waiting: _Early | None = None
    if early is not None:
        r, w = os.pipe()
        waiting = _Early(_fork(*early, "early", (*pipes, w), quiet=r), w)
        running.add(waiting.pid)
        os.close(r)
    with contextlib.suppress(Exception):
        preload()
    reps = os.fdopen(rep_w, "w", encoding="utf-8")
    with os.fdopen(req_r, "r", encoding="utf-8") as reqs:
        for line in reqs:
            code = 2
            with contextlib.suppress(ValueError, KeyError, TypeError, OSError):
                msg = json.loads(line)
                if "run" in msg:
                    held = (*pipes, waiting.w) if waiting is not None else pipes
                    pid = _fork(msg["run"], msg["cwd"], msg["env"], "fork", held)
                    running.add(pid)
                    code = _reap(pid)
                elif waiting is not None:
                    code = waiting.release() if msg.get("release") else waiting.stop()
                    waiting = None
                running.clear()
            try:
                reps.write(json.dumps({"code": code}) + "\n")
                reps.flush()
            except OSError:
                break
    if waiting is not None:
        waiting.stop()
    os._exit(0)


def _fork(
    argv: list[str], cwd: str, env: dict[str, str], how: str, close: tuple[int, ...], quiet: int = -1
) -> int:
    """Fork a child that runs ``benchpipe ARGV`` (closing the server's pipes ``close`` in it); its pid."""
    pid = os.fork()
    if pid == 0:
        for fd in close:
            os.close(fd)
        _child(argv, cwd, {**env, QUIET_ENV: str(quiet)} if quiet >= 0 else env, how)
    return pid


def _reap(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _child(argv: list[str], cwd: str, env: dict[str, str], how: str) -> NoReturn:
    code = 2
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        sys.argv = ["benchpipe", *argv]
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
        sys.stderr = io.TextIOWrapper(
            io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True
        )
        from benchpipe.cli.main import main

        code = main(argv)
        timing.record(argv[0], how)
    except SystemExit as e:  # argparse's own exit (a bad argument): its code, its message already printed
        code = e.code if isinstance(e.code, int) else 2
    except BaseException as e:  # noqa: BLE001 - the child must never return into the server's loop
        with contextlib.suppress(Exception):
            sys.stderr.write(f"benchpipe: internal error: {type(e).__name__}\n")
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed pipe: the output is gone anyway
                stream.flush()
        os._exit(code)
