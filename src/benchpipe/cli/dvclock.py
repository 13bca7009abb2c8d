"""DVC's lock file, read the fast way while ``benchpipe pipeline`` runs DVC in its own process.

Before it writes each stage's entry, DVC reads ``dvc.lock`` again with ruamel.yaml's round-trip loader,
which keeps comments and layout for the dump. That loader is pure Python: ~80 ms for this repository's
260-line lock on a 2-core machine, once per stage, six times a run (about a sixth of DVC's own time in
``invoke quick``). The lock is DVC's own output, with no comments or layout of anyone's to keep, so DVC's
safe loader (its C parser) reads the same data, and DVC's dumper writes the same bytes from it (checked by
``tests/unit/test_dvclock.py`` on a real lock).

DVC also writes the whole lock after each stage (~55 ms a time: its round-trip dumper is pure Python too).
Within one ``dvc repro`` here, the lock's entries are written once, when the stage loop ends (however it
ends: a failed or interrupted stage's predecessors are written, as DVC writes them), in the order DVC made
them, from the same stage objects, and still inside DVC's repository lock and its git context (so
``core.autostage`` stages it). DVC decides what to run from the lock it read when it started, never from
one it wrote during the loop, so it runs the same stages. A process killed outright (SIGKILL) in the loop
leaves the lock of the run before: its stages run again next time, as ``bench`` always does.

The contract: :func:`install` makes DVC read ``dvc.lock`` (only; ``dvc.yaml`` and every other file as
before) with its safe loader, and write it once per ``dvc repro``, in this process, and returns True; when
this DVC does not have the functions it replaces (another version), it changes nothing and returns False:
DVC is then as slow as it was, never wrong. Nothing outside this process is touched: ``dvc`` run by a user
or CI reads and writes the lock its own way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

_Pending = list[tuple[Any, list[Any], dict[str, Any]]]

LOCK_NAME = "dvc.lock"


def install() -> bool:
    try:
        import dvc.dvcfile as dvcfile
        import dvc.repo.reproduce as reproduce
        from dvc.utils.serialize import _common, _yaml
    except ImportError:
        return False
    names = (
        (dvcfile, "modify_yaml"),
        (dvcfile.Lockfile, "dump_stages"),
        (reproduce, "_reproduce"),
        (_common, "_modify_data"),
        (_yaml, "parse_yaml"),
        (_yaml, "_dump"),
    )
    if not all(callable(getattr(module, name, None)) for module, name in names):
        return False
    original: Callable[..., Any] = dvcfile.modify_yaml
    if getattr(original, "_benchpipe_lock", False):
        return True

    def modify_yaml(path: Any, fs: Any = None) -> Any:
        if os.path.basename(os.fspath(path)) != LOCK_NAME:
            return original(path, fs=fs)
        return _common._modify_data(path, _yaml.parse_yaml, _yaml._dump, fs=fs)

    modify_yaml._benchpipe_lock = True  # type: ignore[attr-defined]
    dvcfile.modify_yaml = modify_yaml
    reproduce._reproduce = _once(reproduce._reproduce, dvcfile.Lockfile)
    return True


def _once(loop: Callable[..., Any], lockfile: type) -> Callable[..., Any]:
    """DVC's stage loop, with the lock's writes made once when it ends (in the order DVC made them)."""

    def stage_loop(*args: Any, **kwargs: Any) -> Any:
        dump = lockfile.dump_stages
        pending: _Pending = []
        lockfile.dump_stages = lambda self, stages, **kw: pending.append((self, list(stages), kw))  # type: ignore[attr-defined]
        try:
            return loop(*args, **kwargs)
        finally:
            lockfile.dump_stages = dump  # type: ignore[attr-defined]
            for file, stages, kw in _merged(pending):
                dump(file, stages, **kw)

    return stage_loop


def _merged(pending: _Pending) -> _Pending:
    """Consecutive writes to the same lock file with the same options, as one write of all their stages."""
    out: _Pending = []
    for file, stages, kw in pending:
        if out and out[-1][0].path == file.path and out[-1][2] == kw:
            out[-1][1].extend(stages)
        else:
            out.append((file, list(stages), kw))
    return out
