"""The pipeline's stages run in forks of ``benchpipe pipeline``'s process, where they are already imported.

DVC runs each stage's command in a shell: a fresh interpreter that starts (~85 ms on a 2-core machine) and
imports benchpipe, the stage's modules and their libraries (0.15–0.35 s) before it does its work, six times
a run. While ``benchpipe pipeline`` runs DVC in its own process, :func:`install` has DVC run a command that
is exactly ``benchpipe STAGE ARGS`` (one of the pipeline's stages; no shell syntax: no pipe, redirection,
variable, glob or second command) in a child forked from this process instead, after this process has
imported the stages' modules once (:func:`preload`).

The bench stage starts earlier still: :func:`start_early` forks it before DVC is imported, when
``dvc.yaml``'s bench stage is the one DVC runs first (it always runs, and no other stage can run before
it). The child resolves and builds the test binaries while DVC starts and this process preloads; then it
waits (:func:`wait_quiet`) until DVC asks for that very command (same arguments, directory and
environment) and this process is idle, so no benchmark shares the machine with DVC or the preloading.
DVC's ``remove_outs`` has run by then, as before any stage. If DVC asks for anything else first, or fails
before it asks, the early child is stopped (SIGTERM: it unwinds as on Ctrl-C, its ``go`` children killed)
and DVC's stage runs as it would have.

The contract: a child gets what DVC gives the command it replaces: DVC's working directory and
environment for the stage (``DVC_ROOT``, ``DVC_STAGE``, ``BENCHPIPE_TIMES``), ``sys.argv``, fresh standard
streams on file descriptors 1 and 2, the default signal handlers; it runs
:func:`benchpipe.cli.main.main` on ARGS, records its time (:mod:`benchpipe.cli.timing`: since the fork) and
exits with the stage's code, as the process would (a signal that kills it is DVC's failure as before). The
stage is the ``benchpipe`` of this process, not a lookup on ``PATH`` (``invoke`` puts this environment's
first anyway). Any other command runs as DVC runs it, and with a DVC that lacks the function replaced
(another version), :func:`install` changes nothing and returns False. ``dvc repro`` run by a user or CI runs
every stage as a process of its own.
"""

from __future__ import annotations

import importlib
import io
import os
import shlex
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchpipe.cli import timing

