"""Baselines: a saved run, kept as one unit — the directory ``baselines/<name>/`` holding ``bench.txt``
(raw results), ``meta.json`` (its metadata) and ``profile/`` (its CPU/memory profiles) — tracked by DVC as
one output (``baselines/<name>.dvc``) and shared through its remote.

Saving builds the new directory beside the old one (``baselines/.<name>.new-<pid>/``, every file fsynced)
and switches in one step: an atomic exchange of the two directories (``renameat2(RENAME_EXCHANGE)``), or a
plain rename for a first save. A kill at any point leaves the old baseline whole or the new one whole;
a staging directory left behind by a kill is removed by the next save. Then ``dvc add`` and ``dvc push``;
a failed push keeps the local baseline and says so. A baseline missing locally is fetched with ``dvc pull``.
Baselines saved by earlier versions (``baselines/<name>.txt`` + ``.meta.json`` + ``.profile/``) are
still read.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from benchpipe.core import benchfmt, portable
from benchpipe.core.artifacts import BenchMeta
from benchpipe.core.errors import BenchpipeError, NothingToCompare
from benchpipe.store import artifacts, atomic

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def directory(name: str, root: Path = Path(".")) -> Path:
    if not _NAME.match(name):
        raise BenchpipeError(f"invalid baseline name {name!r} (letters, digits, '.', '_', '-')")
    return root / "baselines" / name


def _legacy(name: str, root: Path) -> bool:
    return not directory(name, root).is_dir() and (root / "baselines" / f"{name}.txt").exists()


HISTORY = "history:"  # --baseline history:BRANCH: the newest matching runs of BRANCH in the history store


def is_history(name: str) -> bool:
    """A baseline taken from the history store (``history:BRANCH``), not one saved under ``baselines/``."""
    return name.startswith(HISTORY)


def paths(name: str, root: Path = Path(".")) -> tuple[Path, Path]:
    """The baseline's raw results and metadata."""
    if _legacy(name, root):
        return root / "baselines" / f"{name}.txt", root / "baselines" / f"{name}.meta.json"
    d = directory(name, root)
    return d / "bench.txt", d / "meta.json"


def profile_dir(name: str, root: Path = Path(".")) -> Path:
    """Where a baseline keeps the CPU/memory profiles of its run (for differential profiles)."""
    if _legacy(name, root):
        return root / "baselines" / f"{name}.profile"
    return directory(name, root) / "profile"


def _copy_profiles(src: Path, dst: Path) -> bool:
    """Copy cpu.prof, mem.prof and bench.txt of each profiled benchmark (not binaries or traces)."""
    if not (src / "profile.json").exists():
        return False
    copied = False
    for f in src.glob("*/*/*"):
        if f.name in ("cpu.prof", "mem.prof", "bench.txt"):
            out = dst / f.relative_to(src)
            out.parent.mkdir(parents=True, exist_ok=True)
            _durable_copy(f, out)
            copied = True
    if copied:
        _durable_copy(src / "profile.json", dst / "profile.json")
    return copied


