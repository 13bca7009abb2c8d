"""benchpipe's per-user cache directory: built test binaries of revisions (paired compares), calibration
results, the report template's compiled bytecode. Everything in it can be deleted at any time.

``--cache-dir`` wins, then ``BENCHPIPE_CACHE``, then ``$XDG_CACHE_HOME/benchpipe`` (``~/.cache/benchpipe``).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root(explicit: str | None = None) -> Path:
    base = (
        explicit
        or os.environ.get("BENCHPIPE_CACHE")
        or os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "benchpipe")
    )
    return Path(base)
