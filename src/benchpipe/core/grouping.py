"""Rows ordered by a key, split where the key changes: the one grouping of the history's series.

The history store returns its rows ordered by series (benchmark, unit, ...) and then by time; every reader
that wants one series at a time (charts, the dashboard, ``benchpipe history``) takes them through
:func:`spans`, so a series is cut the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

K = TypeVar("K")


def spans(keys: Sequence[K]) -> Iterator[tuple[K, int, int]]:
    """(key, start, end) of each run of equal consecutive keys: ``keys[start:end]`` all equal ``key``."""
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            yield keys[start], start, i
            start = i