def _durable_copy(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    with open(dst, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_tree(top: Path) -> None:
    for d, _, _ in os.walk(top):
        atomic.fsync_dir(d)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2 RENAME_EXCHANGE); False where unsupported
    (:mod:`benchpipe.core.portable`)."""
    if not portable.linux_calls():
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False


def _crash_point(step: str) -> None:
    """Tests kill a save at each step (BENCHPIPE_CRASH_AT=<step>) to prove a baseline is never half
    written."""
    if os.environ.get("BENCHPIPE_CRASH_AT") == step:
        os._exit(137)


def _install(staging: Path, final: Path) -> None:
    """Make ``staging`` the baseline ``final`` in one step; the previous one is removed after."""
    if final.is_dir():
        if not _exchange(staging, final):
            # No atomic exchange here: move the old one aside, then the new one in (a kill between the two
            # leaves the old one beside, restored by `_recover`).
            aside = final.with_name(f".{final.name}.old")
            shutil.rmtree(aside, ignore_errors=True)
            final.rename(aside)
            _crash_point("aside")
            staging.rename(final)
            staging = aside
        _crash_point("switched")
        atomic.fsync_dir(final.parent)
        shutil.rmtree(staging, ignore_errors=True)
    else:
        staging.rename(final)
        atomic.fsync_dir(final.parent)


def _recover(name: str, root: Path) -> None:
    """Undo what a killed save left: a staging directory, or an old baseline moved aside and not replaced."""
    d = directory(name, root)
    aside = d.with_name(f".{name}.old")
    if aside.is_dir() and not d.exists():
        aside.rename(d)
    shutil.rmtree(aside, ignore_errors=True)
    for stale in d.parent.glob(f".{name}.new-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _dvc(args: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    if not shutil.which("dvc"):
        raise BenchpipeError("dvc: not found on PATH (pip install dvc)")
    return subprocess.run(["dvc", *args], cwd=root, capture_output=True, text=True)


MIN_SAMPLES = 6  # a 95% order-statistic interval and a U test at alpha 0.05 need 6 per side


def save(
    name: str, raw: Path, meta: Path, root: Path = Path("."), push: bool = True, profiles: Path | None = None
) -> list[str]:
    """Save a run as baseline ``name``; return notes for the user."""
    if not raw.exists():
        raise NothingToCompare(f"{raw}: no results to save (run `invoke quick` first)")
    parsed = benchfmt.read_files([raw])
    if not parsed.results:
        raise NothingToCompare(f"{raw}: no benchmark results to save")
    counts: dict[tuple[str, str], int] = {}
    for r in parsed.results:
        counts[(r.package, r.name)] = counts.get((r.package, r.name), 0) + 1
    fewest = min(counts.values())
    final = directory(name, root)
    final.parent.mkdir(parents=True, exist_ok=True)
    _recover(name, root)
    staging = final.with_name(f".{name}.new-{os.getpid()}")
    staging.mkdir()
    notes = [f"saved baseline {final}/ (bench.txt, meta.json)"]
    try:
        _durable_copy(raw, staging / "bench.txt")
        if meta.exists():
            _durable_copy(meta, staging / "meta.json")
        else:
            artifacts.write(staging / "meta.json", BenchMeta())
        if profiles is not None and _copy_profiles(profiles, staging / "profile"):
            notes.append(f"kept the run's profiles in {final / 'profile'}")
        _fsync_tree(staging)
        _crash_point("staged")
        _install(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _crash_point("installed")
    if fewest < MIN_SAMPLES:
        notes.append(
            f"warning: as few as {fewest} samples per benchmark: 95% intervals need {MIN_SAMPLES} (they "
            f"will show ± ∞) and a U test cannot call a change significant; `invoke baseline` runs "
            f"count {MIN_SAMPLES}"
        )
    target = str(final.relative_to(root))
    p = _dvc(["add", "-q", target], root)
    if p.returncode != 0:
        raise BenchpipeError(f"dvc add failed: {_last(p)} (baseline files kept in {final})")
    if push:
        q = _dvc(["push", "-q", f"{target}.dvc"], root)
        if q.returncode != 0:
            notes.append(f"warning: dvc push failed, baseline kept locally: {_last(q)}")
        else:
            notes.append("pushed to the DVC remote")
    notes.append(f"commit {target}.dvc to share it")
    return notes


LOCAL_REMOTE_HINT = (
    "baselines stay in this clone: the DVC remote is local (.dvcstore/ inside the repository); to share "
    "them set a team remote: benchpipe init --remote s3://BUCKET/PATH (or gs://, ssh://, a shared "
    "directory)"
)


def shared_remote(root: Path = Path(".")) -> str:
    """The default DVC remote's URL when teammates can reach it (a URL, or a directory outside this
    repository); "" when there is none or it is inside the repository. Read from ``.dvc/config`` and
    ``.dvc/config.local`` (DVC's own INI files; no DVC process is started)."""
    import configparser

    cfg = configparser.ConfigParser(interpolation=None)
    dvc = root / ".dvc"
    try:
        cfg.read([dvc / "config", dvc / "config.local"])
    except configparser.Error:
        return ""
    name = cfg.get("core", "remote", fallback="")
    url = cfg.get(f"'remote \"{name}\"'", "url", fallback="") if name else ""
    if not url:
        return ""
    if "://" in url:
        return url
    path = (dvc / url).resolve()
    return "" if path.is_relative_to(root.resolve()) else str(path)


def pull(name: str, root: Path = Path(".")) -> bool:
    """Fetch a baseline from the DVC remote if it is not here; True when present after."""
    txt, _ = paths(name, root)
    if txt.exists():
        return True
    d = directory(name, root)
    targets = [f"{d.relative_to(root)}.dvc"] if Path(f"{d}.dvc").exists() else []
    if not targets:  # a baseline saved by an earlier version: one .dvc file per part
        legacy = [root / "baselines" / f"{name}{ext}" for ext in (".txt", ".meta.json", ".profile")]
        targets = [f"{p.relative_to(root)}.dvc" for p in legacy if Path(f"{p}.dvc").exists()]
    if not targets:
        return False
    p = _dvc(["pull", "-q", *targets], root)
    if p.returncode != 0:
        sys.stderr.write(f"benchpipe: dvc pull of baseline {name} failed: {_last(p)}\n")
    return paths(name, root)[0].exists()


def _last(p: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in (p.stderr + p.stdout).splitlines() if ln.strip()]
    return lines[-1].strip() if lines else f"exit status {p.returncode}"
