"""Stage artifacts on disk. Writes are atomic: write to a temporary file beside the target, fsync, rename,
fsync the directory (so the rename itself survives a power cut).

An interrupted run leaves either the old file or the new one, never half of one.
:func:`replacing` is the one place that does it; the helpers below and every
writer of Parquet files and test binaries go through it. Files get the mode a
plain ``open`` would give them (0666 less the user's umask), not mkstemp's 0600.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class Exists(FileExistsError):
    """An exclusive write found its target already there (nothing was changed)."""


@contextmanager
def replacing(path: str | os.PathLike[str], exclusive: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path``: whatever is written there replaces ``path`` (fsynced) when the
    block ends, or is removed if the block raises. ``exclusive``: ``path`` is created, never replaced (a hard
    link, atomic on POSIX file systems); :class:`Exists` when it is there already."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, (os.stat(tmp).st_mode | 0o666) & ~_umask() & 0o7777)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if exclusive:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise Exists(str(target)) from None
            os.unlink(tmp)
        else:
            os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o22)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename or creation in directory ``path`` durable (a no-op where directories cannot be
    opened)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with replacing(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")
