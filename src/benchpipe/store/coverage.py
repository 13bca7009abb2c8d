"""Coverage maps (:class:`benchpipe.core.impact.CoverageMap`) by commit: ``coverage/<commit>.json`` in the
history store, beside the runs, and a copy in the local cache (a commit's map never changes, so either
copy is as good as the other). The default-branch job stores one per run; a pull request's job reads the
map of its merge base or of the nearest ancestor that has one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import msgspec

from benchpipe.core.errors import BenchpipeError
from benchpipe.core.impact import CoverageMap
from benchpipe.store import atomic
from benchpipe.store.objstore import Store

SUB = "coverage"


def _local(cache: Path, commit: str) -> Path:
    return cache / SUB / f"{commit}.json"


def load(commit: str, cache: Path, store: Store | None) -> CoverageMap | None:
    """The map stored for ``commit`` (the cache's copy first); None when there is none or it is
    unreadable."""
    for where in ("cache", "store"):
        try:
            if where == "cache":
                data = _local(cache, commit).read_bytes()
            elif store is not None:
                data = store.get(SUB, f"{commit}.json")
            else:
                continue
            return msgspec.json.decode(data, type=CoverageMap)
        except (OSError, BenchpipeError, msgspec.DecodeError, msgspec.ValidationError):
            continue
    return None


def available(cache: Path, store: Store | None) -> tuple[set[str], str]:
    """The commits with a map (the cache's and the store's, one listing each), and a note when the store
    could not be listed (then the cache's alone)."""
    local = {f.stem for f in (cache / SUB).glob("*.json")}
    if store is None:
        return local, ""
    try:
        return local | {n.removesuffix(".json") for n in store.names(SUB, ".json")}, ""
    except BenchpipeError as e:
        return local, f"history store not readable ({e.message}); local maps only"


def save(cmap: CoverageMap, cache: Path, store: Store | None) -> bool:
    """Keep ``cmap`` in the cache and, given a store, there too (False when the store had it already)."""
    data = msgspec.json.encode(cmap)
    atomic.write_bytes(_local(cache, cmap.commit), data)
    if store is None:
        return True
    with tempfile.TemporaryDirectory(prefix="benchpipe-coverage-") as tmp:
        f = Path(tmp) / "map.json"
        f.write_bytes(data)
        try:
            store.put_file(f, SUB, f"{cmap.commit}.json")
        except BenchpipeError as e:
            if "exists already" in e.message:
                return False
            raise
    return True
