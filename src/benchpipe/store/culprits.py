"""Culprits in the history store: ``culprits/<bad commit>-<result digest>.json``, one object per result a
default-branch run attributed (:class:`benchpipe.core.artifacts.Culprit`), created once and never rewritten,
beside the runs (:mod:`benchpipe.store.history`).

:func:`covering` is what keeps a regression from being bisected twice: a record of the same result whose
culprit (or narrowest range) lies in the range a later run would search covers it.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import msgspec

from benchpipe.core.artifacts import Culprit
from benchpipe.core.errors import BenchpipeError
from benchpipe.store.objstore import Store

SUB = "culprits"
RECORDED = ("found", "range")  # what a record attributes: a commit, or a range proven


def name(c: Culprit) -> str:
    digest = hashlib.sha256(f"{c.package}\0{c.benchmark}\0{c.unit}".encode()).hexdigest()[:12]
    return f"{c.bad[:12]}-{digest}.json"


def record(store: Store, c: Culprit) -> bool:
    """Store ``c`` (False when this run's record of that result exists already: nothing is replaced)."""
    with tempfile.TemporaryDirectory(prefix="benchpipe-culprit-") as tmp:
        f = Path(tmp) / "culprit.json"
        f.write_bytes(msgspec.json.encode(c))
        try:
            store.put_file(f, SUB, name(c))
        except BenchpipeError as e:
            if "exists already" in e.message:
                return False
            raise
    return True


def load(store: Store) -> list[Culprit]:
    """Every culprit recorded, oldest name first; an unreadable object is skipped."""
    out = []
    for n in store.names(SUB, ".json"):
        try:
            out.append(msgspec.json.decode(store.get(SUB, n), type=Culprit))
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            continue
    return out


def covering(records: list[Culprit], c: Culprit, in_range: set[str]) -> Culprit | None:
    """A record of ``c``'s result (package, benchmark, unit) that attributes it inside the range
    ``in_range`` (the first-parent commits of ``c.good..c.bad``) or over the same range; None when none
    does."""
    for r in records:
        if (r.package, r.benchmark, r.unit) != (c.package, c.benchmark, c.unit) or r.status not in RECORDED:
            continue
        if (r.good, r.bad) == (c.good, c.bad) or (r.commit or r.first_bad) in in_range:
            return r
    return None
