"""Read and write the stages' JSON artifacts as their models (:mod:`benchpipe.core.artifacts`).

:func:`write` is the one writer of an artifact file (atomic, with ``schema_version``); :func:`read` the
one reader: a missing file is the model's empty value where the caller allows it (``missing_ok``: no
baseline, nothing profiled), else an error; unreadable JSON, a wrong shape or a newer schema is one line
naming the file (exit 2), never a traceback. Files written before versioning (no ``schema_version``) are
read as version 0 and migrated (same shape; what they lack takes its default).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TypeVar

import msgspec

from benchpipe.core.artifacts import SCHEMA_VERSION, Model, to_dict
from benchpipe.core.errors import BenchpipeError
from benchpipe.store import atomic

M = TypeVar("M", bound=Model)


def write(path: str | Path, obj: Model) -> None:
    atomic.write_json(path, to_dict(obj))


def read(path: str | Path | None, model: type[M], missing_ok: bool = False) -> M:
    """The artifact at ``path`` as ``model``; ``missing_ok``: no path or no file gives ``model()``'s
    defaults where the model has them."""
    if path is None or not Path(path).exists():
        if missing_ok:
            return _empty(model)
        raise BenchpipeError(f"{path}: missing (run the stage that writes it first)")
    p = Path(path)
    try:
        raw = json.loads(p.read_bytes() or b"{}")
    except (OSError, ValueError) as e:
        raise BenchpipeError(f"{p}: not a readable JSON artifact ({str(e).splitlines()[0]})") from None
    return convert(raw, model, str(p))


def convert(raw: object, model: type[M], where: str) -> M:
    """A decoded JSON value as ``model`` (see :func:`read`), errors naming ``where``."""
    if not isinstance(raw, dict):
        raise BenchpipeError(f"{where}: expected a JSON object, not {type(raw).__name__}")
    version = raw.get("schema_version", 0)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise BenchpipeError(
            f"{where}: schema_version {version} is newer than this benchpipe reads "
            f"({SCHEMA_VERSION}); upgrade benchpipe"
        )
    if version < SCHEMA_VERSION:
        raw = {**raw, "schema_version": SCHEMA_VERSION}  # v0 -> v1: the same shape, versioned
    try:
        return msgspec.convert(raw, model)
    except msgspec.ValidationError as e:
        msg = re.sub(r" - at `\$(.*)`$", r" (at \1)", str(e))
        raise BenchpipeError(f"{where}: not a valid {model.__name__} artifact: {msg}") from None


def _empty(model: type[M]) -> M:
    try:
        return model()
    except TypeError:  # a model with required fields has no empty value
        raise BenchpipeError(f"no {model.__name__} artifact") from None
