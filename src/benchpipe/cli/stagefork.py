"""The pipeline's stages run in forks of a process that has them imported, not in fresh interpreters.

DVC runs each stage's command in a shell: a fresh interpreter that starts (~85 ms on a 2-core machine) and
imports benchpipe, the stage's modules and their libraries (0.15–0.35 s) before it does its work, six times
a run. While ``benchpipe pipeline`` runs DVC in its own process, :func:`install` has DVC hand a command that
is exactly ``benchpipe STAGE ARGS`` (one of the pipeline's stages; no shell syntax: no pipe, redirection,
quote, variable, glob or second command) to a fork server (:mod:`benchpipe.cli.forkserver`) that
:func:`start` forked before DVC was imported: it imports the stages once, while DVC starts, and forks each
stage from itself.

The bench stage starts earlier still, when ``dvc.yaml``'s bench stage is the one DVC's ``dvc repro`` runs
first (:func:`first_stage`): the server starts it at once, with the directory and environment DVC will give
it, and it builds its test binaries while DVC starts. When DVC asks for that very command (same arguments,
directory and environment), it is released to measure (DVC's ``remove_outs`` has run by then, as before any
stage); if DVC asks for anything else first, or ends before it asks, it is stopped and DVC's stage runs as
it would have.

The contract: a stage DVC runs this way prints, writes and exits as its own process would (checked by
``tests/e2e/test_stagefork.py``); it is the ``benchpipe`` of this process, not a lookup on ``PATH``
(``invoke`` puts this environment's first anyway). Any other command, and any stage when the server is
gone, runs as DVC runs it; with a DVC that lacks the function replaced (another version), :func:`install`
changes nothing and returns False. ``dvc repro`` run by a user or CI runs every stage as a process of its
own.
"""

from __future__ import annotations

import os
import shlex
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchpipe.cli import forkserver

_SHELL = set("|&;<>()$`\\\"'*?[]{}~!#\n\r")
_server: list[forkserver.Server] = []


def stage_argv(cmd: str) -> list[str] | None:
    """``cmd``'s arguments after ``benchpipe`` when it is exactly ``benchpipe STAGE ARGS``, else None."""
    if set(cmd) & _SHELL:
        return None
    argv = shlex.split(cmd)
    ok = len(argv) >= 2 and argv[0] == "benchpipe" and argv[1] in forkserver.STAGES
    return argv[1:] if ok else None


def start(dvc_yaml: Path = Path("dvc.yaml"), early: bool = True) -> None:
    """Fork the server (once); with ``early``, it starts ``dvc.yaml``'s bench stage at once when
    :func:`first_stage` says DVC's ``dvc repro`` here will run it first."""
    if _server:
        return
    spec = None
    cmd = first_stage(dvc_yaml) if early else None
    argv = stage_argv(cmd) if cmd else None
    if argv is not None:
        from dvc.utils import fix_env  # how DVC prepares a stage's environment (~60 ms: DVC's package)

        root = str(dvc_yaml.resolve().parent)
        spec = (argv, root, {**fix_env(None), "DVC_ROOT": root, "DVC_STAGE": "bench"})
    _server.append(forkserver.Server(spec))


def close() -> None:
    """End the server (stopping an early stage DVC never asked for)."""
    while _server:
        _server.pop().close()


def run_stage(argv: list[str], cwd: str, env: dict[str, str]) -> int | None:
    """Run ``benchpipe ARGV`` through the server: its exit code; None when there is no server (any more)."""
    if not _server:
        return None
    srv = _server[0]
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the stage's to handle, as DVC does
    try:
        if srv.early is not None:
            early, srv.early = srv.early, None
            if (argv, os.path.realpath(cwd), env) == (early[0], os.path.realpath(early[1]), early[2]):
                return srv.call({"release": True})
            srv.call({"stop": True})
        return srv.call({"run": argv, "cwd": cwd, "env": env})
    finally:
        signal.signal(signal.SIGINT, old)


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
        env, cwd = kwargs.get("env"), kwargs.get("cwd") or os.getcwd()
        code = run_stage(argv, cwd, env) if argv and isinstance(env, dict) else None
        if code is None:
            return original(executable, cmd, **kwargs)
        if code != 0:
            raise StageCmdFailedError(cmd, code)
        return None

    _run._benchpipe_fork = True  # type: ignore[attr-defined]
    dvc_run._run = _run
    return True


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