STAGES = ("bench", "parse", "compare", "profile", "record", "report")
# What the stages import when they run (inside their functions), for the pipeline's runs: their own
# stage modules and libraries. numpy is left out: the report needs it only once the history is long enough
# for change points; the paired flow's modules are not the pipeline's.
LAZY = (
    *(f"benchpipe.stages.{name}" for name in STAGES),
    "yaml",
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
QUIET_ENV = "BENCHPIPE_QUIET_FD"  # a bench child's end of the pipe this process closes when it may measure
_SHELL = set("|&;<>()$`\\\"'*?[]{}~!#\n\r")


def preload() -> None:
    """Import every stage's command module and what the stages import lazily (once, in this process)."""
    for name in STAGES:
        importlib.import_module(f"benchpipe.cli.commands.{name}")
    for name in LAZY:
        importlib.import_module(name)


def stage_argv(cmd: str) -> list[str] | None:
    """``cmd``'s arguments after ``benchpipe`` when it is exactly ``benchpipe STAGE ARGS``, else None."""
    if set(cmd) & _SHELL:
        return None
    argv = shlex.split(cmd)
    return argv[1:] if len(argv) >= 2 and argv[0] == "benchpipe" and argv[1] in STAGES else None


def install() -> bool:
    try:
        from dvc.stage import run as dvc_run
        from dvc.stage.exceptions import StageCmdFailedError
    except ImportError:
        return False
    original: Callable[..., Any] | None = getattr(dvc_run, "_run", None)
    if not callable(original):
        return False
    if getattr(original, "_benchpipe_fork", False):
        return True

    def _run(executable: Any, cmd: str, **kwargs: Any) -> None:
        argv = stage_argv(cmd) if isinstance(cmd, str) else None
        if argv is None or not isinstance(kwargs.get("env"), dict):
            return original(executable, cmd, **kwargs)
        code = run_forked(argv, kwargs.get("cwd") or os.getcwd(), kwargs["env"])
        if code != 0:
            raise StageCmdFailedError(cmd, code)
        return None

    _run._benchpipe_fork = True  # type: ignore[attr-defined]
    dvc_run._run = _run
    return True


class _Child:
    """A forked stage: its pid, what it runs, and this process's end of its quiet pipe (-1: none)."""

    def __init__(self, argv: list[str], cwd: str, env: dict[str, str], quiet: bool) -> None:
        self.argv, self.cwd, self.env = argv, cwd, env
        r, self.w = os.pipe() if quiet else (-1, -1)
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:
            if quiet:
                os.close(self.w)
                env = {**env, QUIET_ENV: str(r)}
            _child(argv, cwd, env)  # never returns
        if quiet:
            os.close(r)

    def same(self, argv: list[str], cwd: str, env: dict[str, str]) -> bool:
        return (argv, os.path.realpath(cwd), env) == (self.argv, os.path.realpath(self.cwd), self.env)

    def finish(self) -> int:
        """Preload (if not yet), let the child's benchmarks start, and wait: its exit code."""
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the stage's to handle, as DVC does
        try:
            try:
                _preload_once()
            finally:
                if self.w >= 0:
                    os.close(self.w)
                    self.w = -1
            _, status = os.waitpid(self.pid, 0)
        finally:
            signal.signal(signal.SIGINT, old)
        return os.waitstatus_to_exitcode(status)

    def stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        if self.w >= 0:
            os.close(self.w)
        os.waitpid(self.pid, 0)


_preloaded: list[bool] = []  # [True] once this process has preloaded
_early: list[_Child] = []  # the bench stage started by start_early, until DVC asks for it


def run_forked(argv: list[str], cwd: str, env: dict[str, str]) -> int:
    """Run ``benchpipe ARGV`` in a forked child (the early one, when it is that): its exit code (negative:
    the signal that ended it)."""
    early = _early.pop() if _early else None
    if early is not None and early.same(argv, cwd, env):
        return early.finish()
    if early is not None:
        early.stop()
    quiet = argv[0] == "bench" and not _preloaded  # the child builds while this process preloads
    if not quiet:
        _preload_once()
    return _Child(argv, cwd, env, quiet).finish()


def start_early(dvc_yaml: Path = Path("dvc.yaml")) -> None:
    """Fork ``dvc.yaml``'s bench stage now, when DVC's ``dvc repro`` in this directory will run it first
    (:func:`first_stage`) with this environment."""
    cmd = first_stage(dvc_yaml)
    argv = stage_argv(cmd) if cmd else None
    if argv is None or _early:
        return
    from dvc.utils import fix_env  # how DVC prepares a stage's environment (~60 ms: DVC's package)

    root = str(dvc_yaml.resolve().parent)
    env = {**fix_env(None), "DVC_ROOT": root, "DVC_STAGE": "bench"}
    _early.append(_Child(argv, root, env, quiet=True))
    if not install():  # this DVC would not ask this process for it
        stop_early()


def stop_early() -> None:
    """Stop the early bench stage if DVC never asked for it (it failed, or was interrupted, before)."""
    while _early:
        _early.pop().stop()


def first_stage(dvc_yaml: Path) -> str | None:
    """The bench stage's command when DVC's full ``dvc repro`` runs it first whatever changed: it is always
    changed, has no dependencies (so it is the one stage no other precedes), runs in ``dvc.yaml``'s
    directory, is not frozen, and every other stage depends on an output of some stage."""
    import yaml

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        stages = yaml.load(dvc_yaml.read_text(encoding="utf-8"), Loader=loader)["stages"]  # noqa: S506
        bench = stages["bench"]
        outs = {_path(o) for st in stages.values() for o in st.get("outs") or []}
        roots = [n for n, st in stages.items() if not any(_path(d) in outs for d in st.get("deps") or [])]
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        return None
    plain = bench.get("always_changed") is True and not bench.get("deps") and not bench.get("frozen")
    if roots != ["bench"] or not plain or bench.get("wdir", ".") != ".":
        return None
    return bench["cmd"] if isinstance(bench["cmd"], str) else None


def _path(entry: Any) -> str:
    return str(next(iter(entry))) if isinstance(entry, dict) else str(entry)


def _preload_once() -> None:
    if not _preloaded:
        _preloaded.append(True)
        try:
            preload()
        except Exception:  # noqa: BLE001, S110 - the stage imports what it needs itself, and says why not
            pass


def wait_quiet() -> None:
    """In a bench stage forked by :func:`run_forked`: return once the pipeline's process has preloaded (at
    once anywhere else)."""
    fd = os.environ.pop(QUIET_ENV, "")
    if not fd.isdigit():
        return
    try:
        while os.read(int(fd), 1):
            pass
        os.close(int(fd))
    except OSError:
        pass


def _child(argv: list[str], cwd: str, env: dict[str, str]) -> None:
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
        timing.record(argv[0])
    except SystemExit as e:  # argparse's own exit (a bad argument): its code, its message already printed
        code = e.code if isinstance(e.code, int) else 2
    except BaseException as e:  # noqa: BLE001 - the child must never return into DVC
        try:
            sys.stderr.write(f"benchpipe: internal error: {type(e).__name__}\n")
        except Exception:  # noqa: BLE001, S110 - nothing left to tell it with
            pass
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - a closed pipe: the output is gone anyway
                pass
        os._exit(code)
