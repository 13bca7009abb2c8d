"""The ``record`` stage: append the run to the history store.

Reads the run's ``bench.txt`` and ``bench.json``; writes the run as new
immutable objects in the history store (see :mod:`benchpipe.store.history`:
a directory or an object-store URL) and ``record.json`` (:class:`RecordDoc`:
stored or not, the run id, the store). The run id is derived from the raw
output, so recording the same run again never stores it twice; in CI it is
the CI run's id (``BENCHPIPE_RUN_ID``, ``GITHUB_RUN_ID``, GitLab's
``CI_PIPELINE_ID``), so the shards of one CI run are one run. A store that
cannot be written (unreachable, denied, missing bucket) does not stop the
pipeline: ``record.json`` says why, the report is still written, and the
gate exits 2 naming it. The local ``reports/history`` directory (the DVC
output) exists either way; with a remote store it holds only ``STORE``, the
store's URL.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchpipe.core import benchfmt
from benchpipe.core.artifacts import BenchMeta, RecordDoc
from benchpipe.core.errors import BenchpipeError
from benchpipe.core.verdict import Options
from benchpipe.store import artifacts, atomic, history
from benchpipe.store.objstore import Store


def ci_run_id(commit: str, shard: str = "") -> str:
    """The run id a CI run gives all its shards ("" outside CI): ``BENCHPIPE_RUN_ID`` (checked: one line and
    exit 2 when it could not name an object), else GitHub's run id and attempt, else GitLab's pipeline and job
    id (a retried job is a new job id; the shards of one run, each its own job, share the pipeline's id)."""
    env, c = os.environ, (commit or "nocommit")[:8]
    if env.get("BENCHPIPE_RUN_ID"):
        return history.check_run_id(env["BENCHPIPE_RUN_ID"])
    if env.get("GITHUB_RUN_ID"):
        return history.check_run_id(f"gh{env['GITHUB_RUN_ID']}.{env.get('GITHUB_RUN_ATTEMPT') or '1'}-{c}")
    if env.get("CI_PIPELINE_ID"):
        job = "" if shard or not env.get("CI_JOB_ID") else f".{env['CI_JOB_ID']}"
        return history.check_run_id(f"gl{env['CI_PIPELINE_ID']}{job}-{c}")
    return ""


HOLD = "BENCHPIPE_TEST_HOLD_RECORD"  # tests: a path; the stage waits before storing until it exists


def _hold() -> None:
    """For tests that need two runs to overlap for certain: with :data:`HOLD` set, say so (``<path>.waiting``)
    and wait (at most 10 minutes) until ``<path>`` exists, before anything is stored."""
    path = os.environ.get(HOLD)
    if not path:
        return
    Path(path + ".waiting").touch()
    deadline = time.monotonic() + 600
    while not Path(path).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def run(
    raw: Path, meta_path: Path, store: Store, opts: Options, out: Path, local_dir: Path, shard: str = ""
) -> RecordDoc:
    """Store the run; returns what happened (also written to ``out``)."""
    meta = artifacts.read(meta_path, BenchMeta)
    parsed = benchfmt.read_files([raw])
    when = history.parse_time(meta.start_time) or datetime.now(UTC)
    ci_id = ci_run_id(meta.commit, shard)
    rid = ci_id or history.new_run_id(when, meta.commit, hashlib.sha1(raw.read_bytes()).hexdigest()[:6])
    local_dir.mkdir(parents=True, exist_ok=True)
    if store.remote:
        atomic.write_text(local_dir / "STORE", store.url + "\n")
    _hold()
    try:
        # the same output recorded again (its id is its digest) is there already; a CI id used twice is
        # refused
        if ci_id or not history.stored(store, rid, shard):
            history.append(store, parsed, meta, when, rid, opts, shard)
        doc = RecordDoc(stored=True, run_id=rid, store=store.url, shard=shard)
    except BenchpipeError as e:
        sys.stderr.write(f"record: error: the run was not stored: {e.message}\n")
        doc = RecordDoc(stored=False, run_id=rid, store=store.url, shard=shard, error=e.message)
    artifacts.write(out, doc)
    return doc
