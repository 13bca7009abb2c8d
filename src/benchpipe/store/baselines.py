"""Baselines: saved raw results (``baselines/<name>.txt``) and their metadata
(``baselines/<name>.meta.json``), tracked by DVC and shared through its remote.

Saving copies atomically, then ``dvc add`` and ``dvc push``; a baseline that
is missing locally is fetched with ``dvc pull``. A failed push keeps the local
baseline and says so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from benchpipe.core import benchfmt as bfmt
from benchpipe.core.errors import BenchpipeError, NothingToCompare
from benchpipe.store import atomic

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def paths(name: str, root: Path = Path(".")) -> tuple[Path, Path]:
    if not _NAME.match(name):
        raise BenchpipeError(f"invalid baseline name {name!r} (letters, digits, '.', '_', '-')")
    return root / "baselines" / f"{name}.txt", root / "baselines" / f"{name}.meta.json"


def profile_dir(name: str, root: Path = Path(".")) -> Path:
    """Where a baseline keeps the CPU/memory profiles of its run (for differential profiles)."""
    return paths(name, root)[0].with_suffix(".profile")


def _copy_profiles(src: Path, dst: Path) -> bool:
    """Copy cpu.prof, mem.prof and bench.txt of each profiled benchmark (not binaries or traces)."""
    if not (src / "profile.json").exists():
        return False
    tmp = dst.with_name(dst.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for f in src.glob("*/*/*"):
        if f.name in ("cpu.prof", "mem.prof", "bench.txt"):
            out = tmp / f.relative_to(src)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, out)
    if not tmp.exists():
        return False
    shutil.copyfile(src / "profile.json", tmp / "profile.json")
    shutil.rmtree(dst, ignore_errors=True)
    tmp.rename(dst)
    return True


def _dvc(args: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    if not shutil.which("dvc"):
        raise BenchpipeError("dvc: not found on PATH (pip install dvc)")
    return subprocess.run(["dvc", *args], cwd=root, capture_output=True, text=True)


MIN_SAMPLES = 6  # a 95% order-statistic interval and a U test at alpha 0.05 need 6 per side


def save(name: str, raw: Path, meta: Path, root: Path = Path("."), push: bool = True,
         profiles: Path | None = None) -> list[str]:
    """Save a run as baseline ``name``; return notes for the user."""
    if not raw.exists():
        raise NothingToCompare(f"{raw}: no results to save (run `invoke quick` first)")
    parsed = bfmt.read_files([raw])
    if not parsed.results:
        raise NothingToCompare(f"{raw}: no benchmark results to save")
    counts: dict[tuple[str, str], int] = {}
    for r in parsed.results:
        counts[(r.package, r.name)] = counts.get((r.package, r.name), 0) + 1
    fewest = min(counts.values())
    txt, meta_json = paths(name, root)
    atomic.copy_file(raw, txt)
    if meta.exists():
        atomic.copy_file(meta, meta_json)
    else:
        atomic.write_json(meta_json, {})
    notes = [f"saved baseline {txt}"]
    if fewest < MIN_SAMPLES:
        notes.append(f"warning: as few as {fewest} samples per benchmark: 95% intervals need {MIN_SAMPLES} (they "
                     f"will show ± ∞) and a U test cannot call a change significant; `invoke baseline` runs "
                     f"count {MIN_SAMPLES}")
    targets = [str(txt.relative_to(root)), str(meta_json.relative_to(root))]
    pdir = profile_dir(name, root)
    if profiles is not None and _copy_profiles(profiles, pdir):
        targets.append(str(pdir.relative_to(root)))
        notes.append(f"kept the run's profiles in {pdir}")
    p = _dvc(["add", "-q", *targets], root)
    if p.returncode != 0:
        raise BenchpipeError(f"dvc add failed: {_last(p)} (baseline files kept in {txt.parent})")
    if push:
        q = _dvc(["push", "-q", *[f"{t}.dvc" for t in targets]], root)
        if q.returncode != 0:
            notes.append(f"warning: dvc push failed, baseline kept locally: {_last(q)}")
        else:
            notes.append("pushed to the DVC remote")
    notes.append(f"commit {txt.name}.dvc and {meta_json.name}.dvc to share it")
    return notes


def pull(name: str, root: Path = Path(".")) -> bool:
    """Fetch a baseline from the DVC remote if it is not here; True when present after."""
    txt, meta_json = paths(name, root)
    if txt.exists():
        return True
    dvcfile = Path(f"{txt}.dvc")
    if not dvcfile.exists():
        return False
    targets = [f"{txt.relative_to(root)}.dvc"]
    for extra in (meta_json, profile_dir(name, root)):
        if Path(f"{extra}.dvc").exists():
            targets.append(f"{extra.relative_to(root)}.dvc")
    p = _dvc(["pull", "-q", *targets], root)
    if p.returncode != 0:
        sys.stderr.write(f"benchpipe: dvc pull of baseline {name} failed: {_last(p)}\n")
    return txt.exists()


def _last(p: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in (p.stderr + p.stdout).splitlines() if ln.strip()]
    return lines[-1].strip() if lines else f"exit status {p.returncode}"
