"""DVC's lock file, read the fast way while ``benchpipe pipeline`` runs DVC in its own process.

Before it writes each stage's entry, DVC reads ``dvc.lock`` again with ruamel.yaml's round-trip loader,
which keeps comments and layout for the dump. That loader is pure Python: ~80 ms for this repository's
260-line lock on a 2-core machine, once per stage, six times a run (about a sixth of DVC's own time in
``invoke quick``). The lock is DVC's own output, with no comments or layout of anyone's to keep, so DVC's
safe loader (its C parser) reads the same data, and DVC's dumper writes the same bytes from it (checked by
``tests/unit/test_dvclock.py`` on a real lock).

The contract: :func:`install` makes DVC read ``dvc.lock`` (only; ``dvc.yaml`` and every other file as
before) with its safe loader in this process, and returns True; when this DVC does not have the functions
it replaces (another version), it changes nothing and returns False: DVC is then as slow as it was, never
wrong. Nothing outside this process is touched: ``dvc`` run by a user or CI reads the lock its own way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

LOCK_NAME = "dvc.lock"


def install() -> bool:
    try:
        import dvc.dvcfile as dvcfile
        from dvc.utils.serialize import _common, _yaml
    except ImportError:
        return False
    names = (
        (dvcfile, "modify_yaml"),
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
    return True
